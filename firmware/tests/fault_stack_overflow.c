/*
 * fault_stack_overflow.c - unbounded recursion with a 1 KiB frame. The stack sits at the
 * bottom of DTCM (stm32h743.ld), so overflowing it runs below 0x20000000 into unmapped space.
 * Expected: a stack-overflow fault naming recurse.
 */
#include <stdint.h>
#include <stdio.h>

__attribute__((noinline)) uint32_t recurse(uint32_t depth)
{
    volatile uint8_t frame[1024];
    frame[depth % sizeof frame] = (uint8_t)depth;
    return recurse(depth + 1) + frame[(depth * 7u) % sizeof frame];
}

int main(void)
{
    printf("before\n");
    printf("%lu\n", (unsigned long)recurse(0));
    return 0;
}
