/* tfl_conv.c - TFLite CONV_2D and FULLY_CONNECTED; contract in tfl_conv.h. */
#include "tfl_conv.h"

static int valid_shape(const mixq_conv_shape *s, const tfl_requant_params *p)
{
    return s->in_h && s->in_w && s->in_c && s->out_h && s->out_w && s->out_c && s->kernel_h && s->kernel_w
        && s->stride_h && s->stride_w && tfl_valid_params(p);
}

int tfl_conv_plain(const mixq_conv_shape *s, const uint8_t *input, const uint8_t *weights,
                   const tfl_requant_params *p, uint8_t *output)
{
    if (!valid_shape(s, p)) return MIXQ_ERROR_ARGUMENT;
    const int32_t zx = p->input_zero, zw = p->weight_zero;
    const uint32_t k_total = (uint32_t)s->kernel_h * s->kernel_w * s->in_c;
    for (uint32_t oy = 0; oy < s->out_h; ++oy) {
        for (uint32_t ox = 0; ox < s->out_w; ++ox) {
            for (uint32_t c = 0; c < s->out_c; ++c) {
                int32_t acc = p->bias[c];
                for (uint32_t ky = 0; ky < s->kernel_h; ++ky) {
                    int32_t iy = (int32_t)(oy * s->stride_h + ky) - s->pad_top;
                    if (iy < 0 || iy >= s->in_h) continue;
                    for (uint32_t kx = 0; kx < s->kernel_w; ++kx) {
                        int32_t ix = (int32_t)(ox * s->stride_w + kx) - s->pad_left;
                        if (ix < 0 || ix >= s->in_w) continue;
                        const uint8_t *x = input + ((uint32_t)iy * s->in_w + (uint32_t)ix) * s->in_c;
                        const uint8_t *w = weights + c * k_total + (ky * s->kernel_w + kx) * s->in_c;
                        for (uint32_t ci = 0; ci < s->in_c; ++ci)
                            acc = (int32_t)((uint32_t)acc + (uint32_t)((w[ci] - zw) * (x[ci] - zx)));
                    }
                }
                *output++ = tfl_requantize(p, c, acc);
            }
        }
    }
    return MIXQ_OK;
}

uint32_t tfl_conv_scratch_bytes(const mixq_conv_shape *s)
{
    uint32_t k = (uint32_t)s->kernel_h * s->kernel_w * s->in_c;
    return (2 * k + 7) & ~7u;
}

/* The window of output pixel (oy, ox) as int16 (x - zx), padded positions 0 (k_total elements),
 * and the sum of those values. Groups of four elements are stored x0, x2, x1, x3 so that one
 * word holds the pair SMLAD multiplies with the UXTB16 of a weight word (w0, w2) and the next
 * with its ROR 8 (w1, w3); the K % 4 tail follows in order. With in_c a multiple of 4 every
 * group is four channels of one pixel: one word load, two UXTB16 and two SSUB16. */
static int32_t gather_patch(const mixq_conv_shape *s, const uint8_t *input, int32_t zx, uint32_t oy, uint32_t ox,
                            int16_t *patch)
{
    const uint32_t k_total = (uint32_t)s->kernel_h * s->kernel_w * s->in_c, k4 = k_total & ~3u;
    int32_t sum = 0;
    if ((s->in_c & 3u) == 0) {
        const uint32_t zx2 = (uint32_t)zx * 0x00010001u;
        uint32_t *out = (uint32_t *)patch;
        for (uint32_t ky = 0; ky < s->kernel_h; ++ky) {
            int32_t iy = (int32_t)(oy * s->stride_h + ky) - s->pad_top;
            for (uint32_t kx = 0; kx < s->kernel_w; ++kx) {
                int32_t ix = (int32_t)(ox * s->stride_w + kx) - s->pad_left;
                if (iy < 0 || iy >= s->in_h || ix < 0 || ix >= s->in_w) {
                    memset(out, 0, 2u * s->in_c);
                    out += s->in_c / 2;
                    continue;
                }
                const uint8_t *x = input + ((uint32_t)iy * s->in_w + (uint32_t)ix) * s->in_c;
                for (uint32_t ci = 0; ci < s->in_c; ci += 4, out += 2) {
                    uint32_t v;
                    memcpy(&v, x + ci, 4);
                    uint32_t x02 = __ssub16(__uxtb16(v), zx2), x13 = __ssub16(tfl_uxtb16_ror8(v), zx2);
                    out[0] = x02;
                    out[1] = x13;
                    sum = __smlad(x02, 0x00010001u, sum);
                    sum = __smlad(x13, 0x00010001u, sum);
                }
            }
        }
        return sum;
    }
    uint32_t k = 0;
    for (uint32_t ky = 0; ky < s->kernel_h; ++ky) {
        int32_t iy = (int32_t)(oy * s->stride_h + ky) - s->pad_top;
        for (uint32_t kx = 0; kx < s->kernel_w; ++kx) {
            int32_t ix = (int32_t)(ox * s->stride_w + kx) - s->pad_left;
            int inside = iy >= 0 && iy < s->in_h && ix >= 0 && ix < s->in_w;
            const uint8_t *x = inside ? input + ((uint32_t)iy * s->in_w + (uint32_t)ix) * s->in_c : 0;
            for (uint32_t ci = 0; ci < s->in_c; ++ci, ++k) {
                int16_t v = inside ? (int16_t)(x[ci] - zx) : 0;
                /* position of element k: within a group of four, 0 2 1 3 -> slots 0 1 2 3 */
                uint32_t slot = k < k4 ? (k & ~3u) + ((k & 1u) << 1) + ((k >> 1) & 1u) : k;
                patch[slot] = v;
                sum += v;
            }
        }
    }
    return sum;
}

