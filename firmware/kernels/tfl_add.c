/* tfl_add.c - TFLite ADD; contract in tfl_add.h. */
#include "tfl_add.h"

static int valid(const tfl_add_params *p)
{
    return p->input1_shift <= 0 && p->input2_shift <= 0 && p->output_shift <= 0 && p->act_min <= p->act_max;
}

/* An input code rescaled to the common scale: tfl_scale((code - z) << 20, M, e). */
MIXQ_INLINE int32_t rescaled(uint32_t code, int32_t zero, int32_t m, int32_t e)
{
    return tfl_scale((int32_t)((uint32_t)((int32_t)code - zero) << TFL_ADD_LEFT_SHIFT), m, e);
}

int tfl_add_plain(uint32_t count, const uint8_t *input1, const uint8_t *input2, const tfl_add_params *p,
                  uint8_t *output)
{
    if (!valid(p)) return MIXQ_ERROR_ARGUMENT;
    for (uint32_t i = 0; i < count; ++i) {
        int32_t sum = rescaled(input1[i], p->input1_zero, p->input1_multiplier, p->input1_shift)
            + rescaled(input2[i], p->input2_zero, p->input2_multiplier, p->input2_shift);
        output[i] = tfl_output(sum, p->output_multiplier, p->output_shift, p->output_zero, p->act_min, p->act_max);
    }
    return MIXQ_OK;
}

int tfl_add(uint32_t count, const uint8_t *input1, const uint8_t *input2, const tfl_add_params *p, uint8_t *output,
            void *scratch)
{
    if (!valid(p) || ((uintptr_t)scratch & 3u)) return MIXQ_ERROR_ARGUMENT;
    int32_t *table1 = (int32_t *)scratch, *table2 = table1 + 256;
    for (uint32_t code = 0; code < 256; ++code) {
        table1[code] = rescaled(code, p->input1_zero, p->input1_multiplier, p->input1_shift);
        table2[code] = rescaled(code, p->input2_zero, p->input2_multiplier, p->input2_shift);
    }
    for (uint32_t i = 0; i < count; ++i) {
        int32_t sum = table1[input1[i]] + table2[input2[i]];
        output[i] = tfl_output(sum, p->output_multiplier, p->output_shift, p->output_zero, p->act_min, p->act_max);
    }
    return MIXQ_OK;
}
