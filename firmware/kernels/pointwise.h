/*
 * pointwise.h - pointwise (1x1, stride 1) convolution, HWC, 8/4/2-bit input, weights and
 * output in any combination, all three requantization flavours.
 *
 * Layout: input pixels x in_c, output pixels x out_c (pixels = height * width), packed as in
 * mixq_common.h; weights are matrix weights with K = in_c ("Weight layout"; Swift:
 * KernelWeightLayout.packMatrix), 4-byte aligned. Rounding and arithmetic: mixq_common.h.
 * Constraints: any channel counts. Fastest when in_c is a multiple of 4 (SIMD input expansion),
 * out_c is even with out_c*output_bits a multiple of 8 (direct byte stores) and every N0 >= 1
 * (requantization in SMLAL + ASR + USAT; with 8-bit outputs a scale >= 0.5 also qualifies when
 * its accumulator provably fits, see mixq_lane_init_widened) - true for MobilenetV1; otherwise
 * the same results come from the general paths (element-wise expansion, sequential writer, full
 * rounding rule).
 * Scratch: mixq_pointwise_scratch_bytes() bytes (32 per output channel for requantization
 * constants, plus 4 per input channel rounded up to whole weight words), 4-byte aligned.
 * Returns MIXQ_OK or MIXQ_ERROR_ARGUMENT.
 */
#ifndef MIXQ_POINTWISE_H
#define MIXQ_POINTWISE_H

#include "mixq_common.h"

uint32_t mixq_pointwise_scratch_bytes(uint32_t in_c, uint32_t out_c, uint32_t weight_bits);

/* Optimized path (two pixels x two output channels per SMLAD step). */
int mixq_pointwise(uint32_t pixels, uint32_t in_c, uint32_t out_c, const uint8_t *input, const uint8_t *weights,
                   const mixq_requant_params *params, uint8_t *output, void *scratch);

/* Plain C reference path. */
int mixq_pointwise_plain(uint32_t pixels, uint32_t in_c, uint32_t out_c, const uint8_t *input,
                         const uint8_t *weights, const mixq_requant_params *params, uint8_t *output);

#endif /* MIXQ_POINTWISE_H */
