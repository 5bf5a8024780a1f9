/*
 * mixq_gemm.h - the optimized core shared by conv.c, pointwise.c and fc.c, and the input
 * expansion depthwise.c uses too (internal header).
 *
 * Each output pixel's receptive field (im2col for a convolution, the pixel itself for a 1x1
 * layer) is expanded once into a "column" of int16 values (x - zx) in scratch; that cost is
 * shared by all output channels. Within every group of 4 elements the order is x0, x2, x1, x3
 * (two words: x0 | x2 << 16 and x1 | x3 << 16), matching what UXTB16 and UXTB16 ROR 8 make of
 * a weight word (see "Weight layout" in mixq_common.h). The columns of two pixels are
 * interleaved group by group (a's two words, then b's two words), so one pointer and LDRD reach
 * both, and the inner loop takes a pair of weight rows (one LDRD) times two pixels: four int32
 * accumulators, SMLAD on 16-bit pairs, at most one AND per unpacked weight word for sub-byte
 * weights. The weight zero-point is applied once per output:
 *   acc = bias + sum w*(x - zx) - zw * sum (x - zx).
 *
 * Requantization constants (mixq_lane) are prepared once per call for every output channel, and
 * the channel loop is compiled once per (weight bits, output bits) as its own
 * function (mixq_gemm_copy_*) so rounding ends in USAT and 8-bit outputs in a byte store, and
 * each copy's inner loop is scheduled on its own. Scales >= 0.5 (sub-byte inputs feeding 8-bit
 * outputs) take the 8-bit-output fast copies too when mixq_lane_init_widened proves the
 * accumulator small. A
 * sub-byte row's last word may hold only padding steps (K = 27 in 4- or 2-bit words); the dot
 * products stop at ceil(K / 4) steps. Single-column dot products (fully connected layers) run
 * hand-scheduled loops (MIXQ_DOT1_BODY_*).
 *
 * Scratch: out_c mixq_lane records, then 2 columns of mixq_gemm_padded_k(K, weight_bits) int16,
 * then K bytes (rounded up to 4) for the window codes of mixq_column_fill_bits.
 */
#ifndef MIXQ_GEMM_H
#define MIXQ_GEMM_H

#include "mixq_common.h"

/* Padded column length: K rounded up to whole weight words. */
MIXQ_INLINE uint32_t mixq_gemm_padded_k(uint32_t k, uint32_t weight_bits)
{
    return mixq_matrix_row_bytes(k, weight_bits) / 4 * (32 / weight_bits);
}


/* Stores (x - zx) of element k; groups of 4 elements are `group_stride` int16 apart. */
MIXQ_INLINE void mixq_column_put(int16_t *col, uint32_t k, int32_t v, uint32_t group_stride)
{
    uint32_t j = k & 3;
    col[(k >> 2) * group_stride + ((j & 1) << 1) + (j >> 1)] = (int16_t)v;
}

/* Expands `count` elements of a packed tensor, from element `first`, to column positions
 * k0..k0+count-1 as (x - zx). Whole groups of 4 that start on a byte take the SIMD path. */
MIXQ_INLINE void mixq_column_gather(int16_t *col, uint32_t k0, const uint8_t *src, uint32_t first,
                                      uint32_t count, uint32_t bits, int32_t zx, uint32_t group_stride)
{
    uint32_t i = 0;
    if ((k0 & 3) == 0 && ((first * bits) & 7) == 0) {
        uint32_t zx2 = (uint32_t)zx | ((uint32_t)zx << 16);
        uint32_t *dst = (uint32_t *)(col + (k0 >> 2) * group_stride);
        const uint32_t step = group_stride / 2;   /* in words */
        const uint8_t *s = src + (first * bits) / 8;
        uint32_t groups = count / 4;
        if (bits == 8) {
            for (uint32_t g = 0; g < groups; ++g, s += 4, dst += step) {
                uint32_t v = mixq_load_word(s);
                dst[0] = __ssub16(__uxtb16(v), zx2);          /* x0 | x2 << 16 */
                dst[1] = __ssub16(mixq_uxtb16_ror8(v), zx2);  /* x1 | x3 << 16 */
            }
        } else if (bits == 4) {
            for (uint32_t g = 0; g < groups; ++g, s += 2, dst += step) {
                uint32_t v = (uint32_t)s[0] | ((uint32_t)s[1] << 16);   /* byte0 = x1:x0, byte2 = x3:x2 */
                dst[0] = __ssub16(v & 0x000F000Fu, zx2);
                dst[1] = __ssub16((v >> 4) & 0x000F000Fu, zx2);
            }
        } else {
            for (uint32_t g = 0; g < groups; ++g, s += 1, dst += step) {
                uint32_t b = *s;
                dst[0] = __ssub16((b | (b << 12)) & 0x30003u, zx2);        /* x0 | x2 << 16 */
                dst[1] = __ssub16(((b >> 2) | (b << 10)) & 0x30003u, zx2); /* x1 | x3 << 16 */
            }
        }
        i = groups * 4;
    }
    for (; i < count; ++i) {
        mixq_column_put(col, k0 + i, (int32_t)mixq_load_element(src, first + i, bits) - zx, group_stride);
    }
}

/* Interleaved columns: group g of pixel a at words 4g, 4g+1, of pixel b at words 4g+2, 4g+3. */
#define MIXQ_GEMM_GROUP_STRIDE 8u

/* Expands 4 window codes (one word, byte i = code i) into a column group: x0|x2, x1|x3. */
MIXQ_INLINE void mixq_column_put_word(uint32_t *dst, uint32_t codes, uint32_t zx2)
{
    dst[0] = __ssub16(__uxtb16(codes), zx2);
    dst[1] = __ssub16(mixq_uxtb16_ror8(codes), zx2);
}

/* The column of a 3x3 window over an 8-bit 3-channel input (the first MobilenetV1 layer) whose
 * window lies inside the image: each window row is 9 contiguous bytes (HWC), read as two
 * (unaligned) words and a byte; the 27 codes are funnelled into 7 words in (ky, kx, ci) order
 * and expanded directly, with no byte staging. Returns 0 (nothing written) for a window that
 * touches the padding, which the general fill handles. */
