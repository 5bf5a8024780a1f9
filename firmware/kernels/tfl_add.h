/*
 * tfl_add.h - TFLite ADD of two tensors of one shape, each with its own scale and zero point, on
 * 8-bit codes (tfl_common.h). Swift reference: TFLiteAddParameters / TFLiteLayers.add
 * (Sources/Quantization/TFLiteLayers.swift), which also forms the multipliers:
 *   a' = tfl_scale((a - za) << 20, M1, e1),  b' = tfl_scale((b - zb) << 20, M2, e2)
 *   y  = clamp(tfl_scale(a' + b', Mo, eo) + zy, act_min, act_max)
 * with every e <= 0 (the multipliers are below 1).
 * Layout: `count` codes each, any layout (elementwise); output may alias an input.
 * Scratch (optimised path): TFL_ADD_SCRATCH_BYTES, 4-byte aligned.
 * Returns MIXQ_OK, or MIXQ_ERROR_ARGUMENT for a positive exponent, act_min > act_max or (optimised
 * path) a scratch pointer that is not 4-byte aligned.
 */
#ifndef TFL_ADD_H
#define TFL_ADD_H

#include "tfl_common.h"

#define TFL_ADD_LEFT_SHIFT 20

typedef struct {
    int32_t input1_multiplier, input2_multiplier, output_multiplier;  /* Q31            */
    int8_t input1_shift, input2_shift, output_shift;                   /* e, each <= 0   */
    uint8_t input1_zero, input2_zero, output_zero;                     /* codes          */
    uint8_t act_min, act_max;                                          /* clamp, codes   */
} tfl_add_params;

/* Two tables of the rescaled inputs a' and b', one int32 per code. */
#define TFL_ADD_SCRATCH_BYTES (2u * 256u * 4u)

/* Optimised path: a' and b' depend on the code alone, so they are tabulated once per call (512
 * rescalings) and each element costs one rescaling instead of three. */
int tfl_add(uint32_t count, const uint8_t *input1, const uint8_t *input2, const tfl_add_params *params,
            uint8_t *output, void *scratch);

/* Plain C reference path: the three rescalings per element. No scratch. */
int tfl_add_plain(uint32_t count, const uint8_t *input1, const uint8_t *input2, const tfl_add_params *params,
                  uint8_t *output);

#endif /* TFL_ADD_H */
