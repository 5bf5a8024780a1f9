/*
 * window_pool.h - MixQ's windowed average and maximum pooling (any window, stride and padding)
 * on packed 8/4/2-bit tensors, input and output each at its own bits, scale and zero point.
 *
 * Arithmetic (docs/design.md#graph-steps-in-mixqs-arithmetic; Swift: WindowPoolParameters and
 * ReferenceLayers.windowPool in Sources/Quantization/GraphLayers.swift). Only the window
 * positions inside the input count; n is their number for one output.
 *   average: acc = sum (x - zx) over the n positions, y = requantize(acc, M[n-1], N[n-1])
 *   maximum: acc = max(x) - zx,                       y = requantize(acc, M[0], N[0])
 * with mixq_requantize's rounding (mixq_common.h), then clamped to [act_min, act_max] (a fused
 * ReLU/ReLU6). M[n-1] folds 1/n and S_x/S_y, as mixq_global_avg_pool's multiplier folds 1/pixels.
 * Layout: input in_h x in_w x in_c, output out_h x out_w x in_c (out_c must equal in_c), HWC,
 * packed as in mixq_common.h; kernel_h/kernel_w are the window, pad_top/pad_left the padding
 * before the input (out_h/out_w imply the rest). The output must not overlap the input.
 * Multipliers: kernel_h * kernel_w entries (average) or 1 (maximum).
 * Scratch (optimised path): mixq_window_pool_scratch_bytes(shape) bytes, 4-byte aligned.
 * Returns MIXQ_OK, or MIXQ_ERROR_ARGUMENT for an empty shape or window, a zero stride, out_c !=
 * in_c, a window with no valid position, a bit width other than 2/4/8, a zero point that does
 * not fit its bits, act_min > act_max, act_max beyond the output bits or (optimised path) a
 * scratch pointer that is not 4-byte aligned.
 */
#ifndef MIXQ_WINDOW_POOL_H
#define MIXQ_WINDOW_POOL_H

#include "mixq_common.h"

typedef struct {
    const int32_t *multiplier;   /* M0: [kernel_h * kernel_w] (average, index n - 1) or [1] (maximum) */
    const int8_t *shift;         /* N0, same length                                                  */
    uint8_t maximum;             /* 0: average, 1: maximum                                           */
    uint8_t input_zero, output_zero, input_bits, output_bits;
    uint8_t act_min, act_max;    /* output clamp in codes                                            */
} mixq_window_pool_params;

/* One int32 accumulator per channel. */
uint32_t mixq_window_pool_scratch_bytes(const mixq_conv_shape *shape);

/* Optimised path: per output pixel, the valid window rows only, all channels of a tap in one
 * pass (byte loads for 8-bit inputs), one sequential packed writer for the whole output. */
int mixq_window_pool(const mixq_conv_shape *shape, const uint8_t *input, const mixq_window_pool_params *params,
                     uint8_t *output, void *scratch);

/* Plain C reference path: one output element at a time through mixq_load_element. No scratch. */
int mixq_window_pool_plain(const mixq_conv_shape *shape, const uint8_t *input, const mixq_window_pool_params *params,
                           uint8_t *output);

#endif /* MIXQ_WINDOW_POOL_H */
