/*
 * tfl_conv.h - TFLite CONV_2D (any kernel height x width, strides, padding; 1x1 = pointwise) and
 * FULLY_CONNECTED on 8-bit codes with TFLite's arithmetic (tfl_common.h), per-channel or
 * per-tensor multipliers. Swift reference: ReferenceLayers.convolution / fullyConnected with
 * RequantizationParameters.tflite (Sources/Quantization).
 *
 * Layout: input in_h x in_w x in_c and output out_h x out_w x out_c, HWC, one code per byte.
 * Weights: out_c rows of K = kernel_h * kernel_w * in_c codes in (ky, kx, ci) order (TFLite's
 * [out_c][kh][kw][in_c], each value + 128 for int8), no alignment required. Fully connected:
 * out_features rows of in_features codes. Padding: pad_top/pad_left before the input, out_h/out_w
 * imply the padding after it; padded positions contribute 0.
 * Rounding: TFLite's (tfl_scale), or the double rule of LiteRT's reference FULLY_CONNECTED when
 * params->real_scale is set (tfl_common.h); clamp to [act_min, act_max].
 * Scratch (optimised paths only): tfl_conv_scratch_bytes() bytes, 4-byte aligned.
 * Returns MIXQ_OK, or MIXQ_ERROR_ARGUMENT for an empty shape, a zero stride, act_min > act_max
 * or (optimised paths) a scratch pointer that is not 4-byte aligned.
 */
#ifndef TFL_CONV_H
#define TFL_CONV_H

#include "tfl_common.h"

/* Scratch of the optimised paths: the (x - zx) patch of one output pixel as int16, 2 bytes per
 * kernel-window element rounded up to 8. */
uint32_t tfl_conv_scratch_bytes(const mixq_conv_shape *shape);

/* Optimised path: the window as an int16 patch (x - zx), two output channels per pass, four
 * products per two SMLADs on the unsigned weight codes, the weight zero point folded out as
 * zw * sum(x - zx). */
int tfl_conv(const mixq_conv_shape *shape, const uint8_t *input, const uint8_t *weights,
             const tfl_requant_params *params, uint8_t *output, void *scratch);

/* Plain C reference path: the formula of tfl_common.h, one product at a time. No scratch. */
int tfl_conv_plain(const mixq_conv_shape *shape, const uint8_t *input, const uint8_t *weights,
                   const tfl_requant_params *params, uint8_t *output);

/* FULLY_CONNECTED: a 1x1 convolution of one pixel with in_features channels (in_features and
 * out_features up to 65535). Scratch: tfl_fully_connected_scratch_bytes(). */
uint32_t tfl_fully_connected_scratch_bytes(uint32_t in_features);
int tfl_fully_connected(uint32_t in_features, uint32_t out_features, const uint8_t *input, const uint8_t *weights,
                        const tfl_requant_params *params, uint8_t *output, void *scratch);
int tfl_fully_connected_plain(uint32_t in_features, uint32_t out_features, const uint8_t *input,
                              const uint8_t *weights, const tfl_requant_params *params, uint8_t *output);

#endif /* TFL_CONV_H */