MIXQ_INLINE int mixq_column_fill_rgb3x3(int16_t *col, const mixq_conv_shape *s, const uint8_t *input, uint32_t oy,
                                        uint32_t ox, int32_t zx)
{
    const int32_t iy = (int32_t)(oy * s->stride_h) - s->pad_top, ix = (int32_t)(ox * s->stride_w) - s->pad_left;
    if (iy < 0 || ix < 0 || iy + 3 > s->in_h || ix + 3 > s->in_w) return 0;
    const uint32_t row_stride = (uint32_t)s->in_w * 3u;
    const uint8_t *r0 = input + ((uint32_t)iy * s->in_w + (uint32_t)ix) * 3u, *r1 = r0 + row_stride, *r2 = r1 + row_stride;
    const uint32_t a0 = mixq_load_word(r0), a1 = mixq_load_word(r0 + 4), a2 = r0[8];
    const uint32_t b0 = mixq_load_word(r1), b1 = mixq_load_word(r1 + 4), b2 = r1[8];
    const uint32_t c0 = mixq_load_word(r2), c1 = mixq_load_word(r2 + 4), c2 = r2[8];
    const uint32_t zx2 = (uint32_t)zx | ((uint32_t)zx << 16);
    uint32_t *dst = (uint32_t *)col;
    const uint32_t step = MIXQ_GEMM_GROUP_STRIDE / 2u;   /* words between groups */
    mixq_column_put_word(dst, a0, zx2);                                          /* codes 0..3   */
    mixq_column_put_word(dst + step, a1, zx2);                                   /* codes 4..7   */
    mixq_column_put_word(dst + 2 * step, a2 | (b0 << 8), zx2);                   /* codes 8..11  */
    mixq_column_put_word(dst + 3 * step, (b0 >> 24) | (b1 << 8), zx2);           /* codes 12..15 */
    mixq_column_put_word(dst + 4 * step, (b1 >> 24) | (b2 << 8) | (c0 << 16), zx2); /* 16..19   */
    mixq_column_put_word(dst + 5 * step, (c0 >> 16) | (c1 << 16), zx2);          /* codes 20..23 */
    /* codes 24..26; the 28th position is padding and must stay 0 (as mixq_gemm_run set it) */
    const uint32_t last = (c1 >> 16) | (c2 << 16);                                /* 24, 25, 26, 0 */
    dst[6 * step] = __ssub16(__uxtb16(last), zx2);                                /* 24 | 26 */
    dst[6 * step + 1] = __ssub16(mixq_uxtb16_ror8(last) & 0xFFFFu, zx2 & 0xFFFFu) & 0xFFFFu; /* 25 | 0 */
    return 1;
}

/* Fills one column (col = base for pixel a, base + 4 for pixel b) of output pixel `pixel`:
 * im2col over the kernel window, padding reads 0. The padding after K is zeroed beforehand.
 * `bits` is a constant in the copies mixq_column_fill makes, so the element loads of channel
 * counts that are not a multiple of 4 (the 3-channel first layer) need no variable shifts. */
MIXQ_INLINE void mixq_column_fill_bits(int16_t *col, const mixq_conv_shape *s, const uint8_t *input, uint32_t pixel,
                                       const uint32_t bits, int32_t zx, uint8_t *codes)
{
    uint32_t in_c = s->in_c;
    if (s->kernel_h == 1 && s->kernel_w == 1 && s->stride_h == 1 && s->stride_w == 1 && s->in_w == s->out_w
        && s->pad_top == 0 && s->pad_left == 0) {
        mixq_column_gather(col, 0, input, pixel * in_c, in_c, bits, zx, MIXQ_GEMM_GROUP_STRIDE);
        return;
    }
    uint32_t oy = pixel / s->out_w, ox = pixel % s->out_w;
    uint32_t k = 0;
    if (bits == 8 && in_c == 3 && s->kernel_w == 3 && s->kernel_h == 3
        && mixq_column_fill_rgb3x3(col, s, input, oy, ox, zx)) {
        return;
    }
    if (in_c & 3u) {
        /* channel counts that are not a multiple of 4 (the 3-channel first layer): the window's
         * K codes are first copied to a byte row (padding as zx), which then expands 4 at a time
         * like an 8-bit tensor instead of element by element */
        for (uint32_t ky = 0; ky < s->kernel_h; ++ky) {
            int32_t iy = (int32_t)(oy * s->stride_h + ky) - s->pad_top;
            for (uint32_t kx = 0; kx < s->kernel_w; ++kx, k += in_c) {
                int32_t ix = (int32_t)(ox * s->stride_w + kx) - s->pad_left;
                if (iy < 0 || iy >= s->in_h || ix < 0 || ix >= s->in_w) {
                    memset(codes + k, zx, in_c);
                } else {
                    uint32_t first = ((uint32_t)iy * s->in_w + (uint32_t)ix) * in_c;
                    for (uint32_t i = 0; i < in_c; ++i) {
                        codes[k + i] = (uint8_t)mixq_load_element(input, first + i, bits);
                    }
                }
            }
        }
        mixq_column_gather(col, 0, codes, 0, k, 8, zx, MIXQ_GEMM_GROUP_STRIDE);
        return;
    }
    for (uint32_t ky = 0; ky < s->kernel_h; ++ky) {
        int32_t iy = (int32_t)(oy * s->stride_h + ky) - s->pad_top;
        for (uint32_t kx = 0; kx < s->kernel_w; ++kx, k += in_c) {
            int32_t ix = (int32_t)(ox * s->stride_w + kx) - s->pad_left;
            if (iy < 0 || iy >= s->in_h || ix < 0 || ix >= s->in_w) {
                for (uint32_t i = 0; i < in_c; ++i) mixq_column_put(col, k + i, 0, MIXQ_GEMM_GROUP_STRIDE);
            } else {
                mixq_column_gather(col, k, input, ((uint32_t)iy * s->in_w + (uint32_t)ix) * in_c, in_c, bits, zx,
                                   MIXQ_GEMM_GROUP_STRIDE);
            }
        }
    }
}

