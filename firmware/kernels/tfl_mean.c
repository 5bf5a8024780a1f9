/* tfl_mean.c - TFLite MEAN over height and width; contract in tfl_mean.h. One plain path: the
 * step runs once per network on a small map, so a faster form would not show in the total. */
#include "tfl_mean.h"

int tfl_mean(uint32_t pixels, uint32_t channels, const uint8_t *input, const tfl_mean_params *p, uint8_t *output)
{
    if (pixels == 0 || channels == 0) return MIXQ_ERROR_ARGUMENT;
    for (uint32_t c = 0; c < channels; ++c) {
        int32_t acc = 0;
        const uint8_t *x = input + c;
        for (uint32_t i = 0; i < pixels; ++i, x += channels) acc += (int32_t)*x - (int32_t)p->input_zero;
        output[c] = tfl_output(acc, p->multiplier, p->shift, p->output_zero, 0, 255);
    }
    return MIXQ_OK;
}
