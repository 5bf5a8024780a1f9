/*
 * usage_no_fault.c - instructions that a Cortex-M7 executes WITHOUT a UsageFault, next to the
 * ones fault_usage.c makes fault (ARMv7-M ARM, DDI 0403E, A3.2.1 "Alignment behavior", B3.2.8
 * CCR): aligned LDRD/STRD/LDM/STM/LDREX/STREX/VLDR, unaligned LDR/LDRH with UNALIGN_TRP clear,
 * SDIV/UDIV by zero with DIV_0_TRP clear (quotient 0), an unaligned LDRD skipped by a failing IT
 * condition, and a division by a non-zero value with DIV_0_TRP set.
 *
 * Each check prints one line; `counter` is incremented in the same blocks as the guarded
 * instructions, so a block that MixQ ran twice would show in the final count.
 * Expected output (exact):
 *   aligned 0x04030201 0x08070605 0x08070605 ok
 *   unaligned-ldr 0x05040302 0x0302
 *   div-by-zero 0 0
 *   it-skipped 7
 *   div-trap-nonzero -3 14
 *   counter 1000
 */
#include <stdint.h>
#include <stdio.h>

#define SCB_CCR (*(volatile uint32_t *)0xE000ED14u)

__attribute__((aligned(8))) uint8_t bytes[32];
volatile uint32_t counter;
volatile uint32_t zero = 0;
volatile uintptr_t unaligned_address;

__attribute__((noinline)) uint32_t aligned_accesses(uint8_t *base)
{
    uint32_t a, b, c, d, status;
    float f;
    __asm__ volatile("ldr %[c], [%[n]]\n"
                     "add %[c], %[c], #1\n"
                     "str %[c], [%[n]]\n" /* counter++ in the same block as the LDRD */
                     "cmp %[n], #0\n"
                     "it ne\n"
                     "ldrdne %[a], %[b], [%[p]]\n" /* in an IT block: checked by a code hook, whose
                                                     installation restarts the block once */
                     "ldrd %[a], %[b], [%[p]]\n"
                     "strd %[a], %[b], [%[p], #16]\n"
                     "ldm %[p], {%[c], %[d]}\n"
                     "stm %[q], {%[c], %[d]}\n"
                     "ldrex %[c], [%[p], #8]\n"
                     "strex %[s], %[d], [%[p], #8]\n" /* the address LDREX marked */
                     "vldr %[f], [%[p], #8]\n"
                     : [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(c), [d] "=&r"(d), [s] "=&r"(status), [f] "=&t"(f)
                     : [p] "r"(base), [q] "r"(base + 16), [n] "r"(&counter)
                     : "cc", "memory");
    (void)f;
    return status;
}

int main(void)
{
    for (unsigned i = 0; i < sizeof bytes; i++) bytes[i] = (uint8_t)(i + 1);
    uint32_t status = 0;
    for (int i = 0; i < 1000; i++) status |= aligned_accesses(bytes);
    uint32_t w0, w1, w2;
    __builtin_memcpy(&w0, bytes + 16, 4);
    __builtin_memcpy(&w1, bytes + 20, 4);
    __builtin_memcpy(&w2, bytes + 8, 4);
    printf("aligned 0x%08lx 0x%08lx 0x%08lx %s\n", (unsigned long)w0, (unsigned long)w1, (unsigned long)w2,
           status == 0 ? "ok" : "strex-failed");

    unaligned_address = (uintptr_t)(bytes + 1);
    uint32_t word, half;
    __asm__ volatile("ldr %0, [%2]\n ldrh %1, [%2]" : "=&r"(word), "=&r"(half) : "r"(unaligned_address));
    printf("unaligned-ldr 0x%08lx 0x%04lx\n", (unsigned long)word, (unsigned long)half);

    int32_t sq;
    uint32_t uq;
    __asm__ volatile("sdiv %0, %2, %3\n udiv %1, %2, %3" : "=&r"(sq), "=&r"(uq) : "r"(100), "r"(zero));
    printf("div-by-zero %ld %lu\n", (long)sq, (unsigned long)uq);

    uint32_t kept = 7, other = 0;
    __asm__ volatile("cmp %[z], #1\n"
                     "it eq\n"
                     "ldrdeq %[k], %[o], [%[p]]\n" /* Z clear: condition fails, no access, no fault */
                     : [k] "+r"(kept), [o] "+r"(other)
                     : [z] "r"(zero), [p] "r"(unaligned_address)
                     : "cc", "memory");
    printf("it-skipped %lu\n", (unsigned long)kept);

    SCB_CCR |= 1u << 4; /* DIV_0_TRP */
    __asm__ volatile("dsb\n isb" ::: "memory");
    int32_t s2;
    uint32_t u2;
    __asm__ volatile("sdiv %0, %2, %3\n udiv %1, %4, %5" : "=&r"(s2), "=&r"(u2) : "r"(-9), "r"(3), "r"(42), "r"(3));
    printf("div-trap-nonzero %ld %lu\n", (long)s2, (unsigned long)u2);

    printf("counter %lu\n", (unsigned long)counter);
    return 0;
}
