/*
 * add.h - MixQ's element-wise add of two tensors of one shape, each input with its own bits
 * (8/4/2), scale and zero point, the output at its own bits with a fused ReLU/ReLU6 as a clamp.
 *
 * Arithmetic (docs/design.md#graph-steps-in-mixqs-arithmetic; Swift: AddParameters and
 * ReferenceLayers.add in Sources/Quantization/GraphLayers.swift):
 *   d1 = x1 - z1, d2 = x2 - z2
 *   y  = clamp(((int64)d1 * m1 + (int64)d2 * m2 + 2^(s-1)) >> s) + zy, act_min, act_max)
 * with m_i = round(S_i / S_y * 2^s), one shared shift s in 1..62: one rounding, half up, as
 * mixq_requantize rounds. |d| <= 255 and |m| < 2^31, so the 64-bit sum cannot overflow.
 * Layout: `count` elements per tensor, packed as in mixq_common.h (any order: elementwise).
 * The output must not overlap either input.
 * Scratch: none.
 * Returns MIXQ_OK, or MIXQ_ERROR_ARGUMENT for a bit width other than 2/4/8, a zero point that
 * does not fit its bits, a shift outside 1..62, act_min > act_max or act_max beyond the output bits.
 */
#ifndef MIXQ_ADD_H
#define MIXQ_ADD_H

#include "mixq_common.h"

typedef struct {
    int32_t input1_multiplier, input2_multiplier;   /* m1, m2: Q(shift)                  */
    uint8_t shift;                                  /* s, 1..62                           */
    uint8_t input1_zero, input2_zero, output_zero;  /* codes, each fitting its bits       */
    uint8_t input1_bits, input2_bits, output_bits;  /* 2, 4 or 8                          */
    uint8_t act_min, act_max;                       /* output clamp in codes              */
} mixq_add_params;

/* Optimised path: the bit widths specialised, four 8-bit codes per word load, the rounding
 * constant and (for s >= 32) the high-word shift prepared once. */
int mixq_add(uint32_t count, const uint8_t *input1, const uint8_t *input2, const mixq_add_params *params,
             uint8_t *output);

/* Plain C reference path: one element at a time through mixq_load_element. */
int mixq_add_plain(uint32_t count, const uint8_t *input1, const uint8_t *input2, const mixq_add_params *params,
                   uint8_t *output);

#endif /* MIXQ_ADD_H */
