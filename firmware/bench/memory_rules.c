/*
 * memory_rules.c - microbenchmarks of the STM32H743 memory system as `--timing full` models it
 * (docs/timing.md, "Memory parameters" and "Third pass"): unaligned loads, D-cache line fills from
 * AXI SRAM and FLASH (critical word first, streaming, write-allocate), random FLASH reads,
 * sequential FLASH streams (word loads, LDRD, LDM, one load per line, a compute-bound stream),
 * sequential instruction fetch from FLASH through the I-cache, and dirty-line write-back.
 *
 * Code runs from ITCM (zero-wait fetch, so only data accesses are measured) except
 * flash_code_lines, which runs from FLASH; both L1 caches are enabled. Every pattern is an
 * assembly loop timed with DWT->CYCCNT; latencies are a cold pass over lines never touched before
 * minus a warm pass over lines in the D-cache (the loop's own cycles cancel), stream throughputs
 * are whole-loop cycles per line over lines never touched before. The firmware prints
 *
 *     mem <name> <cycles x 1000>
 *
 * per line (or per pattern for unaligned loads), and Tests/TimingTests/MemoryBenchmarkTests.swift
 * compares each with the published figure or, where no publication gives one, with the
 * parameter-derived figure (the microbenchmark to run on a board to pin that estimate).
 */
#include <stdint.h>
#include <stdio.h>

#include "mixq_target.h"

#define KERNEL __attribute__((noinline, section(".itcm_text")))
#define LINES 128u          /* lines per cold pass: 4 KiB                             */
#define WARM_LINES 64u      /* lines of the warm pass: 2 KiB, stays in the 16 KiB cache */

/* Cold regions: each benchmark walks lines no other one touched. */
static uint8_t axi_loads[LINES * 32u] __attribute__((aligned(32), section(".axisram")));
static uint8_t axi_stores[LINES * 32u] __attribute__((aligned(32), section(".axisram")));
static uint8_t axi_dirty[16384u] __attribute__((aligned(32), section(".axisram")));
static uint8_t axi_victims[2u * 16384u] __attribute__((aligned(32), section(".axisram")));
static uint8_t axi_warm[WARM_LINES * 32u] __attribute__((aligned(32), section(".axisram")));
/* FLASH (.rodata): non-zero so the compiler keeps them in the image. */
#define FLASH_BLOCK(n) __attribute__((aligned(32))) = {n}
static const uint8_t flash_sparse[LINES * 32u] FLASH_BLOCK(1);
static const uint8_t flash_dense[LINES * 32u] FLASH_BLOCK(2);
static const uint8_t flash_warm[WARM_LINES * 32u] FLASH_BLOCK(3);
static const uint8_t flash_ldrd[LINES * 32u] FLASH_BLOCK(4);
static const uint8_t flash_ldm[LINES * 32u] FLASH_BLOCK(5);
static const uint8_t flash_compute[LINES * 32u] FLASH_BLOCK(6);
/* Random reads touch every other line of this block, so no line read has its predecessor cached. */
static const uint8_t flash_random[2u * LINES * 32u] FLASH_BLOCK(7);
static const uint8_t *random_lines[LINES];
static uint32_t dtcm_buffer[16] __attribute__((aligned(32)));

/* One word load per 32-byte line, its value used by the next instruction. */
KERNEL static uint32_t load_per_line(const uint8_t *p, uint32_t lines)
{
    uint32_t sum = 0;
    uint32_t start = mixq_cycles();
    __asm__ volatile("1:\n"
                     "ldr.w r1, [%[p]], #32\n"
                     "add.w %[sum], %[sum], r1\n"
                     "subs %[n], %[n], #1\n"
                     "bne 1b\n"
                     : [p] "+r"(p), [n] "+r"(lines), [sum] "+r"(sum)
                     :
                     : "r1", "cc", "memory");
    uint32_t cycles = mixq_cycles() - start;
    return cycles + (sum & 0u);
}

