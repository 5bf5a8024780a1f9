/*
 * conv.h - standard convolution (any kernel size, stride and padding), HWC, 8/4/2-bit
 * input, weights and output in any combination, all three requantization flavours.
 *
 * Layout: input in_h x in_w x in_c and output out_h x out_w x out_c, packed as in
 * mixq_common.h ("Activation packing"); weights are matrix weights (out_c rows of
 * K = kernel_h*kernel_w*in_c in (ky, kx, ci) order, "Weight layout"), produced by
 * KernelWeightLayout.packMatrix in Swift; the weight pointer must be 4-byte aligned.
 * Padding: pad_top/pad_left before the input; out_h/out_w imply the padding after it; padded
 * positions read as the input zero-point. The first MobilenetV1 layer (3x3 stride 2, 8-bit RGB,
 * in_c = 3) is the usual caller. Rounding and arithmetic: mixq_common.h.
 * Constraints: any channel counts (no multiple required); sizes up to 65535. The fast paths are
 * those of pointwise.h (in_c a multiple of 4 for SIMD im2col; out_c even, byte-aligned output
 * rows and N0 >= 1, or a scale >= 0.5 whose accumulator provably fits, for the USAT/byte-store
 * epilogue).
 * Scratch: mixq_conv_scratch_bytes() bytes (32 per output channel plus 4 per element of the
 * kernel window, rounded up to whole weight words), 4-byte aligned, caller-provided (DTCM is best).
 * Returns MIXQ_OK, or MIXQ_ERROR_ARGUMENT for bad bit widths, flavour, zero-points or alignment.
 */
#ifndef MIXQ_CONV_H
#define MIXQ_CONV_H

#include "mixq_common.h"

uint32_t mixq_conv_scratch_bytes(const mixq_conv_shape *shape, uint32_t weight_bits);

/* Optimized path (DSP: UXTB16, SSUB16, SMLAD; two pixels x two output channels per step). */
int mixq_conv(const mixq_conv_shape *shape, const uint8_t *input, const uint8_t *weights,
              const mixq_requant_params *params, uint8_t *output, void *scratch);

/* Plain C reference path: the formula of mixq_common.h, one element at a time. No scratch. */
int mixq_conv_plain(const mixq_conv_shape *shape, const uint8_t *input, const uint8_t *weights,
                    const mixq_requant_params *params, uint8_t *output);

#endif /* MIXQ_CONV_H */