static inline void mixq_column_fill(int16_t *col, const mixq_conv_shape *s, const uint8_t *input, uint32_t pixel,
                                    uint32_t bits, int32_t zx, uint8_t *codes)
{
    if (bits == 8) mixq_column_fill_bits(col, s, input, pixel, 8, zx, codes);
    else if (bits == 4) mixq_column_fill_bits(col, s, input, pixel, 4, zx, codes);
    else mixq_column_fill_bits(col, s, input, pixel, 2, zx, codes);
}

/* Sums of both interleaved columns (padding is 0): SMLAD against (1, 1). */
MIXQ_INLINE void mixq_column_sums(const int16_t *col, uint32_t kp, int32_t *sum_a, int32_t *sum_b)
{
    const uint32_t *w = (const uint32_t *)col;
    int32_t a = 0, b = 0;
    for (uint32_t g = 0; g < kp / 4; ++g, w += 4) {
        a = __smlad(w[0], 0x00010001u, a);
        a = __smlad(w[1], 0x00010001u, a);
        b = __smlad(w[2], 0x00010001u, b);
        b = __smlad(w[3], 0x00010001u, b);
    }
    *sum_a = a;
    *sum_b = b;
}

/* Dot products of a pair of interleaved weight rows with the two interleaved columns:
 * acc[0] = row0.a, acc[1] = row0.b, acc[2] = row1.a, acc[3] = row1.b.
 * `bits` is a constant after inlining. Per weight word and unpacked half (4 weights of each
 * row): one AND per row (sub-byte only), two UXTB16 per row, two LDRD of the columns, eight
 * SMLAD. */
/* Four weights of each row (u0, u1: bytes or masked sub-byte fields) times 4 elements of both
 * columns at x: two UXTB16 per row, four column words, eight SMLAD. */
#define MIXQ_DOT_STEP(u0, u1, x)                                                                   \
    do {                                                                                          \
        uint32_t p0_ = __uxtb16(u0), p1_ = __uxtb16(u1);                                          \
        uint32_t xa_ = (x)[0], xb_ = (x)[2];                                                      \
        a00 = __smlad(p0_, xa_, a00);                                                             \
        a01 = __smlad(p0_, xb_, a01);                                                             \
        a10 = __smlad(p1_, xa_, a10);                                                             \
        a11 = __smlad(p1_, xb_, a11);                                                             \
        uint32_t q0_ = mixq_uxtb16_ror8(u0), q1_ = mixq_uxtb16_ror8(u1);                          \
        xa_ = (x)[1];                                                                             \
        xb_ = (x)[3];                                                                             \
        a00 = __smlad(q0_, xa_, a00);                                                             \
        a01 = __smlad(q0_, xb_, a01);                                                             \
        a10 = __smlad(q1_, xa_, a10);                                                             \
        a11 = __smlad(q1_, xb_, a11);                                                             \
    } while (0)

/* `steps` = ceil(K / 4) steps of 4 weights: a sub-byte row's last word may hold steps that are
 * only padding (K = 27 in 4-bit words of 8 weights: 7 steps, not 8); they are skipped. */
/* The last `tail` steps of a sub-byte word (fewer than the word holds), added to acc. A file
 * whose rows are short (conv.c: the first layer's K = 27) defines MIXQ_GEMM_SHORT_ROWS before
 * including this header to keep the tail inline instead, where it runs for every row pair. */
static __attribute__((noinline, unused)) void mixq_dot_pair_tail(const uint32_t *w, const uint32_t *x, uint32_t tail,
                                                                 uint32_t bits, int32_t *acc)
{
    int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
    const uint32_t mask = (1u << bits) - 1u, mask4 = mask * 0x01010101u;
    uint32_t r0 = w[0], r1 = w[1];
    for (uint32_t j = 0; j < tail; ++j, x += 4) {
        MIXQ_DOT_STEP((r0 >> (j * bits)) & mask4, (r1 >> (j * bits)) & mask4, x);
    }
    acc[0] = a00;
    acc[1] = a01;
    acc[2] = a10;
    acc[3] = a11;
}

MIXQ_INLINE void mixq_dot_pair(const uint32_t *w, const uint32_t *x, uint32_t steps, const uint32_t bits, int32_t *acc)
{
    int32_t a00 = 0, a01 = 0, a10 = 0, a11 = 0;
    if (bits == 8) {
        const uint32_t words = steps;
        /* a word holds only 4 weights per row: two words per iteration halve the loop overhead */
        for (uint32_t i = 0; i < words / 2; ++i, w += 4, x += 8) {
            MIXQ_DOT_STEP(w[0], w[1], x);
            MIXQ_DOT_STEP(w[2], w[3], x + 4);
        }
        if (words & 1) MIXQ_DOT_STEP(w[0], w[1], x);
    } else {
        uint32_t mask = bits == 4 ? 0x0F0F0F0Fu : 0x03030303u;
        /* keep the mask in a register so the shift folds into the AND (AND Rd, Rmask, Rw, LSR #n) */
        __asm__("" : "+r"(mask));
        const uint32_t per_word = 8 / bits;   /* steps of 4 weights per word */
        const uint32_t words = steps / per_word, tail = steps % per_word;   /* whole words, steps of the last */
        uint32_t i = 0;
        if (bits == 4) {
            /* 4-bit: two words per iteration, as for 8-bit, to halve the loop overhead */
            for (; i + 2 <= words; i += 2, w += 4, x += 16) {
                uint32_t r0 = w[0], r1 = w[1], s0 = w[2], s1 = w[3];
                MIXQ_DOT_STEP(r0 & mask, r1 & mask, x);
                MIXQ_DOT_STEP((r0 >> 4) & mask, (r1 >> 4) & mask, x + 4);
                MIXQ_DOT_STEP(s0 & mask, s1 & mask, x + 8);
                MIXQ_DOT_STEP((s0 >> 4) & mask, (s1 >> 4) & mask, x + 12);
            }
        }
        for (; i < words; ++i) {
            uint32_t r0 = w[0], r1 = w[1];
            w += 2;
            for (uint32_t j = 0; j < per_word; ++j, x += 4) {
                MIXQ_DOT_STEP((r0 >> (j * bits)) & mask, (r1 >> (j * bits)) & mask, x);
            }
        }
#if defined(MIXQ_GEMM_SHORT_ROWS)
        if (tail) {   /* inline: short rows (conv.c, K = 27) meet a tail on every row pair */
            uint32_t r0 = w[0], r1 = w[1];
            for (uint32_t j = 0; j < tail; ++j, x += 4) {
                MIXQ_DOT_STEP((r0 >> (j * bits)) & mask, (r1 >> (j * bits)) & mask, x);
            }
        }
#else
        if (tail) {   /* out of line: rare for long rows, and the main loops keep their registers */
            acc[0] = a00;
            acc[1] = a01;
            acc[2] = a10;
            acc[3] = a11;
            mixq_dot_pair_tail(w, x, tail, bits, acc);
            return;
        }
#endif
    }
    acc[0] = a00;
    acc[1] = a01;
    acc[2] = a10;
    acc[3] = a11;
}

