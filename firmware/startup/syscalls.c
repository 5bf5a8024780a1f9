/*
 * syscalls.c - the newlib system calls, routed to ARM semihosting, so printf and friends work.
 *
 * Contract (what firmware sees through newlib):
 *   - stdout (fd 1) and stderr (fd 2) go to the host's stdout and stderr (SYS_WRITE with the
 *     same handle numbers, as MixQ maps them). They report as terminals, so newlib line-buffers
 *     stdout: output appears at each '\n' and when exit() flushes at the end.
 *   - stdin (fd 0) is always at end of file: an emulated run has no input.
 *   - There is no file system: open() is not provided; other descriptors fail with EBADF.
 *   - malloc's heap is the DTCM between the end of .bss and __heap_end (stm32h743.ld); _sbrk
 *     returns ENOMEM rather than growing into anything else.
 *   - exit(status) and a return from main end the run with `status` as the exit status;
 *     abort() / raise() end it with 128 + the signal number, as a POSIX shell reports a signal.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "semihosting.h"

#undef errno
extern int errno;

/* Prototypes: newlib calls these by name; nothing else should. */
int _write(int fd, const char *buffer, int length);
int _read(int fd, char *buffer, int length);
int _close(int fd);
int _fstat(int fd, struct stat *status);
int _isatty(int fd);
int _lseek(int fd, int offset, int whence);
void *_sbrk(ptrdiff_t increment);
void _exit(int status) __attribute__((noreturn));
int _kill(int pid, int signal);
int _getpid(void);

/* The process id _getpid reports; there is only ever one process. */
enum { MIXQ_PROCESS_ID = 1 };

static int is_standard_stream(int fd)
{
    return fd >= 0 && fd <= 2;
}

int _write(int fd, const char *buffer, int length)
{
    if (fd != SEMIHOSTING_STDOUT && fd != SEMIHOSTING_STDERR) {
        errno = EBADF;
        return -1;
    }
    if (length <= 0) {
        return 0;
    }
    return (int)semihosting_write(fd, buffer, (size_t)length);
}

int _read(int fd, char *buffer, int length)
{
    (void)buffer;
    (void)length;
    if (fd != SEMIHOSTING_STDIN) {
        errno = EBADF;
        return -1;
    }
    return 0; /* end of file */
}

int _close(int fd)
{
    if (!is_standard_stream(fd)) {
        errno = EBADF;
        return -1;
    }
    return 0;
}

int _fstat(int fd, struct stat *status)
{
    if (!is_standard_stream(fd)) {
        errno = EBADF;
        return -1;
    }
    status->st_mode = S_IFCHR;
    return 0;
}

int _isatty(int fd)
{
    if (!is_standard_stream(fd)) {
        errno = EBADF;
        return 0;
    }
    return 1;
}

int _lseek(int fd, int offset, int whence)
{
    (void)offset;
    (void)whence;
    errno = is_standard_stream(fd) ? ESPIPE : EBADF;
    return -1;
}

/* Heap bounds from the linker script. */
extern char __heap_start[];
extern char __heap_end[];

void *_sbrk(ptrdiff_t increment)
{
    static char *heap_top = __heap_start;
    char *previous = heap_top;
    if (increment > __heap_end - heap_top || increment < __heap_start - heap_top) {
        errno = ENOMEM;
        return (void *)-1;
    }
    heap_top += increment;
    return previous;
}

void _exit(int status)
{
    semihosting_exit(status);
}

int _kill(int pid, int signal)
{
    if (pid != MIXQ_PROCESS_ID) {
        errno = ESRCH;
        return -1;
    }
    _exit(128 + signal);
}

int _getpid(void)
{
    return MIXQ_PROCESS_ID;
}
