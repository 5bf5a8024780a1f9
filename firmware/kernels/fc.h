/*
 * fc.h - fully connected layer: in_features inputs to out_features outputs, 8/4/2-bit input,
 * weights and output in any combination, all three requantization flavours.
 *
 * Layout: input and output packed as in mixq_common.h; weights are matrix weights with
 * K = in_features ("Weight layout"; Swift: KernelWeightLayout.packMatrix), 4-byte aligned.
 * The MobilenetV1 classifier takes the pooled 1x1xC vector. Rounding: mixq_common.h.
 * Constraints: any sizes up to 65535. Scratch: mixq_fc_scratch_bytes() (32 per output plus 4 per
 * input rounded up to whole weight words), 4-byte aligned. Runs the pointwise core on one pixel
 * (two weight rows per step, one column).
 * Returns MIXQ_OK or MIXQ_ERROR_ARGUMENT.
 */
#ifndef MIXQ_FC_H
#define MIXQ_FC_H

#include "mixq_common.h"

uint32_t mixq_fc_scratch_bytes(uint32_t in_features, uint32_t out_features, uint32_t weight_bits);

/* Optimized path (two output rows per SMLAD step). */
int mixq_fc(uint32_t in_features, uint32_t out_features, const uint8_t *input, const uint8_t *weights,
            const mixq_requant_params *params, uint8_t *output, void *scratch);

/* Plain C reference path. */
int mixq_fc_plain(uint32_t in_features, uint32_t out_features, const uint8_t *input, const uint8_t *weights,
                  const mixq_requant_params *params, uint8_t *output);

#endif /* MIXQ_FC_H */