/* sum over k of w[k] * patch(k) for the first k4 weights of a row, w as unsigned codes (the
 * weight zero point is folded out by the caller), two SMLADs per four weights. */
MIXQ_INLINE int32_t dot_codes(const uint8_t *w, const uint32_t *xw, uint32_t k4, int32_t acc)
{
    for (uint32_t k = 0; k < k4; k += 4, xw += 2) {
        uint32_t word;
        memcpy(&word, w + k, 4);   /* an unaligned LDR on the Cortex-M7 */
        acc = __smlad(__uxtb16(word), xw[0], acc);
        acc = __smlad(tfl_uxtb16_ror8(word), xw[1], acc);
    }
    return acc;
}

int tfl_conv(const mixq_conv_shape *s, const uint8_t *input, const uint8_t *weights,
             const tfl_requant_params *p, uint8_t *output, void *scratch)
{
    if (!valid_shape(s, p) || ((uintptr_t)scratch & 3u)) return MIXQ_ERROR_ARGUMENT;
    int16_t *patch = (int16_t *)scratch;
    const int32_t zx = p->input_zero, zw = p->weight_zero;
    const uint32_t k_total = (uint32_t)s->kernel_h * s->kernel_w * s->in_c, k4 = k_total & ~3u;
    for (uint32_t oy = 0; oy < s->out_h; ++oy) {
        for (uint32_t ox = 0; ox < s->out_w; ++ox) {
            /* sum (w - zw) x' = sum w x' - zw * sum x' (exact in wrapping int32) */
            const int32_t patch_sum = gather_patch(s, input, zx, oy, ox, patch);
            const int32_t offset = (int32_t)(0u - (uint32_t)zw * (uint32_t)patch_sum);
            const uint32_t *xw = (const uint32_t *)patch;
            const uint8_t *w = weights;
            uint32_t c = 0;
            for (; c + 1 < s->out_c; c += 2, w += 2 * k_total) {
                const uint8_t *w1 = w + k_total;
                int32_t acc0 = (int32_t)((uint32_t)p->bias[c] + (uint32_t)offset);
                int32_t acc1 = (int32_t)((uint32_t)p->bias[c + 1] + (uint32_t)offset);
                const uint32_t *x = xw;
                for (uint32_t k = 0; k < k4; k += 4, x += 2) {
                    uint32_t a, b;
                    memcpy(&a, w + k, 4);
                    memcpy(&b, w1 + k, 4);
                    uint32_t x02 = x[0], x13 = x[1];
                    acc0 = __smlad(__uxtb16(a), x02, acc0);
                    acc1 = __smlad(__uxtb16(b), x02, acc1);
                    acc0 = __smlad(tfl_uxtb16_ror8(a), x13, acc0);
                    acc1 = __smlad(tfl_uxtb16_ror8(b), x13, acc1);
                }
                for (uint32_t k = k4; k < k_total; ++k) {
                    acc0 = (int32_t)((uint32_t)acc0 + (uint32_t)(w[k] * patch[k]));
                    acc1 = (int32_t)((uint32_t)acc1 + (uint32_t)(w1[k] * patch[k]));
                }
                *output++ = tfl_requantize(p, c, acc0);
                *output++ = tfl_requantize(p, c + 1, acc1);
            }
            if (c < s->out_c) {
                int32_t acc = dot_codes(w, xw, k4, (int32_t)((uint32_t)p->bias[c] + (uint32_t)offset));
                for (uint32_t k = k4; k < k_total; ++k) acc = (int32_t)((uint32_t)acc + (uint32_t)(w[k] * patch[k]));
                *output++ = tfl_requantize(p, c, acc);
            }
        }
    }
    return MIXQ_OK;
}

static mixq_conv_shape fc_shape(uint32_t in_features, uint32_t out_features)
{
    mixq_conv_shape s = { 1, 1, (uint16_t)in_features, 1, 1, (uint16_t)out_features, 1, 1, 1, 1, 0, 0 };
    return s;
}

uint32_t tfl_fully_connected_scratch_bytes(uint32_t in_features)
{
    mixq_conv_shape s = fc_shape(in_features, 1);
    return tfl_conv_scratch_bytes(&s);
}

int tfl_fully_connected(uint32_t in_features, uint32_t out_features, const uint8_t *input, const uint8_t *weights,
                        const tfl_requant_params *params, uint8_t *output, void *scratch)
{
    if (in_features > 65535 || out_features > 65535) return MIXQ_ERROR_ARGUMENT;
    mixq_conv_shape s = fc_shape(in_features, out_features);
    return tfl_conv(&s, input, weights, params, output, scratch);
}

int tfl_fully_connected_plain(uint32_t in_features, uint32_t out_features, const uint8_t *input,
                              const uint8_t *weights, const tfl_requant_params *params, uint8_t *output)
{
    if (in_features > 65535 || out_features > 65535) return MIXQ_ERROR_ARGUMENT;
    mixq_conv_shape s = fc_shape(in_features, out_features);
    return tfl_conv_plain(&s, input, weights, params, output);
}
