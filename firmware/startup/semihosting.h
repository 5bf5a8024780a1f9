/*
 * semihosting.h - ARM semihosting from firmware to the host (MixQ, a debugger, QEMU).
 *
 * Contract
 *   A semihosting call is `BKPT 0xAB` with r0 = operation number and r1 = address of the
 *   operation's parameter block (or the parameter itself for SYS_WRITEC / SYS_WRITE0). The host
 *   performs the operation and returns the result in r0; execution resumes after the BKPT.
 *   Operation numbers and parameter blocks are those of Arm's "Semihosting for AArch32 and
 *   AArch64" specification (version 2.0, sections 5.x); M-profile cores use BKPT 0xAB (section 4.1).
 *
 *   MixQ's emulator implements at least SYS_WRITEC, SYS_WRITE0, SYS_WRITE (handle 1 = stdout,
 *   handle 2 = stderr), SYS_EXIT and SYS_EXIT_EXTENDED. On a board with no debugger attached a
 *   BKPT escalates to HardFault, so semihosting is for emulation and debug sessions only.
 *
 *   Everything here is reentrant and has no global state.
 */
#ifndef MIXQ_SEMIHOSTING_H
#define MIXQ_SEMIHOSTING_H

#include <stddef.h>
#include <stdint.h>

/* Operation numbers (semihosting specification, table "Semihosting operations"). */
enum semihosting_operation {
    SEMIHOSTING_SYS_WRITEC        = 0x03, /* r1 -> one character                               */
    SEMIHOSTING_SYS_WRITE0        = 0x04, /* r1 -> NUL-terminated string                       */
    SEMIHOSTING_SYS_WRITE         = 0x05, /* r1 -> {handle, buffer, length}; r0 = bytes NOT written */
    SEMIHOSTING_SYS_READ          = 0x06, /* r1 -> {handle, buffer, length}; r0 = bytes NOT read */
    SEMIHOSTING_SYS_CLOCK         = 0x10, /* r0 = centiseconds since the program started       */
    SEMIHOSTING_SYS_EXIT          = 0x18, /* r1 = reason (AArch32: the reason itself, not a block) */
    SEMIHOSTING_SYS_EXIT_EXTENDED = 0x20, /* r1 -> {reason, subcode}; subcode = exit status    */
};

/* Reason codes for SYS_EXIT / SYS_EXIT_EXTENDED (specification, table "Exception type"). */
enum semihosting_exit_reason {
    SEMIHOSTING_ADP_STOPPED_APPLICATION_EXIT  = 0x20026, /* normal exit                  */
    SEMIHOSTING_ADP_STOPPED_RUNTIME_ERROR     = 0x20023, /* "RunTimeErrorUnknown": a fault */
};

/* Host handles: MixQ maps handle 1 to its stdout and 2 to its stderr (api.md). */
enum semihosting_handle {
    SEMIHOSTING_STDIN  = 0,
    SEMIHOSTING_STDOUT = 1,
    SEMIHOSTING_STDERR = 2,
};

/*
 * Performs one semihosting operation and returns the host's r0.
 *
 * The "memory" clobber makes the compiler write every pending store (the parameter block, the
 * buffer being printed) before the BKPT and re-read memory after it (SYS_READ fills a buffer).
 */
static inline uint32_t semihosting_call(uint32_t operation, const void *parameter)
{
    register uint32_t r0 __asm__("r0") = operation;
    register const void *r1 __asm__("r1") = parameter;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

/* Writes `length` bytes to a host handle; returns the number of bytes written. */
size_t semihosting_write(int handle, const void *buffer, size_t length);

/* Writes a NUL-terminated string to the host's console (stdout under MixQ). */
void semihosting_write_string(const char *text);

/*
 * Ends the program: the host stops and reports `status` as the exit status
 * (SYS_EXIT_EXTENDED, reason ADP_Stopped_ApplicationExit, subcode = status).
 */
__attribute__((noreturn)) void semihosting_exit(int status);

/* Ends the program with a failure reason (SYS_EXIT, ADP_Stopped_RunTimeErrorUnknown). */
__attribute__((noreturn)) void semihosting_exit_runtime_error(void);

#endif /* MIXQ_SEMIHOSTING_H */
