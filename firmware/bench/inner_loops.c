/*
 * inner_loops.c - the inner loops of MixQ's kernels, timed with DWT->CYCCNT, for the llvm-mca
 * cross-check (docs/timing.md) and the memory-placement experiment.
 *
 * Loops: int8 dot product with SMLAD, a 4-output-channel pointwise convolution step, 4-bit and
 * 2-bit unpacking, and a word memcpy. Each is timed over ITERATIONS iterations and printed as
 *     loop <name> <cycles per iteration x 1000>
 *
 * Placement is chosen at build time so one source serves every experiment:
 *   CODE_IN_ITCM  (default 1): the loops live in ITCM (zero wait) or, with 0, in FLASH.
 *   DATA_IN_DTCM  (default 1): the buffers live in DTCM or, with 0, in AXI SRAM.
 *   ENABLE_CACHES (default 0): enable the L1 I- and D-caches first.
 *
 * `@ LLVM-MCA-BEGIN/END` markers delimit each loop body for `llvm-mca -mcpu=cortex-m7` run on the
 * compiler's assembly output; they are comments and generate no code.
 */
#include <arm_acle.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mixq_target.h"

#ifndef CODE_IN_ITCM
#define CODE_IN_ITCM 1
#endif
#ifndef DATA_IN_DTCM
#define DATA_IN_DTCM 1
#endif
#ifndef ENABLE_CACHES
#define ENABLE_CACHES 0
#endif

#if CODE_IN_ITCM
#define KERNEL __attribute__((noinline, section(".itcm_text")))
#else
#define KERNEL __attribute__((noinline))
#endif
#if DATA_IN_DTCM
#define BUFFER __attribute__((aligned(32)))
#else
#define BUFFER __attribute__((aligned(32), section(".axisram")))
#endif

#define LENGTH 1024 /* bytes per buffer */
#define ITERATIONS (LENGTH / 4)

static int8_t input[LENGTH] BUFFER;
static int8_t weights[4 * LENGTH] BUFFER;
static int8_t output[2 * LENGTH] BUFFER;

static inline uint32_t rotate_right_8(uint32_t x) { return (x >> 8) | (x << 24); }
static inline uint32_t load_word(const int8_t *p) { uint32_t w; memcpy(&w, p, 4); return w; }

/* Four int8 products per iteration: SXTB16 x4, SMLAD x2. */
KERNEL static int32_t dot(const int8_t *x, const int8_t *y, int n)
{
    int32_t sum = 0;
    for (int i = 0; i < n; i += 4) {
        __asm__ volatile("@ LLVM-MCA-BEGIN dot_smlad");
        uint32_t xw = load_word(x + i), yw = load_word(y + i);
        sum = __smlad(__sxtb16(xw), __sxtb16(yw), sum);
        sum = __smlad(__sxtb16(rotate_right_8(xw)), __sxtb16(rotate_right_8(yw)), sum);
        __asm__ volatile("@ LLVM-MCA-END");
    }
    return sum;
}

/* Pointwise convolution step: 4 input channels x 4 output channels per iteration; the input
 * word is expanded once and reused for every output channel. */
KERNEL static void pointwise(const int8_t *x, const int8_t *w, int n, int32_t acc[4])
{
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (int i = 0; i < n; i += 4) {
        __asm__ volatile("@ LLVM-MCA-BEGIN pointwise");
        uint32_t xw = load_word(x + i);
        int16x2_t xe = __sxtb16(xw), xo = __sxtb16(rotate_right_8(xw));
        uint32_t w0 = load_word(w + i), w1 = load_word(w + n + i);
        uint32_t w2 = load_word(w + 2 * n + i), w3 = load_word(w + 3 * n + i);
        a0 = __smlad(xe, __sxtb16(w0), a0);
        a0 = __smlad(xo, __sxtb16(rotate_right_8(w0)), a0);
        a1 = __smlad(xe, __sxtb16(w1), a1);
        a1 = __smlad(xo, __sxtb16(rotate_right_8(w1)), a1);
        a2 = __smlad(xe, __sxtb16(w2), a2);
        a2 = __smlad(xo, __sxtb16(rotate_right_8(w2)), a2);
        a3 = __smlad(xe, __sxtb16(w3), a3);
        a3 = __smlad(xo, __sxtb16(rotate_right_8(w3)), a3);
        __asm__ volatile("@ LLVM-MCA-END");
    }
    acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
}

