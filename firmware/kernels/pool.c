/* pool.c - global average pooling; see pool.h for the contract. */
#include "pool.h"

MIXQ_INLINE int mixq_pool_valid(uint32_t pixels, uint32_t channels, const mixq_pool_params *p)
{
    return pixels > 0 && channels > 0 && mixq_valid_bits(p->input_bits) && mixq_valid_bits(p->output_bits)
        && p->input_zero <= (1u << p->input_bits) - 1 && p->output_zero <= (1u << p->output_bits) - 1;
}

uint32_t mixq_pool_scratch_bytes(uint32_t channels) { return channels * 4; }

/* Adds the elements of one pixel to the sums; `bits` is a constant after inlining. */
MIXQ_INLINE void mixq_pool_add_pixel(int32_t *sums, const uint8_t *input, uint32_t first, uint32_t channels,
                                     const uint32_t bits)
{
    if (bits == 8) {
        const uint8_t *x = input + first;
        uint32_t c = 0;
        for (; c + 4 <= channels; c += 4) {
            uint32_t v = mixq_load_word(x + c);
            sums[c] += v & 0xFF;
            sums[c + 1] += (v >> 8) & 0xFF;
            sums[c + 2] += (v >> 16) & 0xFF;
            sums[c + 3] += v >> 24;
        }
        for (; c < channels; ++c) sums[c] += x[c];
    } else {
        for (uint32_t c = 0; c < channels; ++c) sums[c] += (int32_t)mixq_load_element(input, first + c, bits);
    }
}

int mixq_global_avg_pool(uint32_t pixels, uint32_t channels, const uint8_t *input, const mixq_pool_params *p,
                         uint8_t *output, void *scratch)
{
    if (!mixq_pool_valid(pixels, channels, p) || ((uintptr_t)scratch & 3) != 0) return MIXQ_ERROR_ARGUMENT;
    int32_t *sums = (int32_t *)scratch;
    memset(sums, 0, channels * 4);
    for (uint32_t px = 0; px < pixels; ++px) {
        switch (p->input_bits) {
        case 8: mixq_pool_add_pixel(sums, input, px * channels, channels, 8); break;
        case 4: mixq_pool_add_pixel(sums, input, px * channels, channels, 4); break;
        default: mixq_pool_add_pixel(sums, input, px * channels, channels, 2); break;
        }
    }
    const int32_t qmax = (int32_t)((1u << p->output_bits) - 1), offset = (int32_t)(pixels * p->input_zero) - p->bias;
    mixq_writer out;
    mixq_writer_init(&out, output, 0, p->output_bits);
    for (uint32_t c = 0; c < channels; ++c) {
        mixq_writer_push(&out, mixq_requantize(sums[c] - offset, p->multiplier, p->shift, p->output_zero, qmax));
    }
    mixq_writer_finish(&out);
    mixq_clear_tail(output, channels, p->output_bits);
    return MIXQ_OK;
}

int mixq_global_avg_pool_plain(uint32_t pixels, uint32_t channels, const uint8_t *input,
                               const mixq_pool_params *p, uint8_t *output)
{
    if (!mixq_pool_valid(pixels, channels, p)) return MIXQ_ERROR_ARGUMENT;
    const int32_t qmax = (int32_t)((1u << p->output_bits) - 1);
    mixq_writer out;
    mixq_writer_init(&out, output, 0, p->output_bits);
    for (uint32_t c = 0; c < channels; ++c) {
        int32_t acc = p->bias;
        for (uint32_t px = 0; px < pixels; ++px) {
            acc += (int32_t)mixq_load_element(input, px * channels + c, p->input_bits) - p->input_zero;
        }
        mixq_writer_push(&out, mixq_requantize(acc, p->multiplier, p->shift, p->output_zero, qmax));
    }
    mixq_writer_finish(&out);
    mixq_clear_tail(output, channels, p->output_bits);
    return MIXQ_OK;
}
