/*
 * depthwise.h - depthwise convolution (depth multiplier 1), HWC, any kernel size, stride and
 * padding (MobilenetV1 uses 3x3 with stride 1 and 2, SAME padding), 8/4/2-bit input, weights
 * and output in any combination, all three requantization flavours.
 *
 * Layout: input in_h x in_w x C and output out_h x out_w x C (shape.in_c == shape.out_c == C)
 * packed as in mixq_common.h; weights kernel_h x kernel_w x C in (ky, kx, c) order, packed like
 * activations (Swift: KernelWeightLayout.packDepthwise). Padding as in conv.h. Rounding and
 * arithmetic: mixq_common.h.
 *
 * Optimized path: the weights are expanded once per call to int16 (w - zw[c]) and every input
 * row once to int16 (x - zx) with its padding, in a ring of kernel_h rows in scratch, both
 * "group-major" (channels in groups of 4, as two halfword pairs c, c+2 | c+1, c+3), so every tap
 * of a group is a constant offset: per tap and group, four word loads and four 16x16 MACs
 * (SMLABB/SMLATT; for 3x3 kernels a hand-scheduled block, 38 cycles per 36 MACs). Each output
 * row is done a group at a time in three passes: raw accumulators along the row, then
 * requantization channel by channel with its constants in registers (SMMLA/SMMLAR, shift,
 * USAT; scales >= 0.5 too when the accumulator provably fits, the general 64-bit rounding
 * path otherwise, same results), then one packed store per pixel and group.
 * Constraints: any channel count (the last group is zero-padded; C not a multiple of 4 stages
 * each output row in scratch and packs it); kernel_h <= 16; sizes up to 65535.
 * Scratch: mixq_depthwise_scratch_bytes() bytes, 4-byte aligned, caller-provided.
 * Returns MIXQ_OK or MIXQ_ERROR_ARGUMENT (also when in_c != out_c).
 */
#ifndef MIXQ_DEPTHWISE_H
#define MIXQ_DEPTHWISE_H

#include "mixq_common.h"

uint32_t mixq_depthwise_scratch_bytes(const mixq_conv_shape *shape);

/* Optimized path. */
int mixq_depthwise(const mixq_conv_shape *shape, const uint8_t *input, const uint8_t *weights,
                   const mixq_requant_params *params, uint8_t *output, void *scratch);

/* Plain C reference path. No scratch. */
int mixq_depthwise_plain(const mixq_conv_shape *shape, const uint8_t *input, const uint8_t *weights,
                         const mixq_requant_params *params, uint8_t *output);

#endif /* MIXQ_DEPTHWISE_H */
