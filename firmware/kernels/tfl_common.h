/*
 * tfl_common.h - TFLite's integer arithmetic for int8/uint8 models (the `.tflite` rounding rule),
 * shared by the tfl_* kernel families. The Swift side is Sources/Quantization/TFLiteArithmetic.swift
 * (TFLiteArithmetic, FixedPointMultiplier.tflite/tfliteScaled); the two agree bit for bit, and the
 * Swift side agrees with LiteRT's reference kernels (Tests/QuantizationTests/TFLiteVectorTests.swift).
 * Formulas and their public sources: docs/design.md#tflite-arithmetic.
 *
 * Codes
 *   Tensors hold unsigned 8-bit codes, HWC, channels innermost. A file's int8 value q with zero
 *   point z is the code q + 128 with zero point z + 128 (the same real value); int8 symmetric
 *   weights are codes w + 128 with weight zero point 128; uint8 values are their own codes.
 *
 * Multipliers
 *   A real scale is M * 2^(e - 31) with M (Q31) in [2^30, 2^31) or 0 and TFLite's exponent e in
 *   -31..30 (e > 0: a left shift). Applying it to an int32 x (TFLite's MultiplyByQuantizedMultiplier):
 *     tfl_rdbp(tfl_srdhm(x << max(e, 0), M), max(-e, 0))
 *   the left shift wrapping like TFLite's int32 product.
 *
 * Layers (conv, depthwise, fully connected)
 *   acc = bias[c] + sum (w - zw) * (x - zx)          int32, wrapping
 *   y   = clamp(tfl_scale(acc, M[c], e[c]) + zy, act_min, act_max)
 *   act_min/act_max are the fused activation's clamp in codes (0..255 without one).
 *   FULLY_CONNECTED as LiteRT's reference kernel computes it requantizes in IEEE double instead
 *   (real_scale non-NULL): y = clamp((int32)round((double)acc * real_scale[c]) + zy, ...), round
 *   half away from zero (VRINTA.F64 on the H743's FPv5-D16; software double elsewhere, same result).
 *
 * No global state; every function works only on its arguments.
 */
#ifndef TFL_COMMON_H
#define TFL_COMMON_H

#include <stdint.h>
#include <string.h>
#include "mixq_common.h"   /* MIXQ_OK, MIXQ_ERROR_ARGUMENT, MIXQ_INLINE, mixq_conv_shape */

/* Requantization of one conv / depthwise / fully connected layer. */
typedef struct {
    const int32_t *bias;        /* [out_c] int32, accumulator units                          */
    const int32_t *multiplier;  /* M: [out_c] when per_channel, else [1]                       */
    const int8_t *shift;        /* TFLite's exponent e in -31..30, same length as multiplier    */
    const double *real_scale;   /* NULL, or the double effective scales (same length): FC rule   */
    uint8_t per_channel;        /* 1: multiplier/shift per output channel                       */
    uint8_t input_zero;         /* zx, code                                                     */
    uint8_t weight_zero;        /* zw, code (128 for int8 symmetric weights)                    */
    uint8_t output_zero;        /* zy, code                                                     */
    uint8_t act_min, act_max;   /* output clamp, codes, act_min <= act_max                      */
} tfl_requant_params;

MIXQ_INLINE int tfl_valid_params(const tfl_requant_params *p)
{
    return p->act_min <= p->act_max;
}

/* Saturating rounding doubling high multiply: a * b / 2^31 to nearest, (a*b + nudge) / 2^31
 * truncated with nudge 2^30 (product >= 0) or 1 - 2^30; INT32_MIN * INT32_MIN saturates. */
MIXQ_INLINE int32_t tfl_srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
    int64_t ab = (int64_t)a * b;
    int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* Rounding divide by 2^exponent (0..31), ties away from zero. */