/* A pair of weight rows times one column (the last pixel of an odd count, fully connected
 * layers): acc[0] = row0.a, acc[2] = row1.a; the second column is not read. */
#define MIXQ_DOT_STEP_1(u0, u1, x)                                                                 \
    do {                                                                                          \
        uint32_t xa_ = (x)[0], xc_ = (x)[1];                                                      \
        a00 = __smlad(__uxtb16(u0), xa_, a00);                                                    \
        a10 = __smlad(__uxtb16(u1), xa_, a10);                                                    \
        a00 = __smlad(mixq_uxtb16_ror8(u0), xc_, a00);                                            \
        a10 = __smlad(mixq_uxtb16_ror8(u1), xc_, a10);                                            \
    } while (0)

/* Hand-scheduled loops of mixq_dot_pair_1 (one column, the fully connected layers) for the
 * Cortex-M7's in-order dual issue (docs/design.md#cortex-m7-timing: UXTB16 only in the older
 * slot, one MAC per cycle, a MAC or shifted operand cannot use a result of the previous cycle):
 * each loop loads its words in pairs first, unpacks sub-byte fields with LSR/AND, then pairs every
 * UXTB16 with an SMLAD on an operand unpacked the cycle before. Per 16 MACs: 14 cycles for
 * 8-bit weights, 16 for 4- and 2-bit (GCC's schedule of the C steps took 21). Each iteration
 * takes two weight words of both rows; `w` advances 16 bytes, `x` 8 column words per step.
 * The operand names: w0..w3 weight words (and their unpacked fields), x0, x1, x4, x5 the
 * column words of a step (x[0], x[1], x[4], x[5] relative to it), p the UXTB16 ROR 8 result.
 * MIXQ_DOT1_ASM runs `iterations` (>= 1) iterations of BODY on (*w, *x, *a0, *a1). */
#define MIXQ_DOT1_ASM(BODY, W_STEP_WORDS)                                                                  \
    do {                                                                                                  \
        const uint32_t *end_ = w + (W_STEP_WORDS) * iterations;                                           \
        uint32_t w0_, w1_, w2_, w3_, x0_, x1_, x4_, x5_, p_;                                              \
        __asm__("1:\n\t" BODY                                                                            \
                : [w] "+r"(w), [x] "+r"(x), [a0] "+r"(a00), [a1] "+r"(a10), [w0] "=&r"(w0_), [w1] "=&r"(w1_), \
                  [w2] "=&r"(w2_), [w3] "=&r"(w3_), [x0] "=&r"(x0_), [x1] "=&r"(x1_), [x4] "=&r"(x4_),        \
                  [x5] "=&r"(x5_), [p] "=&r"(p_)                                                          \
                : [end] "r"(end_)                                                                         \
                : "cc", "memory");                                                                        \
    } while (0)

/* 8-bit weights: two steps (x[0], x[1] and x[4], x[5]) per iteration. */
#define MIXQ_DOT1_BODY_8 \
        "ldr %[w0], [%[w], #0]\n\t" \
        "ldr %[x0], [%[x], #0]\n\t" \
        "ldr %[w1], [%[w], #4]\n\t" \
        "ldr %[x1], [%[x], #4]\n\t" \
        "ldr %[w2], [%[w], #8]\n\t" \
        "ldr %[x4], [%[x], #16]\n\t" \
        "ldr %[w3], [%[w], #12]\n\t" \
        "ldr %[x5], [%[x], #20]\n\t" \
        "uxtb16 %[p], %[w0], ror #8\n\t" \
        "adds %[w], %[w], #16\n\t" \
        "uxtb16 %[w0], %[w0]\n\t" \
        "smlad %[a0], %[p], %[x1], %[a0]\n\t" \
        "uxtb16 %[p], %[w1], ror #8\n\t" \
        "smlad %[a0], %[w0], %[x0], %[a0]\n\t" \
        "uxtb16 %[w1], %[w1]\n\t" \
        "smlad %[a1], %[p], %[x1], %[a1]\n\t" \
        "uxtb16 %[p], %[w2], ror #8\n\t" \
        "smlad %[a1], %[w1], %[x0], %[a1]\n\t" \
        "uxtb16 %[w2], %[w2]\n\t" \
        "smlad %[a0], %[p], %[x5], %[a0]\n\t" \
        "uxtb16 %[p], %[w3], ror #8\n\t" \
        "smlad %[a0], %[w2], %[x4], %[a0]\n\t" \
        "uxtb16 %[w3], %[w3]\n\t" \
        "smlad %[a1], %[p], %[x5], %[a1]\n\t" \
        "smlad %[a1], %[w3], %[x4], %[a1]\n\t" \
        "adds %[x], %[x], #32\n\t" \
        "cmp %[w], %[end]\n\t" \
        "bne 1b\n\t"

/* The multiply half shared by the 4- and 2-bit bodies: four unpacked words (w0, w1: one step of
 * both rows; w2, w3: the next step) against the column words x0, x1 and x4, x5, every UXTB16
 * paired with an SMLAD on the operand unpacked the cycle before. (The 8-bit body above has the
 * same sequence with its pointer increment slotted in after the first UXTB16, which is why it
 * does not use this macro.) */
