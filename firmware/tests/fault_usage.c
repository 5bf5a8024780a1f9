/*
 * fault_usage.c - the UsageFaults a Cortex-M7 raises that Unicorn does not (ARMv7-M ARM, DDI
 * 0403E, A3.2.1 "Alignment behavior", B3.2.8 CCR, B3.2.20 CPACR). FAULT_CASE selects one
 * instruction, placed by inline asm at the global label `faulting_instruction` inside
 * usage_fault_site(), so a test knows the exact PC; unaligned accesses touch
 * `unaligned_target + 1`.
 *
 *   1 LDRD, 2 STRD, 3 LDM, 4 STM, 5 LDREX, 6 STREX, 7 VLDR, 8 LDREXH at +1: always UNALIGNED
 *   9 LDR word, 10 STRH halfword: UNALIGNED only with CCR.UNALIGN_TRP (bit 3) set
 *   11 SDIV, 12 UDIV by zero: DIVBYZERO only with CCR.DIV_0_TRP (bit 4) set
 *   13 VADD.F32 after CPACR denies CP10/CP11: NOCP
 *   14 LDR word as 9, but the function runs once without the trap first (then sets
 *      `first_call_done`), so its block is already translated when CCR.UNALIGN_TRP is set
 *   15 LDRD as 1, but its base register is loaded through a pointer loaded in the same
 *      block, so MixQ cannot check it at the block's entry and uses a code hook
 *
 * Prints "before" first; "not reached" must never appear.
 */
#include <stdint.h>
#include <stdio.h>

#define SCB_CCR (*(volatile uint32_t *)0xE000ED14u)
#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)

__attribute__((aligned(8))) volatile uint8_t unaligned_target[32];
/* Read through a volatile pointer so the compiler cannot see the misalignment. */
volatile uintptr_t target_address = (uintptr_t)&unaligned_target[1];
volatile uint32_t zero = 0;
volatile uint32_t first_call_done = 0;
volatile uintptr_t *volatile target_address_pointer = &target_address;

__attribute__((noinline)) uint32_t usage_fault_site(uintptr_t address, uint32_t divisor)
{
    uint32_t a = 7, b = 9;
    (void)divisor;
    __asm__ volatile("add %0, %0, #0\n" /* not the first instruction of its block */
#if FAULT_CASE == 15
                     "ldr %0, [%4]\n" /* &target_address */
                     "ldr %0, [%0]\n" /* target_address */
#endif
                     ".global faulting_instruction\n"
                     "faulting_instruction:\n"
#if FAULT_CASE == 1 || FAULT_CASE == 15
                     "ldrd %1, %2, [%0]\n"
#elif FAULT_CASE == 2
                     "strd %1, %2, [%0]\n"
#elif FAULT_CASE == 3
                     "ldm %0, {%1, %2}\n"
#elif FAULT_CASE == 4
                     "stm %0, {%1, %2}\n"
#elif FAULT_CASE == 5
                     "ldrex %1, [%0]\n"
#elif FAULT_CASE == 6
                     "strex %1, %2, [%0]\n"
#elif FAULT_CASE == 7
                     "vldr s0, [%0]\n"
#elif FAULT_CASE == 8
                     "ldrexh %1, [%0]\n"
#elif FAULT_CASE == 9 || FAULT_CASE == 14
                     "ldr %1, [%0]\n"
#elif FAULT_CASE == 10
                     "strh %1, [%0]\n"
#elif FAULT_CASE == 11
                     "sdiv %1, %2, %3\n"
#elif FAULT_CASE == 12
                     "udiv %1, %2, %3\n"
#elif FAULT_CASE == 13
                     "vadd.f32 s0, s0, s1\n"
#else
#error "FAULT_CASE 1...15"
#endif
                     : "+r"(address), "+r"(a), "+r"(b)
                     : "r"(divisor), "r"(&target_address_pointer)
                     : "s0", "memory");
    return a + b;
}

int main(void)
{
    printf("before\n");
#if FAULT_CASE == 14
    first_call_done = usage_fault_site(target_address, zero) != 0;
    SCB_CCR |= 1u << 3; /* UNALIGN_TRP, after the block ran without it */
#elif FAULT_CASE == 9 || FAULT_CASE == 10
    SCB_CCR |= 1u << 3; /* UNALIGN_TRP */
#elif FAULT_CASE == 11 || FAULT_CASE == 12
    SCB_CCR |= 1u << 4; /* DIV_0_TRP */
#elif FAULT_CASE == 13
    SCB_CPACR &= ~(0xFu << 20); /* CP10 and CP11: access denied */
#endif
    __asm__ volatile("dsb\n isb" ::: "memory");
    uint32_t result = usage_fault_site(target_address, zero);
    printf("not reached %lu\n", (unsigned long)result);
    return 0;
}