MIXQ_INLINE int32_t tfl_rdbp(int32_t x, int32_t exponent)
{
    int32_t mask = (int32_t)(((uint32_t)1 << exponent) - 1u);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* TFLite's MultiplyByQuantizedMultiplier: x * M * 2^(e - 31) with double rounding. */
MIXQ_INLINE int32_t tfl_scale(int32_t x, int32_t m, int32_t e)
{
    int32_t left = e > 0 ? e : 0, right = e > 0 ? 0 : -e;
    return tfl_rdbp(tfl_srdhm((int32_t)((uint32_t)x << left), m), right);
}

/* One output code: requantize, add the output zero point (int32, as TFLite), clamp. */
MIXQ_INLINE uint8_t tfl_output(int32_t acc, int32_t m, int32_t e, int32_t zy, int32_t lo, int32_t hi)
{
    int32_t r = (int32_t)((uint32_t)tfl_scale(acc, m, e) + (uint32_t)zy);
    return (uint8_t)(r < lo ? lo : (r > hi ? hi : r));
}

/* One output code of LiteRT's reference FULLY_CONNECTED: round((double)acc * scale) half away
 * from zero (clamped to int32 before the conversion), + zy in int32, clamp. */
MIXQ_INLINE uint8_t tfl_output_double(int32_t acc, double scale, int32_t zy, int32_t lo, int32_t hi)
{
    double v = __builtin_round((double)acc * scale);
    int32_t q = v >= 2147483647.0 ? INT32_MAX : (v <= -2147483648.0 ? INT32_MIN : (int32_t)v);
    int32_t r = (int32_t)((uint32_t)q + (uint32_t)zy);
    return (uint8_t)(r < lo ? lo : (r > hi ? hi : r));
}

/* UXTB16 of x rotated right by 8: bytes 1 and 3 as two 16-bit lanes, one instruction (GCC does
 * not fold the rotation into __uxtb16 by itself). */
MIXQ_INLINE uint32_t tfl_uxtb16_ror8(uint32_t x)
{
    uint32_t r;
    __asm__("uxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

/* A word of four codes b0..b3 as the int16 pairs (b0 - z) | (b2 - z) << 16 and (b1 - z) |
 * (b3 - z) << 16 (z2 = z in both halves), doubled when `twice`: the expanded layouts of the
 * optimised conv and depthwise paths. */
MIXQ_INLINE void tfl_expand_word(uint32_t v, uint32_t z2, int twice, uint32_t *out)
{
    uint32_t lo = __ssub16(__uxtb16(v), z2), hi = __ssub16(tfl_uxtb16_ror8(v), z2);
    if (twice) {
        lo = __sadd16(lo, lo);
        hi = __sadd16(hi, hi);
    }
    out[0] = lo;
    out[1] = hi;
}

/* Output code of channel c of a conv / depthwise / fully connected layer for its accumulator. */
MIXQ_INLINE uint8_t tfl_requantize(const tfl_requant_params *p, uint32_t c, int32_t acc)
{
    uint32_t m = p->per_channel ? c : 0;
    if (p->real_scale) return tfl_output_double(acc, p->real_scale[m], p->output_zero, p->act_min, p->act_max);
    return tfl_output(acc, p->multiplier[m], p->shift[m], p->output_zero, p->act_min, p->act_max);
}

/*
 * Fast requantization (the optimised conv and depthwise paths)
 *   TFLite's rule is two roundings: r1 = SRDHM(x, M) = floor((x * M + 2^30) / 2^31) (the
 *   nudge/truncation of tfl_srdhm is exactly this floor for every product but
 *   INT32_MIN * INT32_MIN, which M >= 0 excludes), then r2 = RDBP(r1, R) =
 *   floor((r1 + 2^(R-1) - [r1 < 0]) / 2^R) for R = -e >= 1 (e <= -1: no left shift).
 *   With the accumulator doubled, a = 2 * acc (|a| < 2^31):
 *     SMMLAR(a, M, C) = floor((a * M + 2^31) / 2^32) + C = r1 + C,   C = 2^(R-1) + zy * 2^R,
 *   and y = (r1 + C + (a >> 31)) >> R = r2 + zy, because a < 0 exactly when acc < 0, and acc < 0
 *   with r1 = 0 (possible when acc * M >= -2^30) gives floor((C - 1) / 2^R) = zy as well.
 *   So one output is SMMLAR, ADD (with ASR #31), ASR, USAT; the kernels double the accumulator
 *   for free by expanding 2 * (w - zw) and starting at 2 * bias.
 *   A channel takes this form when its multiplier is >= 0, 1 <= R <= 22 (C and r1 + C then stay
 *   below 2^30) and every accumulator provably fits: |bias| + K * max|w - zw| * max|x - zx| <
 *   2^30, where TFLite's int32 accumulation cannot wrap either. A layer with any other channel
 *   (a scale >= 0.5, one below 2^-22, the double rule of FULLY_CONNECTED) takes tfl_requantize
 *   per output instead, with undoubled accumulators: the same results.
 */
typedef struct {
    int32_t bias2;       /* 2 * bias: the doubled accumulator's start */
    int32_t multiplier;  /* M                                         */
    int32_t round;       /* C = 2^(R-1) + zy * 2^R                    */
    int32_t shift;       /* R                                         */
} tfl_lane;

/* Fills lane c for a layer of K products per output; returns whether channel c takes the fast
 * form (when it does not, lane->bias2 holds the undoubled bias). */
MIXQ_INLINE int tfl_lane_init(tfl_lane *lane, const tfl_requant_params *p, uint32_t c, uint32_t k)
{
    const uint32_t m = p->per_channel ? c : 0;
    const int32_t multiplier = p->multiplier[m], e = p->shift[m], bias = p->bias[c];
    const uint32_t zx = p->input_zero, zw = p->weight_zero;
    const int64_t dx = zx > 255u - zx ? zx : 255u - zx, dw = zw > 255u - zw ? zw : 255u - zw;
    const int64_t bound = (bias < 0 ? -(int64_t)bias : (int64_t)bias) + (int64_t)k * dw * dx;
    lane->bias2 = bias;
    lane->multiplier = multiplier;
    if (p->real_scale || multiplier < 0 || e > -1 || e < -22 || bound >= ((int64_t)1 << 30)) return 0;
    lane->bias2 = 2 * bias;
    lane->shift = -e;
    lane->round = (int32_t)((1u << (-e - 1)) + ((uint32_t)p->output_zero << -e));
    return 1;
}

/* The output code (0..255, before the activation clamp) of a doubled accumulator. */
MIXQ_INLINE uint32_t tfl_lane_output(int32_t acc2, const tfl_lane *lane)
{
    int32_t t;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(t) : "r"(acc2), "r"(lane->multiplier), "r"(lane->round));
    t += acc2 >> 31;
    return (uint32_t)__usat(t >> lane->shift, 8);
}

/* Four output codes in one word clamped bytewise to [lo, hi] (each byte of lo4 / hi4 holds the
 * bound): USUB8 sets a GE flag per byte, SEL picks by it. */
MIXQ_INLINE uint32_t tfl_clamp4(uint32_t y, uint32_t lo4, uint32_t hi4)
{
    uint32_t r;
    __asm__("usub8 %0, %1, %2\n\tsel %0, %1, %2" : "=&r"(r) : "r"(y), "r"(lo4) : "cc");
    __asm__("usub8 %0, %1, %2\n\tsel %0, %2, %1" : "=&r"(y) : "r"(r), "r"(hi4) : "cc");
    return y;
}

#endif /* TFL_COMMON_H */