/* 4-bit unpacking: one word of 8 nibbles -> 8 bytes (low nibbles, then high nibbles). */
KERNEL static void unpack4(const int8_t *packed, int8_t *out, int words)
{
    const uint32_t *src = (const uint32_t *)(const void *)packed;
    uint32_t *dst = (uint32_t *)(void *)out;
    for (int i = 0; i < words; ++i) {
        __asm__ volatile("@ LLVM-MCA-BEGIN unpack4");
        uint32_t word = src[i];
        dst[2 * i] = word & 0x0F0F0F0Fu;
        dst[2 * i + 1] = (word >> 4) & 0x0F0F0F0Fu;
        __asm__ volatile("@ LLVM-MCA-END");
    }
}

/* 2-bit unpacking: one word of 16 crumbs -> 16 bytes. */
KERNEL static void unpack2(const int8_t *packed, int8_t *out, int words)
{
    const uint32_t *src = (const uint32_t *)(const void *)packed;
    uint32_t *dst = (uint32_t *)(void *)out;
    for (int i = 0; i < words; ++i) {
        __asm__ volatile("@ LLVM-MCA-BEGIN unpack2");
        uint32_t word = src[i];
        dst[4 * i] = word & 0x03030303u;
        dst[4 * i + 1] = (word >> 2) & 0x03030303u;
        dst[4 * i + 2] = (word >> 4) & 0x03030303u;
        dst[4 * i + 3] = (word >> 6) & 0x03030303u;
        __asm__ volatile("@ LLVM-MCA-END");
    }
}

/* Word copy, one word per iteration. */
KERNEL static void copy_words(uint32_t *dst, const uint32_t *src, int words)
{
    for (int i = 0; i < words; ++i) {
        __asm__ volatile("@ LLVM-MCA-BEGIN memcpy");
        dst[i] = src[i];
        __asm__ volatile("@ LLVM-MCA-END");
    }
}

static void report(const char *name, uint32_t cycles, uint32_t iterations)
{
    printf("loop %s %lu\n", name, (unsigned long)((uint64_t)cycles * 1000u / iterations));
}

int main(void)
{
    mixq_cycle_counter_start();
#if ENABLE_CACHES
    mixq_icache_enable();
    mixq_dcache_enable();
#endif
    for (int i = 0; i < LENGTH; ++i) input[i] = (int8_t)(i * 7 + 3);
    for (int i = 0; i < 4 * LENGTH; ++i) weights[i] = (int8_t)(i * 13 + 5);
    int32_t acc[4];
    volatile int32_t sink = 0;
    /* Each loop runs twice; the second run is reported (caches and predictor warm). */
    for (int pass = 0; pass < 2; ++pass) {
        uint32_t t0 = mixq_cycles();
        sink += dot(input, weights, LENGTH);
        uint32_t t1 = mixq_cycles();
        pointwise(input, weights, LENGTH, acc);
        uint32_t t2 = mixq_cycles();
        unpack4(input, output, ITERATIONS);
        uint32_t t3 = mixq_cycles();
        unpack2(input, output, ITERATIONS / 2);
        uint32_t t4 = mixq_cycles();
        copy_words((uint32_t *)(void *)output, (const uint32_t *)(const void *)weights, ITERATIONS);
        uint32_t t5 = mixq_cycles();
        if (pass == 1) {
            report("dot_smlad", t1 - t0, ITERATIONS);
            report("pointwise", t2 - t1, ITERATIONS);
            report("unpack4", t3 - t2, ITERATIONS);
            report("unpack2", t4 - t3, ITERATIONS / 2);
            report("memcpy", t5 - t4, ITERATIONS);
        }
    }
    sink += acc[0] + acc[1] + acc[2] + acc[3] + output[5];
    printf("checksum %ld\n", (long)sink);
    return 0;
}
