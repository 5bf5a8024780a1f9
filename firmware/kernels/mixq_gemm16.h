/*
 * mixq_gemm16.h - the expanded-weight path of the matrix core (internal header, included by
 * mixq_gemm.h; used by conv.c and pointwise.c, not by fc.c).
 *
 * For layers whose weight matrix is small (the first convolution, K = 27; pointwise layers of
 * narrow networks, K = 8 .. 128), the weights are expanded once per call into scratch as int16
 * (w - zw[c]), in the column order of mixq_gemm.h (groups of 4 as w0|w2 and w1|w3), so that
 *   acc = bias[c] + sum_k (w_k - zw[c]) * (x_k - zx)
 * is one SMLAD per two products, with no per-pixel unpacking of weights, no column sum and no
 * zw * sum term; the accumulators start at the bias. Per group of 4 weights, two rows times two
 * pixels: eight word loads and eight SMLAD (the current core: one LDRD, four UXTB16, four column
 * loads and eight SMLAD). The expansion reads each packed weight once per call instead of once
 * per pixel pair, which is also what FLASH wait states charge under `full` timing; sub-byte
 * weights expand to the same int16 rows, so they run exactly as fast as 8-bit weights.
 *
 * Requantization: one form for every channel, y = USAT(SMMLA(acc << pre, M0, round) >> shift),
 * with zy folded into the rounding constant (as depthwise.c does; the arithmetic is the rule of
 * mixq_common.h, s = 31 + N0):
 *   N0 in 2..22: pre = 0, shift = N0 - 1, round = 2^(N0-2) + zy * 2^(N0-1). SMMLA(a, b, r) =
 *     hi(r * 2^32 + a * b) = floor((acc * M0 + 2^(s-1)) / 2^32); shifting by N0 - 1 more gives
 *     floor(.../2^s), and zy * 2^(N0-1) * 2^32 adds exactly zy after the shift.
 *   N0 in -29..1 (scales >= 0.25: sub-byte inputs feeding wider outputs): pre = L = 2 - N0,
 *     shift = 1, round = 1 + 2 zy: floor((acc * M0 * 2^L + 2^32 + zy * 2^33) / 2^33) =
 *     floor((acc * M0 + 2^(s-1)) / 2^s) + zy, exact when acc << L fits in int32, which holds
 *     for every accumulator when |bias| + mixq_dot_bound < 2^(31 - L) (the argument of
 *     mixq_lane_init_widened).
 * |hi| < 2^30 and the constant < 2^29, so nothing overflows. A layer with a channel outside both
 * cases takes the existing core instead (mixq_gemm_run), with the same results. One form keeps
 * the code to two copies of the channel loop (8-bit outputs, and 4/2-bit outputs chosen at run
 * time): FLASH, which a 1.0_224 network under the paper's budget leaves ~50 KB of for code.
 *
 * Applies when out_c is even, out_c * output_bits is a multiple of 8 (whole output bytes per
 * pixel) and the expanded weights fit MIXQ_GEMM16_MAX_WEIGHT_BYTES; mixq_gemm16_scratch_bytes
 * includes them then.
 * Scratch: out_c mixq_gemm16_lane records, the expanded weights (out_c rows of round4(K)
 * int16), two interleaved columns of round4(K) int16, K bytes (rounded to 4) of window codes.
 */
#ifndef MIXQ_GEMM16_H
#define MIXQ_GEMM16_H

#include "mixq_common.h"

/* Largest expanded weight matrix, in bytes (16384 weights: a 128 x 128 pointwise layer). */
#define MIXQ_GEMM16_MAX_WEIGHT_BYTES (32u * 1024u)

/* Per-channel constants: accumulator start, multiplier, rounding constant with zy, shifts. */
typedef struct {
    int32_t bias, multiplier, round, shift, pre;
} mixq_gemm16_lane;

/* K rounded up to whole groups of 4. */
MIXQ_INLINE uint32_t mixq_gemm16_k(uint32_t k) { return (k + 3u) & ~3u; }

