/*
 * exit_status.c - main's return value becomes the exit status of `mixq run`.
 *
 * Expected: stdout "exiting with 3\n", exit status 3 (reset handler -> exit(main()) ->
 * _exit -> semihosting SYS_EXIT_EXTENDED with subcode 3).
 */
#include <stdio.h>

int main(void)
{
    printf("exiting with %d\n", 3);
    return 3;
}
