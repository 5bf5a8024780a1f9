/*
 * gdb_target.c - the program the GDB stub tests debug (Tests/MixQTests/GDBCLITests.swift).
 *
 * Known values a debugger can check independently of MixQ:
 *   add_numbers(20, 22) is called once, with r0 = 20 and r1 = 22 on entry, and returns 42.
 *   counter counts loop iterations: 10 after the loop (bump() runs 10 times).
 *   scale_float(1.5f) returns 1.5 * 2.5 = 3.75 (s0 on entry holds 1.5).
 *   The exit status is `exit_status`, a global initialized to 7: a debugger that sets it to
 *   another value before main returns changes the status `mixq run` exits with.
 * Output: "sum 42 counter 10 float 3.75\n".
 */
#include <stdio.h>

volatile unsigned counter;
volatile int exit_status = 7;

__attribute__((noinline)) int add_numbers(int a, int b)
{
    return a + b;
}

__attribute__((noinline)) void bump(void)
{
    counter = counter + 1;
}

__attribute__((noinline)) float scale_float(float x)
{
    return x * 2.5f;
}

int main(void)
{
    volatile int first = 20, second = 22;
    int sum = add_numbers(first, second);
    for (int i = 0; i < 10; i++) {
        bump();
    }
    volatile float input = 1.5f;
    float scaled = scale_float(input);
    printf("sum %d counter %u float %.2f\n", sum, counter, (double)scaled);
    return exit_status;
}
