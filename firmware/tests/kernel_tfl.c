/* kernel_tfl.c - runs jobs of the tfl_* kernel families (TFLite arithmetic) from a job table the
 * host writes before reset: Tests/KernelTests/TFLiteKernelTests.swift (TFLiteJob) is the other
 * half of this layout; keep the two in step. Every field is a little-endian uint32; offsets are
 * byte offsets into tfl_arena. The firmware writes back each job's status and cycles. */
#include <stdint.h>
#include <string.h>
#include "mixq_target.h"
#include "tfl_add.h"
#include "tfl_conv.h"
#include "tfl_depthwise.h"
#include "tfl_pool.h"
#include "tfl_softmax.h"

#define TFL_MAX_JOBS 128
#define TFL_ARENA_BYTES (440u * 1024u)
#define TFL_SCRATCH_BYTES (64u * 1024u)

enum { OP_CONV, OP_DEPTHWISE, OP_FC, OP_AVG_POOL, OP_MAX_POOL, OP_ADD, OP_SOFTMAX };
enum { PATH_OPTIMIZED = 0, PATH_PLAIN = 1 };
enum { STATUS_SCRATCH_TOO_SMALL = -100, STATUS_UNKNOWN_OP = -101 };

typedef struct {
    uint32_t op, path;
    uint32_t in_h, in_w, in_c, out_h, out_w, out_c;
    uint32_t kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left;
    uint32_t depth_multiplier, per_channel, code_offset;
    uint32_t input_zero, weight_zero, output_zero, act_min, act_max; /* weight_zero: input 2's zero for ADD */
    uint32_t scale_bits;                                                /* SOFTMAX output scale (float bits) */
    uint32_t input, input2, weights, bias, multiplier, shift, output;   /* weights: SOFTMAX's table          */
    uint32_t real_scale;                                                /* offset of doubles, or 0: none     */
    int32_t status;
    uint32_t cycles;
} tfl_job; /* 33 words */

typedef struct {
    uint32_t count;
    tfl_job jobs[TFL_MAX_JOBS];
} tfl_job_table;

tfl_job_table tfl_jobs __attribute__((section(".axisram"), aligned(32)));
uint8_t tfl_arena[TFL_ARENA_BYTES] __attribute__((section(".axisram"), aligned(32)));
static uint8_t scratch[TFL_SCRATCH_BYTES] __attribute__((aligned(8)));

static int32_t run(const tfl_job *j)
{
    mixq_conv_shape s = { (uint16_t)j->in_h, (uint16_t)j->in_w, (uint16_t)j->in_c, (uint16_t)j->out_h,
                          (uint16_t)j->out_w, (uint16_t)j->out_c, (uint8_t)j->kernel_h, (uint8_t)j->kernel_w,
                          (uint8_t)j->stride_h, (uint8_t)j->stride_w, (uint8_t)j->pad_top, (uint8_t)j->pad_left };
    const uint8_t *in = tfl_arena + j->input, *w = tfl_arena + j->weights;
    uint8_t *out = tfl_arena + j->output;
    const int32_t *multiplier = (const int32_t *)(tfl_arena + j->multiplier);
    const int8_t *shift = (const int8_t *)(tfl_arena + j->shift);
    const double *real_scale = j->real_scale ? (const double *)(tfl_arena + j->real_scale) : 0;
    tfl_requant_params p = { (const int32_t *)(tfl_arena + j->bias), multiplier, shift, real_scale, (uint8_t)j->per_channel,
                             (uint8_t)j->input_zero, (uint8_t)j->weight_zero, (uint8_t)j->output_zero,
                             (uint8_t)j->act_min, (uint8_t)j->act_max };
    tfl_pool_params pool = { (uint8_t)j->code_offset, (uint8_t)j->act_min, (uint8_t)j->act_max };
    int plain = j->path == PATH_PLAIN;
    switch (j->op) {
    case OP_CONV:
        if (plain) return tfl_conv_plain(&s, in, w, &p, out);
        if (tfl_conv_scratch_bytes(&s) > TFL_SCRATCH_BYTES) return STATUS_SCRATCH_TOO_SMALL;
        return tfl_conv(&s, in, w, &p, out, scratch);
    case OP_DEPTHWISE:
        if (plain) return tfl_depthwise_plain(&s, j->depth_multiplier, in, w, &p, out);
        if (tfl_depthwise_scratch_bytes(&s) > TFL_SCRATCH_BYTES) return STATUS_SCRATCH_TOO_SMALL;
        return tfl_depthwise(&s, j->depth_multiplier, in, w, &p, out, scratch);
    case OP_FC:
        if (plain) return tfl_fully_connected_plain(j->in_c, j->out_c, in, w, &p, out);
        if (tfl_fully_connected_scratch_bytes(j->in_c) > TFL_SCRATCH_BYTES) return STATUS_SCRATCH_TOO_SMALL;
        return tfl_fully_connected(j->in_c, j->out_c, in, w, &p, out, scratch);
    case OP_AVG_POOL:
    case OP_MAX_POOL: {
        int maximum = j->op == OP_MAX_POOL;
        if (plain) return maximum ? tfl_max_pool_plain(&s, in, &pool, out) : tfl_avg_pool_plain(&s, in, &pool, out);
        if (tfl_pool_scratch_bytes(&s) > TFL_SCRATCH_BYTES) return STATUS_SCRATCH_TOO_SMALL;
        return maximum ? tfl_max_pool(&s, in, &pool, out, scratch) : tfl_avg_pool(&s, in, &pool, out, scratch);
    }
    case OP_ADD: {
        tfl_add_params a = { multiplier[0], multiplier[1], multiplier[2], shift[0], shift[1], shift[2],
                             (uint8_t)j->input_zero, (uint8_t)j->weight_zero, (uint8_t)j->output_zero,
                             (uint8_t)j->act_min, (uint8_t)j->act_max };
        uint32_t count = j->in_h * j->in_w * j->in_c;
        if (plain) return tfl_add_plain(count, in, tfl_arena + j->input2, &a, out);
        return tfl_add(count, in, tfl_arena + j->input2, &a, out, scratch);
    }
    case OP_SOFTMAX: {
        float scale;
        memcpy(&scale, &j->scale_bits, 4);
        tfl_softmax_params sm = { (const float *)w, scale, (uint8_t)(j->code_offset == 128) };
        return tfl_softmax(j->in_h * j->in_w, j->in_c, in, &sm, out);
    }
    default:
        return STATUS_UNKNOWN_OP;
    }
}

int main(void)
{
    /* Caches on, as deployed firmware runs: the cycles then mean what a layer costs in place. */
    mixq_icache_enable();
    mixq_dcache_enable();
    mixq_cycle_counter_start();
    uint32_t count = tfl_jobs.count > TFL_MAX_JOBS ? TFL_MAX_JOBS : tfl_jobs.count;
    for (uint32_t i = 0; i < count; ++i) {
        tfl_job *j = &tfl_jobs.jobs[i];
        uint32_t start = mixq_cycles();
        j->status = run(j);
        j->cycles = mixq_cycles() - start;
    }
    return 0;
}
