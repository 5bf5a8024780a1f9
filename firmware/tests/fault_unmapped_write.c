/*
 * fault_unmapped_write.c - a store to 0x90000010 (the QSPI window, unmapped on the emulated
 * board). Expected: a fault at PC faulting_store in write_quadspi_window, address 0x90000010 and "unmapped".
 */
#include <stdint.h>
#include <stdio.h>

__attribute__((noinline)) void write_quadspi_window(uint32_t value)
{
    uint32_t address = 0x90000010u;
    __asm__ volatile("add %1, %1, #0\n"
                     ".global faulting_store\n"
                     "faulting_store: str %0, [%1]"
                     :
                     : "r"(value), "r"(address)
                     : "memory");
}

int main(void)
{
    printf("before\n");
    write_quadspi_window(0x1234u);
    printf("not reached\n");
    return 0;
}
