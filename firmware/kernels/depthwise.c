/* depthwise.c - depthwise convolution; see depthwise.h for the contract. */
#include "depthwise.h"
#include "mixq_gemm.h"   /* mixq_column_gather / mixq_column_put: the x0, x2, x1, x3 expansion */

/* Channels rounded up to whole groups of 4. */
MIXQ_INLINE uint32_t mixq_dw_channels(const mixq_conv_shape *s) { return (s->in_c + 3u) & ~3u; }

/* Width of an expanded row including the padding columns on both sides. */
MIXQ_INLINE uint32_t mixq_dw_row_width(const mixq_conv_shape *s)
{
    uint32_t needed = (uint32_t)(s->out_w - 1) * s->stride_w + s->kernel_w;
    uint32_t have = (uint32_t)s->pad_left + s->in_w;
    return needed > have ? needed : have;
}

/* Scratch layout (all int16 pairs, "group-major" so every tap of a group sits at a constant
 * offset): expanded weights [group][tap][2 words], a ring of kernel_h expanded rows
 * [slot][group][column][2 words], kernel_h row tags, and one output row of bytes for channel
 * counts that are not a multiple of 4. */
static uint32_t mixq_dw_group_scratch_bytes(const mixq_conv_shape *s)
{
    uint32_t ce = mixq_dw_channels(s), taps = (uint32_t)s->kernel_h * s->kernel_w;
    uint32_t staging = (s->in_c & 3u) ? ((uint32_t)s->out_w * s->in_c + 3u) & ~3u : 0;
    return taps * ce * 2 + (uint32_t)s->kernel_h * mixq_dw_row_width(s) * ce * 2 + (uint32_t)s->kernel_h * 4 + staging;
}

/* Expands padded row r (input row r - pad_top, or a zero row) into one ring slot. */
static void mixq_dw_expand_row(int16_t *dst, const mixq_conv_shape *s, const uint8_t *input, int32_t r,
                               uint32_t width, uint32_t ce, uint32_t bits, int32_t zx)
{
    int32_t iy = r - s->pad_top;
    uint32_t c = s->in_c, group_stride = width * 4;   /* int16 between groups */
    if (iy < 0 || iy >= s->in_h || c != ce) {
        memset(dst, 0, width * ce * 2);   /* padding rows, and the zero channels of a partial group */
        if (iy < 0 || iy >= s->in_h) return;
    } else {
        for (uint32_t g = 0; g < ce / 4; ++g) {   /* the padding columns of every group */
            memset(dst + g * group_stride, 0, (uint32_t)s->pad_left * 8);
            uint32_t right = s->pad_left + s->in_w;
            memset(dst + g * group_stride + right * 4, 0, (width - right) * 8);
        }
    }
    for (uint32_t ix = 0; ix < s->in_w; ++ix) {
        mixq_column_gather(dst + (s->pad_left + ix) * 4, 0, input, ((uint32_t)iy * s->in_w + ix) * c, c, bits, zx,
                           group_stride);
    }
}

/* Stores the 4 outputs of channels g..g+3 of pixel `pixel` (C a multiple of 4: byte aligned). */
MIXQ_INLINE void mixq_dw_store4(uint8_t *output, uint32_t pixel, uint32_t channels, uint32_t g, uint32_t bits,
                                uint32_t y0, uint32_t y1, uint32_t y2, uint32_t y3)
{
    uint32_t element = pixel * channels + g;
    if (bits == 8) {
        uint32_t v = y0 | (y1 << 8) | (y2 << 16) | (y3 << 24);
        memcpy(output + element, &v, 4);
    } else if (bits == 4) {
        uint16_t v = (uint16_t)(y0 | (y1 << 4) | (y2 << 8) | (y3 << 12));
        memcpy(output + element / 2, &v, 2);
    } else {
        output[element / 4] = (uint8_t)(y0 | (y1 << 2) | (y2 << 4) | (y3 << 6));
    }
}

/* One output row, one channel group at a time. kh, kw are constants when inlined from the 3x3
 * specialization, so every tap is a constant offset from three row pointers and one weight
 * pointer: per tap and group two LDRD and four 16x16 MACs. */
