/* pointwise.c - 1x1 convolution; see pointwise.h for the contract. */
#include "pointwise.h"
#include "mixq_gemm.h"

uint32_t mixq_pointwise_scratch_bytes(uint32_t in_c, uint32_t out_c, uint32_t weight_bits)
{
    if (!mixq_valid_bits(weight_bits)) return 0;
    const uint32_t core = mixq_gemm_scratch_bytes(in_c, out_c, weight_bits);
    const uint32_t expanded = mixq_gemm16_scratch_bytes(in_c, out_c);   /* mixq_gemm16.h */
    return core > expanded ? core : expanded;
}

int mixq_pointwise(uint32_t pixels, uint32_t in_c, uint32_t out_c, const uint8_t *input, const uint8_t *weights,
                   const mixq_requant_params *params, uint8_t *output, void *scratch)
{
    if (pixels == 0 || pixels > 65535 || in_c == 0 || in_c > 65535 || out_c == 0 || out_c > 65535) {
        return MIXQ_ERROR_ARGUMENT;
    }
    /* pixels as a 1 x pixels image: the column of pixel p is pixel p itself */
    mixq_conv_shape s = { 1, (uint16_t)pixels, (uint16_t)in_c, 1, (uint16_t)pixels, (uint16_t)out_c, 1, 1, 1, 1, 0, 0 };
    return mixq_gemm_run(&s, input, weights, params, output, scratch, 0);
}

int mixq_pointwise_plain(uint32_t pixels, uint32_t in_c, uint32_t out_c, const uint8_t *input,
                         const uint8_t *weights, const mixq_requant_params *p, uint8_t *output)
{
    if (!mixq_valid_params(p)) return MIXQ_ERROR_ARGUMENT;
    const int32_t zx = p->input_zero, qmax = (int32_t)((1u << p->output_bits) - 1);
    mixq_writer out;
    mixq_writer_init(&out, output, 0, p->output_bits);
    for (uint32_t px = 0; px < pixels; ++px) {
        for (uint32_t c = 0; c < out_c; ++c) {
            int32_t zw = mixq_weight_zero(p, c);
            int32_t acc = p->bias[c];
            for (uint32_t k = 0; k < in_c; ++k) {
                int32_t x = (int32_t)mixq_load_element(input, px * in_c + k, p->input_bits);
                int32_t w = (int32_t)mixq_matrix_weight(weights, c, out_c, in_c, k, p->weight_bits);
                acc = (int32_t)((uint32_t)acc + (uint32_t)((w - zw) * (x - zx)));
            }
            uint32_t m = mixq_multiplier_index(p, c);
            mixq_writer_push(&out, mixq_requantize(acc, p->multiplier[m], p->shift[m], p->output_zero, qmax));
        }
    }
    mixq_writer_finish(&out);
    mixq_clear_tail(output, pixels * out_c, p->output_bits);
    return MIXQ_OK;
}
