/* kernel_conv.c - runs conv jobs from the host's job table (see kernel_job.h). */
#include "kernel_job.h"
#include "conv.h"

KERNEL_JOB_STORAGE

static int32_t run_conv(const kernel_job *j)
{
    mixq_conv_shape s = kernel_job_shape(j);
    mixq_requant_params p = kernel_job_params(j);
    const uint8_t *in = kernel_arena + j->input_offset, *w = kernel_arena + j->weight_offset;
    uint8_t *out = kernel_arena + j->output_offset;
    if (j->path == KERNEL_PATH_PLAIN) return mixq_conv_plain(&s, in, w, &p, out);
    if (mixq_conv_scratch_bytes(&s, j->weight_bits) > KERNEL_SCRATCH_BYTES) return KERNEL_STATUS_SCRATCH_TOO_SMALL;
    return mixq_conv(&s, in, w, &p, out, kernel_scratch);
}

int main(void) { return kernel_run_jobs(run_conv); }
