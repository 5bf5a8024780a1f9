/*
 * tfl_depthwise.h - TFLite DEPTHWISE_CONV_2D with a depth multiplier M >= 1 (out_c = in_c * M),
 * any kernel height x width, strides and padding, on 8-bit codes with TFLite's arithmetic
 * (tfl_common.h). Swift reference: ReferenceLayers.depthwiseConvolution with
 * RequantizationParameters.tflite.
 *
 * Layout: input in_h x in_w x in_c, output out_h x out_w x out_c, HWC, one code per byte.
 * Weights: kernel_h x kernel_w x out_c codes (TFLite's [1][kh][kw][in_c * M]); output channel
 * o = c * M + m filters input channel c = o / M. Padding as tfl_conv.h (padded positions add 0).
 * Rounding: TFLite's (tfl_scale); clamp to [act_min, act_max].
 * Scratch (optimised path): tfl_depthwise_scratch_bytes() bytes, 4-byte aligned.
 * Returns MIXQ_OK, or MIXQ_ERROR_ARGUMENT for an empty shape, a zero stride, out_c != in_c * M,
 * act_min > act_max or (optimised path) a scratch pointer that is not 4-byte aligned.
 */
#ifndef TFL_DEPTHWISE_H
#define TFL_DEPTHWISE_H

#include "tfl_common.h"

/* One int32 accumulator per output channel. */
uint32_t tfl_depthwise_scratch_bytes(const mixq_conv_shape *shape);

/* Optimised path: per output pixel, the valid window only (no bounds test per product). With
 * M = 1 and in_c a multiple of 4, four channels per step in registers (SMLABB/SMLATT on 16-bit
 * pairs, no scratch used); otherwise all channels of a tap in one pass into the accumulators. */
int tfl_depthwise(const mixq_conv_shape *shape, uint32_t depth_multiplier, const uint8_t *input,
                  const uint8_t *weights, const tfl_requant_params *params, uint8_t *output, void *scratch);

/* Plain C reference path: the formula, one output at a time. No scratch. */
int tfl_depthwise_plain(const mixq_conv_shape *shape, uint32_t depth_multiplier, const uint8_t *input,
                        const uint8_t *weights, const tfl_requant_params *params, uint8_t *output);

#endif /* TFL_DEPTHWISE_H */
