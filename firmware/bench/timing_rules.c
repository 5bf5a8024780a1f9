/*
 * timing_rules.c - one microbenchmark per published Cortex-M7 timing rule
 * (docs/design.md#cortex-m7-timing, measured on an STM32H743 in jnk0le/random "pipeline cycle
 * test").
 *
 * Each benchmark is an assembly loop whose body repeats a short pattern REPEAT times; it is timed
 * with DWT->CYCCNT and compared with the same loop around an empty body, so the loop overhead
 * cancels. The firmware prints one line per rule:
 *
 *     rule <name> <cycles per pattern x 1000>
 *
 * and the Swift tests (Tests/TimingTests/MicrobenchmarkTests.swift) compare each with the
 * published figure. Code runs from FLASH with the caches off, so only `--timing pipeline` (which
 * treats every memory as TCM) reproduces the figures; data lives in DTCM.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "loop_bench.h"
#include "mixq_target.h"

#define ITERATIONS 64u
#define REPEAT "32"
#define REPEAT_COUNT 32u

static uint32_t buffer[64] __attribute__((aligned(32)));

LOOP_BENCH(empty_loop, "", "", "r1")
/* Two independent ALU instructions dual issue: 1 cycle per pair. */
LOOP_BENCH(alu_pairs, "", "add.w r1, r1, #1\n add.w r2, r2, #1", "r1", "r2")
/* A dependent ALU chain: 1 cycle per instruction (ALU latency 1). */
LOOP_BENCH(alu_chain, "", "add.w r1, r1, #1\n add.w r1, r1, #1", "r1")
/* Word load feeding an ALU in the next cycle: ldr + dependent add = 1 cycle per pair. */
LOOP_BENCH(load_use, "", "ldr.w r1, [%[buf]]\n add.w r2, r2, r1", "r1", "r2")
/* Byte load: one more cycle of latency, ldrb + dependent add = 2 cycles per pair. */
LOOP_BENCH(byte_load_use, "", "ldrb.w r1, [%[buf]]\n add.w r2, r2, r1", "r1", "r2")
/* SMLAD accumulator chain: one MAC per cycle. */
LOOP_BENCH(smlad_chain, "", "smlad r1, r2, r3, r1", "r1", "r2", "r3")
/* A load feeding a MAC multiplicand: not in the next cycle, ldr + smlad = 2 cycles per pair. */
LOOP_BENCH(load_to_mac, "", "ldr.w r2, [%[buf]]\n smlad r1, r2, r3, r1", "r1", "r2", "r3")
/* DSP/SIMD instructions never pair: two independent ones take 2 cycles. */
LOOP_BENCH(dsp_pair, "", "uxtb16 r1, r2\n sadd16 r3, r4, r5", "r1", "r2", "r3", "r4", "r5")
/* LDM of 5 registers: ceil(5/2) = 3 cycles. */
LOOP_BENCH(ldm5, "", "ldm.w %[buf], {r1, r2, r3, r4, r5}", "r1", "r2", "r3", "r4", "r5")
/* STM of 4 registers: ceil(4/2) = 2 cycles. */
LOOP_BENCH(stm4, "", "stm.w %[buf], {r1, r2, r3, r4}", "r1", "r2", "r3", "r4")
/* Two stores never pair: 2 cycles per pair. */
LOOP_BENCH(store_pair, "", "str.w r1, [%[buf]]\n str.w r2, [%[buf], #4]", "r1", "r2")
/* Byte stores alternating even/odd word banks drain at 2 cycles per store. */
LOOP_BENCH(byte_stores, "", "strb.w r1, [%[buf]]\n strb.w r2, [%[buf], #4]", "r1", "r2")
/* Byte stores to two words of ONE bank (8 bytes apart): 4 cycles per store on hardware. */
LOOP_BENCH(byte_stores_one_bank, "", "strb.w r1, [%[buf]]\n strb.w r2, [%[buf], #8]", "r1", "r2")
/* Unit-stride halfword stores (two per word, words alternate banks): 2 cycles per store. */
LOOP_BENCH(half_stores_unit_stride, "",
           "strh.w r1, [%[buf]]\n strh.w r2, [%[buf], #2]\n strh.w r1, [%[buf], #4]\n strh.w r2, [%[buf], #6]",
           "r1", "r2")
