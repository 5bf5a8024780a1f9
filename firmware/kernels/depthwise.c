/* depthwise.c - depthwise convolution; see depthwise.h for the contract. */
#include "depthwise.h"
#include "mixq_gemm.h"   /* mixq_column_gather / mixq_column_put: the x0, x2, x1, x3 expansion */

/* Channels rounded up to whole groups of 4. */
MIXQ_INLINE uint32_t mixq_dw_channels(const mixq_conv_shape *s) { return (s->in_c + 3u) & ~3u; }

/* Width of an expanded row including the padding columns on both sides. */
MIXQ_INLINE uint32_t mixq_dw_row_width(const mixq_conv_shape *s)
{
    uint32_t needed = (uint32_t)(s->out_w - 1) * s->stride_w + s->kernel_w;
    uint32_t have = (uint32_t)s->pad_left + s->in_w;
    return needed > have ? needed : have;
}

/* Scratch layout (all int16 pairs, "group-major" so every tap of a group sits at a constant
 * offset): expanded weights [group][tap][2 words], a ring of kernel_h expanded rows
 * [slot][group][column][2 words], kernel_h row tags, one output row of bytes for channel
 * counts that are not a multiple of 4, then the accumulators of one group along an output row
 * [out_w][4] int32 (see mixq_dw_row). */
static uint32_t mixq_dw_group_scratch_bytes(const mixq_conv_shape *s)
{
    uint32_t ce = mixq_dw_channels(s), taps = (uint32_t)s->kernel_h * s->kernel_w;
    uint32_t staging = (s->in_c & 3u) ? ((uint32_t)s->out_w * s->in_c + 3u) & ~3u : 0;
    return taps * ce * 2 + (uint32_t)s->kernel_h * mixq_dw_row_width(s) * ce * 2 + (uint32_t)s->kernel_h * 4 + staging
         + (uint32_t)s->out_w * 16;
}

/* Expands padded row r (input row r - pad_top, or a zero row) into one ring slot. */
static void mixq_dw_expand_row(int16_t *dst, const mixq_conv_shape *s, const uint8_t *input, int32_t r,
                               uint32_t width, uint32_t ce, uint32_t bits, int32_t zx)
{
    int32_t iy = r - s->pad_top;
    uint32_t c = s->in_c, group_stride = width * 4;   /* int16 between groups */
    if (iy < 0 || iy >= s->in_h) {
        memset(dst, 0, width * ce * 2);   /* a padding row */
        return;
    }
    /* the padding columns and the zero channels of a partial group are never written here: they
     * keep the zeros mixq_dw_group_run clears the ring with once per call */
    if ((c & 3u) == 0) {
        /* whole groups: the 4 channels of a group (a word, a halfword or a byte of the packed
         * row) become the two halfword pairs of its group (c, c+2 | c+1, c+3), pixel by pixel and
         * group by group, without per-pixel set-up (the expansions of mixq_column_gather) */
        const uint32_t zx2 = (uint32_t)zx | ((uint32_t)zx << 16), groups = c / 4u, step = width * 2u;   /* words */
        const uint8_t *src = input + (uint32_t)iy * s->in_w * c * bits / 8u;
        uint32_t *column = (uint32_t *)dst + s->pad_left * 2u;
        for (uint32_t ix = 0; ix < s->in_w; ++ix, column += 2) {
            uint32_t *d = column;
            if (bits == 8) {
                for (uint32_t g = 0; g < groups; ++g, src += 4, d += step) {
                    uint32_t v = mixq_load_word(src);
                    d[0] = __ssub16(__uxtb16(v), zx2);
                    d[1] = __ssub16(mixq_uxtb16_ror8(v), zx2);
                }
            } else if (bits == 4) {
                for (uint32_t g = 0; g < groups; ++g, src += 2, d += step) {
                    uint32_t v = (uint32_t)src[0] | ((uint32_t)src[1] << 16);   /* byte0 = x1:x0, byte2 = x3:x2 */
                    d[0] = __ssub16(v & 0x000F000Fu, zx2);
                    d[1] = __ssub16((v >> 4) & 0x000F000Fu, zx2);
                }
            } else {
                for (uint32_t g = 0; g < groups; ++g, src += 1, d += step) {
                    uint32_t b = *src;
                    d[0] = __ssub16((b | (b << 12)) & 0x30003u, zx2);          /* x0 | x2 << 16 */
                    d[1] = __ssub16(((b >> 2) | (b << 10)) & 0x30003u, zx2);   /* x1 | x3 << 16 */
                }
            }
        }
        return;
    }
    for (uint32_t ix = 0; ix < s->in_w; ++ix) {
        mixq_column_gather(dst + (s->pad_left + ix) * 4, 0, input, ((uint32_t)iy * s->in_w + ix) * c, c, bits, zx,
                           group_stride);
    }
}

