/*
 * kernel_job.h - the job table shared by the kernel test firmware (kernel_*.c) and
 * Tests/KernelTests (KernelJobTable.swift writes it; keep the two in step).
 *
 * The host writes `kernel_jobs` and `kernel_arena` (both in .axisram, not initialised by
 * start-up) before reset; the firmware runs every job and writes back `status` and `cycles`
 * (mixq_cycles() around the kernel call, so a benchmark can reuse the same firmware), and the
 * outputs into the arena. All fields are little-endian uint32; offsets are arena byte offsets.
 */
#ifndef KERNEL_JOB_H
#define KERNEL_JOB_H

#include <stdint.h>
#include "mixq_common.h"
#include "mixq_target.h"

#define KERNEL_MAX_JOBS 256
#define KERNEL_ARENA_BYTES (440u * 1024u)
#define KERNEL_SCRATCH_BYTES (96u * 1024u)

enum { KERNEL_PATH_OPTIMIZED = 0, KERNEL_PATH_PLAIN = 1 };
enum { KERNEL_STATUS_SCRATCH_TOO_SMALL = -100 };

typedef struct {
    uint32_t path;
    uint32_t in_h, in_w, in_c, out_h, out_w, out_c;
    uint32_t kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left;
    uint32_t input_bits, weight_bits, output_bits, flavour, input_zero, output_zero;
    uint32_t input_offset, weight_offset, bias_offset, multiplier_offset, shift_offset, weight_zero_offset,
        output_offset;
    int32_t status;    /* out: the kernel's return value */
    uint32_t cycles;   /* out: cycles of the kernel call */
} kernel_job;          /* 28 words */

typedef struct {
    uint32_t count;
    kernel_job jobs[KERNEL_MAX_JOBS];
} kernel_job_table;

extern kernel_job_table kernel_jobs;
extern uint8_t kernel_arena[KERNEL_ARENA_BYTES];
extern uint8_t kernel_scratch[KERNEL_SCRATCH_BYTES];

#define KERNEL_JOB_STORAGE                                                                            \
    kernel_job_table kernel_jobs __attribute__((section(".axisram"), aligned(32)));                   \
    uint8_t kernel_arena[KERNEL_ARENA_BYTES] __attribute__((section(".axisram"), aligned(32)));       \
    uint8_t kernel_scratch[KERNEL_SCRATCH_BYTES] __attribute__((aligned(8)));

static inline mixq_conv_shape kernel_job_shape(const kernel_job *j)
{
    mixq_conv_shape s = { (uint16_t)j->in_h, (uint16_t)j->in_w, (uint16_t)j->in_c, (uint16_t)j->out_h,
                          (uint16_t)j->out_w, (uint16_t)j->out_c, (uint8_t)j->kernel_h, (uint8_t)j->kernel_w,
                          (uint8_t)j->stride_h, (uint8_t)j->stride_w, (uint8_t)j->pad_top, (uint8_t)j->pad_left };
    return s;
}

static inline mixq_requant_params kernel_job_params(const kernel_job *j)
{
    mixq_requant_params p = {
        (const int32_t *)(kernel_arena + j->bias_offset), (const int32_t *)(kernel_arena + j->multiplier_offset),
        (const int8_t *)(kernel_arena + j->shift_offset), kernel_arena + j->weight_zero_offset, (uint8_t)j->flavour,
        (uint8_t)j->input_zero, (uint8_t)j->output_zero, (uint8_t)j->input_bits, (uint8_t)j->weight_bits,
        (uint8_t)j->output_bits,
    };
    return p;
}

/* Runs every job through `run` (the family's dispatcher), timing each call. */
static inline int kernel_run_jobs(int32_t (*run)(const kernel_job *))
{
    mixq_cycle_counter_start();
    uint32_t count = kernel_jobs.count > KERNEL_MAX_JOBS ? KERNEL_MAX_JOBS : kernel_jobs.count;
    for (uint32_t i = 0; i < count; ++i) {
        kernel_job *j = &kernel_jobs.jobs[i];
        uint32_t start = mixq_cycles();
        j->status = run(j);
        j->cycles = mixq_cycles() - start;
    }
    return 0;
}

#endif /* KERNEL_JOB_H */
