/*
 * tfl_mean.h - TFLite MEAN over height and width (Keras' GlobalAveragePooling2D) on 8-bit codes,
 * output quantization free to differ from the input's. Swift reference: TFLiteLayers.mean with
 * TFLiteMeanParameters (Sources/Quantization/TFLiteMean.swift), which documents the arithmetic.
 *
 * Layout: input pixels x channels, HWC codes; output one code per channel.
 * Arithmetic: acc[c] = sum over pixels (x - input_zero), int32 wrapping; y[c] =
 * clamp(tfl_scale(acc[c], multiplier, shift) + output_zero, 0, 255), where multiplier/shift
 * already hold the division by the element count (tfl_common.h for tfl_scale).
 * Scratch: none (the sum of one channel is a register; channels are walked with a stride).
 * Returns MIXQ_OK, or MIXQ_ERROR_ARGUMENT for an empty tensor.
 */
#ifndef TFL_MEAN_H
#define TFL_MEAN_H

#include "tfl_common.h"

typedef struct {
    int32_t multiplier;   /* Q31, the division by the element count folded in */
    int8_t shift;         /* TFLite's exponent e                               */
    uint8_t input_zero;   /* codes                                             */
    uint8_t output_zero;
} tfl_mean_params;

int tfl_mean(uint32_t pixels, uint32_t channels, const uint8_t *input, const tfl_mean_params *params, uint8_t *output);

#endif /* TFL_MEAN_H */
