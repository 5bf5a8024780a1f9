/*
 * tfl_softmax.h - TFLite SOFTMAX of an int8 or uint8 file (output scale 1/256, output code zero
 * point 0), as LiteRT computes it for every resolver including the reference one: float32 with a
 * table of 256 exponentials. Swift reference and the table: TFLiteSoftmaxParameters /
 * TFLiteLayers.softmax (Sources/Quantization/TFLiteLayers.swift); docs/design.md#tflite-arithmetic.
 *
 * Per row of `depth` codes x with maximum t:
 *   e(x) = table[255 + x - t];  sum = e(x_0) + e(x_1) + ... (float32, in order);
 *   inv = 1 / (sum * output_scale);  p = e(x) * inv;
 *   y = clamp(round(p), 0, 255), round = roundf (int8 files) or (int32_t)(p + 0.5f) (uint8 files).
 * The table comes from the host (TFLiteSoftmaxParameters.table), so host and target share one
 * expf; every other step is one IEEE single-precision operation, without contraction into FMAs.
 * Layout: rows x depth codes, rows innermost-contiguous. No scratch. One path (float, a few
 * operations per element; the final layer of a network).
 * Returns MIXQ_OK, or MIXQ_ERROR_ARGUMENT for depth 0.
 */
#ifndef TFL_SOFTMAX_H
#define TFL_SOFTMAX_H

#include "tfl_common.h"

typedef struct {
    const float *table;      /* [256]: table[255 - v] = expf(-input_scale * beta * v) */
    float output_scale;      /* 1/256 in converted files                              */
    uint8_t int8_rounding;   /* 1: int8 file (roundf), 0: uint8 file (p + 0.5f)        */
} tfl_softmax_params;

int tfl_softmax(uint32_t rows, uint32_t depth, const uint8_t *input, const tfl_softmax_params *params,
                uint8_t *output);

#endif /* TFL_SOFTMAX_H */
