/* tfl_pool.c - TFLite AVERAGE_POOL_2D and MAX_POOL_2D; contract in tfl_pool.h. */
#include "tfl_pool.h"

static int valid(const mixq_conv_shape *s, const tfl_pool_params *p)
{
    return s->in_h && s->in_w && s->in_c && s->out_h && s->out_w && s->out_c == s->in_c && s->kernel_h
        && s->kernel_w && s->stride_h && s->stride_w && (p->code_offset == 0 || p->code_offset == 128)
        && p->act_min <= p->act_max;
}

MIXQ_INLINE uint8_t average(int32_t sum, int32_t count, const tfl_pool_params *p)
{
    int32_t r = (sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count) + p->code_offset;
    return (uint8_t)(r < p->act_min ? p->act_min : (r > p->act_max ? p->act_max : r));
}

MIXQ_INLINE uint8_t clamp(int32_t r, const tfl_pool_params *p)
{
    return (uint8_t)(r < p->act_min ? p->act_min : (r > p->act_max ? p->act_max : r));
}

static int pool_plain(const mixq_conv_shape *s, const uint8_t *input, const tfl_pool_params *p, uint8_t *output,
                      int maximum)
{
    if (!valid(s, p)) return MIXQ_ERROR_ARGUMENT;
    for (uint32_t oy = 0; oy < s->out_h; ++oy) {
        for (uint32_t ox = 0; ox < s->out_w; ++ox) {
            int32_t y0, y1, x0, x1;
            mixq_pool_window(s, oy, ox, &y0, &y1, &x0, &x1);
            if (y1 <= y0 || x1 <= x0) return MIXQ_ERROR_ARGUMENT;
            for (uint32_t c = 0; c < s->in_c; ++c) {
                int32_t sum = 0, count = 0, top = 0;
                for (int32_t iy = y0; iy < y1; ++iy) {
                    for (int32_t ix = x0; ix < x1; ++ix) {
                        int32_t x = input[((uint32_t)iy * s->in_w + (uint32_t)ix) * s->in_c + c];
                        sum += x - p->code_offset;
                        top = x > top ? x : top;
                        ++count;
                    }
                }
                *output++ = maximum ? clamp(top, p) : average(sum, count, p);
            }
        }
    }
    return MIXQ_OK;
}

int tfl_avg_pool_plain(const mixq_conv_shape *s, const uint8_t *input, const tfl_pool_params *p, uint8_t *output)
{
    return pool_plain(s, input, p, output, 0);
}

int tfl_max_pool_plain(const mixq_conv_shape *s, const uint8_t *input, const tfl_pool_params *p, uint8_t *output)
{
    return pool_plain(s, input, p, output, 1);
}

uint32_t tfl_pool_scratch_bytes(const mixq_conv_shape *s) { return 4u * s->in_c; }

static int pool(const mixq_conv_shape *s, const uint8_t *input, const tfl_pool_params *p, uint8_t *output,
                void *scratch, int maximum)
{
    if (!valid(s, p) || ((uintptr_t)scratch & 3u)) return MIXQ_ERROR_ARGUMENT;
    int32_t *acc = (int32_t *)scratch;
    const uint32_t channels = s->in_c;
    for (uint32_t oy = 0; oy < s->out_h; ++oy) {
        for (uint32_t ox = 0; ox < s->out_w; ++ox) {
            int32_t y0, y1, x0, x1;
            mixq_pool_window(s, oy, ox, &y0, &y1, &x0, &x1);
            if (y1 <= y0 || x1 <= x0) return MIXQ_ERROR_ARGUMENT;
            int32_t count = (y1 - y0) * (x1 - x0);
            memset(acc, 0, 4u * channels);
            for (int32_t iy = y0; iy < y1; ++iy) {
                const uint8_t *x = input + ((uint32_t)iy * s->in_w + (uint32_t)x0) * channels;
                for (int32_t ix = x0; ix < x1; ++ix, x += channels) {
                    if (maximum) {
                        for (uint32_t c = 0; c < channels; ++c) acc[c] = x[c] > acc[c] ? x[c] : acc[c];
                    } else {
                        for (uint32_t c = 0; c < channels; ++c) acc[c] += x[c];
                    }
                }
            }
            /* The sum of raw values is the sum of codes minus count * code_offset. */
            int32_t bias = count * p->code_offset;
            for (uint32_t c = 0; c < channels; ++c)
                *output++ = maximum ? clamp(acc[c], p) : average(acc[c] - bias, count, p);
        }
    }
    return MIXQ_OK;
}

int tfl_avg_pool(const mixq_conv_shape *s, const uint8_t *input, const tfl_pool_params *p, uint8_t *output,
                 void *scratch)
{
    return pool(s, input, p, output, scratch, 0);
}

int tfl_max_pool(const mixq_conv_shape *s, const uint8_t *input, const tfl_pool_params *p, uint8_t *output,
                 void *scratch)
{
    return pool(s, input, p, output, scratch, 1);
}
