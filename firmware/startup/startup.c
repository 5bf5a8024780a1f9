/*
 * startup.c - vector table and reset handler for MixQ firmware on the STM32H743.
 *
 * Reset sequence (what the hardware and then Reset_Handler do):
 *   1. The core loads SP from vector word 0 (__stack_top, top of the stack at the bottom of
 *      DTCM, see stm32h743.ld) and PC from word 1 (Reset_Handler).
 *   2. Reset_Handler grants full access to the FPU (CPACR CP10/CP11) and waits for it with
 *      DSB/ISB before any floating-point instruction can run (DDI 0403E B3.2.20 requires the ISB).
 *   3. It copies the initialised sections from their FLASH load images (.itcm_text to ITCM,
 *      .dtcm_data and .data to DTCM) and zeroes .bss.
 *   4. It calls main() and passes the result to exit(), which flushes stdio and ends in
 *      _exit() -> semihosting SYS_EXIT_EXTENDED with main's return value as the exit status.
 *
 * The vector table holds the 16 Cortex-M system entries (DDI 0403E B1.5.3). The STM32H743's 150
 * peripheral interrupts are not listed: MixQ firmware enables none, and the table can grow here
 * when one is needed. Constructors (__libc_init_array) are not run: firmware is C only.
 *
 * Fault handlers: MixQ reports faults itself (the emulator stops at the faulting access), so
 * these handlers matter on a board under a debugger: they print the fault status registers
 * through semihosting and end the program with a runtime-error exit.
 */
#include <stdint.h>
#include <stdlib.h>

#include "mixq_target.h"
#include "semihosting.h"

int main(void);

/* Symbols defined by stm32h743.ld: load addresses (_load), run-time start and end. */
extern uint32_t __stack_top[];
extern uint32_t __itcm_text_load[], __itcm_text_start[], __itcm_text_end[];
extern uint32_t __dtcm_data_load[], __dtcm_data_start[], __dtcm_data_end[];
extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];

void Reset_Handler(void);
void Default_Handler(void);
void NMI_Handler(void) __attribute__((weak, alias("Default_Handler")));
void HardFault_Handler(void) __attribute__((weak, alias("Default_Handler")));
void MemManage_Handler(void) __attribute__((weak, alias("Default_Handler")));
void BusFault_Handler(void) __attribute__((weak, alias("Default_Handler")));
void UsageFault_Handler(void) __attribute__((weak, alias("Default_Handler")));
void SVC_Handler(void) __attribute__((weak, alias("Default_Handler")));
void DebugMon_Handler(void) __attribute__((weak, alias("Default_Handler")));
void PendSV_Handler(void) __attribute__((weak, alias("Default_Handler")));
void SysTick_Handler(void) __attribute__((weak, alias("Default_Handler")));

typedef void (*vector_entry)(void);

/* Placed first in FLASH (0x08000000) by the linker script; `used` keeps --gc-sections away. */
__attribute__((section(".isr_vector"), used))
const vector_entry mixq_vector_table[16] = {
    (vector_entry)(uintptr_t)__stack_top, /* 0: initial main stack pointer */
    Reset_Handler,                        /* 1: reset                      */
    NMI_Handler,                          /* 2                             */
    HardFault_Handler,                    /* 3                             */
    MemManage_Handler,                    /* 4                             */
    BusFault_Handler,                     /* 5                             */
    UsageFault_Handler,                   /* 6                             */
    0, 0, 0, 0,                           /* 7-10: reserved                */
    SVC_Handler,                          /* 11                            */
    DebugMon_Handler,                     /* 12                            */
    0,                                    /* 13: reserved                  */
    PendSV_Handler,                       /* 14                            */
    SysTick_Handler,                      /* 15                            */
};

/* Copies words [start, end) from `load`; the linker script keeps every bound word-aligned. */
static inline void copy_section(const uint32_t *load, uint32_t *start, const uint32_t *end)
{
    while (start < end) {
        *start++ = *load++;
    }
}

__attribute__((noreturn)) void Reset_Handler(void)
{
    /* The FPU first: -mfloat-abi=hard code may use s/d registers anywhere after this. */
    MIXQ_SCB_CPACR |= MIXQ_SCB_CPACR_FPU_FULL_ACCESS;
    mixq_dsb();
    mixq_isb();

    copy_section(__itcm_text_load, __itcm_text_start, __itcm_text_end);
    copy_section(__dtcm_data_load, __dtcm_data_start, __dtcm_data_end);
    copy_section(__data_load, __data_start, __data_end);
    for (uint32_t *word = __bss_start; word < __bss_end; ++word) {
        *word = 0;
    }
    /* Code was just written to ITCM: make sure it is visible to instruction fetch. */
    mixq_dsb();
    mixq_isb();

    exit(main());
}

static void write_hex_word(const char *label, uint32_t value)
{
    char line[24];
    int n = 0;
    while (label[n] != '\0' && n < 8) {
        line[n] = label[n];
        ++n;
    }
    line[n++] = '=';
    line[n++] = '0';
    line[n++] = 'x';
    for (int shift = 28; shift >= 0; shift -= 4) {
        line[n++] = "0123456789abcdef"[(value >> shift) & 0xFu];
    }
    line[n++] = '\n';
    semihosting_write(SEMIHOSTING_STDERR, line, (size_t)n);
}

/*
 * Any unexpected exception: report the fault registers (no stdio: the heap may be broken).
 * Not declared noreturn so the weak aliases above can share it without attribute warnings;
 * it never returns all the same.
 */
void Default_Handler(void)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    static const char message[] = "mixq firmware: unexpected exception\n";
    semihosting_write(SEMIHOSTING_STDERR, message, sizeof message - 1);
    write_hex_word("IPSR", ipsr);
    write_hex_word("CFSR", MIXQ_SCB_CFSR);
    write_hex_word("HFSR", MIXQ_SCB_HFSR);
    write_hex_word("MMFAR", MIXQ_SCB_MMFAR);
    write_hex_word("BFAR", MIXQ_SCB_BFAR);
    semihosting_exit_runtime_error();
}
