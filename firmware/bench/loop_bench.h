/*
 * loop_bench.h - the timed loop of the timing microbenchmarks (timing_rules.c for the Cortex-M7,
 * cortex_m4_rules.c for the Cortex-M4): LOOP_BENCH(name, setup, body, clobbers...) defines a
 * function that runs `body` REPEAT times inside a loop of ITERATIONS, timed with DWT->CYCCNT.
 * The including file defines ITERATIONS, REPEAT (a string for .rept) and `buffer`.
 */
#ifndef MIXQ_LOOP_BENCH_H
#define MIXQ_LOOP_BENCH_H

#include <stdint.h>

#include "mixq_target.h"

/* Times `body` repeated REPEAT times inside a counted loop; returns the total cycles. */
#define LOOP_BENCH(fname, setup, body, ...)                                        \
    __attribute__((noinline)) static uint32_t fname(void)                          \
    {                                                                              \
        uint32_t n = ITERATIONS;                                                   \
        uint32_t *buf = buffer;                                                    \
        uint32_t start = mixq_cycles();                                            \
        __asm__ volatile(setup "\n"                                                \
                         "1:\n"                                                    \
                         ".rept " REPEAT "\n" body "\n.endr\n"                     \
                         "subs %[n], %[n], #1\n"                                   \
                         "bne 1b\n"                                                \
                         : [n] "+r"(n)                                             \
                         : [buf] "r"(buf)                                          \
                         : "cc", "memory", __VA_ARGS__);                           \
        return mixq_cycles() - start;                                              \
    }

#endif