/* The 9 taps of one output column of a 3x3 group: acc[0..3] = the raw accumulators of channels
 * g, g+2, g+1, g+3 (as mixq_dw_accumulate). x0, x1, x2 point at the window's first column in
 * the three expanded rows, w at the group's 9 expanded weight pairs.
 *
 * Hand-scheduled for the Cortex-M7's in-order dual issue (docs/design.md#cortex-m7-timing: one
 * MAC per cycle, a MAC cannot use an LDR result of the previous cycle): every cycle issues one MAC
 * (older slot) and one LDR (younger slot), each LDR two cycles or more ahead of its first use.
 * Tap k reads pair A_k (x word 0, w word 0) for its first two MACs and pair B_k (x word 1,
 * w word 1) for the other two; three register pairs t0:t1, t2:t3, t4:t5 rotate so that while
 * tap k multiplies, A_k+1 loads into the free pair and B_k+1 into A_k's pair once its second
 * MAC has read it: A_k sits in pair (-k) mod 3, B_k in pair (1 - k) mod 3 (t0:t1 = pair 0).
 * 38 cycles for 36 MACs (GCC's own schedule of the same C took ~57: it places each load one
 * cycle before its use). The first tap uses SMULxy, so no accumulator needs clearing. */
MIXQ_INLINE void mixq_dw_taps_3x3(const uint32_t *x0, const uint32_t *x1, const uint32_t *x2, const uint32_t *w,
                                  int32_t *acc)
{
    int32_t a0, a1, a2, a3;
    uint32_t t0, t1, t2, t3, t4, t5;
    __asm__(
        "ldr %[t0], [%[x0], #0]\n\t"
        "ldr %[t1], [%[w], #0]\n\t"
        "ldr %[t2], [%[x0], #4]\n\t"
        "ldr %[t3], [%[w], #4]\n\t"
        "smulbb %[a0], %[t0], %[t1]\n\t"
        "ldr %[t4], [%[x0], #8]\n\t"
        "smultt %[a1], %[t0], %[t1]\n\t"
        "ldr %[t5], [%[w], #8]\n\t"
        "smulbb %[a2], %[t2], %[t3]\n\t"
        "ldr %[t0], [%[x0], #12]\n\t"
        "smultt %[a3], %[t2], %[t3]\n\t"
        "ldr %[t1], [%[w], #12]\n\t"
        "smlabb %[a0], %[t4], %[t5], %[a0]\n\t"
        "ldr %[t2], [%[x0], #16]\n\t"
        "smlatt %[a1], %[t4], %[t5], %[a1]\n\t"
        "ldr %[t3], [%[w], #16]\n\t"
        "smlabb %[a2], %[t0], %[t1], %[a2]\n\t"
        "ldr %[t4], [%[x0], #20]\n\t"
        "smlatt %[a3], %[t0], %[t1], %[a3]\n\t"
        "ldr %[t5], [%[w], #20]\n\t"
        "smlabb %[a0], %[t2], %[t3], %[a0]\n\t"
        "ldr %[t0], [%[x1], #0]\n\t"
        "smlatt %[a1], %[t2], %[t3], %[a1]\n\t"
        "ldr %[t1], [%[w], #24]\n\t"
        "smlabb %[a2], %[t4], %[t5], %[a2]\n\t"
        "ldr %[t2], [%[x1], #4]\n\t"
        "smlatt %[a3], %[t4], %[t5], %[a3]\n\t"
        "ldr %[t3], [%[w], #28]\n\t"
        "smlabb %[a0], %[t0], %[t1], %[a0]\n\t"
        "ldr %[t4], [%[x1], #8]\n\t"
        "smlatt %[a1], %[t0], %[t1], %[a1]\n\t"
        "ldr %[t5], [%[w], #32]\n\t"
        "smlabb %[a2], %[t2], %[t3], %[a2]\n\t"
        "ldr %[t0], [%[x1], #12]\n\t"
        "smlatt %[a3], %[t2], %[t3], %[a3]\n\t"
        "ldr %[t1], [%[w], #36]\n\t"
        "smlabb %[a0], %[t4], %[t5], %[a0]\n\t"
        "ldr %[t2], [%[x1], #16]\n\t"
        "smlatt %[a1], %[t4], %[t5], %[a1]\n\t"
        "ldr %[t3], [%[w], #40]\n\t"
        "smlabb %[a2], %[t0], %[t1], %[a2]\n\t"
        "ldr %[t4], [%[x1], #20]\n\t"
        "smlatt %[a3], %[t0], %[t1], %[a3]\n\t"
        "ldr %[t5], [%[w], #44]\n\t"
        "smlabb %[a0], %[t2], %[t3], %[a0]\n\t"
        "ldr %[t0], [%[x2], #0]\n\t"
        "smlatt %[a1], %[t2], %[t3], %[a1]\n\t"
        "ldr %[t1], [%[w], #48]\n\t"
        "smlabb %[a2], %[t4], %[t5], %[a2]\n\t"
        "ldr %[t2], [%[x2], #4]\n\t"
        "smlatt %[a3], %[t4], %[t5], %[a3]\n\t"
        "ldr %[t3], [%[w], #52]\n\t"
        "smlabb %[a0], %[t0], %[t1], %[a0]\n\t"
        "ldr %[t4], [%[x2], #8]\n\t"
        "smlatt %[a1], %[t0], %[t1], %[a1]\n\t"
        "ldr %[t5], [%[w], #56]\n\t"
        "smlabb %[a2], %[t2], %[t3], %[a2]\n\t"
        "ldr %[t0], [%[x2], #12]\n\t"
        "smlatt %[a3], %[t2], %[t3], %[a3]\n\t"
        "ldr %[t1], [%[w], #60]\n\t"
        "smlabb %[a0], %[t4], %[t5], %[a0]\n\t"
        "ldr %[t2], [%[x2], #16]\n\t"
        "smlatt %[a1], %[t4], %[t5], %[a1]\n\t"
        "ldr %[t3], [%[w], #64]\n\t"
        "smlabb %[a2], %[t0], %[t1], %[a2]\n\t"
        "ldr %[t4], [%[x2], #20]\n\t"
        "smlatt %[a3], %[t0], %[t1], %[a3]\n\t"
        "ldr %[t5], [%[w], #68]\n\t"
        "smlabb %[a0], %[t2], %[t3], %[a0]\n\t"
        "smlatt %[a1], %[t2], %[t3], %[a1]\n\t"
        "smlabb %[a2], %[t4], %[t5], %[a2]\n\t"
        "smlatt %[a3], %[t4], %[t5], %[a3]\n\t"
        : [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3), [t0] "=&r"(t0), [t1] "=&r"(t1),
          [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4), [t5] "=&r"(t5)
        : [x0] "r"(x0), [x1] "r"(x1), [x2] "r"(x2), [w] "r"(w)
        : "memory");
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* Pass 1 of a group's output row: the raw accumulators (no bias) of channels g, g+2, g+1, g+3
 * for every output column, stored as acc[4 * ox + 0..3]. kh, kw are constants when inlined from
 * the 3x3 copies, so every tap is a constant offset from kh row pointers and one weight
 * pointer: per tap two LDRD and four 16x16 MACs, nothing else in the loop. */
MIXQ_INLINE void mixq_dw_accumulate(int32_t *acc, const uint32_t *wg, const uint32_t *const *xg, uint32_t out_w,
                                    uint32_t step, const uint32_t kh, const uint32_t kw)
{
    if (kh == 3 && kw == 3) {
        /* the first row pointer doubles as the loop counter: fewer values live around the asm */
        const uint32_t *x0 = xg[0], *x1 = xg[1], *x2 = xg[2], *const end = x0 + out_w * step;
        for (; x0 != end; acc += 4, x0 += step, x1 += step, x2 += step) mixq_dw_taps_3x3(x0, x1, x2, wg, acc);
        return;
    }
    for (uint32_t ox = 0; ox < out_w; ++ox, acc += 4) {
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;   /* channels g, g+2, g+1, g+3 */
        /* an opaque copy of the weight pointer stops GCC hoisting 9 tap addresses into spilled
         * registers: every tap is then an immediate offset (LDRD w, [wp, #8*tap]) */
        const uint32_t *wp = wg;
        __asm__("" : "+r"(wp));
        for (uint32_t ky = 0; ky < kh; ++ky) {
            const uint32_t *xr = xg[ky] + ox * step, *wr = wp + ky * kw * 2;
            for (uint32_t kx = 0; kx < kw; ++kx) {
                uint64_t xx, ww;   /* one LDRD each */
                memcpy(&xx, xr + 2 * kx, 8);
                memcpy(&ww, wr + 2 * kx, 8);
                uint32_t x0 = (uint32_t)xx, x1 = (uint32_t)(xx >> 32), w0 = (uint32_t)ww, w1 = (uint32_t)(ww >> 32);
                a0 = __smlabb(x0, w0, a0);
                a1 = __smlatt(x0, w0, a1);
                a2 = __smlabb(x1, w1, a2);
                a3 = __smlatt(x1, w1, a3);
            }
        }
        acc[0] = a0;
        acc[1] = a1;
        acc[2] = a2;
        acc[3] = a3;
    }
}

/* High word of (ra << 32) + a * b (SMMLA) and of (ra << 32) + a * b + 2^31 (SMMLAR). */
MIXQ_INLINE int32_t mixq_smmla(int32_t a, int32_t b, int32_t ra)
{
    int32_t r;
    __asm__("smmla %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(ra));
    return r;
}
MIXQ_INLINE int32_t mixq_smmlar(int32_t a, int32_t b, int32_t ra)
{
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(ra));
    return r;
}

/* One output of a fast or widened lane (mixq_lane_output_fast / _shifted) with the 64-bit
 * constant round_hi:round_lo folded into one instruction: round_lo is 0 (N0 >= 2: SMMLA with
 * round_hi) or 2^31 (N0 = 1 or a widened lane: SMMLAR, round_hi = 0), so
 * hi(round_hi:round_lo + acc * M0) is exactly SMMLA/SMMLAR(acc, M0, round_hi). Here ra also
 * carries zy * 2^shift (see mixq_dw_requantize_run), so no ADD of zy follows. */
MIXQ_INLINE uint32_t mixq_dw_output(int32_t acc, int32_t bias, int32_t m, int32_t ra, int32_t shift, int32_t pre,
                                    const uint32_t obits, const int rounding, const int widened)
{
    acc = (int32_t)((uint32_t)acc + (uint32_t)bias);
    if (widened) acc = (int32_t)((uint32_t)acc << pre);
    int32_t hi = rounding ? mixq_smmlar(acc, m, ra) : mixq_smmla(acc, m, ra);
    return mixq_clamp_bits(hi >> shift, obits);
}

/* The loop of mixq_dw_requantize_channel for one rounding form, four columns per iteration so
 * the in-order pipeline overlaps their dependency chains. (hi >> shift) + zy equals
 * (hi + zy * 2^shift) >> shift, and hi + zy * 2^shift is what SMMLA/SMMLAR return with ra
 * raised by zy * 2^shift: exact while that sum fits in int32 (|hi| < 2^30, so shift <= 21 for
 * zy <= 255); that saves one ADD per output. */
MIXQ_INLINE void mixq_dw_requantize_run(int32_t *acc, uint32_t out_w, int32_t bias, int32_t m, int32_t ra,
                                        int32_t shift, int32_t pre, int32_t zy, const uint32_t obits,
                                        const int rounding, const int widened)
{
    ra += zy << shift;   /* shift <= 21 (mixq_dw_requantize_channel) */
    uint32_t ox = 0;
    for (; ox + 4 <= out_w; ox += 4, acc += 16) {
        int32_t v0 = acc[0], v1 = acc[4], v2 = acc[8], v3 = acc[12];
        acc[0] = (int32_t)mixq_dw_output(v0, bias, m, ra, shift, pre, obits, rounding, widened);
        acc[4] = (int32_t)mixq_dw_output(v1, bias, m, ra, shift, pre, obits, rounding, widened);
        acc[8] = (int32_t)mixq_dw_output(v2, bias, m, ra, shift, pre, obits, rounding, widened);
        acc[12] = (int32_t)mixq_dw_output(v3, bias, m, ra, shift, pre, obits, rounding, widened);
    }
    for (; ox < out_w; ++ox, acc += 4) {
        acc[0] = (int32_t)mixq_dw_output(acc[0], bias, m, ra, shift, pre, obits, rounding, widened);
    }
}

/* Pass 2: requantizes channel c (accumulator slot acc[4 * ox]) along the row, in place: each raw
 * accumulator becomes its output value. The rounding form (the cases of mixq_lane_init and
 * mixq_lane_init_widened, derived here directly from N0 to keep the per-row setup short) is
 * chosen once per channel and row, and the channel's constants stay in registers:
 *   N0 in 2..22: SMMLA with round_hi = 2^(N0-2), then ASR by N0 - 1;
 *   N0 = 1:  SMMLAR (round_lo = 2^31), no shift;
 *   N0 <= 0 with |bias| + dot_bound < 2^(30 + N0): widened, acc << (1 - N0) then SMMLAR;
 *   otherwise the general 64-bit path (mixq_lane_output). */
MIXQ_INLINE void mixq_dw_requantize_channel(const mixq_requant_params *p, uint32_t c, uint32_t dot_bound,
                                            int32_t *acc, uint32_t out_w, int32_t zy, const uint32_t obits)
{
    const uint32_t index = mixq_multiplier_index(p, c);
    const int32_t n0 = p->shift[index], m = p->multiplier[index], bias = p->bias[c];
    if (n0 >= 2 && n0 <= 22) {   /* shift = N0 - 1 <= 21; smaller scales take the general path */
        mixq_dw_requantize_run(acc, out_w, bias, m, (int32_t)(1u << (n0 - 2)), n0 - 1, 0, zy, obits, 0, 0);
        return;
    }
    if (n0 == 1) {
        mixq_dw_requantize_run(acc, out_w, bias, m, 0, 0, 0, zy, obits, 1, 0);
        return;
    }
    if (n0 <= 0 && n0 >= -29) {
        uint32_t magnitude = bias < 0 ? 0u - (uint32_t)bias : (uint32_t)bias;
        uint32_t limit = 1u << (30 + n0);   /* 2^(31 - L), L = 1 - N0 <= 30 */
        if (magnitude < limit && limit - magnitude > dot_bound) {   /* |acc| < 2^(31 - L): acc << L fits */
            mixq_dw_requantize_run(acc, out_w, bias, m, 0, 0, 1 - n0, zy, obits, 1, 1);
            return;
        }
    }
    mixq_lane lane;
    mixq_lane_init(&lane, p, c);
    const int32_t qmax = (int32_t)((1u << obits) - 1);
    for (uint32_t ox = 0; ox < out_w; ++ox) acc[4 * ox] = (int32_t)mixq_lane_output(&lane, acc[4 * ox], zy, qmax);
}

/* Stores the outputs of channels g..g+3 of pixel `pixel` (C a multiple of 4: byte aligned) from
 * the requantized slots (channels g, g+2, g+1, g+3). */
MIXQ_INLINE void mixq_dw_store4(uint8_t *output, uint32_t pixel, uint32_t channels, uint32_t g, uint32_t bits,
                                const int32_t *y)
{
    uint32_t element = pixel * channels + g;
    uint32_t y0 = (uint32_t)y[0], y2 = (uint32_t)y[1], y1 = (uint32_t)y[2], y3 = (uint32_t)y[3];
    if (bits == 8) {
        uint32_t v = y0 | (y1 << 8) | (y2 << 16) | (y3 << 24);
        memcpy(output + element, &v, 4);
    } else if (bits == 4) {
        uint16_t v = (uint16_t)(y0 | (y1 << 4) | (y2 << 8) | (y3 << 12));
        memcpy(output + element / 2, &v, 2);
    } else {
        output[element / 4] = (uint8_t)(y0 | (y1 << 2) | (y2 << 4) | (y3 << 6));
    }
}

/* One output row, one channel group at a time, in three passes over the row: raw accumulators
 * of the group's 4 channels (mixq_dw_accumulate), requantization lane by lane
 * (mixq_dw_requantize_channel), then one packed store per pixel. Splitting the passes keeps the
 * MAC loop free of requantization constants (which no longer fit in registers beside it). */
MIXQ_INLINE void mixq_dw_row(const mixq_conv_shape *s, int16_t *const *rows, const int16_t *wexp,
                             const mixq_requant_params *p, uint8_t *output, uint8_t *staging, int32_t *acc,
                             uint32_t oy, const uint32_t kh, const uint32_t kw, const uint32_t obits,
                             uint32_t width, uint32_t ce)
{
    const uint32_t c_total = s->in_c, taps = kh * kw, step = 2u * s->stride_w, out_w = s->out_w;
    const int aligned = (c_total & 3u) == 0;
    const int32_t zy = p->output_zero;
    const uint32_t dot_bound = mixq_dot_bound(taps, p->input_bits);
    for (uint32_t g = 0; g < ce; g += 4) {
        const uint32_t *xg[16];
        for (uint32_t ky = 0; ky < kh; ++ky) xg[ky] = (const uint32_t *)rows[ky] + (g / 4) * width * 2;
        mixq_dw_accumulate(acc, (const uint32_t *)wexp + (g / 4) * taps * 2, xg, out_w, step, kh, kw);

        /* accumulator slots 0..3 hold channels g, g+2, g+1, g+3 (a partial group repeats g) */
        static const uint8_t position[4] = { 0, 2, 1, 3 };
        for (uint32_t i = 0; i < 4; ++i) {
            uint32_t c = g + position[i] < c_total ? g + position[i] : g;
            mixq_dw_requantize_channel(p, c, dot_bound, acc + i, out_w, zy, obits);
        }

        if (aligned) {
            for (uint32_t ox = 0; ox < out_w; ++ox) {
                mixq_dw_store4(output, oy * out_w + ox, c_total, g, obits, acc + 4 * ox);
            }
        } else {
            for (uint32_t ox = 0; ox < out_w; ++ox) {
                uint8_t *dst = staging + ox * c_total + g;
                for (uint32_t i = 0; i < 4 && g + i < c_total; ++i) dst[i] = (uint8_t)acc[4 * ox + position[i]];
            }
        }
    }
    if (!aligned) {   /* pack the staged row: it starts mid-byte when C * bits is not a multiple of 8 */
        mixq_writer out;
        mixq_writer_init(&out, output, oy * out_w * c_total, obits);
        for (uint32_t i = 0; i < out_w * c_total; ++i) mixq_writer_push(&out, staging[i]);
        mixq_writer_finish(&out);
    }
}

/* The 3x3 rows as separate functions, one per output width, so each keeps its own schedule. */
#define MIXQ_DW_ROW_3X3(OBITS)                                                                                  \
    static __attribute__((noinline)) void mixq_dw_row_3x3_##OBITS(const mixq_conv_shape *s, int16_t *const *rows, \
        const int16_t *wexp, const mixq_requant_params *p, uint8_t *output, uint8_t *staging, int32_t *acc,      \
        uint32_t oy, uint32_t width, uint32_t ce)                                                     \
    {                                                                                                            \
        mixq_dw_row(s, rows, wexp, p, output, staging, acc, oy, 3, 3, OBITS, width, ce);                      \
    }