/* Whether a layer of this shape takes the expanded path (scratch is sized for it). */
MIXQ_INLINE int mixq_gemm16_applies(uint32_t k, uint32_t out_c, uint32_t output_bits)
{
    return (out_c & 1u) == 0 && ((out_c * output_bits) & 7u) == 0
        && (uint64_t)out_c * mixq_gemm16_k(k) * 2u <= MIXQ_GEMM16_MAX_WEIGHT_BYTES;
}

/* Scratch of the expanded path (0 when it does not apply). The output bits are not known when
 * scratch is sized, so the size assumes the path may be taken (out_c even). */
MIXQ_INLINE uint32_t mixq_gemm16_scratch_bytes(uint32_t k, uint32_t out_c)
{
    if ((out_c & 1u) != 0 || (uint64_t)out_c * mixq_gemm16_k(k) * 2u > MIXQ_GEMM16_MAX_WEIGHT_BYTES) return 0;
    uint32_t kp = mixq_gemm16_k(k);
    /* + 48: the dot product's loads run up to 44 bytes past the columns (MIXQ_GEMM16_DOT2_ASM) */
    return out_c * (uint32_t)sizeof(mixq_gemm16_lane) + out_c * kp * 2u + 2u * 2u * kp + kp + 48u;
}

/* Address of word `i` of matrix-weight row `row` (the pairing rule of "Weight layout"). */
MIXQ_INLINE const uint32_t *mixq_gemm16_row_word(const uint8_t *weights, uint32_t row, uint32_t rows,
                                                 uint32_t row_bytes, uint32_t i)
{
    const uint8_t *pair = weights + (row & ~1u) * row_bytes;
    return (const uint32_t *)((row | 1u) < rows ? pair + (2u * i + (row & 1u)) * 4u : pair + i * 4u);
}

/* Expands every row to int16 (w - zw[row]) in column order: group g of a row is two words,
 * (w[4g] - zw) | (w[4g+2] - zw) << 16 and (w[4g+1] - zw) | (w[4g+3] - zw) << 16. Rows are
 * stored in pairs, group by group: for rows c, c+1 (c even) and group g, words
 * [c/2][g][row c word 0, row c word 1, row c+1 word 0, row c+1 word 1], so one pointer walks
 * both rows. */
static void mixq_gemm16_expand(uint32_t *dst, const uint8_t *weights, const mixq_requant_params *p, uint32_t k,
                               uint32_t out_c)
{
    const uint32_t bits = p->weight_bits, per_word = 8u / bits, groups = mixq_gemm16_k(k) / 4u;
    const uint32_t row_bytes = mixq_matrix_row_bytes(k, bits);
    const uint32_t mask = bits == 8 ? 0xFFFFFFFFu : (bits == 4 ? 0x0F0F0F0Fu : 0x03030303u);
    for (uint32_t c = 0; c < out_c; ++c) {
        const uint32_t zw = (uint32_t)mixq_weight_zero(p, c), zw2 = zw | (zw << 16);
        uint32_t *row = dst + (c / 2u) * groups * 4u + (c & 1u) * 2u;
        /* a paired row's words alternate with its partner's (stride 2 words); a lone last row's
         * words follow each other */
        const uint32_t *word = mixq_gemm16_row_word(weights, c, out_c, row_bytes, 0);
        const uint32_t stride = (c | 1u) < out_c ? 2u : 1u;
        for (uint32_t g = 0; g < groups; word += stride) {
            const uint32_t w = *word;
            for (uint32_t j = 0; j < per_word && g < groups; ++j, ++g, row += 4) {
                const uint32_t u = (w >> (j * bits)) & mask;
                row[0] = __ssub16(__uxtb16(u), zw2);
                row[1] = __ssub16(mixq_uxtb16_ror8(u), zw2);
            }
        }
    }
}

/* Per-channel constants (the two cases above); returns 0 when a channel fits neither, so the
 * caller takes the existing core. */