MIXQ_INLINE void mixq_dw_row(const mixq_conv_shape *s, int16_t *const *rows, const int16_t *wexp,
                             const mixq_requant_params *p, uint8_t *output, uint8_t *staging, uint32_t oy,
                             const uint32_t kh, const uint32_t kw, const uint32_t obits, uint32_t width, uint32_t ce)
{
    const uint32_t c_total = s->in_c, taps = kh * kw, step = 2u * s->stride_w, out_w = s->out_w;
    const int32_t qmax = (int32_t)((1u << obits) - 1);
    const int aligned = (c_total & 3u) == 0;
    const int32_t zy = p->output_zero;
    for (uint32_t g = 0; g < ce; g += 4) {
        /* lanes in accumulator order: channels g, g+2, g+1, g+3 (a partial group repeats g) */
        mixq_lane lane[4];
        mixq_lane_init(&lane[0], p, g);
        mixq_lane_init(&lane[1], p, g + 2 < c_total ? g + 2 : g);
        mixq_lane_init(&lane[2], p, g + 1 < c_total ? g + 1 : g);
        mixq_lane_init(&lane[3], p, g + 3 < c_total ? g + 3 : g);
        const int fast = !(lane[0].general | lane[1].general | lane[2].general | lane[3].general);
        const uint32_t *wg = (const uint32_t *)wexp + (g / 4) * taps * 2;
        const uint32_t *xg[16];
        for (uint32_t ky = 0; ky < kh; ++ky) xg[ky] = (const uint32_t *)rows[ky] + (g / 4) * width * 2;
        for (uint32_t ox = 0; ox < out_w; ++ox) {
            int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;   /* channels g, g+2, g+1, g+3 */
            /* an opaque copy of the weight pointer stops GCC hoisting 9 tap addresses into spilled
             * registers: every tap is then an immediate offset (LDRD w, [wp, #8*tap]) */
            const uint32_t *wp = wg;
            __asm__("" : "+r"(wp));
            for (uint32_t ky = 0; ky < kh; ++ky) {
                const uint32_t *xr = xg[ky] + ox * step, *wr = wp + ky * kw * 2;
                for (uint32_t kx = 0; kx < kw; ++kx) {
                    uint64_t xx, ww;   /* one LDRD each */
                    memcpy(&xx, xr + 2 * kx, 8);
                    memcpy(&ww, wr + 2 * kx, 8);
                    uint32_t x0 = (uint32_t)xx, x1 = (uint32_t)(xx >> 32), w0 = (uint32_t)ww, w1 = (uint32_t)(ww >> 32);
                    a0 = __smlabb(x0, w0, a0);
                    a1 = __smlatt(x0, w0, a1);
                    a2 = __smlabb(x1, w1, a2);
                    a3 = __smlatt(x1, w1, a3);
                }
            }
            uint32_t pixel = oy * out_w + ox;
            uint32_t y0, y1, y2, y3;
            if (fast) {
                y0 = mixq_lane_output_fast(&lane[0], a0, zy, obits);
                y2 = mixq_lane_output_fast(&lane[1], a1, zy, obits);
                y1 = mixq_lane_output_fast(&lane[2], a2, zy, obits);
                y3 = mixq_lane_output_fast(&lane[3], a3, zy, obits);
            } else {
                y0 = mixq_lane_output(&lane[0], a0, zy, qmax);
                y2 = mixq_lane_output(&lane[1], a1, zy, qmax);
                y1 = mixq_lane_output(&lane[2], a2, zy, qmax);
                y3 = mixq_lane_output(&lane[3], a3, zy, qmax);
            }
            if (aligned) {
                mixq_dw_store4(output, pixel, c_total, g, obits, y0, y1, y2, y3);
            } else {
                uint8_t *y = staging + ox * c_total + g;
                y[0] = (uint8_t)y0;
                if (g + 1 < c_total) y[1] = (uint8_t)y1;
                if (g + 2 < c_total) y[2] = (uint8_t)y2;
                if (g + 3 < c_total) y[3] = (uint8_t)y3;
            }
        }
    }
    if (!aligned) {   /* pack the staged row: it starts mid-byte when C * bits is not a multiple of 8 */
        mixq_writer out;
        mixq_writer_init(&out, output, oy * out_w * c_total, obits);
        for (uint32_t i = 0; i < out_w * c_total; ++i) mixq_writer_push(&out, staging[i]);
        mixq_writer_finish(&out);
    }
}