/* Unit-stride byte stores (four per word): 2.4 cycles per store on hardware. */
LOOP_BENCH(byte_stores_unit_stride, "",
           "strb.w r1, [%[buf]]\n strb.w r2, [%[buf], #1]\n strb.w r1, [%[buf], #2]\n strb.w r2, [%[buf], #3]\n"
           "strb.w r1, [%[buf], #4]\n strb.w r2, [%[buf], #5]\n strb.w r1, [%[buf], #6]\n strb.w r2, [%[buf], #7]",
           "r1", "r2")
/* Unit-stride byte copy over two words: each strb pairs with the ldrb of the next byte (loads
 * dual issue with stores), so the stores set the pace: 2.4 cycles per byte on hardware. */
LOOP_BENCH(byte_copy_unit_stride, "",
           "ldrb.w r1, [%[buf], #32]\n strb.w r1, [%[buf]]\n ldrb.w r2, [%[buf], #33]\n strb.w r2, [%[buf], #1]\n"
           "ldrb.w r1, [%[buf], #34]\n strb.w r1, [%[buf], #2]\n ldrb.w r2, [%[buf], #35]\n strb.w r2, [%[buf], #3]\n"
           "ldrb.w r1, [%[buf], #36]\n strb.w r1, [%[buf], #4]\n ldrb.w r2, [%[buf], #37]\n strb.w r2, [%[buf], #5]\n"
           "ldrb.w r1, [%[buf], #38]\n strb.w r1, [%[buf], #6]\n ldrb.w r2, [%[buf], #39]\n strb.w r2, [%[buf], #7]",
           "r1", "r2")
/* A load and a store pair: 1 cycle. */
LOOP_BENCH(load_store_pair, "", "ldr.w r1, [%[buf]]\n str.w r2, [%[buf], #8]", "r1", "r2")
/* FPU single precision: VADD and VMUL chains 3 cycles, VFMA into a multiplicand 5, VDIV 16. */
LOOP_BENCH(vadd_chain, "", "vadd.f32 s0, s0, s1", "s0", "s1")
LOOP_BENCH(vmul_chain, "", "vmul.f32 s0, s0, s1", "s0", "s1")
LOOP_BENCH(vfma_chain, "", "vfma.f32 s1, s0, s2\n vfma.f32 s0, s1, s2", "s0", "s1", "s2")
LOOP_BENCH(vdiv_each, "", "vdiv.f32 s0, s1, s2", "s0", "s1", "s2")

/*
 * Branch mispredict: a branch alternating taken / not taken every iteration is mispredicted
 * by a 2-bit predictor every time; the baseline runs the same code with the branch never
 * taken. `flags_distance` extra independent instructions sit between TST and BEQ.
 */
#define BRANCH_BENCH(fname, test_operand, padding)                                 \
    static uint32_t fname(void)                                                    \
    {                                                                              \
        uint32_t n = ITERATIONS * 8u;                                              \
        uint32_t zero = 0;                                                         \
        uint32_t start = mixq_cycles();                                            \
        __asm__ volatile("1:\n"                                                    \
                         "tst.w " test_operand ", #1\n"                            \
                         padding                                                   \
                         "beq.w 2f\n"                                              \
                         "nop.w\n"                                                 \
                         "2:\n"                                                    \
                         "add.w r1, r1, #1\n"                                      \
                         "subs %[n], %[n], #1\n"                                   \
                         "bne.w 1b\n"                                              \
                         : [n] "+r"(n)                                             \
                         : [zero] "r"(zero)                                        \
                         : "cc", "r1", "r2", "r3", "r4", "r5", "r6", "r7");        \
        return mixq_cycles() - start;                                              \
    }

