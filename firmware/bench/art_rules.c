/*
 * art_rules.c - the STM32F412's ART accelerator data path as `--timing full` models it on the
 * Cortex-M4 (Sources/Timing/CortexM4Timing.swift, RM0402 section 3.4): a FLASH read the ART's
 * data cache (8 lines of 128 bits) does not hold costs the FLASH wait states.
 *
 * The same load loop runs over 64 lines of a FLASH table (every load a new line: with 8 lines
 * cached, each one misses) and over the first 8 lines again and again (every load hits after
 * the first pass); the difference per load is the miss cost. Prints
 *
 *     art <name> <cycles x 1000>
 *
 * Tests/EmulatorTests/PartTests.swift compares it with the part's wait states.
 */
#include <stdint.h>
#include <stdio.h>

#include "mixq_target.h"

#define LINES 64u
#define PASSES 8u

/* Non-zero so the table stays in FLASH (.rodata). */
static const uint32_t table[LINES * 4u] __attribute__((aligned(16))) = {1};

/* One word load per 16-byte line over `lines` lines, `PASSES` times. */
__attribute__((noinline)) static uint32_t load_lines(const uint32_t *p, uint32_t lines)
{
    uint32_t sum = 0;
    uint32_t start = mixq_cycles();
    for (uint32_t pass = 0; pass < PASSES; ++pass) {
        for (uint32_t i = 0; i < LINES; ++i) {
            sum += p[(i % lines) * 4u];
        }
    }
    uint32_t cycles = mixq_cycles() - start;
    __asm__ volatile("" ::"r"(sum));
    return cycles;
}

int main(void)
{
    mixq_cycle_counter_start();
    (void)load_lines(table, 8u);                      /* warm the instruction side */
    uint32_t hits = load_lines(table, 8u);            /* 8 lines: held by the data cache */
    uint32_t misses = load_lines(table, LINES);       /* 64 lines: every load misses */
    uint32_t loads = PASSES * LINES;
    printf("art data_miss_extra %lu\n", (unsigned long)(((uint64_t)(misses - hits) * 1000u) / loads));
    return 0;
}