static int mixq_dw_group_run(const mixq_conv_shape *s, const uint8_t *input, const uint8_t *weights,
                             const mixq_requant_params *p, uint8_t *output, void *scratch)
{
    const uint32_t ce = mixq_dw_channels(s), taps = (uint32_t)s->kernel_h * s->kernel_w, c_total = s->in_c;
    const uint32_t width = mixq_dw_row_width(s), kh = s->kernel_h;
    int16_t *wexp = (int16_t *)scratch;
    int16_t *ring = wexp + taps * ce;
    int32_t *tags = (int32_t *)(ring + kh * width * ce);
    uint8_t *staging = (uint8_t *)(tags + kh);

    /* weights once per call: (w - zw[c]), group-major, padding channels 0 */
    memset(wexp, 0, taps * ce * 2);
    for (uint32_t t = 0; t < taps; ++t) {
        for (uint32_t c = 0; c < c_total; ++c) {
            int32_t w = (int32_t)mixq_load_element(weights, t * c_total + c, p->weight_bits);
            mixq_column_put(wexp + t * 4, c, w - mixq_weight_zero(p, c), taps * 4);
        }
    }
    for (uint32_t i = 0; i < kh; ++i) tags[i] = -1;

    int16_t *rows[16];
    for (uint32_t oy = 0; oy < s->out_h; ++oy) {
        for (uint32_t ky = 0; ky < kh; ++ky) {
            int32_t r = (int32_t)(oy * s->stride_h + ky);   /* padded row index */
            uint32_t slot = (uint32_t)r % kh;
            int16_t *dst = ring + slot * width * ce;
            if (tags[slot] != r) {
                mixq_dw_expand_row(dst, s, input, r, width, ce, p->input_bits, p->input_zero);
                tags[slot] = r;
            }
            rows[ky] = dst;
        }
        /* constant kernel size and output bits for the common cases: fixed offsets, no branches */
        if (s->kernel_h == 3 && s->kernel_w == 3) {
            switch (p->output_bits) {
            case 8: mixq_dw_row(s, rows, wexp, p, output, staging, oy, 3, 3, 8, width, ce); break;
            case 4: mixq_dw_row(s, rows, wexp, p, output, staging, oy, 3, 3, 4, width, ce); break;
            default: mixq_dw_row(s, rows, wexp, p, output, staging, oy, 3, 3, 2, width, ce); break;
            }
        } else {
            mixq_dw_row(s, rows, wexp, p, output, staging, oy, kh, s->kernel_w, p->output_bits, width, ce);
        }
    }
    mixq_clear_tail(output, (uint32_t)s->out_h * s->out_w * c_total, p->output_bits);
    return MIXQ_OK;
}

/* ---- entry points ---------------------------------------------------------------------------- */

uint32_t mixq_depthwise_scratch_bytes(const mixq_conv_shape *s)
{
    return mixq_dw_group_scratch_bytes(s);
}

int mixq_depthwise(const mixq_conv_shape *s, const uint8_t *input, const uint8_t *weights,
                   const mixq_requant_params *p, uint8_t *output, void *scratch)
{
    if (!mixq_valid_params(p) || s->in_c != s->out_c || s->kernel_h > 16 || ((uintptr_t)scratch & 3) != 0) {
        return MIXQ_ERROR_ARGUMENT;
    }
    return mixq_dw_group_run(s, input, weights, p, output, scratch);
}


int mixq_depthwise_plain(const mixq_conv_shape *s, const uint8_t *input, const uint8_t *weights,
                         const mixq_requant_params *p, uint8_t *output)
{
    if (!mixq_valid_params(p) || s->in_c != s->out_c) return MIXQ_ERROR_ARGUMENT;
    const uint32_t channels = s->in_c;
    const int32_t zx = p->input_zero, qmax = (int32_t)((1u << p->output_bits) - 1);
    mixq_writer out;
    mixq_writer_init(&out, output, 0, p->output_bits);
    for (uint32_t oy = 0; oy < s->out_h; ++oy) {
        for (uint32_t ox = 0; ox < s->out_w; ++ox) {
            for (uint32_t c = 0; c < channels; ++c) {
                int32_t zw = mixq_weight_zero(p, c);
                int32_t acc = p->bias[c];
                for (uint32_t ky = 0; ky < s->kernel_h; ++ky) {
                    int32_t iy = (int32_t)(oy * s->stride_h + ky) - s->pad_top;
                    if (iy < 0 || iy >= s->in_h) continue;   /* padding reads zx */
                    for (uint32_t kx = 0; kx < s->kernel_w; ++kx) {
                        int32_t ix = (int32_t)(ox * s->stride_w + kx) - s->pad_left;
                        if (ix < 0 || ix >= s->in_w) continue;
                        int32_t x = (int32_t)mixq_load_element(
                            input, ((uint32_t)iy * s->in_w + (uint32_t)ix) * channels + c, p->input_bits);
                        int32_t w = (int32_t)mixq_load_element(weights, (ky * s->kernel_w + kx) * channels + c,
                                                               p->weight_bits);
                        acc = (int32_t)((uint32_t)acc + (uint32_t)((w - zw) * (x - zx)));
                    }
                }
                uint32_t m = mixq_multiplier_index(p, c);
                mixq_writer_push(&out, mixq_requantize(acc, p->multiplier[m], p->shift[m], p->output_zero, qmax));
            }
        }
    }
    mixq_writer_finish(&out);
    mixq_clear_tail(output, (uint32_t)s->out_h * s->out_w * channels, p->output_bits);
    return MIXQ_OK;
}
