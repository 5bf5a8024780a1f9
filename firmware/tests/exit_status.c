/*
 * exit_status.c - main's return value becomes the exit status of `mixq run`.
 *
 * Expected: stdout "exiting with 3\n", exit status 3 (reset handler -> exit(main()) ->
 * _exit -> semihosting SYS_EXIT_EXTENDED with subcode 3). Built with -DEXIT_STATUS=N it
 * returns N instead (statuses outside 1...125 exercise the CLI's mapping to 125).
 */
#include <stdio.h>

#ifndef EXIT_STATUS
#define EXIT_STATUS 3
#endif

int main(void)
{
    printf("exiting with %d\n", EXIT_STATUS);
    return EXIT_STATUS;
}
