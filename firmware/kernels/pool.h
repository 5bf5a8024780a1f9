/*
 * pool.h - global average pooling: pixels x channels (HWC) to channels, 8/4/2-bit input and
 * output in any combination.
 *
 * Arithmetic: acc[c] = bias + sum over pixels of (x - zx) (int32), y = requantize(acc) with the
 * rounding rule of mixq_common.h; the multiplier folds 1/pixels and the scale ratio, bias is 0
 * (Swift: PoolingParameters, ReferenceLayers.globalAveragePool). A file's truncating average
 * (QONNX Trunc, floor(sum / 2^k)) is M = 2^-k with bias -2^(k-1): half up of (acc - 2^(k-1)) / 2^k
 * is the floor of acc / 2^k (PoolingParameters.truncating).
 * Layout: packed as in mixq_common.h. Constraints: pixels * 2^input_bits < 2^31.
 * Scratch (optimized path): mixq_pool_scratch_bytes(channels), 4-byte aligned.
 * Returns MIXQ_OK or MIXQ_ERROR_ARGUMENT.
 */
#ifndef MIXQ_POOL_H
#define MIXQ_POOL_H

#include "mixq_common.h"

typedef struct {
    int32_t multiplier;   /* M0 */
    int8_t shift;         /* N0 */
    uint8_t input_zero, output_zero, input_bits, output_bits;
    int32_t bias;         /* added to every channel's sum; 0 when left out of an initializer */
} mixq_pool_params;

uint32_t mixq_pool_scratch_bytes(uint32_t channels);

/* Optimized path: one pass over the input in memory order, per-channel sums in scratch. */
int mixq_global_avg_pool(uint32_t pixels, uint32_t channels, const uint8_t *input, const mixq_pool_params *params,
                         uint8_t *output, void *scratch);

/* Plain C reference path: one channel at a time. */
int mixq_global_avg_pool_plain(uint32_t pixels, uint32_t channels, const uint8_t *input,
                               const mixq_pool_params *params, uint8_t *output);

#endif /* MIXQ_POOL_H */
