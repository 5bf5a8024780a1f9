/*
 * dsp_selftest.c - checks the emulated core's DSP/SIMD, multiply, saturation, IT-block,
 * load/store-multiple and FPv5 instructions against expected values computed on the host
 * (toolchain/gen_dsp_vectors.py, from the ARMv7-M ARM definitions; dsp_selftest_vectors.h).
 *
 * Every instruction is written in inline assembly so the compiler can neither constant-fold
 * nor pick a different instruction. Output, one line per table:
 *   <name> <passed>/<total>
 * and on a mismatch a line "MISMATCH <name> row <i>: got 0x... expected 0x...". The last line is
 *   dsp-selftest: <passed> passed, <failed> failed
 * and the exit status is the number of failures (capped at 255).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dsp_selftest_vectors.h"

static unsigned passed_total, failed_total;

static void report(const char *name, unsigned row, uint32_t got, uint32_t expected, unsigned *passed)
{
    if (got == expected) {
        ++*passed;
        return;
    }
    printf("MISMATCH %s row %u: got 0x%08lx expected 0x%08lx\n", name, row, (unsigned long)got, (unsigned long)expected);
}

static void finish_table(const char *name, unsigned passed, unsigned total)
{
    printf("%s %u/%u\n", name, passed, total);
    passed_total += passed;
    failed_total += total - passed;
}

/* One table of a one-, two- or three-operand instruction with one result. */
#define CHECK_TABLE(name, width, arity, compute)                                       \
    do {                                                                               \
        unsigned passed = 0;                                                           \
        for (unsigned i = 0; i < DSP_VECTOR_COUNT; ++i) {                              \
            const uint32_t *v = vectors_##name[i];                                     \
            uint32_t a = v[0], b = (arity) > 1 ? v[1] : 0, c = (arity) > 2 ? v[2] : 0; \
            uint32_t d = (arity) > 3 ? v[3] : 0, r;                                    \
            (void)b; (void)c; (void)d;                                                 \
            compute;                                                                   \
            report(#name, i, r, v[arity], &passed);                                    \
        }                                                                              \
        finish_table(#name, passed, DSP_VECTOR_COUNT);                                 \
    } while (0)

static void check_memory_instructions(void)
{
    /* LDRD/STRD and LDM/STM: copy 8 words through registers and compare with the source. */
    static const uint32_t source[8] = {0x01234567u, 0x89abcdefu, 0xdeadbeefu, 0x0badf00du,
                                       0xcafebabeu, 0x8badf00du, 0xfeedfaceu, 0x00c0ffeeu};
    uint32_t copy[8] __attribute__((aligned(8)));
    uint32_t lo_word, hi_word;
    __asm__ volatile("ldrd %0, %1, [%2, #8]" : "=&r"(lo_word), "=&r"(hi_word) : "r"(source));
    __asm__ volatile("strd %0, %1, [%2, #16]" ::"r"(lo_word), "r"(hi_word), "r"(copy) : "memory");
    unsigned passed = 0;
    report("ldrd_strd", 0, copy[4], source[2], &passed);
    report("ldrd_strd", 1, copy[5], source[3], &passed);
    finish_table("ldrd_strd", passed, 2);

    const uint32_t *from = source;
    uint32_t *to = copy;
    memset(copy, 0, sizeof copy);
    /* Two LDM/STM pairs with writeback: the pointers must advance by 4 words each time. */
    __asm__ volatile("ldmia %0!, {r4-r7}\n"
                     "stmia %1!, {r4-r7}\n"
                     "ldmia %0!, {r4-r7}\n"
                     "stmia %1!, {r4-r7}\n"
                     : "+r"(from), "+r"(to)
                     :
                     : "r4", "r5", "r6", "r7", "memory");
    passed = 0;
    for (unsigned i = 0; i < 8; ++i) {
        report("ldm_stm", i, copy[i], source[i], &passed);
    }
    report("ldm_stm", 8, (uint32_t)(from - source), 8u, &passed);
    report("ldm_stm", 9, (uint32_t)(to - copy), 8u, &passed);
    finish_table("ldm_stm", passed, 10);
}

static void check_double(void)
{
    unsigned passed = 0;
    for (unsigned i = 0; i < DSP_VECTOR_COUNT; ++i) {
        double a, b, r;
        memcpy(&a, &vectors_vadd_f64[i][0], 8);
        memcpy(&b, &vectors_vadd_f64[i][1], 8);
        __asm__ volatile("vadd.f64 %P0, %P1, %P2" : "=w"(r) : "w"(a), "w"(b));
        uint64_t bits;
        memcpy(&bits, &r, 8);
        report("vadd_f64_lo", i, (uint32_t)bits, (uint32_t)vectors_vadd_f64[i][2], &passed);
        report("vadd_f64_hi", i, (uint32_t)(bits >> 32), (uint32_t)(vectors_vadd_f64[i][2] >> 32), &passed);
    }
    finish_table("vadd_f64", passed, 2 * DSP_VECTOR_COUNT);
}

/* Float operands travel as bit patterns; move them into s-registers with VMOV. */
#define FLOAT_OP(text, r, a, b, c)                                                        \
    __asm__ volatile("vmov s0, %1\n vmov s1, %2\n vmov s2, %3\n" text "\n vmov %0, s2" \
                     : "=r"(r)                                                           \
                     : "r"(a), "r"(b), "r"(c)                                            \
                     : "s0", "s1", "s2")

int main(void)
{
    CHECK_TABLE(smlad, 1, 3, __asm__("smlad %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(c)));
    CHECK_TABLE(smladx, 1, 3, __asm__("smladx %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(c)));
    CHECK_TABLE(sxtb16_ror0, 1, 1, __asm__("sxtb16 %0, %1" : "=r"(r) : "r"(a)));
    CHECK_TABLE(sxtb16_ror8, 1, 1, __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(a)));
    CHECK_TABLE(sxtb16_ror16, 1, 1, __asm__("sxtb16 %0, %1, ror #16" : "=r"(r) : "r"(a)));
    CHECK_TABLE(sxtb16_ror24, 1, 1, __asm__("sxtb16 %0, %1, ror #24" : "=r"(r) : "r"(a)));
    CHECK_TABLE(uxtb16_ror0, 1, 1, __asm__("uxtb16 %0, %1" : "=r"(r) : "r"(a)));
    CHECK_TABLE(uxtb16_ror8, 1, 1, __asm__("uxtb16 %0, %1, ror #8" : "=r"(r) : "r"(a)));
    CHECK_TABLE(uxtb16_ror16, 1, 1, __asm__("uxtb16 %0, %1, ror #16" : "=r"(r) : "r"(a)));
    CHECK_TABLE(uxtb16_ror24, 1, 1, __asm__("uxtb16 %0, %1, ror #24" : "=r"(r) : "r"(a)));
    CHECK_TABLE(ssat8, 1, 1, __asm__("ssat %0, #8, %1" : "=r"(r) : "r"(a)));
    CHECK_TABLE(ssat16_lsl3, 1, 1, __asm__("ssat %0, #16, %1, lsl #3" : "=r"(r) : "r"(a)));
    CHECK_TABLE(usat8, 1, 1, __asm__("usat %0, #8, %1" : "=r"(r) : "r"(a)));
    CHECK_TABLE(usat4_lsl2, 1, 1, __asm__("usat %0, #4, %1, lsl #2" : "=r"(r) : "r"(a)));
    CHECK_TABLE(pkhbt_lsl16, 1, 2, __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b)));
    CHECK_TABLE(pkhbt_lsl0, 1, 2, __asm__("pkhbt %0, %1, %2" : "=r"(r) : "r"(a), "r"(b)));
    CHECK_TABLE(pkhtb_asr16, 1, 2, __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(a), "r"(b)));
    CHECK_TABLE(pkhtb_asr8, 1, 2, __asm__("pkhtb %0, %1, %2, asr #8" : "=r"(r) : "r"(a), "r"(b)));
    CHECK_TABLE(sadd16, 1, 2, __asm__("sadd16 %0, %1, %2" : "=r"(r) : "r"(a), "r"(b)));
    CHECK_TABLE(qadd16, 1, 2, __asm__("qadd16 %0, %1, %2" : "=r"(r) : "r"(a), "r"(b)));
    CHECK_TABLE(sel_after_sadd16, 1, 4,
                { uint32_t scratch;
                  __asm__("sadd16 %1, %2, %3\n sel %0, %4, %5"
                          : "=r"(r), "=&r"(scratch) : "r"(a), "r"(b), "r"(c), "r"(d) : "cc"); });
    CHECK_TABLE(smlabb, 1, 3, __asm__("smlabb %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(c)));
    CHECK_TABLE(usad8, 1, 2, __asm__("usad8 %0, %1, %2" : "=r"(r) : "r"(a), "r"(b)));
    CHECK_TABLE(clz, 1, 1, __asm__("clz %0, %1" : "=r"(r) : "r"(a)));
    /* Signed clamp of a into [b, c] with two IT blocks: predicated moves must both execute
     * and be skipped correctly. */
    CHECK_TABLE(it_clamp, 1, 3,
                __asm__("mov %0, %1\n"
                        "cmp %0, %2\n"
                        "it lt\n"
                        "movlt %0, %2\n"
                        "cmp %0, %3\n"
                        "it gt\n"
                        "movgt %0, %3\n"
                        : "=&r"(r) : "r"(a), "r"(b), "r"(c) : "cc"));

    /* 64-bit multiplies: check the low and the high word against the two expected columns. */
    {
        unsigned passed = 0;
        for (unsigned i = 0; i < DSP_VECTOR_COUNT; ++i) {
            uint32_t low, high;
            __asm__("smull %0, %1, %2, %3" : "=&r"(low), "=&r"(high) : "r"(vectors_smull[i][0]), "r"(vectors_smull[i][1]));
            report("smull", i, low, vectors_smull[i][2], &passed);
            report("smull_hi", i, high, vectors_smull[i][3], &passed);
        }
        finish_table("smull", passed, 2 * DSP_VECTOR_COUNT);
        passed = 0;
        for (unsigned i = 0; i < DSP_VECTOR_COUNT; ++i) {
            uint32_t low, high;
            __asm__("umull %0, %1, %2, %3" : "=&r"(low), "=&r"(high) : "r"(vectors_umull[i][0]), "r"(vectors_umull[i][1]));
            report("umull", i, low, vectors_umull[i][2], &passed);
            report("umull_hi", i, high, vectors_umull[i][3], &passed);
        }
        finish_table("umull", passed, 2 * DSP_VECTOR_COUNT);
    }

    /* FPv5 single precision (s2 = result). VFMA: s2 = s2 + s0*s1. */
    CHECK_TABLE(vfma_f32, 1, 3, FLOAT_OP("vfma.f32 s2, s0, s1", r, a, b, c));
    CHECK_TABLE(vmul_f32, 1, 2, FLOAT_OP("vmul.f32 s2, s0, s1", r, a, b, 0u));
    CHECK_TABLE(vdiv_f32, 1, 2, FLOAT_OP("vdiv.f32 s2, s0, s1", r, a, b, 0u));
    CHECK_TABLE(vsqrt_f32, 1, 1, FLOAT_OP("vabs.f32 s0, s0\n vsqrt.f32 s2, s0", r, a, 0u, 0u));

    check_memory_instructions();
    check_double();

    printf("dsp-selftest: %u passed, %u failed\n", passed_total, failed_total);
    return failed_total > 255 ? 255 : (int)failed_total;
}
