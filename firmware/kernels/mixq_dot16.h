/*
 * mixq_dot16.h - the inner product of the expanded-weight paths (internal header): two rows of
 * int16 weights times two interleaved int16 columns, one SMLAD per two products. Used by
 * mixq_gemm16.h (MixQ's arithmetic) and tfl_conv.c (TFLite's); it knows nothing of either
 * rounding rule.
 *
 * Layouts (groups of 4 products; within a group the pairs are (k0, k2) and (k1, k3), the order
 * UXTB16 and UXTB16 ROR 8 give):
 *   rows:    per row pair and group, 4 words: row 0 (k0|k2, k1|k3), row 1 (k0|k2, k1|k3)
 *   columns: per group, 4 words: pixel a (k0|k2, k1|k3), pixel b (k0|k2, k1|k3)
 * The asm loop reads up to 44 bytes past the end of both the rows and the columns: callers keep
 * 48 bytes of readable scratch after each.
 */
#ifndef MIXQ_DOT16_H
#define MIXQ_DOT16_H

#include "mixq_common.h"

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

#endif /* MIXQ_DOT16_H */
