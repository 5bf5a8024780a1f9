/*
 * hello.c - the smallest useful MixQ firmware: printf through semihosting, and start-up checks.
 *
 * Expected output, byte for byte (Tests check it):
 *   stdout:
 *     Hello from the emulated STM32H743!
 *     int -42 unsigned 4000000000 hex 0xdeadbeef string cortex-m7
 *     float 3.250 negative -7
 *     itcm 1234 dtcm 0x600dcafe data 0x0badf00d bss 0 axisram 0x12345678
 *   stderr:
 *     hello: a line on stderr
 *   exit status: 0
 *
 * The last stdout line checks the reset handler: a function run from ITCM (copied from FLASH;
 * from FLASH on a part without ITCM),
 * initialised data in DTCM (.dtcm_data and .data), zeroed .bss, and a buffer in AXI SRAM.
 */
#include <stdint.h>
#include <stdio.h>

#include "mixq_target.h"

static volatile uint32_t dtcm_word __attribute__((section(".dtcm_data"))) = 0x600dcafeu;
static volatile uint32_t data_word = 0x0badf00du;
static volatile uint32_t bss_word;
static volatile uint32_t axisram_buffer[8] __attribute__((section(".axisram")));

/* Runs from ITCM at 0x0000xxxx: proves the copy and the FLASH -> ITCM call veneer. */
__attribute__((noinline)) MIXQ_ITCM_CODE int itcm_triangle(int n)
{
    volatile int sum = 0;
    for (int i = 1; i <= n; ++i) {
        sum += i;
    }
    return sum;
}

int main(void)
{
    printf("Hello from the emulated STM32H743!\n");
    printf("int %d unsigned %u hex 0x%x string %s\n", -42, 4000000000u, 0xdeadbeefu, "cortex-m7");
    volatile float quarter = 0.25f;
    printf("float %.3f negative %d\n", (double)(3.0f + quarter), -7);
    axisram_buffer[3] = 0x12345678u;
    printf("itcm %d dtcm 0x%08lx data 0x%08lx bss %lu axisram 0x%08lx\n", itcm_triangle(48),
           (unsigned long)dtcm_word, (unsigned long)data_word, (unsigned long)bss_word,
           (unsigned long)axisram_buffer[3]);
    fprintf(stderr, "hello: a line on stderr\n");
    return 0;
}