/* Eight word loads per line (the whole line, in pairs), then the next line. */
KERNEL static uint32_t load_whole_line(const uint8_t *p, uint32_t lines)
{
    uint32_t start = mixq_cycles();
    __asm__ volatile("1:\n"
                     "ldr.w r1, [%[p]]\n ldr.w r2, [%[p], #4]\n"
                     "ldr.w r3, [%[p], #8]\n ldr.w r4, [%[p], #12]\n"
                     "ldr.w r1, [%[p], #16]\n ldr.w r2, [%[p], #20]\n"
                     "ldr.w r3, [%[p], #24]\n ldr.w r4, [%[p], #28]\n"
                     "add.w %[p], %[p], #32\n"
                     "subs %[n], %[n], #1\n"
                     "bne 1b\n"
                     : [p] "+r"(p), [n] "+r"(lines)
                     :
                     : "r1", "r2", "r3", "r4", "cc", "memory");
    return mixq_cycles() - start;
}

/* Four LDRD per line (the whole line), then the next line. */
KERNEL static uint32_t ldrd_whole_line(const uint8_t *p, uint32_t lines)
{
    uint32_t start = mixq_cycles();
    __asm__ volatile("1:\n"
                     "ldrd r1, r2, [%[p]]\n ldrd r3, r4, [%[p], #8]\n"
                     "ldrd r1, r2, [%[p], #16]\n ldrd r3, r4, [%[p], #24]\n"
                     "add.w %[p], %[p], #32\n"
                     "subs %[n], %[n], #1\n"
                     "bne 1b\n"
                     : [p] "+r"(p), [n] "+r"(lines)
                     :
                     : "r1", "r2", "r3", "r4", "cc", "memory");
    return mixq_cycles() - start;
}

/* One LDM of eight registers per line (with base write-back). */
KERNEL static uint32_t ldm_whole_line(const uint8_t *p, uint32_t lines)
{
    uint32_t start = mixq_cycles();
    __asm__ volatile("1:\n"
                     "ldm.w %[p]!, {r1, r2, r3, r4, r5, r6, r8, r9}\n"
                     "subs %[n], %[n], #1\n"
                     "bne 1b\n"
                     : [p] "+r"(p), [n] "+r"(lines)
                     :
                     : "r1", "r2", "r3", "r4", "r5", "r6", "r8", "r9", "cc", "memory");
    return mixq_cycles() - start;
}

/* A compute-bound stream: the whole line in word loads, each followed by two independent ALU
 * instructions (about 12 cycles per line warm, more than the bus needs to bring the next line). */
KERNEL static uint32_t compute_whole_line(const uint8_t *p, uint32_t lines)
{
    uint32_t start = mixq_cycles();
    __asm__ volatile("1:\n"
                     ".irp off, 0, 4, 8, 12, 16, 20, 24, 28\n"
                     "ldr.w r1, [%[p], #\\off]\n add.w r2, r2, r1\n eor.w r3, r3, r2\n"
                     ".endr\n"
                     "add.w %[p], %[p], #32\n"
                     "subs %[n], %[n], #1\n"
                     "bne 1b\n"
                     : [p] "+r"(p), [n] "+r"(lines)
                     :
                     : "r1", "r2", "r3", "cc", "memory");
    return mixq_cycles() - start;
}

/* One word load per line from a table of line addresses (random order). */
KERNEL static uint32_t load_listed_lines(const uint8_t *const *list, uint32_t lines)
{
    uint32_t sum = 0;
    uint32_t start = mixq_cycles();
    __asm__ volatile("1:\n"
                     "ldr.w r2, [%[l]], #4\n"
                     "ldr.w r1, [r2]\n"
                     "add.w %[sum], %[sum], r1\n"
                     "subs %[n], %[n], #1\n"
                     "bne 1b\n"
                     : [l] "+r"(list), [n] "+r"(lines), [sum] "+r"(sum)
                     :
                     : "r1", "r2", "cc", "memory");
    uint32_t cycles = mixq_cycles() - start;
    return cycles + (sum & 0u);
}

