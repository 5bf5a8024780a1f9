/*
 * operand_rules.c - Cortex-M7 timings that depend on the data: SDIV/UDIV early termination and
 * data-dependent forward branches (docs/timing.md, "Validation 8").
 *
 * Each benchmark is an assembly loop timed with DWT->CYCCNT; code runs from FLASH with the caches
 * off and data in DTCM, so `--timing pipeline` and `--timing full` agree on the core cycles the
 * firmware prints (full adds FLASH fetches, which the empty-loop baseline cancels only in
 * pipeline). One line per benchmark:
 *
 *     operand <name> <cycles per operation x 1000>
 *
 * Tests/TimingTests/OperandTimingTests.swift compares each with the published figure.
 */
#include <stdint.h>
#include <stdio.h>

#include "loop_bench.h"
#include "mixq_target.h"

#define ITERATIONS 64u
#define REPEAT "16"
#define REPEAT_COUNT 16u

static uint32_t buffer[16] __attribute__((aligned(32)));

LOOP_BENCH(empty_loop, "", "", "r1")
/* Independent divides (the divider holds the pipeline): 32 quotient bits, the slowest case. */
LOOP_BENCH(udiv_32_bits, "mov.w r2, #-1\n mov.w r3, #1", "udiv r1, r2, r3", "r1", "r2", "r3")
/* A divisor larger than the dividend: no quotient bit, the fastest case. */
LOOP_BENCH(udiv_0_bits, "mov.w r2, #5\n mov.w r3, #7", "udiv r1, r2, r3", "r1", "r2", "r3")
/* Average pooling's divide: a sum of 49 int8 values by 49 (|-3000| / 49: 6 quotient bits). */
LOOP_BENCH(sdiv_pooling, "movw r2, #3000\n rsb.w r2, r2, #0\n mov.w r3, #49", "sdiv r1, r2, r3", "r1", "r2", "r3")
/* 17 quotient bits, signed: -65536 * 7 / -7 = 65536. */
LOOP_BENCH(sdiv_17_bits, "movw r2, #0\n movt r2, #0xfff9\n mvn.w r3, #6", "sdiv r1, r2, r3", "r1", "r2", "r3")

/*
 * A data-dependent forward branch over a table of bytes: `if (x >= 128) count++` compiled as a
 * compare and a forward branch around the increment. The same loop over bytes that never take
 * the branch is the baseline; the difference per element is the branch predictor's cost on the
 * pattern (pseudo-random bytes: a 2-bit counter guesses about half of them wrong).
 */
static uint8_t pattern[512];

static uint32_t count_high(const uint8_t *p, uint32_t n)
{
    uint32_t count = 0;
    uint32_t start = mixq_cycles();
    __asm__ volatile("1:\n"
                     "ldrb.w r1, [%[p]], #1\n"
                     "cmp.w r1, #128\n"
                     "blo.w 2f\n"
                     "add.w %[c], %[c], #1\n"
                     "2:\n"
                     "subs %[n], %[n], #1\n"
                     "bne.w 1b\n"
                     : [p] "+r"(p), [n] "+r"(n), [c] "+r"(count)
                     :
                     : "r1", "cc", "memory");
    uint32_t cycles = mixq_cycles() - start;
    return cycles + (count & 0u);
}

static void report(const char *name, int32_t cycles, uint32_t operations)
{
    printf("operand %s %ld\n", name, (long)((int64_t)cycles * 1000 / (int64_t)operations));
}

int main(void)
{
    mixq_cycle_counter_start();
    const uint32_t operations = ITERATIONS * REPEAT_COUNT;
    (void)empty_loop();
    uint32_t base = empty_loop();
    (void)udiv_32_bits();
    report("udiv_32_bits", (int32_t)(udiv_32_bits() - base), operations);
    (void)udiv_0_bits();
    report("udiv_0_bits", (int32_t)(udiv_0_bits() - base), operations);
    (void)sdiv_pooling();
    report("sdiv_pooling", (int32_t)(sdiv_pooling() - base), operations);
    (void)sdiv_17_bits();
    report("sdiv_17_bits", (int32_t)(sdiv_17_bits() - base), operations);

    uint32_t seed = 12345u;
    for (uint32_t i = 0; i < sizeof pattern; ++i) {
        seed = seed * 1664525u + 1013904223u; /* Numerical Recipes LCG */
        pattern[i] = (uint8_t)(seed >> 24);
    }
    static uint8_t low[512];
    (void)count_high(pattern, sizeof pattern);
    uint32_t random = count_high(pattern, sizeof pattern);
    (void)count_high(low, sizeof low);
    uint32_t never = count_high(low, sizeof low);
    report("branch_random_extra", (int32_t)(random - never), sizeof pattern);
    /* How often the branch went the other way than the time before: a lower bound on how many
     * branches any predictor that follows the last outcome gets wrong. */
    uint32_t changes = 0;
    for (uint32_t i = 1; i < sizeof pattern; ++i) changes += (pattern[i] >= 128u) != (pattern[i - 1] >= 128u);
    printf("operand branch_changes %lu\n", (unsigned long)changes);
    return 0;
}
