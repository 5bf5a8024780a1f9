/* tfl_softmax.c - TFLite SOFTMAX; contract in tfl_softmax.h. Compiled without floating-point
 * contraction: an FMA of e(x) * inv + 0.5f would round once where LiteRT rounds twice. */
#pragma GCC optimize("fp-contract=off")
#include <math.h>
#include "tfl_softmax.h"

int tfl_softmax(uint32_t rows, uint32_t depth, const uint8_t *input, const tfl_softmax_params *p, uint8_t *output)
{
    if (depth == 0) return MIXQ_ERROR_ARGUMENT;
    for (uint32_t r = 0; r < rows; ++r, input += depth, output += depth) {
        uint32_t top = 0;
        for (uint32_t k = 0; k < depth; ++k) top = input[k] > top ? input[k] : top;
        const float *e = p->table + 255 - top;
        float sum = 0.0f;
        for (uint32_t k = 0; k < depth; ++k) sum += e[input[k]];
        const float inv = 1.0f / (sum * p->output_scale);
        for (uint32_t k = 0; k < depth; ++k) {
            volatile float probability = e[input[k]] * inv;   /* rounded to float before the next step */
            int32_t q = p->int8_rounding ? (int32_t)roundf(probability) : (int32_t)(probability + 0.5f);
            output[k] = (uint8_t)(q < 0 ? 0 : (q > 255 ? 255 : q));
        }
    }
    return MIXQ_OK;
}