MIXQ_DW_ROW_3X3(8)
MIXQ_DW_ROW_3X3(4)
MIXQ_DW_ROW_3X3(2)

static int mixq_dw_group_run(const mixq_conv_shape *s, const uint8_t *input, const uint8_t *weights,
                             const mixq_requant_params *p, uint8_t *output, void *scratch)
{
    const uint32_t ce = mixq_dw_channels(s), taps = (uint32_t)s->kernel_h * s->kernel_w, c_total = s->in_c;
    const uint32_t width = mixq_dw_row_width(s), kh = s->kernel_h;
    int16_t *wexp = (int16_t *)scratch;
    int16_t *ring = wexp + taps * ce;
    int32_t *tags = (int32_t *)(ring + kh * width * ce);
    uint8_t *staging = (uint8_t *)(tags + kh);
    int32_t *acc = (int32_t *)(staging + ((s->in_c & 3u) ? (((uint32_t)s->out_w * c_total + 3u) & ~3u) : 0));

    /* weights once per call: (w - zw[c]), group-major, padding channels 0 */
    memset(wexp, 0, taps * ce * 2);
    if ((c_total & 3u) == 0) {
        /* whole groups: each tap's row of weights expands 4 at a time (mixq_column_gather with a
         * zero-point of 0), then every group subtracts its channels' zero-points as two pairs */
        for (uint32_t t = 0; t < taps; ++t) {
            mixq_column_gather(wexp + t * 4, 0, weights, t * c_total, c_total, p->weight_bits, 0, taps * 4);
        }
        uint32_t *w = (uint32_t *)wexp;
        for (uint32_t g = 0; g < ce; g += 4) {
            uint32_t z0 = (uint32_t)mixq_weight_zero(p, g) | ((uint32_t)mixq_weight_zero(p, g + 2) << 16);
            uint32_t z1 = (uint32_t)mixq_weight_zero(p, g + 1) | ((uint32_t)mixq_weight_zero(p, g + 3) << 16);
            for (uint32_t t = 0; t < taps; ++t, w += 2) {
                w[0] = __ssub16(w[0], z0);
                w[1] = __ssub16(w[1], z1);
            }
        }
    } else {
        for (uint32_t t = 0; t < taps; ++t) {
            for (uint32_t c = 0; c < c_total; ++c) {
                int32_t w = (int32_t)mixq_load_element(weights, t * c_total + c, p->weight_bits);
                mixq_column_put(wexp + t * 4, c, w - mixq_weight_zero(p, c), taps * 4);
            }
        }
    }
    for (uint32_t i = 0; i < kh; ++i) tags[i] = -1;
    memset(ring, 0, kh * width * ce * 2);   /* padding columns and channels stay 0 (mixq_dw_expand_row) */

    int16_t *rows[16];
    for (uint32_t oy = 0; oy < s->out_h; ++oy) {
        for (uint32_t ky = 0; ky < kh; ++ky) {
            int32_t r = (int32_t)(oy * s->stride_h + ky);   /* padded row index */
            uint32_t slot = (uint32_t)r % kh;
            int16_t *dst = ring + slot * width * ce;
            if (tags[slot] != r) {
                mixq_dw_expand_row(dst, s, input, r, width, ce, p->input_bits, p->input_zero);
                tags[slot] = r;
            }
            rows[ky] = dst;
        }
        /* constant kernel size and output bits for the common cases: fixed offsets, no branches */
        if (s->kernel_h == 3 && s->kernel_w == 3) {
            switch (p->output_bits) {
            case 8: mixq_dw_row_3x3_8(s, rows, wexp, p, output, staging, acc, oy, width, ce); break;
            case 4: mixq_dw_row_3x3_4(s, rows, wexp, p, output, staging, acc, oy, width, ce); break;
            default: mixq_dw_row_3x3_2(s, rows, wexp, p, output, staging, acc, oy, width, ce); break;
            }
        } else {
            mixq_dw_row(s, rows, wexp, p, output, staging, acc, oy, kh, s->kernel_w, p->output_bits, width, ce);
        }
    }
    mixq_clear_tail(output, (uint32_t)s->out_h * s->out_w * c_total, p->output_bits);
    return MIXQ_OK;
}

