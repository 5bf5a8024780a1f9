/* window_pool.c - MixQ's windowed average and maximum pooling; contract in window_pool.h. */
#include "window_pool.h"

static int valid(const mixq_conv_shape *s, const mixq_window_pool_params *p)
{
    return s->in_h && s->in_w && s->in_c && s->out_h && s->out_w && s->out_c == s->in_c && s->kernel_h && s->kernel_w
        && s->stride_h && s->stride_w && mixq_valid_bits(p->input_bits) && mixq_valid_bits(p->output_bits)
        && p->input_zero <= (1u << p->input_bits) - 1 && p->output_zero <= (1u << p->output_bits) - 1
        && p->act_min <= p->act_max && p->act_max <= (1u << p->output_bits) - 1;
}

/* The output code of an accumulator over `count` positions. */
MIXQ_INLINE uint32_t finish(int32_t acc, int32_t count, const mixq_window_pool_params *p)
{
    uint32_t m = p->maximum ? 0 : (uint32_t)count - 1;
    uint32_t y = mixq_requantize(acc, p->multiplier[m], p->shift[m], p->output_zero, (1 << p->output_bits) - 1);
    return y < p->act_min ? p->act_min : (y > p->act_max ? p->act_max : y);
}

int mixq_window_pool_plain(const mixq_conv_shape *s, const uint8_t *input, const mixq_window_pool_params *p,
                           uint8_t *output)
{
    if (!valid(s, p)) return MIXQ_ERROR_ARGUMENT;
    mixq_writer out;
    mixq_writer_init(&out, output, 0, p->output_bits);
    for (uint32_t oy = 0; oy < s->out_h; ++oy) {
        for (uint32_t ox = 0; ox < s->out_w; ++ox) {
            int32_t y0, y1, x0, x1;
            mixq_pool_window(s, oy, ox, &y0, &y1, &x0, &x1);
            if (y1 <= y0 || x1 <= x0) return MIXQ_ERROR_ARGUMENT;
            for (uint32_t c = 0; c < s->in_c; ++c) {
                int32_t sum = 0, top = 0, count = 0;
                for (int32_t iy = y0; iy < y1; ++iy) {
                    for (int32_t ix = x0; ix < x1; ++ix) {
                        int32_t x = (int32_t)mixq_load_element(input, ((uint32_t)iy * s->in_w + (uint32_t)ix) * s->in_c + c,
                                                               p->input_bits);
                        sum += x - p->input_zero;
                        top = x > top ? x : top;
                        ++count;
                    }
                }
                mixq_writer_push(&out, finish(p->maximum ? top - p->input_zero : sum, count, p));
            }
        }
    }
    mixq_writer_finish(&out);
    mixq_clear_tail(output, (uint32_t)s->out_h * s->out_w * s->in_c, p->output_bits);
    return MIXQ_OK;
}

uint32_t mixq_window_pool_scratch_bytes(const mixq_conv_shape *s) { return 4u * s->in_c; }

/* Adds (or takes the maximum of) the codes of one input pixel into acc; `bits` is a constant after inlining. */
MIXQ_INLINE void gather(int32_t *acc, const uint8_t *input, uint32_t first, uint32_t channels, int maximum,
                        const uint32_t bits)
{
    if (bits == 8) {
        const uint8_t *x = input + first;
        if (maximum) {
            for (uint32_t c = 0; c < channels; ++c) acc[c] = x[c] > acc[c] ? x[c] : acc[c];
        } else {
            for (uint32_t c = 0; c < channels; ++c) acc[c] += x[c];
        }
    } else {
        for (uint32_t c = 0; c < channels; ++c) {
            int32_t x = (int32_t)mixq_load_element(input, first + c, bits);
            acc[c] = maximum ? (x > acc[c] ? x : acc[c]) : acc[c] + x;
        }
    }
}

MIXQ_INLINE int pool(const mixq_conv_shape *s, const uint8_t *input, const mixq_window_pool_params *p, uint8_t *output,
                     int32_t *acc, const uint32_t bits)
{
    const uint32_t channels = s->in_c;
    const int maximum = p->maximum;
    mixq_writer out;
    mixq_writer_init(&out, output, 0, p->output_bits);
    for (uint32_t oy = 0; oy < s->out_h; ++oy) {
        for (uint32_t ox = 0; ox < s->out_w; ++ox) {
            int32_t y0, y1, x0, x1;
            mixq_pool_window(s, oy, ox, &y0, &y1, &x0, &x1);
            if (y1 <= y0 || x1 <= x0) return MIXQ_ERROR_ARGUMENT;
            int32_t count = (y1 - y0) * (x1 - x0);
            memset(acc, 0, 4u * channels);
            for (int32_t iy = y0; iy < y1; ++iy) {
                uint32_t first = ((uint32_t)iy * s->in_w + (uint32_t)x0) * channels;
                for (int32_t ix = x0; ix < x1; ++ix, first += channels) gather(acc, input, first, channels, maximum, bits);
            }
            /* The sum of offsets is the sum of codes minus count * zx; the maximum's offset is max - zx. */
            int32_t offset = maximum ? p->input_zero : count * p->input_zero;
            for (uint32_t c = 0; c < channels; ++c) mixq_writer_push(&out, finish(acc[c] - offset, count, p));
        }
    }
    mixq_writer_finish(&out);
    mixq_clear_tail(output, (uint32_t)s->out_h * s->out_w * channels, p->output_bits);
    return MIXQ_OK;
}

int mixq_window_pool(const mixq_conv_shape *s, const uint8_t *input, const mixq_window_pool_params *p, uint8_t *output,
                     void *scratch)
{
    if (!valid(s, p) || ((uintptr_t)scratch & 3u)) return MIXQ_ERROR_ARGUMENT;
    switch (p->input_bits) {
    case 8: return pool(s, input, p, output, (int32_t *)scratch, 8);
    case 4: return pool(s, input, p, output, (int32_t *)scratch, 4);
    default: return pool(s, input, p, output, (int32_t *)scratch, 2);
    }
}
