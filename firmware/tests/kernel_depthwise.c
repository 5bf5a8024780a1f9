/* kernel_depthwise.c - runs depthwise jobs from the host's job table (see kernel_job.h). */
#include "kernel_job.h"
#include "depthwise.h"

KERNEL_JOB_STORAGE

static int32_t run_depthwise(const kernel_job *j)
{
    mixq_conv_shape s = kernel_job_shape(j);
    mixq_requant_params p = kernel_job_params(j);
    const uint8_t *in = kernel_arena + j->input_offset, *w = kernel_arena + j->weight_offset;
    uint8_t *out = kernel_arena + j->output_offset;
    if (j->path == KERNEL_PATH_PLAIN) return mixq_depthwise_plain(&s, in, w, &p, out);
    if (mixq_depthwise_scratch_bytes(&s) > KERNEL_SCRATCH_BYTES) return KERNEL_STATUS_SCRATCH_TOO_SMALL;
    return mixq_depthwise(&s, in, w, &p, out, kernel_scratch);
}

int main(void) { return kernel_run_jobs(run_depthwise); }
