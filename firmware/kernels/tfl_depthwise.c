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

/* ---- The ring path (depth multiplier 1, channels in fours) ------------------------------------
 * The input rows a window needs are expanded once each into a ring of kernel_h int16 rows
 * (x - zx), zero columns for the horizontal padding, every group of 4 channels as the words
 * (x0 | x2 << 16, x1 | x3 << 16); the weights once per call into the same layout, 2 (w - zw) when
 * every channel takes the fast requantization of tfl_common.h. Per output pixel and group of 4
 * channels the accumulators start at the doubled bias and each tap is two word loads of inputs,
 * two of weights and four SMLABB/SMLATT, the valid rows only (no test per product); the four
 * outputs are requantized once each, clamped in one word and stored with one STR. */

#define TFL_DEPTHWISE_MAX_SCRATCH_BYTES (48u * 1024u)

/* Expanded row width in pixels: the padding before, the input, the padding the last window needs
 * after. */
static uint32_t ring_width(const mixq_conv_shape *s)
{
    int32_t after = (int32_t)((s->out_w - 1u) * s->stride_w + s->kernel_w) - s->pad_left - (int32_t)s->in_w;
    return s->pad_left + s->in_w + (uint32_t)(after > 0 ? after : 0);
}

static uint32_t ring_scratch_bytes(const mixq_conv_shape *s)
{
    const uint32_t c = s->in_c;
    return c * (uint32_t)sizeof(tfl_lane) + (uint32_t)s->kernel_h * s->kernel_w * c * 2u
        + (uint32_t)s->kernel_h * ring_width(s) * c * 2u;
}

static int ring_applies(const mixq_conv_shape *s, uint32_t depth_multiplier)
{
    return depth_multiplier == 1 && (s->in_c & 3u) == 0 && s->kernel_h <= 8 && ring_scratch_bytes(s) <= TFL_DEPTHWISE_MAX_SCRATCH_BYTES;
}

/* The taps of one window dimension that fall inside the input: window start `start` (may be
 * negative), taps [*first, *last) of `kernel`, input size `size`. */
MIXQ_INLINE void valid_taps(int32_t start, uint32_t kernel, uint32_t size, uint32_t *first, uint32_t *last)
{
    *first = start < 0 ? (uint32_t)-start : 0;
    *last = start + (int32_t)kernel > (int32_t)size ? (uint32_t)((int32_t)size - start) : kernel;
}

uint32_t tfl_depthwise_scratch_bytes(const mixq_conv_shape *s)
{
    const uint32_t accumulators = 4u * s->out_c;
    if (s->in_c == 0 || s->out_c != s->in_c || (s->in_c & 3u) != 0 || s->kernel_h > 8) return accumulators;
    const uint32_t ring = ring_scratch_bytes(s);
    return ring <= TFL_DEPTHWISE_MAX_SCRATCH_BYTES && ring > accumulators ? ring : accumulators;
}

/* Input row iy into a ring row (the padding columns are zeroed once, when the ring is set up). */
static void expand_input_row(uint32_t *dst, const mixq_conv_shape *s, const uint8_t *input, uint32_t iy, uint32_t z2)
{
    const uint32_t c = s->in_c;
    const uint8_t *src = input + iy * s->in_w * c;
    dst += (uint32_t)s->pad_left * c / 2u;
    for (uint32_t i = 0, n = s->in_w * c; i < n; i += 4, dst += 2) {
        uint32_t v;
        memcpy(&v, src + i, 4);
        tfl_expand_word(v, z2, 0, dst);
    }
}

/* Four channels of one output pixel: taps rows [ky0, ky1) of the window, `rows[ky]` the ring row
 * of window row ky at the window's first column, `w` the expanded weights at the group. kh and kw
 * are constants in the 3x3 copy. */
MIXQ_INLINE void ring_taps(const uint32_t *const *rows, const uint32_t *w, uint32_t ky0, uint32_t ky1, uint32_t kw,
                           uint32_t stride, int32_t *a0, int32_t *a1, int32_t *a2, int32_t *a3)
{
    int32_t acc0 = *a0, acc1 = *a1, acc2 = *a2, acc3 = *a3;
    for (uint32_t ky = ky0; ky < ky1; ++ky) {
        const uint32_t *x = rows[ky], *wk = w + ky * kw * stride;
        for (uint32_t kx = 0; kx < kw; ++kx, x += stride, wk += stride) {
            const uint32_t x02 = x[0], x13 = x[1], w02 = wk[0], w13 = wk[1];
            acc0 = __smlabb(x02, w02, acc0);
            acc2 = __smlatt(x02, w02, acc2);
            acc1 = __smlabb(x13, w13, acc1);
            acc3 = __smlatt(x13, w13, acc3);
        }
    }
    *a0 = acc0;
    *a1 = acc1;
    *a2 = acc2;
    *a3 = acc3;
}

/* One output row: every pixel, every group of 4 channels. `fast` and (in the 3x3 copies) kw are
 * constants. */
