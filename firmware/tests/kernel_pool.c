/* kernel_pool.c - runs global average pooling jobs (pixels = in_h * in_w, channels = in_c; the
 * multiplier and shift arrays hold one entry) from the job table (kernel_job.h). */
#include "kernel_job.h"
#include "pool.h"

KERNEL_JOB_STORAGE

static int32_t run_pool(const kernel_job *j)
{
    mixq_pool_params p = { *(const int32_t *)(kernel_arena + j->multiplier_offset),
                           *(const int8_t *)(kernel_arena + j->shift_offset), (uint8_t)j->input_zero,
                           (uint8_t)j->output_zero, (uint8_t)j->input_bits, (uint8_t)j->output_bits };
    const uint8_t *in = kernel_arena + j->input_offset;
    uint8_t *out = kernel_arena + j->output_offset;
    uint32_t pixels = j->in_h * j->in_w;
    if (j->path == KERNEL_PATH_PLAIN) return mixq_global_avg_pool_plain(pixels, j->in_c, in, &p, out);
    if (mixq_pool_scratch_bytes(j->in_c) > KERNEL_SCRATCH_BYTES) return KERNEL_STATUS_SCRATCH_TOO_SMALL;
    return mixq_global_avg_pool(pixels, j->in_c, in, &p, out, kernel_scratch);
}

int main(void) { return kernel_run_jobs(run_pool); }
