/* kernel_fc.c - runs fully connected jobs (in_features = in_c) from the job table (kernel_job.h). */
#include "kernel_job.h"
#include "fc.h"

KERNEL_JOB_STORAGE

static int32_t run_fc(const kernel_job *j)
{
    mixq_requant_params p = kernel_job_params(j);
    const uint8_t *in = kernel_arena + j->input_offset, *w = kernel_arena + j->weight_offset;
    uint8_t *out = kernel_arena + j->output_offset;
    if (j->path == KERNEL_PATH_PLAIN) return mixq_fc_plain(j->in_c, j->out_c, in, w, &p, out);
    if (mixq_fc_scratch_bytes(j->in_c, j->out_c, j->weight_bits) > KERNEL_SCRATCH_BYTES) return KERNEL_STATUS_SCRATCH_TOO_SMALL;
    return mixq_fc(j->in_c, j->out_c, in, w, &p, out, kernel_scratch);
}

int main(void) { return kernel_run_jobs(run_fc); }
