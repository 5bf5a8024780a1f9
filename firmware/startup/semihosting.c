/*
 * semihosting.c - write and exit helpers over semihosting_call (see semihosting.h).
 */
#include "semihosting.h"

size_t semihosting_write(int handle, const void *buffer, size_t length)
{
    /* SYS_WRITE parameter block: handle, buffer address, length (all one word). */
    const uint32_t block[3] = { (uint32_t)handle, (uint32_t)(uintptr_t)buffer, (uint32_t)length };
    uint32_t not_written = semihosting_call(SEMIHOSTING_SYS_WRITE, block);
    return not_written > length ? 0 : length - not_written;
}

void semihosting_write_string(const char *text)
{
    semihosting_call(SEMIHOSTING_SYS_WRITE0, text);
}

void semihosting_exit(int status)
{
    const uint32_t block[2] = { SEMIHOSTING_ADP_STOPPED_APPLICATION_EXIT, (uint32_t)status };
    semihosting_call(SEMIHOSTING_SYS_EXIT_EXTENDED, block);
    /* A host that ignores the request resumes here: never fall back into the program. */
    for (;;) {
    }
}

void semihosting_exit_runtime_error(void)
{
    /* On AArch32, SYS_EXIT takes the reason code itself in r1, not a pointer to a block. */
    semihosting_call(SEMIHOSTING_SYS_EXIT, (const void *)(uintptr_t)SEMIHOSTING_ADP_STOPPED_RUNTIME_ERROR);
    for (;;) {
    }
}