static int mixq_gemm16_lanes(mixq_gemm16_lane *lanes, const mixq_requant_params *p, uint32_t k, uint32_t out_c)
{
    const uint32_t zy = p->output_zero, dot_bound = mixq_dot_bound(k, p->input_bits);
    for (uint32_t c = 0; c < out_c; ++c) {
        const uint32_t m = mixq_multiplier_index(p, c);
        const int32_t n0 = p->shift[m], bias = p->bias[c];
        lanes[c].bias = bias;
        lanes[c].multiplier = p->multiplier[m];
        if (n0 >= 2 && n0 <= 22) {
            lanes[c].pre = 0;
            lanes[c].shift = n0 - 1;
            lanes[c].round = (int32_t)((1u << (n0 - 2)) + (zy << (n0 - 1)));
            continue;
        }
        if (n0 > 1 || n0 < -29) return 0;
        const uint32_t magnitude = bias < 0 ? 0u - (uint32_t)bias : (uint32_t)bias;
        const uint32_t limit = 1u << (29 + n0);   /* 2^(31 - L), L = 2 - N0 */
        if (magnitude >= limit || limit - magnitude <= dot_bound) return 0;
        lanes[c].pre = 2 - n0;
        lanes[c].shift = 1;
        lanes[c].round = (int32_t)(1u + 2u * zy);
    }
    return 1;
}

MIXQ_INLINE int32_t mixq_gemm16_round(int32_t acc, const mixq_gemm16_lane *lane)
{
    int32_t r;
    acc = (int32_t)((uint32_t)acc << lane->pre);
    __asm__("smmla %0, %1, %2, %3" : "=r"(r) : "r"(acc), "r"(lane->multiplier), "r"(lane->round));
    return r >> lane->shift;
}

/* Two groups of mixq_gemm16_dot per iteration, hand-scheduled for the Cortex-M7's in-order
 * dual issue (docs/design.md#cortex-m7-timing: SMLAD only in the older slot, one MAC per cycle, a
 * MAC cannot use a load result of the previous cycle): every cycle pairs one SMLAD with one LDR
 * that fetches an operand two to four cycles ahead. Five operand registers rotate: a half group
 * (four SMLAD on u, v, xa, xb) frees the register of each operand after its last use and the
 * next half's operands load into them; after two groups the assignment is back where it started.
 * The loop's last four loads fetch the first half of the group after it (up to 44 bytes past
 * `w` and `x` at the end: mixq_gemm16_scratch_bytes keeps 48 bytes of slack after the columns,
 * and the expanded weights are followed by the columns). 16 SMLAD + 16 LDR + 4 loop
 * instructions per 32 MACs. GCC's own schedule of the C loop took about 1.85 cycles per SMLAD:
 * it loads each operand one cycle before its use. */
#define MIXQ_GEMM16_DOT2_ASM                                                                              \
    "ldr %[A], [%[w], #0]\n\t"                                                                            \
    "ldr %[B], [%[w], #8]\n\t"                                                                            \
    "ldr %[C], [%[x], #0]\n\t"                                                                            \
    "ldr %[D], [%[x], #8]\n\t"                                                                            \
    "1:\n\t"                                                                                              \
    "smlad %[s00], %[A], %[C], %[s00]\n\t"  "ldr %[E], [%[w], #4]\n\t"                                    \
    "smlad %[s10], %[B], %[C], %[s10]\n\t"  "ldr %[C], [%[x], #4]\n\t"                                    \
    "smlad %[s01], %[A], %[D], %[s01]\n\t"  "ldr %[A], [%[w], #12]\n\t"                                   \
    "smlad %[s11], %[B], %[D], %[s11]\n\t"  "ldr %[B], [%[x], #12]\n\t"                                   \
    "smlad %[s00], %[E], %[C], %[s00]\n\t"  "ldr %[D], [%[w], #16]\n\t"                                   \
    "smlad %[s10], %[A], %[C], %[s10]\n\t"  "ldr %[C], [%[x], #16]\n\t"                                   \
    "smlad %[s01], %[E], %[B], %[s01]\n\t"  "ldr %[E], [%[w], #24]\n\t"                                   \
    "smlad %[s11], %[A], %[B], %[s11]\n\t"  "ldr %[A], [%[x], #24]\n\t"                                   \
    "smlad %[s00], %[D], %[C], %[s00]\n\t"  "ldr %[B], [%[w], #20]\n\t"                                   \
    "smlad %[s10], %[E], %[C], %[s10]\n\t"  "ldr %[C], [%[x], #20]\n\t"                                   \
    "smlad %[s01], %[D], %[A], %[s01]\n\t"  "ldr %[D], [%[w], #28]\n\t"                                   \
    "smlad %[s11], %[E], %[A], %[s11]\n\t"  "ldr %[E], [%[x], #28]\n\t"                                   \
    "smlad %[s00], %[B], %[C], %[s00]\n\t"  "ldr %[A], [%[w], #32]\n\t"                                   \
    "smlad %[s10], %[D], %[C], %[s10]\n\t"  "ldr %[C], [%[x], #32]\n\t"                                   \
    "smlad %[s01], %[B], %[E], %[s01]\n\t"  "ldr %[B], [%[w], #40]\n\t"                                   \
    "smlad %[s11], %[D], %[E], %[s11]\n\t"  "ldr %[D], [%[x], #40]\n\t"                                   \
    "add %[w], %[w], #32\n\t"                                                                                  \
    "add %[x], %[x], #32\n\t"                                                                                  \
    "cmp %[x], %[end]\n\t"                                                                                \
    "bne 1b\n\t"