#define FAR_FLAGS "add.w r2, r2, #1\n add.w r3, r3, #1\n add.w r4, r4, #1\n add.w r5, r5, #1\n" \
                  "add.w r6, r6, #1\n add.w r7, r7, #1\n add.w r2, r2, #1\n add.w r3, r3, #1\n"

/* Both variants run the same three flag instructions; only the tested register differs. */
BRANCH_BENCH(branch_alternating, "%[n], #0\n orr.w r1, %[zero], #1\n tst.w %[n]", "")
/* TST of a nonzero-bit-0 register: never equal, so BEQ is never taken. */
BRANCH_BENCH(branch_never_taken, "%[n], #0\n orr.w r1, %[zero], #1\n tst.w r1", "")
BRANCH_BENCH(branch_alternating_far, "%[n], #0\n orr.w r1, %[zero], #1\n tst.w %[n]", FAR_FLAGS)
BRANCH_BENCH(branch_never_taken_far, "%[n], #0\n orr.w r1, %[zero], #1\n tst.w r1", FAR_FLAGS)

/*
 * Fill and copy loops, one element per iteration (each iteration is one translated block, so the
 * store spacing crosses blocks): byte loops as newlib-nano's size-optimised memset/memcpy run
 * them, word loops as the word-wise versions. Cycles for `count` elements.
 */
static uint8_t fill_bytes[1024] __attribute__((aligned(32)));
static uint8_t copy_bytes[1024] __attribute__((aligned(32)));

__attribute__((noinline)) static uint32_t memset_byte_loop(uint8_t *p, uint32_t count, uint32_t value)
{
    uint32_t start = mixq_cycles();
    __asm__ volatile("1:\n strb.w %[v], [%[p]], #1\n subs %[n], %[n], #1\n bne 1b\n"
                     : [p] "+r"(p), [n] "+r"(count) : [v] "r"(value) : "cc", "memory");
    return mixq_cycles() - start;
}

__attribute__((noinline)) static uint32_t memcpy_byte_loop(uint8_t *d, const uint8_t *s, uint32_t count)
{
    uint32_t start = mixq_cycles();
    __asm__ volatile("1:\n ldrb.w r1, [%[s]], #1\n strb.w r1, [%[d]], #1\n subs %[n], %[n], #1\n bne 1b\n"
                     : [d] "+r"(d), [s] "+r"(s), [n] "+r"(count) : : "r1", "cc", "memory");
    return mixq_cycles() - start;
}

__attribute__((noinline)) static uint32_t memset_word_loop(uint8_t *p, uint32_t count, uint32_t value)
{
    uint32_t start = mixq_cycles();
    __asm__ volatile("1:\n str.w %[v], [%[p]], #4\n subs %[n], %[n], #1\n bne 1b\n"
                     : [p] "+r"(p), [n] "+r"(count) : [v] "r"(value) : "cc", "memory");
    return mixq_cycles() - start;
}

__attribute__((noinline)) static uint32_t memcpy_word_loop(uint8_t *d, const uint8_t *s, uint32_t count)
{
    uint32_t start = mixq_cycles();
    __asm__ volatile("1:\n ldr.w r1, [%[s]], #4\n str.w r1, [%[d]], #4\n subs %[n], %[n], #1\n bne 1b\n"
                     : [d] "+r"(d), [s] "+r"(s), [n] "+r"(count) : : "r1", "cc", "memory");
    return mixq_cycles() - start;
}

/* Cycles per byte x 1000 of a loop over `bytes` bytes. */
static void report_bytes(const char *name, uint32_t cycles, uint32_t bytes)
{
    printf("bytes %s %ld\n", name, (long)((int64_t)cycles * 1000 / (int64_t)bytes));
}

