/* fc.c - fully connected layer; see fc.h for the contract. */
#include "fc.h"
#include "mixq_gemm.h"

uint32_t mixq_fc_scratch_bytes(uint32_t in_features, uint32_t out_features, uint32_t weight_bits)
{
    if (!mixq_valid_bits(weight_bits)) return 0;
    return mixq_gemm_scratch_bytes(in_features, out_features, weight_bits);
}

int mixq_fc(uint32_t in_features, uint32_t out_features, const uint8_t *input, const uint8_t *weights,
            const mixq_requant_params *params, uint8_t *output, void *scratch)
{
    if (in_features == 0 || in_features > 65535 || out_features == 0 || out_features > 65535) {
        return MIXQ_ERROR_ARGUMENT;
    }
    /* one pixel: the shared core runs it as its own pair (the second column repeats it) */
    mixq_conv_shape s = { 1, 1, (uint16_t)in_features, 1, 1, (uint16_t)out_features, 1, 1, 1, 1, 0, 0 };
    return mixq_gemm_run(&s, input, weights, params, output, scratch, 1);
}

int mixq_fc_plain(uint32_t in_features, uint32_t out_features, const uint8_t *input, const uint8_t *weights,
                  const mixq_requant_params *p, uint8_t *output)
{
    if (!mixq_valid_params(p)) return MIXQ_ERROR_ARGUMENT;
    const int32_t zx = p->input_zero, qmax = (int32_t)((1u << p->output_bits) - 1);
    mixq_writer out;
    mixq_writer_init(&out, output, 0, p->output_bits);
    for (uint32_t c = 0; c < out_features; ++c) {
        int32_t zw = mixq_weight_zero(p, c);
        int32_t acc = p->bias[c];
        for (uint32_t k = 0; k < in_features; ++k) {
            int32_t x = (int32_t)mixq_load_element(input, k, p->input_bits);
            int32_t w = (int32_t)mixq_matrix_weight(weights, c, out_features, in_features, k, p->weight_bits);
            acc = (int32_t)((uint32_t)acc + (uint32_t)((w - zw) * (x - zx)));
        }
        uint32_t m = mixq_multiplier_index(p, c);
        mixq_writer_push(&out, mixq_requantize(acc, p->multiplier[m], p->shift[m], p->output_zero, qmax));
    }
    mixq_writer_finish(&out);
    mixq_clear_tail(output, out_features, p->output_bits);
    return MIXQ_OK;
}
