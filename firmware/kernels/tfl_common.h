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

/* Output code of channel c of a conv / depthwise / fully connected layer for its accumulator. */
MIXQ_INLINE uint8_t tfl_requantize(const tfl_requant_params *p, uint32_t c, int32_t acc)
{
    uint32_t m = p->per_channel ? c : 0;
    if (p->real_scale) return tfl_output_double(acc, p->real_scale[m], p->output_zero, p->act_min, p->act_max);
    return tfl_output(acc, p->multiplier[m], p->shift[m], p->output_zero, p->act_min, p->act_max);
}

#endif /* TFL_COMMON_H */
