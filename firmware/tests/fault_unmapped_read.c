/*
 * fault_unmapped_read.c - a load from 0x60000000 (the FMC bank, no memory behind it on the
 * emulated board). Expected: a fault at PC faulting_load inside read_external_bus, address
 * 0x60000000 and "unmapped". Prints "before" first so the test sees output up to the fault.
 */
#include <stdint.h>
#include <stdio.h>

__attribute__((noinline)) uint32_t read_external_bus(uint32_t offset)
{
    uint32_t value;
    uint32_t address = 0x60000000u + offset;
    /* Work before the load, so the load is not the first instruction of its block; the
     * global label lets the test check the exact faulting PC. */
    __asm__ volatile("add %1, %1, #0\n"
                     ".global faulting_load\n"
                     "faulting_load: ldr %0, [%1]"
                     : "=r"(value), "+r"(address));
    return value;
}

int main(void)
{
    printf("before\n");
    printf("value %lu\n", (unsigned long)read_external_bus(0));
    return 0;
}
