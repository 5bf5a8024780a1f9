/*
 * fault_flash_write.c - a store into a const table, which the linker places in FLASH.
 * FLASH is read-only while firmware runs. Expected: a fault naming patch_table, the table's
 * address and the FLASH region.
 */
#include <stdint.h>
#include <stdio.h>

const uint32_t calibration_table[4] = {1u, 2u, 3u, 4u};

__attribute__((noinline)) void patch_table(volatile uint32_t *entry, uint32_t value)
{
    *entry = value;
}

int main(void)
{
    printf("before\n");
    patch_table((volatile uint32_t *)&calibration_table[2], 99u);
    printf("not reached %lu\n", (unsigned long)calibration_table[2]);
    return 0;
}
