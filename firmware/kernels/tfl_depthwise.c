/* tfl_depthwise.c - TFLite DEPTHWISE_CONV_2D with a depth multiplier; contract in tfl_depthwise.h. */
#include "tfl_depthwise.h"

static int valid_shape(const mixq_conv_shape *s, uint32_t m, const tfl_requant_params *p)
{
    return s->in_h && s->in_w && s->in_c && s->out_h && s->out_w && s->kernel_h && s->kernel_w && s->stride_h
        && s->stride_w && m >= 1 && (uint32_t)s->in_c * m == s->out_c && tfl_valid_params(p);
}

MIXQ_INLINE uint8_t requantize(const tfl_requant_params *p, uint32_t c, int32_t acc)
{
    uint32_t m = p->per_channel ? c : 0;
    if (p->real_scale) return tfl_output_double(acc, p->real_scale[m], p->output_zero, p->act_min, p->act_max);
    return tfl_output(acc, p->multiplier[m], p->shift[m], p->output_zero, p->act_min, p->act_max);
}

int tfl_depthwise_plain(const mixq_conv_shape *s, uint32_t depth_multiplier, const uint8_t *input,
                        const uint8_t *weights, const tfl_requant_params *p, uint8_t *output)
{
    if (!valid_shape(s, depth_multiplier, p)) return MIXQ_ERROR_ARGUMENT;
    const int32_t zx = p->input_zero, zw = p->weight_zero;
    for (uint32_t oy = 0; oy < s->out_h; ++oy) {
        for (uint32_t ox = 0; ox < s->out_w; ++ox) {
            for (uint32_t o = 0; o < s->out_c; ++o) {
                uint32_t c = o / depth_multiplier;
                int32_t acc = p->bias[o];
                for (uint32_t ky = 0; ky < s->kernel_h; ++ky) {
                    int32_t iy = (int32_t)(oy * s->stride_h + ky) - s->pad_top;
                    if (iy < 0 || iy >= s->in_h) continue;
                    for (uint32_t kx = 0; kx < s->kernel_w; ++kx) {
                        int32_t ix = (int32_t)(ox * s->stride_w + kx) - s->pad_left;
                        if (ix < 0 || ix >= s->in_w) continue;
                        int32_t x = input[((uint32_t)iy * s->in_w + (uint32_t)ix) * s->in_c + c];
                        int32_t w = weights[(ky * s->kernel_w + kx) * s->out_c + o];
                        acc = (int32_t)((uint32_t)acc + (uint32_t)((w - zw) * (x - zx)));
                    }
                }
                *output++ = requantize(p, o, acc);
            }
        }
    }
    return MIXQ_OK;
}

uint32_t tfl_depthwise_scratch_bytes(const mixq_conv_shape *s) { return 4u * s->out_c; }

int tfl_depthwise(const mixq_conv_shape *s, uint32_t depth_multiplier, const uint8_t *input,
                  const uint8_t *weights, const tfl_requant_params *p, uint8_t *output, void *scratch)
{
    if (!valid_shape(s, depth_multiplier, p) || ((uintptr_t)scratch & 3u)) return MIXQ_ERROR_ARGUMENT;
    int32_t *acc = (int32_t *)scratch;
    const int32_t zx = p->input_zero, zw = p->weight_zero;
    const uint32_t out_c = s->out_c, in_c = s->in_c, m_count = depth_multiplier;
    for (uint32_t oy = 0; oy < s->out_h; ++oy) {
        int32_t y0 = (int32_t)(oy * s->stride_h) - s->pad_top;
        uint32_t ky0 = y0 < 0 ? (uint32_t)-y0 : 0;
        uint32_t ky1 = y0 + s->kernel_h > s->in_h ? (uint32_t)(s->in_h - y0) : s->kernel_h;
        for (uint32_t ox = 0; ox < s->out_w; ++ox) {
            int32_t x0 = (int32_t)(ox * s->stride_w) - s->pad_left;
            uint32_t kx0 = x0 < 0 ? (uint32_t)-x0 : 0;
            uint32_t kx1 = x0 + s->kernel_w > s->in_w ? (uint32_t)(s->in_w - x0) : s->kernel_w;
            memcpy(acc, p->bias, 4u * out_c);
            for (uint32_t ky = ky0; ky < ky1; ++ky) {
                const uint8_t *row = input + ((uint32_t)(y0 + (int32_t)ky) * s->in_w) * in_c;
                for (uint32_t kx = kx0; kx < kx1; ++kx) {
                    const uint8_t *x = row + (uint32_t)(x0 + (int32_t)kx) * in_c;
                    const uint8_t *w = weights + (ky * s->kernel_w + kx) * out_c;
                    if (m_count == 1) {
                        for (uint32_t c = 0; c < in_c; ++c)
                            acc[c] = (int32_t)((uint32_t)acc[c] + (uint32_t)((w[c] - zw) * (x[c] - zx)));
                    } else {
                        for (uint32_t c = 0, o = 0; c < in_c; ++c) {
                            int32_t xv = x[c] - zx;
                            for (uint32_t m = 0; m < m_count; ++m, ++o)
                                acc[o] = (int32_t)((uint32_t)acc[o] + (uint32_t)((w[o] - zw) * xv));
                        }
                    }
                }
            }
            for (uint32_t o = 0; o < out_c; ++o) *output++ = requantize(p, o, acc[o]);
        }
    }
    return MIXQ_OK;
}
