/*
 * cycle_counter.c - DWT->CYCCNT read twice inside one translated block.
 *
 * The two reads enclose eight independent ALU instructions in straight-line assembly (one
 * Unicorn block). On a Cortex-M7 they dual issue in 4 cycles, so the second read sees the
 * first plus about 4-5 cycles, not 0 (both reads at block entry) and not the block's whole
 * cost. Prints: "cyccnt-delta <cycles>".
 */
#include <stdint.h>
#include <stdio.h>

#include "mixq_target.h"

int main(void)
{
    mixq_cycle_counter_start();
    uint32_t first, second;
    __asm__ volatile("ldr.w %[a], [%[dwt], #4]\n"
                     "add.w r1, r1, #1\n add.w r2, r2, #1\n"
                     "add.w r3, r3, #1\n add.w r4, r4, #1\n"
                     "add.w r1, r1, #1\n add.w r2, r2, #1\n"
                     "add.w r3, r3, #1\n add.w r4, r4, #1\n"
                     "ldr.w %[b], [%[dwt], #4]\n"
                     "add.w r1, r1, #1\n add.w r2, r2, #1\n"
                     "add.w r3, r3, #1\n add.w r4, r4, #1\n"
                     "add.w r1, r1, #1\n add.w r2, r2, #1\n"
                     "add.w r3, r3, #1\n add.w r4, r4, #1\n"
                     : [a] "=&r"(first), [b] "=&r"(second)
                     : [dwt] "r"(0xE0001000u)
                     : "r1", "r2", "r3", "r4");
    printf("cyccnt-delta %lu\n", (unsigned long)(second - first));
    return 0;
}
