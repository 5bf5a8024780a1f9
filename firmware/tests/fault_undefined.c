/*
 * fault_undefined.c - executes the permanently undefined instruction UDF #7 (encoding 0xDE07).
 * Expected: an undefined-instruction fault naming run_undefined.
 */
#include <stdio.h>

__attribute__((noinline)) void run_undefined(void)
{
    __asm__ volatile(".short 0xde07");
}

int main(void)
{
    printf("before\n");
    run_undefined();
    printf("not reached\n");
    return 0;
}