/* ---- entry points ---------------------------------------------------------------------------- */

uint32_t mixq_depthwise_scratch_bytes(const mixq_conv_shape *s)
{
    return mixq_dw_group_scratch_bytes(s);
}

int mixq_depthwise(const mixq_conv_shape *s, const uint8_t *input, const uint8_t *weights,
                   const mixq_requant_params *p, uint8_t *output, void *scratch)
{
    if (!mixq_valid_params(p) || s->in_c != s->out_c || s->kernel_h > 16 || ((uintptr_t)scratch & 3) != 0) {
        return MIXQ_ERROR_ARGUMENT;
    }
    return mixq_dw_group_run(s, input, weights, p, output, scratch);
}


int mixq_depthwise_plain(const mixq_conv_shape *s, const uint8_t *input, const uint8_t *weights,
                         const mixq_requant_params *p, uint8_t *output)
{
    if (!mixq_valid_params(p) || s->in_c != s->out_c) return MIXQ_ERROR_ARGUMENT;
    const uint32_t channels = s->in_c;
    const int32_t zx = p->input_zero, qmax = (int32_t)((1u << p->output_bits) - 1);
    mixq_writer out;
    mixq_writer_init(&out, output, 0, p->output_bits);
    for (uint32_t oy = 0; oy < s->out_h; ++oy) {
        for (uint32_t ox = 0; ox < s->out_w; ++ox) {
            for (uint32_t c = 0; c < channels; ++c) {
                int32_t zw = mixq_weight_zero(p, c);
                int32_t acc = p->bias[c];
                for (uint32_t ky = 0; ky < s->kernel_h; ++ky) {
                    int32_t iy = (int32_t)(oy * s->stride_h + ky) - s->pad_top;
                    if (iy < 0 || iy >= s->in_h) continue;   /* padding reads zx */
                    for (uint32_t kx = 0; kx < s->kernel_w; ++kx) {
                        int32_t ix = (int32_t)(ox * s->stride_w + kx) - s->pad_left;
                        if (ix < 0 || ix >= s->in_w) continue;
                        int32_t x = (int32_t)mixq_load_element(
                            input, ((uint32_t)iy * s->in_w + (uint32_t)ix) * channels + c, p->input_bits);
                        int32_t w = (int32_t)mixq_load_element(weights, (ky * s->kernel_w + kx) * channels + c,
                                                               p->weight_bits);
                        acc = (int32_t)((uint32_t)acc + (uint32_t)((w - zw) * (x - zx)));
                    }
                }
                uint32_t m = mixq_multiplier_index(p, c);
                mixq_writer_push(&out, mixq_requantize(acc, p->multiplier[m], p->shift[m], p->output_zero, qmax));
            }
        }
    }
    mixq_writer_finish(&out);
    mixq_clear_tail(output, (uint32_t)s->out_h * s->out_w * channels, p->output_bits);
    return MIXQ_OK;
}