#define MIXQ_DOT1_MACS \
        "uxtb16 %[p], %[w0], ror #8\n\t" \
        "uxtb16 %[w0], %[w0]\n\t" \
        "smlad %[a0], %[p], %[x1], %[a0]\n\t" \
        "uxtb16 %[p], %[w1], ror #8\n\t" \
        "smlad %[a0], %[w0], %[x0], %[a0]\n\t" \
        "uxtb16 %[w1], %[w1]\n\t" \
        "smlad %[a1], %[p], %[x1], %[a1]\n\t" \
        "uxtb16 %[p], %[w2], ror #8\n\t" \
        "smlad %[a1], %[w1], %[x0], %[a1]\n\t" \
        "uxtb16 %[w2], %[w2]\n\t" \
        "smlad %[a0], %[p], %[x5], %[a0]\n\t" \
        "uxtb16 %[p], %[w3], ror #8\n\t" \
        "smlad %[a0], %[w2], %[x4], %[a0]\n\t" \
        "uxtb16 %[w3], %[w3]\n\t" \
        "smlad %[a1], %[p], %[x5], %[a1]\n\t" \
        "smlad %[a1], %[w3], %[x4], %[a1]\n\t"

/* Loads one weight word of both rows (byte offsets W0, W1 from w) and the column words of two
 * steps (X0, X1, X4, X5 from x), and splits each weight word into its lowest field (AND with
 * MASK, the field's bits in every byte) and the field HI_SHIFT bits above it (LSR, AND). */
#define MIXQ_DOT1_LOAD_FIELDS_LOW(W0, W1, X0, X1, X4, X5, HI_SHIFT, MASK) \
        "ldr %[w0], [%[w], #" #W0 "]\n\t" \
        "ldr %[x0], [%[x], #" #X0 "]\n\t" \
        "ldr %[w1], [%[w], #" #W1 "]\n\t" \
        "ldr %[x1], [%[x], #" #X1 "]\n\t" \
        "lsrs %[w2], %[w0], #" #HI_SHIFT "\n\t" \
        "ldr %[x4], [%[x], #" #X4 "]\n\t" \
        "and %[w0], %[w0], #" #MASK "\n\t" \
        "ldr %[x5], [%[x], #" #X5 "]\n\t" \
        "and %[w2], %[w2], #" #MASK "\n\t" \
        "lsrs %[w3], %[w1], #" #HI_SHIFT "\n\t" \
        "and %[w1], %[w1], #" #MASK "\n\t" \
        "and %[w3], %[w3], #" #MASK "\n\t"

/* As MIXQ_DOT1_LOAD_FIELDS_LOW for the upper two 2-bit fields of a word (LSR #4 and #6). */
#define MIXQ_DOT1_LOAD_FIELDS_HIGH(W0, W1, X0, X1, X4, X5) \
        "ldr %[w0], [%[w], #" #W0 "]\n\t" \
        "ldr %[x0], [%[x], #" #X0 "]\n\t" \
        "ldr %[w1], [%[w], #" #W1 "]\n\t" \
        "ldr %[x1], [%[x], #" #X1 "]\n\t" \
        "lsrs %[w2], %[w0], #6\n\t" \
        "ldr %[x4], [%[x], #" #X4 "]\n\t" \
        "lsrs %[w0], %[w0], #4\n\t" \
        "ldr %[x5], [%[x], #" #X5 "]\n\t" \
        "and %[w0], %[w0], #0x03030303\n\t" \
        "and %[w2], %[w2], #0x03030303\n\t" \
        "lsrs %[w3], %[w1], #6\n\t" \
        "lsrs %[w1], %[w1], #4\n\t" \
        "and %[w1], %[w1], #0x03030303\n\t" \
        "and %[w3], %[w3], #0x03030303\n\t"

/* 4-bit weights: two words = four steps per iteration; each half takes one word of both rows:
 * low nibbles (AND) for its first step, high nibbles (LSR #4, AND) for its second. */
#define MIXQ_DOT1_BODY_4 \
        MIXQ_DOT1_LOAD_FIELDS_LOW(0, 4, 0, 4, 16, 20, 4, 0x0F0F0F0F) MIXQ_DOT1_MACS \
        MIXQ_DOT1_LOAD_FIELDS_LOW(8, 12, 32, 36, 48, 52, 4, 0x0F0F0F0F) MIXQ_DOT1_MACS \
        "adds %[w], %[w], #16\n\t" \
        "adds %[x], %[x], #64\n\t" \
        "cmp %[w], %[end]\n\t" \
        "bne 1b\n\t"

/* 2-bit weights: two words = eight steps per iteration, each word in two halves (fields 0, 1
 * then 2, 3: LSR by 0, 2, 4, 6 and AND), the word reloaded for its second half. */
#define MIXQ_DOT1_BODY_2 \
        MIXQ_DOT1_LOAD_FIELDS_LOW(0, 4, 0, 4, 16, 20, 2, 0x03030303) MIXQ_DOT1_MACS \
        MIXQ_DOT1_LOAD_FIELDS_HIGH(0, 4, 32, 36, 48, 52) MIXQ_DOT1_MACS \
        MIXQ_DOT1_LOAD_FIELDS_LOW(8, 12, 64, 68, 80, 84, 2, 0x03030303) MIXQ_DOT1_MACS \
        MIXQ_DOT1_LOAD_FIELDS_HIGH(8, 12, 96, 100, 112, 116) MIXQ_DOT1_MACS \
        "adds %[w], %[w], #16\n\t" \
        "adds %[x], %[x], #128\n\t" \
        "cmp %[w], %[end]\n\t" \
        "bne 1b\n\t"

