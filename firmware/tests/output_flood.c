/*
 * output_flood.c - firmware that never stops printing, to check that MixQ's memory stays
 * bounded and that the output limit (RunOptions.maxOutputBytes, `mixq run --max-output`) ends
 * the run. FLOOD_MODE selects the channel: 0 SYS_WRITE of a 4 KiB block, 1 SYS_WRITE0 of a
 * 63-character string, 2 ITM stimulus port 0 (one byte per store), 3 one line "partial text"
 * without a newline and then a fault (a load from unmapped 0x60000000), so that MixQ's error
 * line must start a line of its own, 4 exactly FLOOD_BLOCKS SYS_WRITEs of the 4 KiB block and
 * then exit 0.
 * Every byte of output is the repeating pattern "0123456789abcdef..." (a line of 63 characters
 * plus a newline), so a test can check which bytes were kept.
 */
#include <stdint.h>
#include <stdio.h>

#include "mixq_target.h"
#include "semihosting.h"

#ifndef FLOOD_MODE
#define FLOOD_MODE 0
#endif

static char block[4096];

int main(void)
{
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!";
    for (unsigned i = 0; i < sizeof block; i++) {
        block[i] = (i % 64 == 63) ? '\n' : digits[i % 64];
    }
#if FLOOD_MODE == 0
    for (;;) {
        semihosting_write(SEMIHOSTING_STDOUT, block, sizeof block);
    }
#elif FLOOD_MODE == 1
    block[63] = '\0';
    for (;;) {
        semihosting_write_string(block);
    }
#elif FLOOD_MODE == 2
    volatile uint32_t *const itm_ter = (volatile uint32_t *)0xE0000E00u;
    volatile uint32_t *const itm_tcr = (volatile uint32_t *)0xE0000E80u;
    volatile uint8_t *const itm_port0 = (volatile uint8_t *)0xE0000000u;
    *itm_tcr = 1u; /* ITMENA */
    *itm_ter = 1u; /* stimulus port 0 */
    for (unsigned i = 0;; i = (i + 1) % sizeof block) {
        *itm_port0 = (uint8_t)block[i];
    }
#elif FLOOD_MODE == 4
    for (unsigned i = 0; i < FLOOD_BLOCKS; i++) {
        semihosting_write(SEMIHOSTING_STDOUT, block, sizeof block);
    }
    return 0;
#else
    semihosting_write(SEMIHOSTING_STDOUT, "partial text", 12);
    return (int)*(volatile uint32_t *)0x60000000u;
#endif
}