/* A pair of expanded rows (w: mixq_gemm16_expand's pair layout) times the two interleaved
 * columns x over `groups` groups of 4, accumulators starting at the rows' biases: per group
 * eight word loads and eight SMLAD (the asm loop above for pairs of groups, C for an odd last
 * one). */
MIXQ_INLINE void mixq_gemm16_dot(const uint32_t *w, const uint32_t *x, uint32_t groups,
                                 int32_t *a00, int32_t *a01, int32_t *a10, int32_t *a11)
{
    int32_t s00 = *a00, s01 = *a01, s10 = *a10, s11 = *a11;
    if (groups >= 2) {
        const uint32_t *end = x + (groups & ~1u) * 4u;
        uint32_t ra, rb, rc, rd, re;
        __asm__(MIXQ_GEMM16_DOT2_ASM
                : [w] "+r"(w), [x] "+r"(x), [s00] "+r"(s00), [s01] "+r"(s01), [s10] "+r"(s10), [s11] "+r"(s11),
                  [A] "=&r"(ra), [B] "=&r"(rb), [C] "=&r"(rc), [D] "=&r"(rd), [E] "=&r"(re)
                : [end] "r"(end)
                : "cc", "memory");
    }
    if (groups & 1u) {
        uint32_t u0 = w[0], u1 = w[1], v0 = w[2], v1 = w[3];
        uint32_t xa0 = x[0], xa1 = x[1], xb0 = x[2], xb1 = x[3];
        s00 = __smlad(u0, xa0, s00);
        s01 = __smlad(u0, xb0, s01);
        s10 = __smlad(v0, xa0, s10);
        s11 = __smlad(v0, xb0, s11);
        s00 = __smlad(u1, xa1, s00);
        s01 = __smlad(u1, xb1, s01);
        s10 = __smlad(v1, xa1, s10);
        s11 = __smlad(v1, xb1, s11);
    }
    *a00 = s00;
    *a01 = s01;
    *a10 = s10;
    *a11 = s11;
}

/* Every output channel of a pixel pair (for a last single pixel row_b is row_a and column b
 * repeats column a, so the second stores repeat the first). `obits` is a constant in the 8-bit
 * copy below. */
