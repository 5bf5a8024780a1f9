/* conv.c - standard convolution; see conv.h for the contract. */
#include "conv.h"
#define MIXQ_GEMM_SHORT_ROWS 1   /* short rows (K = 27): the dot products' tail steps inline */
#include "mixq_gemm.h"

uint32_t mixq_conv_scratch_bytes(const mixq_conv_shape *shape, uint32_t weight_bits)
{
    if (!mixq_valid_bits(weight_bits)) return 0;
    const uint32_t k = (uint32_t)shape->kernel_h * shape->kernel_w * shape->in_c;
    const uint32_t core = mixq_gemm_scratch_bytes(k, shape->out_c, weight_bits);
    const uint32_t expanded = mixq_gemm16_scratch_bytes(k, shape->out_c);   /* mixq_gemm16.h */
    return core > expanded ? core : expanded;
}

int mixq_conv(const mixq_conv_shape *shape, const uint8_t *input, const uint8_t *weights,
              const mixq_requant_params *params, uint8_t *output, void *scratch)
{
    return mixq_gemm_run(shape, input, weights, params, output, scratch, 0);
}

int mixq_conv_plain(const mixq_conv_shape *s, const uint8_t *input, const uint8_t *weights,
                    const mixq_requant_params *p, uint8_t *output)
{
    if (!mixq_valid_params(p)) return MIXQ_ERROR_ARGUMENT;
    const uint32_t k_total = (uint32_t)s->kernel_h * s->kernel_w * s->in_c;
    const int32_t zx = p->input_zero, qmax = (int32_t)((1u << p->output_bits) - 1);
    mixq_writer out;
    mixq_writer_init(&out, output, 0, p->output_bits);
    for (uint32_t oy = 0; oy < s->out_h; ++oy) {
        for (uint32_t ox = 0; ox < s->out_w; ++ox) {
            for (uint32_t c = 0; c < s->out_c; ++c) {
                int32_t zw = mixq_weight_zero(p, c);
                int32_t acc = p->bias[c];
                uint32_t k = 0;
                for (uint32_t ky = 0; ky < s->kernel_h; ++ky) {
                    int32_t iy = (int32_t)(oy * s->stride_h + ky) - s->pad_top;
                    for (uint32_t kx = 0; kx < s->kernel_w; ++kx) {
                        int32_t ix = (int32_t)(ox * s->stride_w + kx) - s->pad_left;
                        int inside = iy >= 0 && iy < s->in_h && ix >= 0 && ix < s->in_w;
                        for (uint32_t ci = 0; ci < s->in_c; ++ci, ++k) {
                            if (!inside) continue;   /* padding reads zx: (x - zx) = 0 */
                            int32_t x = (int32_t)mixq_load_element(
                                input, ((uint32_t)iy * s->in_w + (uint32_t)ix) * s->in_c + ci, p->input_bits);
                            int32_t w = (int32_t)mixq_matrix_weight(weights, c, s->out_c, k_total, k, p->weight_bits);
                            acc = (int32_t)((uint32_t)acc + (uint32_t)((w - zw) * (x - zx)));
                        }
                    }
                }
                uint32_t m = mixq_multiplier_index(p, c);
                mixq_writer_push(&out, mixq_requantize(acc, p->multiplier[m], p->shift[m], p->output_zero, qmax));
            }
        }
    }
    mixq_writer_finish(&out);
    mixq_clear_tail(output, (uint32_t)s->out_h * s->out_w * s->out_c, p->output_bits);
    return MIXQ_OK;
}