/* Straight-line code in FLASH: 64 cache lines of independent ALU pairs (4 cycles per line once
 * cached). Its first call fetches every line from FLASH through the I-cache. */
__attribute__((noinline, aligned(32))) static void flash_code_lines(void)
{
    __asm__ volatile(".rept 256\n"
                     "add.w r1, r1, #1\n add.w r2, r2, #1\n"
                     ".endr\n"
                     :
                     :
                     : "r1", "r2");
}

/* Times one call of flash_code_lines from ITCM. The cycle counter is read outside the code
 * being fetched: MixQ charges a translated block's instruction fetch when the block is entered,
 * so a read inside a block that fetches many lines would already include the later lines'
 * fetch (docs/timing.md, "Known approximations"). */
KERNEL static uint32_t flash_code_stream(void)
{
    uint32_t start = mixq_cycles();
    flash_code_lines();
    return mixq_cycles() - start;
}

/* One word store per line. */
KERNEL static uint32_t store_per_line(uint8_t *p, uint32_t lines)
{
    uint32_t start = mixq_cycles();
    __asm__ volatile("1:\n"
                     "str.w %[n], [%[p]], #32\n"
                     "subs %[n], %[n], #1\n"
                     "bne 1b\n"
                     : [p] "+r"(p), [n] "+r"(lines)
                     :
                     : "cc", "memory");
    return mixq_cycles() - start;
}

/* 32 word loads (op "ldr.w") or stores ("str.w"), each with an independent ALU instruction, at
 * `offset` from a DTCM word: one memory instruction per cycle when aligned. */
#define OFFSET_BENCH(fname, op, offset)                                             \
    KERNEL static uint32_t fname(void)                                              \
    {                                                                               \
        uint32_t n = 64u;                                                           \
        uint32_t *buf = dtcm_buffer;                                                \
        uint32_t start = mixq_cycles();                                             \
        __asm__ volatile("1:\n"                                                     \
                         ".rept 32\n"                                               \
                         op " r1, [%[buf], #" offset "]\n add.w r2, r2, #1\n"       \
                         ".endr\n"                                                  \
                         "subs %[n], %[n], #1\n"                                    \
                         "bne 1b\n"                                                 \
                         : [n] "+r"(n)                                              \
                         : [buf] "r"(buf)                                           \
                         : "r1", "r2", "cc", "memory");                             \
        return mixq_cycles() - start;                                               \
    }
OFFSET_BENCH(aligned_loads, "ldr.w", "4")
OFFSET_BENCH(unaligned_loads, "ldr.w", "5")
OFFSET_BENCH(aligned_stores, "str.w", "4")
OFFSET_BENCH(unaligned_stores, "str.w", "5")

static void report(const char *name, int32_t cycles, uint32_t units)
{
    printf("mem %s %ld\n", name, (long)((int64_t)cycles * 1000 / (int64_t)units));
}

/* Per-line stall of a cold pass: cold cycles minus the warm pass's cycles per line. */
static int32_t stall(uint32_t cold, uint32_t lines, uint32_t warm, uint32_t warm_lines)
{
    return (int32_t)((int64_t)cold - (int64_t)warm * lines / warm_lines);
}