MIXQ_INLINE void mixq_dot_pair_1(const uint32_t *w, const uint32_t *x, uint32_t steps, const uint32_t bits,
                                 int32_t *acc)
{
    int32_t a00 = 0, a10 = 0;
    if (bits == 8) {
        const uint32_t words = steps, iterations = words / 2;
        if (iterations) MIXQ_DOT1_ASM(MIXQ_DOT1_BODY_8, 4);   /* w += 4 words, x += 8 per iteration */
        if (words & 1) MIXQ_DOT_STEP_1(w[0], w[1], x);
    } else {
        uint32_t mask = bits == 4 ? 0x0F0F0F0Fu : 0x03030303u;
        __asm__("" : "+r"(mask));
        const uint32_t per_word = 8 / bits, whole = steps / per_word, tail = steps % per_word;
        const uint32_t iterations = whole / 2, words = whole & 1;   /* a last odd word: the C steps */
        if (iterations) {
            if (bits == 4) MIXQ_DOT1_ASM(MIXQ_DOT1_BODY_4, 4);
            else MIXQ_DOT1_ASM(MIXQ_DOT1_BODY_2, 4);
        }
        for (uint32_t i = 0; i < words; ++i, w += 2) {
            uint32_t r0 = w[0], r1 = w[1];
            for (uint32_t j = 0; j < per_word; ++j, x += 4) {
                MIXQ_DOT_STEP_1((r0 >> (j * bits)) & mask, (r1 >> (j * bits)) & mask, x);
            }
        }
        if (tail) {   /* the last word's steps that hold weights (see mixq_dot_pair) */
            uint32_t r0 = w[0], r1 = w[1];
            for (uint32_t j = 0; j < tail; ++j, x += 4) {
                MIXQ_DOT_STEP_1((r0 >> (j * bits)) & mask, (r1 >> (j * bits)) & mask, x);
            }
        }
    }
    acc[0] = a00;
    acc[1] = 0;
    acc[2] = a10;
    acc[3] = 0;
}

