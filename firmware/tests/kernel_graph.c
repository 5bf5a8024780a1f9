/* kernel_graph.c - runs jobs of MixQ's graph-step kernel families (add.c, window_pool.c) from a job
 * table the host writes before reset: Tests/KernelTests/GraphKernelTests.swift (GraphKernelRun) is
 * the other half of this layout; keep the two in step. Every field is a little-endian uint32;
 * offsets are byte offsets into graph_arena. The firmware writes back each job's status and cycles. */
#include <stdint.h>
#include "mixq_target.h"
#include "add.h"
#include "window_pool.h"

#define GRAPH_MAX_JOBS 128
#define GRAPH_ARENA_BYTES (440u * 1024u)
#define GRAPH_SCRATCH_BYTES (16u * 1024u)

enum { OP_ADD, OP_POOL };
enum { PATH_OPTIMIZED = 0, PATH_PLAIN = 1 };
enum { STATUS_SCRATCH_TOO_SMALL = -100, STATUS_UNKNOWN_OP = -101 };

typedef struct {
    uint32_t op, path;
    uint32_t in_h, in_w, in_c, out_h, out_w, out_c;
    uint32_t kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left;
    uint32_t input_bits, input2_bits, output_bits, input_zero, input2_zero, output_zero, act_min, act_max;
    uint32_t maximum;                             /* POOL: 1 for maximum                  */
    int32_t multiplier1, multiplier2;             /* ADD: m1, m2                           */
    uint32_t shift;                               /* ADD: s                                */
    uint32_t input, input2, multiplier, shifts, output;   /* POOL: multiplier/shifts arrays */
    int32_t status;
    uint32_t cycles;
} graph_job; /* 33 words */

typedef struct {
    uint32_t count;
    graph_job jobs[GRAPH_MAX_JOBS];
} graph_job_table;

graph_job_table graph_jobs __attribute__((section(".axisram"), aligned(32)));
uint8_t graph_arena[GRAPH_ARENA_BYTES] __attribute__((section(".axisram"), aligned(32)));
static uint8_t scratch[GRAPH_SCRATCH_BYTES] __attribute__((aligned(8)));

static int32_t run(const graph_job *j)
{
    const uint8_t *in = graph_arena + j->input;
    uint8_t *out = graph_arena + j->output;
    int plain = j->path == PATH_PLAIN;
    switch (j->op) {
    case OP_ADD: {
        mixq_add_params a = { j->multiplier1, j->multiplier2, (uint8_t)j->shift, (uint8_t)j->input_zero,
                              (uint8_t)j->input2_zero, (uint8_t)j->output_zero, (uint8_t)j->input_bits,
                              (uint8_t)j->input2_bits, (uint8_t)j->output_bits, (uint8_t)j->act_min, (uint8_t)j->act_max };
        uint32_t count = j->in_h * j->in_w * j->in_c;
        return plain ? mixq_add_plain(count, in, graph_arena + j->input2, &a, out)
                     : mixq_add(count, in, graph_arena + j->input2, &a, out);
    }
    case OP_POOL: {
        mixq_conv_shape s = { (uint16_t)j->in_h, (uint16_t)j->in_w, (uint16_t)j->in_c, (uint16_t)j->out_h,
                              (uint16_t)j->out_w, (uint16_t)j->out_c, (uint8_t)j->kernel_h, (uint8_t)j->kernel_w,
                              (uint8_t)j->stride_h, (uint8_t)j->stride_w, (uint8_t)j->pad_top, (uint8_t)j->pad_left };
        mixq_window_pool_params p = { (const int32_t *)(graph_arena + j->multiplier), (const int8_t *)(graph_arena + j->shifts),
                                      (uint8_t)j->maximum, (uint8_t)j->input_zero, (uint8_t)j->output_zero,
                                      (uint8_t)j->input_bits, (uint8_t)j->output_bits, (uint8_t)j->act_min,
                                      (uint8_t)j->act_max };
        if (plain) return mixq_window_pool_plain(&s, in, &p, out);
        if (mixq_window_pool_scratch_bytes(&s) > GRAPH_SCRATCH_BYTES) return STATUS_SCRATCH_TOO_SMALL;
        return mixq_window_pool(&s, in, &p, out, scratch);
    }
    default:
        return STATUS_UNKNOWN_OP;
    }
}

int main(void)
{
    /* Caches on, as deployed firmware runs. */
    mixq_icache_enable();
    mixq_dcache_enable();
    mixq_cycle_counter_start();
    uint32_t count = graph_jobs.count > GRAPH_MAX_JOBS ? GRAPH_MAX_JOBS : graph_jobs.count;
    for (uint32_t i = 0; i < count; ++i) {
        graph_job *j = &graph_jobs.jobs[i];
        uint32_t start = mixq_cycles();
        j->status = run(j);
        j->cycles = mixq_cycles() - start;
    }
    return 0;
}