static void report(const char *name, uint32_t cycles, uint32_t baseline, uint32_t patterns)
{
    int32_t delta = (int32_t)(cycles - baseline);
    printf("rule %s %ld\n", name, (long)((int64_t)delta * 1000 / (int64_t)patterns));
}

int main(void)
{
    mixq_cycle_counter_start();
    for (unsigned i = 0; i < 64; ++i) buffer[i] = i;
    const uint32_t patterns = ITERATIONS * REPEAT_COUNT;
    /* Warm-up: the first run of each loop trains the branch predictor. */
    (void)empty_loop();
    uint32_t base = empty_loop();
    report("alu_pairs", alu_pairs(), base, patterns);
    report("alu_chain", alu_chain(), base, patterns * 2u);
    report("load_use", load_use(), base, patterns);
    report("byte_load_use", byte_load_use(), base, patterns);
    report("smlad_chain", smlad_chain(), base, patterns);
    report("load_to_mac", load_to_mac(), base, patterns);
    report("dsp_pair", dsp_pair(), base, patterns);
    report("ldm5", ldm5(), base, patterns);
    report("stm4", stm4(), base, patterns);
    report("store_pair", store_pair(), base, patterns);
    report("byte_stores", byte_stores(), base, patterns * 2u);
    report("byte_stores_one_bank", byte_stores_one_bank(), base, patterns * 2u);
    report("half_stores_unit_stride", half_stores_unit_stride(), base, patterns * 4u);
    report("byte_stores_unit_stride", byte_stores_unit_stride(), base, patterns * 8u);
    report("byte_copy_unit_stride", byte_copy_unit_stride(), base, patterns * 8u);
    report("load_store_pair", load_store_pair(), base, patterns);
    report("vadd_chain", vadd_chain(), base, patterns);
    report("vmul_chain", vmul_chain(), base, patterns);
    report("vfma_chain", vfma_chain(), base, patterns * 2u);
    report("vdiv_each", vdiv_each(), base, patterns);
    const uint32_t branches = ITERATIONS * 8u;
    (void)branch_never_taken();
    report("mispredict", branch_alternating(), branch_never_taken(), branches);
    (void)branch_never_taken_far();
    report("mispredict_early_flags", branch_alternating_far(), branch_never_taken_far(), branches);

    /* Fill and copy loops in DTCM (the second run of each, the first trains the predictor). */
    (void)memset_byte_loop(fill_bytes, 1024u, 7u);
    report_bytes("memset_byte_loop", memset_byte_loop(fill_bytes, 1024u, 7u), 1024u);
    (void)memcpy_byte_loop(copy_bytes, fill_bytes, 1024u);
    report_bytes("memcpy_byte_loop", memcpy_byte_loop(copy_bytes, fill_bytes, 1024u), 1024u);
    (void)memset_word_loop(fill_bytes, 256u, 7u);
    report_bytes("memset_word_loop", memset_word_loop(fill_bytes, 256u, 7u), 1024u);
    (void)memcpy_word_loop(copy_bytes, fill_bytes, 256u);
    report_bytes("memcpy_word_loop", memcpy_word_loop(copy_bytes, fill_bytes, 256u), 1024u);
    /* The C library's own (newlib-nano, size-optimised): aligned 1 KiB. */
    memset(fill_bytes, 1, 1024u);
    uint32_t t0 = mixq_cycles();
    memset(fill_bytes, 3, 1024u);
    report_bytes("newlib_memset", mixq_cycles() - t0, 1024u);
    memcpy(copy_bytes, fill_bytes, 1024u);
    t0 = mixq_cycles();
    memcpy(copy_bytes, fill_bytes, 1024u);
    report_bytes("newlib_memcpy", mixq_cycles() - t0, 1024u);
    printf("copied %d\n", copy_bytes[1000]);
    return 0;
}
