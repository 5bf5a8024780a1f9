/*
 * cortex_m4_rules.c - one microbenchmark per Cortex-M4 timing rule of the Cortex-M4 TRM
 * (r0p1, Arm 100166: section 3.3.1 Table 3-1, section 3.3.2 "Load/store timings", section
 * 7.2.3 Table 7-1), for MixQ's Cortex-M4 model (Sources/Timing/CortexM4Timing.swift;
 * docs/design.md#other-parts).
 *
 * Same method as timing_rules.c (the Cortex-M7 rules): a loop whose body repeats a pattern
 * REPEAT times, timed with DWT->CYCCNT and compared with the empty loop, printing
 *
 *     rule <name> <cycles per pattern x 1000>
 *
 * Tests/TimingTests/CortexM4RuleTests.swift builds this with toolchain/cortex-m4.flags and the
 * STM32F412 linker script and compares each figure with the TRM.
 */
#include <stdint.h>
#include <stdio.h>

#include "loop_bench.h"
#include "mixq_target.h"

#define ITERATIONS 64u
#define REPEAT "16"
#define REPEAT_COUNT 16u

static uint32_t buffer[64] __attribute__((aligned(32)));

LOOP_BENCH(empty_loop, "", "", "r1")
/* Data processing: 1 cycle each, dependent or not (single issue). */
LOOP_BENCH(alu_pair, "", "add.w r1, r1, #1\n add.w r2, r2, #1", "r1", "r2")
/* MUL, MLA, SMLAD, SMULL: 1 cycle each. */
LOOP_BENCH(mac_chain, "", "smlad r1, r2, r3, r1\n mla r4, r2, r3, r4", "r1", "r2", "r3", "r4")
LOOP_BENCH(long_multiply, "", "smull r1, r2, r3, r4", "r1", "r2", "r3", "r4")
/* LDR: 2 cycles; a second LDR whose address does not use the first's result pipelines: 3 for the pair. */
LOOP_BENCH(load_single, "", "ldr.w r1, [%[buf]]\n add.w r2, r2, #1", "r1", "r2")
LOOP_BENCH(load_pair, "", "ldr.w r1, [%[buf]]\n ldr.w r2, [%[buf], #4]\n add.w r3, r3, #1", "r1", "r2", "r3")
/* STR Rx,[Ry,#imm]: 1 cycle. */
LOOP_BENCH(store_immediate, "", "str.w r1, [%[buf], #8]", "r1")
/* An address computed by the instruction just before: one stall cycle (ADD 1 + LDR 2 + 1). */
LOOP_BENCH(address_dependency, "mov r2, %[buf]", "add.w r3, r2, #0\n ldr.w r1, [r3]", "r1", "r2", "r3")
/* LDM/STM: 1 + N. */
LOOP_BENCH(ldm4, "", "ldm.w %[buf], {r1, r2, r3, r4}", "r1", "r2", "r3", "r4")
LOOP_BENCH(stm3, "", "stm.w %[buf], {r1, r2, r3}", "r1", "r2", "r3")
/* A taken branch: 1 + P (MixQ charges P = 2). */
LOOP_BENCH(taken_branch, "", "b.w 2f\n 2:", "r1")
/* UDIV: 2 to 12 cycles. */
LOOP_BENCH(divide, "mov r2, #1000\n mov r3, #7", "udiv r1, r2, r3", "r1", "r2", "r3")
/* FPU single precision: VADD/VMUL 1, VMLA 3, VDIV 14, VLDR 2. */
LOOP_BENCH(vadd_chain, "", "vadd.f32 s0, s0, s1", "s0", "s1")
LOOP_BENCH(vmla_chain, "", "vmla.f32 s0, s1, s2", "s0", "s1", "s2")
LOOP_BENCH(vdiv_each, "", "vdiv.f32 s0, s1, s2", "s0", "s1", "s2")

/* Cycles per pattern x 1000, loop overhead removed. */
static void report(const char *name, uint32_t cycles, uint32_t empty)
{
    uint32_t per = (uint32_t)(((uint64_t)(cycles - empty) * 1000u) / (ITERATIONS * REPEAT_COUNT));
    printf("rule %s %lu\n", name, (unsigned long)per);
}

int main(void)
{
    mixq_cycle_counter_start();
    for (unsigned i = 0; i < 64; ++i) buffer[i] = i;
    __asm__ volatile("vmov.f32 s1, #1.5\n vmov.f32 s2, #2.0" ::: "s1", "s2");
    uint32_t empty = empty_loop();
    report("alu_pair", alu_pair(), empty);
    report("mac_chain", mac_chain(), empty);
    report("long_multiply", long_multiply(), empty);
    report("load_single", load_single(), empty);
    report("load_pair", load_pair(), empty);
    report("store_immediate", store_immediate(), empty);
    report("address_dependency", address_dependency(), empty);
    report("ldm4", ldm4(), empty);
    report("stm3", stm3(), empty);
    report("taken_branch", taken_branch(), empty);
    report("divide", divide(), empty);
    report("vadd_chain", vadd_chain(), empty);
    report("vmla_chain", vmla_chain(), empty);
    report("vdiv_each", vdiv_each(), empty);
    return 0;
}