int main(void)
{
    mixq_cycle_counter_start();
    mixq_icache_enable();
    mixq_dcache_enable();

    /* Unaligned loads (DTCM, no cache involved): extra cycles per load as the older op. */
    (void)aligned_loads();
    uint32_t aligned = aligned_loads();
    uint32_t unaligned = unaligned_loads();
    report("unaligned_load_extra", (int32_t)(unaligned - aligned), 64u * 32u);
    /* Unaligned stores, one per cycle: cycles per store once the store buffer is full. */
    (void)aligned_stores();
    uint32_t aligned_st = aligned_stores();
    uint32_t unaligned_st = unaligned_stores();
    report("unaligned_store_stream", (int32_t)(unaligned_st - aligned_st) + (int32_t)(64u * 32u), 64u * 32u);

    /* Loads first, while no line in the D-cache is dirty (an eviction would add a write-back).
     * Warm passes: the lines are loaded once, then timed while they hit. */
    (void)load_per_line(axi_warm, WARM_LINES);
    uint32_t warm_sparse = load_per_line(axi_warm, WARM_LINES);
    (void)load_whole_line(axi_warm, WARM_LINES);
    report("warm_load_line", (int32_t)load_whole_line(axi_warm, WARM_LINES), WARM_LINES);

    /* D-cache load misses from AXI SRAM, one word per line: the critical word's latency. */
    report("axi_load_miss", stall(load_per_line(axi_loads, LINES), LINES, warm_sparse, WARM_LINES), LINES);
    /* FLASH, random lines (no line follows a cached one): the critical word's latency. */
    for (uint32_t i = 0; i < LINES; ++i) {
        random_lines[i] = flash_random + 64u * ((i * 37u) % LINES);
    }
    const uint8_t *warm_list[WARM_LINES];
    for (uint32_t i = 0; i < WARM_LINES; ++i) {
        warm_list[i] = flash_warm + 32u * ((i * 37u) % WARM_LINES);
    }
    (void)load_listed_lines(warm_list, WARM_LINES);
    uint32_t warm_random = load_listed_lines(warm_list, WARM_LINES);
    report("flash_load_miss", stall(load_listed_lines(random_lines, LINES), LINES, warm_random, WARM_LINES), LINES);
    /* FLASH, sequential streams through the D-cache: cycles per line of the whole loop. */
    report("flash_stream_ldr", (int32_t)load_whole_line(flash_dense, LINES), LINES);
    report("flash_stream_ldrd", (int32_t)ldrd_whole_line(flash_ldrd, LINES), LINES);
    report("flash_stream_ldm", (int32_t)ldm_whole_line(flash_ldm, LINES), LINES);
    report("flash_stream_sparse", (int32_t)load_per_line(flash_sparse, LINES), LINES);
    (void)compute_whole_line(flash_warm, WARM_LINES);
    uint32_t warm_compute = compute_whole_line(flash_warm, WARM_LINES);
    report("flash_stream_compute_warm", (int32_t)warm_compute, WARM_LINES);
    report("flash_stream_compute", (int32_t)compute_whole_line(flash_compute, LINES), LINES);
    /* FLASH code through the I-cache: first (cold) call, then the cached one, per line. */
    uint32_t cold_code = flash_code_stream();
    uint32_t warm_code = flash_code_stream();
    report("icache_stream", (int32_t)cold_code, 64u);
    report("icache_stream_warm", (int32_t)warm_code, 64u);

    /* Store misses (write-allocate): cycles per line of the whole loop, bandwidth-bound. */
    (void)store_per_line(axi_warm, WARM_LINES);
    report("warm_store_line", (int32_t)store_per_line(axi_warm, WARM_LINES), WARM_LINES);
    report("axi_store_miss_line", (int32_t)store_per_line(axi_stores, LINES), LINES);

    /* Write-back: dirty the whole D-cache (16 KiB of stores), then load 16 KiB elsewhere: each
     * miss evicts a dirty line. The same load pass over clean lines is the baseline. */
    (void)store_per_line(axi_dirty, 512u);
    uint32_t evicting = load_per_line(axi_victims + 0u, 512u);      /* evicts the dirty lines */
    uint32_t clean = load_per_line(axi_victims + 16384u, 512u);    /* evicts clean lines     */
    report("dirty_write_back", (int32_t)(evicting - clean), 512u);
    return 0;
}
