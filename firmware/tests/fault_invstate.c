/*
 * fault_invstate.c - a branch to an address with bit 0 clear, which on a Cortex-M (Thumb only)
 * is a UsageFault INVSTATE escalated to HardFault. Expected: a HardFault naming the caller
 * jump_to_arm_state.
 */
#include <stdint.h>
#include <stdio.h>

static void target(void) {}

__attribute__((noinline)) void jump_to_arm_state(void)
{
    uintptr_t address = (uintptr_t)&target & ~(uintptr_t)1;
    __asm__ volatile("bx %0" ::"r"(address));
}

int main(void)
{
    printf("before\n");
    jump_to_arm_state();
    printf("not reached\n");
    return 0;
}