/* The same for an odd last row stored alone: acc[0] = row.a, acc[1] = row.b. */
MIXQ_INLINE void mixq_dot_single(const uint32_t *w, const uint32_t *x, uint32_t words, const uint32_t bits, int32_t *acc)
{
    const uint32_t e = 8 / bits;
    const uint32_t mask = bits == 4 ? 0x0F0F0F0Fu : 0x03030303u;
    int32_t a0 = 0, a1 = 0;
    for (uint32_t i = 0; i < words; ++i) {
        uint32_t r = w[i];
        for (uint32_t j = 0; j < e; ++j, x += 4) {
            uint32_t u = bits == 8 ? r : (r >> (j * bits)) & mask;
            uint32_t p = __uxtb16(u), q = mixq_uxtb16_ror8(u);
            a0 = __smlad(p, x[0], a0);
            a1 = __smlad(p, x[2], a1);
            a0 = __smlad(q, x[1], a0);
            a1 = __smlad(q, x[3], a1);
        }
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = 0;   /* no second row */
    acc[3] = 0;
}

/* Output of a lane's channel from its raw dot product and column sum; `fast` and `obits` are
 * constants in the specialized loops. fast = 0: some lane needs the general rounding path;
 * 1: none does; 2: none does, but some lanes are widened (mixq_lane_init_widened: scales
 * >= 0.5, in practice sub-byte inputs feeding 8-bit outputs; only 8-bit outputs widen, so only
 * three more copies): one LSL per output, by 0 for the other lanes. */
MIXQ_INLINE uint32_t mixq_gemm_output(const mixq_lane *lane, int32_t dot, int32_t column_sum, int32_t zy,
                                      const uint32_t obits, const int fast)
{
    int32_t acc = (int32_t)((uint32_t)dot - (uint32_t)(lane->weight_zero * column_sum));
    if (fast == 2) return mixq_lane_output_shifted(lane, acc, zy, obits);
    if (fast) return mixq_lane_output_fast(lane, acc, zy, obits);
    return mixq_lane_output(lane, acc, zy, (int32_t)((1u << obits) - 1u));
}

/* Stores one output element through the sequential writer (general path). */
MIXQ_INLINE void mixq_gemm_store(mixq_writer *w, uint32_t y)
{
    mixq_writer_push(w, y);
}

/* Stores the outputs of channels c and c+1 (c even) of a pixel whose output row starts on a byte
 * (fast path: out_c * obits is a multiple of 8). 2-bit pairs are held in *pending until the
 * byte's second pair arrives (`second`, a constant: c % 4 == 2; the 2-bit loop is unrolled by
 * two pairs so that no branch alternates per pair). */
MIXQ_INLINE void mixq_gemm_store_pair(uint8_t *row, uint32_t *pending, uint32_t c, uint32_t y0, uint32_t y1,
                                      const uint32_t obits, const int second)
{
    if (obits == 8) {
        row[c] = (uint8_t)y0;
        row[c + 1] = (uint8_t)y1;
    } else if (obits == 4) {
        row[c / 2] = (uint8_t)(y0 | (y1 << 4));
    } else if (!second) {
        *pending = y0 | (y1 << 2);
    } else {
        row[c / 4] = (uint8_t)(*pending | (y0 << 4) | (y1 << 6));
    }
}

#include "mixq_gemm16.h"   /* the expanded-weight path: needs mixq_column_fill and mixq_gemm_store_pair */

/* All output channels of one pixel pair (or one pixel when !two). Every argument marked const is
 * a compile-time constant in the specialized copies. The fast copies (every channel with N0 >= 1,
 * byte-aligned output rows, so out_c is even) end in USAT and direct byte stores; the general
 * copies use mixq_requantize's full rule and the sequential writers. */
/* Channels c and c+1 of mixq_gemm_channels: one dot product of the row pair, requantization and
 * stores for both pixels. `second` (constant) is passed on to mixq_gemm_store_pair. */
MIXQ_INLINE void mixq_gemm_pair(const uint8_t *weights, const mixq_lane *lanes, const uint32_t *x, uint32_t c,
                                uint32_t row_bytes, uint32_t steps, int32_t sum_a, int32_t sum_b, int32_t zy,
                                uint8_t *row_a, uint8_t *row_b, mixq_writer *wa, mixq_writer *wb,
                                uint32_t *pending_a, uint32_t *pending_b, const uint32_t wbits, const uint32_t obits,
                                const int fast, const int two, const int second)
{
    int32_t acc[4];
    const uint32_t *w = (const uint32_t *)(weights + c * row_bytes);
    if (two) mixq_dot_pair(w, x, steps, wbits, acc);
    else mixq_dot_pair_1(w, x, steps, wbits, acc);
    const mixq_lane *l0 = lanes + c, *l1 = lanes + c + 1;
    uint32_t y0 = mixq_gemm_output(l0, acc[0], sum_a, zy, obits, fast);
    uint32_t y1 = mixq_gemm_output(l1, acc[2], sum_a, zy, obits, fast);
    if (fast) {
        mixq_gemm_store_pair(row_a, pending_a, c, y0, y1, obits, second);
    } else {
        mixq_gemm_store(wa, y0);
        mixq_gemm_store(wa, y1);
    }
    if (two) {
        y0 = mixq_gemm_output(l0, acc[1], sum_b, zy, obits, fast);
        y1 = mixq_gemm_output(l1, acc[3], sum_b, zy, obits, fast);
        if (fast) {
            mixq_gemm_store_pair(row_b, pending_b, c, y0, y1, obits, second);
        } else {
            mixq_gemm_store(wb, y0);
            mixq_gemm_store(wb, y1);
        }
    }
}

MIXQ_INLINE void mixq_gemm_channels(const uint8_t *weights, const mixq_lane *lanes, const uint32_t *x, uint32_t out_c,
                                    uint32_t row_bytes, uint32_t words, uint32_t steps, int32_t sum_a, int32_t sum_b,
                                    int32_t zy,
                                    uint8_t *row_a, uint8_t *row_b, mixq_writer *wa, mixq_writer *wb,
                                    const uint32_t wbits, const uint32_t obits, const int fast, const int two)
{
    uint32_t c = 0, pending_a = 0, pending_b = 0;
#define MIXQ_GEMM_PAIR(C, SECOND)                                                                             \
    mixq_gemm_pair(weights, lanes, x, C, row_bytes, steps, sum_a, sum_b, zy, row_a, row_b, wa, wb, &pending_a, \
                   &pending_b, wbits, obits, fast, two, SECOND)
    if (fast && obits == 2) {   /* out_c is a multiple of 4 here: whole output bytes */
        for (; c + 4 <= out_c; c += 4) {
            MIXQ_GEMM_PAIR(c, 0);
            MIXQ_GEMM_PAIR(c + 2, 1);
        }
    } else {
        for (; c + 2 <= out_c; c += 2) MIXQ_GEMM_PAIR(c, 0);
    }
#undef MIXQ_GEMM_PAIR
    if (!fast && c < out_c) {   /* an odd last row, stored alone (out_c is even on the fast path) */
        int32_t acc[4];
        mixq_dot_single((const uint32_t *)(weights + c * row_bytes), x, words, wbits, acc);
        mixq_gemm_store(wa, mixq_gemm_output(lanes + c, acc[0], sum_a, zy, obits, fast));
        if (two) mixq_gemm_store(wb, mixq_gemm_output(lanes + c, acc[1], sum_b, zy, obits, fast));
    }
}

/* The per-pixel-pair arguments of mixq_gemm_channels, for its specialized copies. */
typedef struct {
    const uint8_t *weights;
    const mixq_lane *lanes;
    const uint32_t *x;
    uint32_t out_c, row_bytes, words, steps, wbits, obits;
    int32_t sum_a, sum_b, zy;
    uint8_t *row_a, *row_b;
    mixq_writer *wa, *wb;
} mixq_gemm_job;

/* Defines one specialized copy of mixq_gemm_channels as its own (not inlined) function, so each
 * hot loop gets its own register allocation and schedule, independent of the other copies.
 * WB = 0 and OB = 0 take the weight and output bits from the job: the general copies, which run
 * the same inner loops chosen at run time (one copy instead of three saves FLASH). */
#define MIXQ_GEMM_COPY(WB, OB, FAST, TWO)                                                                     \
    static __attribute__((noinline, unused)) void mixq_gemm_copy_##WB##_##OB##_##FAST##_##TWO(const mixq_gemm_job *j) \
    {                                                                                                        \
        mixq_gemm_channels(j->weights, j->lanes, j->x, j->out_c, j->row_bytes, j->words, j->steps, j->sum_a, j->sum_b, \
                           j->zy, j->row_a, j->row_b, j->wa, j->wb, (WB) ? (WB) : j->wbits, (OB) ? (OB) : j->obits,  \
                           FAST, TWO);                                                                               \
    }
#define MIXQ_GEMM_COPIES_W(OB, FAST, TWO) MIXQ_GEMM_COPY(8, OB, FAST, TWO) MIXQ_GEMM_COPY(4, OB, FAST, TWO) \
    MIXQ_GEMM_COPY(2, OB, FAST, TWO)
#define MIXQ_GEMM_COPIES_O(FAST, TWO) MIXQ_GEMM_COPIES_W(8, FAST, TWO) MIXQ_GEMM_COPIES_W(4, FAST, TWO) \
    MIXQ_GEMM_COPIES_W(2, FAST, TWO)
MIXQ_GEMM_COPY(0, 0, 0, 0)   /* general copies */
MIXQ_GEMM_COPY(0, 0, 0, 1)
MIXQ_GEMM_COPIES_O(1, 0)
MIXQ_GEMM_COPIES_O(1, 1)
MIXQ_GEMM_COPIES_W(8, 2, 0)   /* widened lanes: 8-bit outputs only */
MIXQ_GEMM_COPIES_W(8, 2, 1)

/* Calls the copy for the run-time weight bits, given constant OB/FAST/TWO. */
#define MIXQ_GEMM_CHANNELS_W(OB, FAST, TWO)                                                                  \
    do {                                                                                                     \
        if (wbits == 8) mixq_gemm_copy_8_##OB##_##FAST##_##TWO(&job);                                        \
        else if (wbits == 4) mixq_gemm_copy_4_##OB##_##FAST##_##TWO(&job);                                   \
        else mixq_gemm_copy_2_##OB##_##FAST##_##TWO(&job);                                                   \
    } while (0)

/* Scratch: the per-channel requantization constants, two interleaved columns, the window codes. */
MIXQ_INLINE uint32_t mixq_gemm_scratch_bytes(uint32_t k, uint32_t out_c, uint32_t weight_bits)
{
    return out_c * (uint32_t)sizeof(mixq_lane) + 2 * 2 * mixq_gemm_padded_k(k, weight_bits) + ((k + 3u) & ~3u);
}

/* The optimized convolution-as-matrix-product shared by conv, pointwise and fully connected.
 * `one_pixel_fast` (a constant) compiles the fast single-column loops: fully connected layers run
 * only those; conv and pointwise meet a single column only for an odd last pixel, which takes the
 * general loop instead of nine more specialized copies (FLASH). */
MIXQ_INLINE int mixq_gemm_run(const mixq_conv_shape *s, const uint8_t *input, const uint8_t *weights,
                              const mixq_requant_params *p, uint8_t *output, void *scratch, const int one_pixel_fast)
{
    if (!mixq_valid_params(p) || ((uintptr_t)weights & 3) != 0 || ((uintptr_t)scratch & 3) != 0) {
        return MIXQ_ERROR_ARGUMENT;
    }
    const uint32_t wbits = p->weight_bits, ibits = p->input_bits, obits = p->output_bits;
    const uint32_t k_total = (uint32_t)s->kernel_h * s->kernel_w * s->in_c;
    const uint32_t row_bytes = mixq_matrix_row_bytes(k_total, wbits);
    const uint32_t words = row_bytes / 4;
    const uint32_t kp = mixq_gemm_padded_k(k_total, wbits);
    const uint32_t pixels = (uint32_t)s->out_h * s->out_w, out_c = s->out_c;
    const int32_t zx = p->input_zero, zy = p->output_zero;

    /* conv and pointwise layers with a small weight matrix: the expanded-weight path
     * (mixq_gemm16.h), when every channel's scale fits one of its rounding cases */
    if (!one_pixel_fast && mixq_gemm16_applies(k_total, out_c, obits)
        && mixq_gemm16_run(s, input, weights, p, output, scratch)) {
        mixq_clear_tail(output, pixels * out_c, obits);
        return MIXQ_OK;
    }

    /* requantization constants once per call; `fast` when every channel has N0 >= 1 (or, for
     * 8-bit outputs, is widened) and every pixel's outputs start on a byte */
    mixq_lane *lanes = (mixq_lane *)scratch;
    int fast = ((out_c * obits) & 7u) == 0 && (out_c & 1u) == 0, widened = 0;
    const uint32_t dot_bound = mixq_dot_bound(k_total, ibits);
    for (uint32_t c = 0; c < out_c; ++c) {
        if (obits == 8) mixq_lane_init_widened(&lanes[c], p, c, dot_bound);   /* see mixq_gemm_output */
        else mixq_lane_init(&lanes[c], p, c);
        fast &= !lanes[c].general;
        widened |= lanes[c].pre_shift != 0;
    }
    if (fast && widened) fast = 2;   /* obits == 8 */
    int16_t *col = (int16_t *)(lanes + out_c);
    uint8_t *codes = (uint8_t *)(col + 2 * kp);   /* after the two interleaved columns */
    const uint32_t *x = (const uint32_t *)col;

    /* the last, possibly partial, group and the word padding stay 0 for every pixel */
    uint32_t first_pad_group = k_total / 4;
    memset(col + first_pad_group * MIXQ_GEMM_GROUP_STRIDE, 0, (kp / 4 - first_pad_group) * MIXQ_GEMM_GROUP_STRIDE * 2);

    for (uint32_t p0 = 0; p0 < pixels; p0 += 2) {
        /* fully connected layers (one_pixel_fast) have one pixel: a constant 0 drops the two-pixel
         * copies from their FLASH */
        const int two = one_pixel_fast ? 0 : p0 + 1 < pixels;
        const uint32_t p1 = two ? p0 + 1 : p0;
        mixq_column_fill(col, s, input, p0, ibits, zx, codes);
        if (two) mixq_column_fill(col + 4, s, input, p1, ibits, zx, codes);
        int32_t sum_a, sum_b;
        mixq_column_sums(col, kp, &sum_a, &sum_b);
        uint8_t *row_a = output + p0 * out_c * obits / 8, *row_b = output + p1 * out_c * obits / 8;
        mixq_writer wa, wb;
        mixq_writer_init(&wa, output, p0 * out_c, obits);
        mixq_writer_init(&wb, output, p1 * out_c, obits);
        const mixq_gemm_job job = { weights, lanes, x, out_c, row_bytes, words, (k_total + 3) / 4, wbits, obits,
                                    sum_a, sum_b, zy, row_a, row_b, &wa, &wb };
        if (!fast || (!two && !one_pixel_fast)) {
            if (two) mixq_gemm_copy_0_0_0_1(&job);
            else mixq_gemm_copy_0_0_0_0(&job);
        } else if (fast == 2) {
            if (two) MIXQ_GEMM_CHANNELS_W(8, 2, 1);
            else MIXQ_GEMM_CHANNELS_W(8, 2, 0);
        } else if (obits == 8) {
            if (two) MIXQ_GEMM_CHANNELS_W(8, 1, 1);
            else MIXQ_GEMM_CHANNELS_W(8, 1, 0);
        } else if (obits == 4) {
            if (two) MIXQ_GEMM_CHANNELS_W(4, 1, 1);
            else MIXQ_GEMM_CHANNELS_W(4, 1, 0);
        } else {
            if (two) MIXQ_GEMM_CHANNELS_W(2, 1, 1);
            else MIXQ_GEMM_CHANNELS_W(2, 1, 0);
        }
        if (!fast || (!two && !one_pixel_fast)) {
            mixq_writer_finish(&wa);
            if (two) mixq_writer_finish(&wb);
        }
    }
    mixq_clear_tail(output, pixels * out_c, obits);
    return MIXQ_OK;
}

#endif /* MIXQ_GEMM_H */