MIXQ_INLINE void mixq_gemm16_channels(const uint32_t *wexp, const mixq_gemm16_lane *lanes, const uint32_t *x,
                                      uint32_t out_c, uint32_t groups, uint8_t *row_a, uint8_t *row_b,
                                      const uint32_t obits)
{
    uint32_t pending_a = 0, pending_b = 0;
    for (uint32_t c = 0; c < out_c; c += 2, wexp += groups * 4u) {
        const mixq_gemm16_lane *l0 = lanes + c, *l1 = l0 + 1;
        int32_t a00 = l0->bias, a01 = l0->bias, a10 = l1->bias, a11 = l1->bias;
        mixq_gemm16_dot(wexp, x, groups, &a00, &a01, &a10, &a11);
        uint32_t y00 = mixq_clamp_bits(mixq_gemm16_round(a00, l0), obits);
        uint32_t y10 = mixq_clamp_bits(mixq_gemm16_round(a10, l1), obits);
        uint32_t y01 = mixq_clamp_bits(mixq_gemm16_round(a01, l0), obits);
        uint32_t y11 = mixq_clamp_bits(mixq_gemm16_round(a11, l1), obits);
        if (obits == 2) {
            const int second = (c & 2u) != 0;
            mixq_gemm_store_pair(row_a, &pending_a, c, y00, y10, obits, second);
            mixq_gemm_store_pair(row_b, &pending_b, c, y01, y11, obits, second);
        } else {
            mixq_gemm_store_pair(row_a, &pending_a, c, y00, y10, obits, 0);
            mixq_gemm_store_pair(row_b, &pending_b, c, y01, y11, obits, 0);
        }
    }
}

/* The channel loop for 8-bit outputs (OB = 8) and for 4- and 2-bit outputs (OB = 0: the bits
 * passed at run time). */
#define MIXQ_GEMM16_COPY(OB)                                                                                  \
    static __attribute__((noinline, unused)) void mixq_gemm16_copy_##OB(                                     \
        const uint32_t *wexp, const mixq_gemm16_lane *lanes, const uint32_t *x, uint32_t out_c, uint32_t groups, \
        uint8_t *row_a, uint8_t *row_b, uint32_t obits)                                                     \
    {                                                                                                        \
        mixq_gemm16_channels(wexp, lanes, x, out_c, groups, row_a, row_b, (OB) ? (OB) : obits);              \
    }
MIXQ_GEMM16_COPY(8)
MIXQ_GEMM16_COPY(0)

/* The expanded path of mixq_gemm_run; returns 0 (and writes nothing) when a channel's scale fits
 * neither rounding case, so the caller takes the existing core. */
static int mixq_gemm16_run(const mixq_conv_shape *s, const uint8_t *input, const uint8_t *weights,
                           const mixq_requant_params *p, uint8_t *output, void *scratch)
{
    const uint32_t k = (uint32_t)s->kernel_h * s->kernel_w * s->in_c, out_c = s->out_c, obits = p->output_bits;
    const uint32_t kp = mixq_gemm16_k(k), groups = kp / 4u, pixels = (uint32_t)s->out_h * s->out_w;
    mixq_gemm16_lane *lanes = (mixq_gemm16_lane *)scratch;
    if (!mixq_gemm16_lanes(lanes, p, k, out_c)) return 0;
    uint32_t *wexp = (uint32_t *)(lanes + out_c);
    int16_t *col = (int16_t *)(wexp + out_c * kp / 2u);
    uint8_t *codes = (uint8_t *)(col + 2u * kp);
    mixq_gemm16_expand(wexp, weights, p, k, out_c);
    memset(col + (k / 4u) * MIXQ_GEMM_GROUP_STRIDE, 0, (groups - k / 4u) * MIXQ_GEMM_GROUP_STRIDE * 2u);
    const uint32_t row_bytes = out_c * obits / 8u;
    for (uint32_t p0 = 0; p0 < pixels; p0 += 2) {
        const int two = p0 + 1 < pixels;
        mixq_column_fill(col, s, input, p0, p->input_bits, p->input_zero, codes);
        mixq_column_fill(col + 4, s, input, two ? p0 + 1 : p0, p->input_bits, p->input_zero, codes);
        uint8_t *row_a = output + p0 * row_bytes, *row_b = two ? row_a + row_bytes : row_a;
        const uint32_t *x = (const uint32_t *)col;
if (obits == 8) mixq_gemm16_copy_8(wexp, lanes, x, out_c, groups, row_a, row_b, 8);
        else mixq_gemm16_copy_0(wexp, lanes, x, out_c, groups, row_a, row_b, obits);
    }
    return 1;
}

#endif /* MIXQ_GEMM16_H */