MIXQ_INLINE void ring_output_row(const mixq_conv_shape *s, const uint32_t *const *rows, const uint32_t *wexp,
                                 const tfl_lane *lanes, const tfl_requant_params *p, uint32_t ky0, uint32_t ky1,
                                 uint32_t kw, uint8_t *output, const int fast)
{
    const uint32_t c_total = s->in_c, stride = c_total / 2u, step = s->stride_w * stride;
    const uint32_t lo4 = p->act_min * 0x01010101u, hi4 = p->act_max * 0x01010101u;
    const int clamp = p->act_min != 0 || p->act_max != 255;
    const uint32_t *window[8];
    for (uint32_t ky = ky0; ky < ky1; ++ky) window[ky] = rows[ky];
    for (uint32_t ox = 0; ox < s->out_w; ++ox) {
        for (uint32_t c = 0; c < c_total; c += 4, output += 4) {
            const tfl_lane *l = lanes + c;
            int32_t a0 = l[0].bias2, a1 = l[1].bias2, a2 = l[2].bias2, a3 = l[3].bias2;
            const uint32_t *g[8];
            for (uint32_t ky = ky0; ky < ky1; ++ky) g[ky] = window[ky] + c / 2u;
            ring_taps(g, wexp + c / 2u, ky0, ky1, kw, stride, &a0, &a1, &a2, &a3);
            uint32_t y;
            if (fast) {
                y = tfl_lane_output(a0, l) | tfl_lane_output(a1, l + 1) << 8 | tfl_lane_output(a2, l + 2) << 16
                    | tfl_lane_output(a3, l + 3) << 24;
                if (clamp) y = tfl_clamp4(y, lo4, hi4);
            } else {
                y = (uint32_t)tfl_requantize(p, c, a0) | (uint32_t)tfl_requantize(p, c + 1, a1) << 8
                    | (uint32_t)tfl_requantize(p, c + 2, a2) << 16 | (uint32_t)tfl_requantize(p, c + 3, a3) << 24;
            }
            memcpy(output, &y, 4);
        }
        for (uint32_t ky = ky0; ky < ky1; ++ky) window[ky] += step;
    }
}

static __attribute__((noinline)) void ring_row_3x3_fast(const mixq_conv_shape *s, const uint32_t *const *rows,
    const uint32_t *wexp, const tfl_lane *lanes, const tfl_requant_params *p, uint32_t ky0, uint32_t ky1, uint8_t *output)
{
    if (ky0 == 0 && ky1 == 3) ring_output_row(s, rows, wexp, lanes, p, 0, 3, 3, output, 1);
    else ring_output_row(s, rows, wexp, lanes, p, ky0, ky1, 3, output, 1);
}

static __attribute__((noinline)) void ring_row_general(const mixq_conv_shape *s, const uint32_t *const *rows,
    const uint32_t *wexp, const tfl_lane *lanes, const tfl_requant_params *p, uint32_t ky0, uint32_t ky1, uint8_t *output,
    int fast)
{
    if (fast) ring_output_row(s, rows, wexp, lanes, p, ky0, ky1, s->kernel_w, output, 1);
    else ring_output_row(s, rows, wexp, lanes, p, ky0, ky1, s->kernel_w, output, 0);
}

static void depthwise_ring(const mixq_conv_shape *s, const uint8_t *input, const uint8_t *weights,
                           const tfl_requant_params *p, uint8_t *output, void *scratch)
{
    const uint32_t c_total = s->in_c, kh = s->kernel_h, kw = s->kernel_w, width = ring_width(s);
    const uint32_t row_words = width * c_total / 2u, taps = kh * kw;
    tfl_lane *lanes = (tfl_lane *)scratch;
    uint32_t *wexp = (uint32_t *)(lanes + c_total);
    uint32_t *ring = wexp + taps * c_total / 2u;
    int fast = 1;
    for (uint32_t c = 0; c < c_total; ++c) fast &= tfl_lane_init(&lanes[c], p, c, taps);
    if (!fast) {
        for (uint32_t c = 0; c < c_total; ++c) lanes[c].bias2 = p->bias[c];
    }
    const uint32_t zw2 = (uint32_t)p->weight_zero * 0x00010001u, zx2 = (uint32_t)p->input_zero * 0x00010001u;
    for (uint32_t i = 0, n = taps * c_total; i < n; i += 4) {
        uint32_t v;
        memcpy(&v, weights + i, 4);
        tfl_expand_word(v, zw2, fast, wexp + i / 2u);
    }
    memset(ring, 0, kh * row_words * 4u);
    int32_t held[8];   /* input row in each ring slot, -1: none */
    for (uint32_t i = 0; i < kh; ++i) held[i] = -1;
    const uint32_t *rows[8];
    const uint32_t out_row_bytes = (uint32_t)s->out_w * c_total;
    for (uint32_t oy = 0; oy < s->out_h; ++oy, output += out_row_bytes) {
        const int32_t y0 = (int32_t)(oy * s->stride_h) - s->pad_top;
        uint32_t ky0, ky1;
        valid_taps(y0, kh, s->in_h, &ky0, &ky1);
        for (uint32_t ky = ky0; ky < ky1; ++ky) {
            const uint32_t iy = (uint32_t)(y0 + (int32_t)ky), slot = iy % kh;
            uint32_t *row = ring + slot * row_words;
            if (held[slot] != (int32_t)iy) {
                expand_input_row(row, s, input, iy, zx2);
                held[slot] = (int32_t)iy;
            }
            rows[ky] = row;
        }
        if (kh == 3 && kw == 3 && fast) ring_row_3x3_fast(s, rows, wexp, lanes, p, ky0, ky1, output);
        else ring_row_general(s, rows, wexp, lanes, p, ky0, ky1, output, fast);
    }
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
    if (!p->real_scale && ring_applies(s, depth_multiplier)) {
        depthwise_ring(s, input, weights, p, output, scratch);
        return MIXQ_OK;
    }
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
