/*
 * tfl_pool.h - TFLite AVERAGE_POOL_2D and MAX_POOL_2D (any window, stride and padding) on 8-bit
 * codes. Input and output share one quantization (TFLite requires it), so nothing is rescaled.
 * Swift reference: TFLiteLayers.pool (Sources/Quantization/TFLiteLayers.swift).
 *
 * Layout: input in_h x in_w x in_c, output out_h x out_w x in_c (out_c must equal in_c), HWC,
 * one code per byte; kernel_h/kernel_w are the window, pad_top/pad_left the SAME padding before
 * the input (out_h/out_w imply the rest). Only the window positions inside the input count.
 * Average: the file's raw values v = code - code_offset (code_offset 128 for int8, 0 for uint8)
 * of the n valid positions sum to s; the result is s / n rounded half away from zero
 * ((s + n/2) / n for s > 0, else (s - n/2) / n, truncating), then + code_offset and clamped to
 * [act_min, act_max]. Maximum: the largest code, clamped.
 * Scratch (optimised paths): tfl_pool_scratch_bytes() bytes, 4-byte aligned.
 * Returns MIXQ_OK, or MIXQ_ERROR_ARGUMENT for an empty shape or window, a zero stride, out_c !=
 * in_c, a window with no valid position, code_offset other than 0/128, act_min > act_max or (optimised
 * paths) a scratch pointer that is not 4-byte aligned.
 */
#ifndef TFL_POOL_H
#define TFL_POOL_H

#include "tfl_common.h"

typedef struct {
    uint8_t code_offset;       /* 128 (int8 file) or 0 (uint8 file) */
    uint8_t act_min, act_max;  /* clamp in codes                      */
} tfl_pool_params;

/* One int32 sum per channel. */
uint32_t tfl_pool_scratch_bytes(const mixq_conv_shape *shape);

/* Optimised paths: per output pixel, the valid window rows only, all channels of a tap in one pass. */
int tfl_avg_pool(const mixq_conv_shape *shape, const uint8_t *input, const tfl_pool_params *params,
                 uint8_t *output, void *scratch);
int tfl_max_pool(const mixq_conv_shape *shape, const uint8_t *input, const tfl_pool_params *params,
                 uint8_t *output, void *scratch);

/* Plain C reference paths, one output at a time. No scratch. */
int tfl_avg_pool_plain(const mixq_conv_shape *shape, const uint8_t *input, const tfl_pool_params *params,
                       uint8_t *output);
int tfl_max_pool_plain(const mixq_conv_shape *shape, const uint8_t *input, const tfl_pool_params *params,
                       uint8_t *output);

#endif /* TFL_POOL_H */
