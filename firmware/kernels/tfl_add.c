/* tfl_add.c - TFLite ADD; contract in tfl_add.h. */
#include "tfl_add.h"

int tfl_add(uint32_t count, const uint8_t *input1, const uint8_t *input2, const tfl_add_params *p, uint8_t *output)
{
    if (p->input1_shift > 0 || p->input2_shift > 0 || p->output_shift > 0 || p->act_min > p->act_max)
        return MIXQ_ERROR_ARGUMENT;
    for (uint32_t i = 0; i < count; ++i) {
        int32_t a = (int32_t)((uint32_t)(input1[i] - p->input1_zero) << TFL_ADD_LEFT_SHIFT);
        int32_t b = (int32_t)((uint32_t)(input2[i] - p->input2_zero) << TFL_ADD_LEFT_SHIFT);
        int32_t sum = tfl_scale(a, p->input1_multiplier, p->input1_shift)
            + tfl_scale(b, p->input2_multiplier, p->input2_shift);
        output[i] = tfl_output(sum, p->output_multiplier, p->output_shift, p->output_zero, p->act_min, p->act_max);
    }
    return MIXQ_OK;
}
