/* tfl_conv.c - TFLite CONV_2D and FULLY_CONNECTED; contract in tfl_conv.h. */
#include "tfl_conv.h"
#include "mixq_dot16.h"

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

static uint32_t expanded_scratch_bytes(const mixq_conv_shape *s);
static int expanded_applies(const mixq_conv_shape *s);

uint32_t tfl_conv_scratch_bytes(const mixq_conv_shape *s)
{
    const uint32_t k = (uint32_t)s->kernel_h * s->kernel_w * s->in_c, patch = (2 * k + 7) & ~7u;
    if (!expanded_applies(s)) return patch;
    const uint32_t expanded = expanded_scratch_bytes(s);
    return expanded > patch ? expanded : patch;
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

/* The patch path: the window as an int16 patch, two output channels per pass on the unsigned
 * weight codes (fully connected layers, layers of fewer than 4 pixels, windows too large for the
 * expanded path). */
static void conv_patch(const mixq_conv_shape *s, const uint8_t *input, const uint8_t *weights,
                       const tfl_requant_params *p, uint8_t *output, void *scratch)
{
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
}

/* ---- The expanded path ----------------------------------------------------------------------
 * For a layer of at least 4 pixels: the weights of up to TFL_CONV_MAX_WEIGHT_BYTES / (2 K) output
 * channels at a time are expanded once to int16 (w - zw), doubled when every channel takes the
 * fast requantization of tfl_common.h, in the row-pair layout of mixq_dot16.h; per pixel pair
 * the two windows become int16 columns (x - zx); per channel pair mixq_gemm16_dot does the 2x2
 * tile (one SMLAD per two products, every SMLAD paired with a load), the four accumulators
 * start at the (doubled) bias and are requantized once each; the four codes are clamped in one
 * word and stored as two halfwords. An odd last channel is computed against a zero row and not
 * stored; a last single pixel repeats itself in the second column. */

#define TFL_CONV_MAX_WEIGHT_BYTES (32u * 1024u)

MIXQ_INLINE uint32_t round4(uint32_t k) { return (k + 3u) & ~3u; }

/* Output channels expanded at a time (even), 0 when not even two rows fit. */
static uint32_t expanded_rows(uint32_t k, uint32_t out_c)
{
    const uint32_t cap = (TFL_CONV_MAX_WEIGHT_BYTES / (2u * round4(k))) & ~1u, rows = (out_c + 1u) & ~1u;
    return rows < cap ? rows : cap;
}

static int expanded_applies(const mixq_conv_shape *s)
{
    const uint32_t k = (uint32_t)s->kernel_h * s->kernel_w * s->in_c;
    return (uint32_t)s->out_h * s->out_w >= 4u && expanded_rows(k, s->out_c) >= 2u;
}

/* Lanes (out_c + 1, the last for a zero row), the expanded rows, two columns, the window codes
 * of one pixel, and the 48 bytes mixq_gemm16_dot may read past the columns. */
static uint32_t expanded_scratch_bytes(const mixq_conv_shape *s)
{
    const uint32_t k = (uint32_t)s->kernel_h * s->kernel_w * s->in_c, kp = round4(k);
    return ((uint32_t)s->out_c + 1u) * (uint32_t)sizeof(tfl_lane) + expanded_rows(k, s->out_c) * kp * 2u
        + 4u * kp + kp + 48u;
}

/* The last k % 4 codes of src as a word, padded with z (which expands to 0). */
MIXQ_INLINE uint32_t tail_word(const uint8_t *src, uint32_t k, uint32_t z)
{
    uint32_t v = z * 0x01010101u;
    for (uint32_t i = k & ~3u, j = 0; i < k; ++i, ++j) v = (v & ~(0xFFu << (8u * j))) | ((uint32_t)src[i] << (8u * j));
    return v;
}

/* `k` codes at src to groups of the row or column layout: word pairs 4 words apart. */
MIXQ_INLINE void expand_codes(uint32_t *dst, const uint8_t *src, uint32_t k, uint32_t z, int twice)
{
    const uint32_t z2 = z * 0x00010001u, k4 = k & ~3u;
    for (uint32_t i = 0; i < k4; i += 4, dst += 4) {
        uint32_t v;
        memcpy(&v, src + i, 4);
        tfl_expand_word(v, z2, twice, dst);
    }
    if (k4 < k) tfl_expand_word(tail_word(src, k, z), z2, twice, dst);
}

/* Rows c0 .. c0 + rows - 1 (rows even) expanded into the pair layout; rows past out_c are 0. */
static void expand_rows(uint32_t *dst, const uint8_t *weights, uint32_t k, uint32_t c0, uint32_t rows,
                        uint32_t out_c, uint32_t zw, int twice)
{
    const uint32_t groups = round4(k) / 4u;
    for (uint32_t r = 0; r < rows; ++r) {
        uint32_t *row = dst + (r / 2u) * groups * 4u + (r & 1u) * 2u;
        if (c0 + r < out_c) {
            expand_codes(row, weights + (c0 + r) * k, k, zw, twice);
        } else {
            for (uint32_t g = 0; g < groups; ++g) row[4u * g] = row[4u * g + 1u] = 0;
        }
    }
}

/* A 3x3 window of 3-channel codes inside the input (the first layer of image networks): three
 * rows of 9 contiguous bytes, each read as two words and a byte and funnelled into the 7 words
 * of the 27 window codes (the 28th is zx, which expands to 0), expanded straight into the
 * column. */
static void fill_rgb3x3(uint32_t *col, const uint8_t *x, uint32_t row_stride, uint32_t zx)
{
    uint32_t a0, a1, b0, b1, c0, c1;
    memcpy(&a0, x, 4);
    memcpy(&a1, x + 4, 4);
    memcpy(&b0, x + row_stride, 4);
    memcpy(&b1, x + row_stride + 4, 4);
    memcpy(&c0, x + 2u * row_stride, 4);
    memcpy(&c1, x + 2u * row_stride + 4, 4);
    const uint32_t a8 = x[8], b8 = x[row_stride + 8u], c8 = x[2u * row_stride + 8u];
    const uint32_t z2 = zx * 0x00010001u;
    tfl_expand_word(a0, z2, 0, col);
    tfl_expand_word(a1, z2, 0, col + 4);
    tfl_expand_word(a8 | b0 << 8, z2, 0, col + 8);
    tfl_expand_word(b0 >> 24 | b1 << 8, z2, 0, col + 12);
    tfl_expand_word(b1 >> 24 | b8 << 8 | c0 << 16, z2, 0, col + 16);
    tfl_expand_word(c0 >> 16 | c1 << 16, z2, 0, col + 20);
    tfl_expand_word(c1 >> 16 | c8 << 16 | zx << 24, z2, 0, col + 24);
}

/* The window of output pixel (oy, ox) as an expanded column at `col` (word pairs 4 words
 * apart): straight from the input for a 1x1 window inside it, else through `codes` (K bytes,
 * padded positions zx). */
static void fill_column(uint32_t *col, const mixq_conv_shape *s, const uint8_t *input, uint32_t zx, uint32_t oy,
                        uint32_t ox, uint8_t *codes)
{
    const uint32_t in_c = s->in_c, kw = s->kernel_w, k = (uint32_t)s->kernel_h * kw * in_c;
    const int32_t y0 = (int32_t)(oy * s->stride_h) - s->pad_top, x0 = (int32_t)(ox * s->stride_w) - s->pad_left;
    const int rows_inside = x0 >= 0 && x0 + (int32_t)kw <= (int32_t)s->in_w;
    if (s->kernel_h == 1 && kw == 1 && rows_inside && y0 >= 0 && y0 < (int32_t)s->in_h) {
        expand_codes(col, input + ((uint32_t)y0 * s->in_w + (uint32_t)x0) * in_c, k, zx, 0);
        return;
    }
    if (in_c == 3 && kw == 3 && s->kernel_h == 3 && rows_inside && y0 >= 0 && y0 + 3 <= (int32_t)s->in_h) {
        fill_rgb3x3(col, input + ((uint32_t)y0 * s->in_w + (uint32_t)x0) * 3u, s->in_w * 3u, zx);
        return;
    }
    uint8_t *dst = codes;
    const uint32_t row_bytes = kw * in_c;
    for (uint32_t ky = 0; ky < s->kernel_h; ++ky, dst += row_bytes) {
        const int32_t iy = y0 + (int32_t)ky;
        if (iy < 0 || iy >= (int32_t)s->in_h) {
            memset(dst, (int)zx, row_bytes);
            continue;
        }
        const uint8_t *row = input + (uint32_t)iy * s->in_w * in_c;
        if (rows_inside) {
            memcpy(dst, row + (uint32_t)x0 * in_c, row_bytes);
            continue;
        }
        for (uint32_t kx = 0; kx < kw; ++kx) {
            const int32_t ix = x0 + (int32_t)kx;
            if (ix < 0 || ix >= (int32_t)s->in_w) memset(dst + kx * in_c, (int)zx, in_c);
            else memcpy(dst + kx * in_c, row + (uint32_t)ix * in_c, in_c);
        }
    }
    expand_codes(col, codes, k, zx, 0);
}

/* The channel pairs of one chunk for one pixel pair: `valid` of the chunk's `rows` channels are
 * real (the rest is the zero row); row_a/row_b point at the chunk's first channel of the two
 * output pixels (the same pixel when !two). `fast` is a constant in the two copies below. */
MIXQ_INLINE void expanded_channels(const uint32_t *wexp, const tfl_lane *lanes, const uint32_t *col, uint32_t rows,
                                   uint32_t valid, uint32_t groups, uint8_t *row_a, uint8_t *row_b, int two,
                                   const tfl_requant_params *p, uint32_t c0, const int fast)
{
    const uint32_t lo4 = p->act_min * 0x01010101u, hi4 = p->act_max * 0x01010101u;
    const int clamp = p->act_min != 0 || p->act_max != 255;
    for (uint32_t r = 0; r < rows; r += 2, wexp += groups * 4u) {
        const tfl_lane *l0 = lanes + r, *l1 = l0 + 1;
        int32_t a00 = l0->bias2, a01 = l0->bias2, a10 = l1->bias2, a11 = l1->bias2;
        mixq_gemm16_dot(wexp, col, groups, &a00, &a01, &a10, &a11);
        const int pair = r + 1u < valid;
        uint32_t y;
        if (fast) {
            y = tfl_lane_output(a00, l0) | tfl_lane_output(a10, l1) << 8 | tfl_lane_output(a01, l0) << 16
                | tfl_lane_output(a11, l1) << 24;
            if (clamp) y = tfl_clamp4(y, lo4, hi4);
        } else {
            y = (uint32_t)tfl_requantize(p, c0 + r, a00) | (uint32_t)tfl_requantize(p, c0 + r, a01) << 16;
            if (pair) y |= (uint32_t)tfl_requantize(p, c0 + r + 1, a10) << 8 | (uint32_t)tfl_requantize(p, c0 + r + 1, a11) << 24;
        }
        if (pair) {
            const uint16_t ya = (uint16_t)y, yb = (uint16_t)(y >> 16);
            if (two) memcpy(row_b + r, &yb, 2);
            memcpy(row_a + r, &ya, 2);
        } else {
            if (two) row_b[r] = (uint8_t)(y >> 16);
            row_a[r] = (uint8_t)y;
        }
    }
}

static __attribute__((noinline)) void expanded_channels_fast(const uint32_t *wexp, const tfl_lane *lanes,
    const uint32_t *col, uint32_t rows, uint32_t valid, uint32_t groups, uint8_t *row_a, uint8_t *row_b, int two,
    const tfl_requant_params *p, uint32_t c0)
{
    expanded_channels(wexp, lanes, col, rows, valid, groups, row_a, row_b, two, p, c0, 1);
}

static __attribute__((noinline)) void expanded_channels_exact(const uint32_t *wexp, const tfl_lane *lanes,
    const uint32_t *col, uint32_t rows, uint32_t valid, uint32_t groups, uint8_t *row_a, uint8_t *row_b, int two,
    const tfl_requant_params *p, uint32_t c0)
{
    expanded_channels(wexp, lanes, col, rows, valid, groups, row_a, row_b, two, p, c0, 0);
}

static void conv_expanded(const mixq_conv_shape *s, const uint8_t *input, const uint8_t *weights,
                          const tfl_requant_params *p, uint8_t *output, void *scratch)
{
    const uint32_t k = (uint32_t)s->kernel_h * s->kernel_w * s->in_c, kp = round4(k), groups = kp / 4u;
    const uint32_t out_c = s->out_c, pixels = (uint32_t)s->out_h * s->out_w, chunk = expanded_rows(k, out_c);
    tfl_lane *lanes = (tfl_lane *)scratch;
    uint32_t *wexp = (uint32_t *)(lanes + out_c + 1u);
    uint32_t *col = wexp + chunk * kp / 2u;
    uint8_t *codes = (uint8_t *)(col + 4u * groups);
    int fast = 1;
    for (uint32_t c = 0; c < out_c; ++c) fast &= tfl_lane_init(&lanes[c], p, c, k);
    if (!fast) {
        for (uint32_t c = 0; c < out_c; ++c) lanes[c].bias2 = p->bias[c];
    }
    lanes[out_c].bias2 = 0;
    lanes[out_c].multiplier = 0;
    lanes[out_c].round = 0;
    lanes[out_c].shift = 1;
    for (uint32_t c0 = 0; c0 < out_c; c0 += chunk) {
        const uint32_t left = out_c - c0, rows = left < chunk ? (left + 1u) & ~1u : chunk;
        const uint32_t valid = left < rows ? left : rows;
        expand_rows(wexp, weights, k, c0, rows, out_c, p->weight_zero, fast);
        uint32_t oy = 0, ox = 0;
        for (uint32_t pix = 0; pix < pixels; pix += 2) {
            const int two = pix + 1u < pixels;
            fill_column(col, s, input, p->input_zero, oy, ox, codes);
            if (++ox == s->out_w) { ox = 0; ++oy; }
            if (two) {
                fill_column(col + 2, s, input, p->input_zero, oy, ox, codes);
                if (++ox == s->out_w) { ox = 0; ++oy; }
            } else {
                /* repeat pixel a as b, group by group */
                for (uint32_t g = 0; g < groups; ++g) { col[4u * g + 2u] = col[4u * g]; col[4u * g + 3u] = col[4u * g + 1u]; }
            }
            uint8_t *row_a = output + pix * out_c + c0, *row_b = row_a + out_c;
            if (fast) expanded_channels_fast(wexp, lanes + c0, col, rows, valid, groups, row_a, row_b, two, p, c0);
            else expanded_channels_exact(wexp, lanes + c0, col, rows, valid, groups, row_a, row_b, two, p, c0);
        }
    }
}

int tfl_conv(const mixq_conv_shape *s, const uint8_t *input, const uint8_t *weights,
             const tfl_requant_params *p, uint8_t *output, void *scratch)
{
    if (!valid_shape(s, p) || ((uintptr_t)scratch & 3u)) return MIXQ_ERROR_ARGUMENT;
    if (!p->real_scale && expanded_applies(s)) conv_expanded(s, input, weights, p, output, scratch);
    else conv_patch(s, input, weights, p, output, scratch);
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
