/* tfl_depthwise.c - TFLite DEPTHWISE_CONV_2D with a depth multiplier; contract in tfl_depthwise.h. */
#include "tfl_depthwise.h"

static int valid_shape(const mixq_conv_shape *s, uint32_t m, const tfl_requant_params *p)
{
    return s->in_h && s->in_w && s->in_c && s->out_h && s->out_w && s->kernel_h && s->kernel_w && s->stride_h
        && s->stride_w && m >= 1 && (uint32_t)s->in_c * m == s->out_c && tfl_valid_params(p);
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
                *output++ = tfl_requantize(p, o, acc);
            }
        }
    }
    return MIXQ_OK;
}

uint32_t tfl_depthwise_scratch_bytes(const mixq_conv_shape *s) { return 4u * s->out_c; }

/* The taps of one window dimension that fall inside the input: window start `start` (may be
 * negative), taps [*first, *last) of `kernel`, input size `size`. */
MIXQ_INLINE void valid_taps(int32_t start, uint32_t kernel, uint32_t size, uint32_t *first, uint32_t *last)
{
    *first = start < 0 ? (uint32_t)-start : 0;
    *last = start + (int32_t)kernel > (int32_t)size ? (uint32_t)((int32_t)size - start) : kernel;
}

/* Depth multiplier 1 with in_c a multiple of 4: four channels per step in registers, each tap
 * one word of inputs and one of weights, expanded to 16-bit (x - zx) and (w - zw) pairs, one
 * SMLABB/SMLATT per product. */
static void depthwise_by_four(const mixq_conv_shape *s, const uint8_t *input, const uint8_t *weights,
                              const tfl_requant_params *p, uint8_t *output)
{
    const uint32_t channels = s->in_c;
    const uint32_t zx2 = (uint32_t)p->input_zero * 0x00010001u, zw2 = (uint32_t)p->weight_zero * 0x00010001u;
    for (uint32_t oy = 0; oy < s->out_h; ++oy) {
        int32_t y0 = (int32_t)(oy * s->stride_h) - s->pad_top;
        uint32_t ky0, ky1;
        valid_taps(y0, s->kernel_h, s->in_h, &ky0, &ky1);
        for (uint32_t ox = 0; ox < s->out_w; ++ox) {
            int32_t x0 = (int32_t)(ox * s->stride_w) - s->pad_left;
            uint32_t kx0, kx1;
            valid_taps(x0, s->kernel_w, s->in_w, &kx0, &kx1);
            for (uint32_t c = 0; c < channels; c += 4) {
                int32_t acc0 = p->bias[c], acc1 = p->bias[c + 1], acc2 = p->bias[c + 2], acc3 = p->bias[c + 3];
                for (uint32_t ky = ky0; ky < ky1; ++ky) {
                    const uint8_t *x = input + ((uint32_t)(y0 + (int32_t)ky) * s->in_w + (uint32_t)(x0 + (int32_t)kx0)) * channels + c;
                    const uint8_t *w = weights + (ky * s->kernel_w + kx0) * channels + c;
                    for (uint32_t kx = kx0; kx < kx1; ++kx, x += channels, w += channels) {
                        uint32_t xv, wv;
                        memcpy(&xv, x, 4);
                        memcpy(&wv, w, 4);
                        uint32_t x02 = __ssub16(__uxtb16(xv), zx2), x13 = __ssub16(tfl_uxtb16_ror8(xv), zx2);
                        uint32_t w02 = __ssub16(__uxtb16(wv), zw2), w13 = __ssub16(tfl_uxtb16_ror8(wv), zw2);
                        acc0 = __smlabb(w02, x02, acc0);
                        acc2 = __smlatt(w02, x02, acc2);
                        acc1 = __smlabb(w13, x13, acc1);
                        acc3 = __smlatt(w13, x13, acc3);
                    }
                }
                output[c] = tfl_requantize(p, c, acc0);
                output[c + 1] = tfl_requantize(p, c + 1, acc1);
                output[c + 2] = tfl_requantize(p, c + 2, acc2);
                output[c + 3] = tfl_requantize(p, c + 3, acc3);
            }
            output += channels;
        }
    }
}

int tfl_depthwise(const mixq_conv_shape *s, uint32_t depth_multiplier, const uint8_t *input,
                  const uint8_t *weights, const tfl_requant_params *p, uint8_t *output, void *scratch)
{
    if (!valid_shape(s, depth_multiplier, p) || ((uintptr_t)scratch & 3u)) return MIXQ_ERROR_ARGUMENT;
    if (depth_multiplier == 1 && (s->in_c & 3u) == 0) {
        depthwise_by_four(s, input, weights, p, output);
        return MIXQ_OK;
    }
    int32_t *acc = (int32_t *)scratch;
    const int32_t zx = p->input_zero, zw = p->weight_zero;
    const uint32_t out_c = s->out_c, in_c = s->in_c, m_count = depth_multiplier;
    for (uint32_t oy = 0; oy < s->out_h; ++oy) {
        int32_t y0 = (int32_t)(oy * s->stride_h) - s->pad_top;
        uint32_t ky0, ky1;
        valid_taps(y0, s->kernel_h, s->in_h, &ky0, &ky1);
        for (uint32_t ox = 0; ox < s->out_w; ++ox) {
            int32_t x0 = (int32_t)(ox * s->stride_w) - s->pad_left;
            uint32_t kx0, kx1;
            valid_taps(x0, s->kernel_w, s->in_w, &kx0, &kx1);
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
            for (uint32_t o = 0; o < out_c; ++o) *output++ = tfl_requantize(p, o, acc[o]);
        }
    }
    return MIXQ_OK;
}
