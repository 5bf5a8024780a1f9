/*
 * system_control.c - the private peripheral bus registers start-up and timing code use behave
 * as on a Cortex-M7 (ARMv7-M ARM DDI 0403E chapters B3 and C1.8; Cortex-M7 TRM DDI 0489).
 *
 * Each check prints "ok <name>" or "FAIL <name>: <detail>"; the last line is
 *   system-control: <passed> passed, <failed> failed
 * and the exit status is the number of failures.
 */
#include <stdint.h>
#include <stdio.h>

#include "mixq_target.h"

#define MIXQ_SCB_CPUID MIXQ_REG32(0xE000ED00u)

static unsigned passed, failed;

static void check(const char *name, int ok, uint32_t detail)
{
    if (ok) {
        ++passed;
        printf("ok %s\n", name);
    } else {
        ++failed;
        printf("FAIL %s: 0x%08lx\n", name, (unsigned long)detail);
    }
}

/* Work the counters can see: a loop the compiler cannot remove. */
__attribute__((noinline)) static void spin(uint32_t n)
{
    for (volatile uint32_t i = 0; i < n; ++i) {
    }
}

int main(void)
{
    /* CPUID: implementer Arm (0x41), part Cortex-M7 (0xC27) or, built with cortex-m4.flags,
     * Cortex-M4 (0xC24); variant and revision depend on the part. */
#if defined(MIXQ_CORTEX_M4)
    check("cpuid_cortex_m4", (MIXQ_SCB_CPUID & 0xFF00FFF0u) == 0x4100C240u, MIXQ_SCB_CPUID);
#else
    check("cpuid_cortex_m7", (MIXQ_SCB_CPUID & 0xFF00FFF0u) == 0x4100C270u, MIXQ_SCB_CPUID);
#endif

    /* The FPU was enabled by the reset handler: CPACR CP10 and CP11 full access. */
    check("cpacr_fpu_enabled", (MIXQ_SCB_CPACR & (0xFu << 20)) == (0xFu << 20), MIXQ_SCB_CPACR);

    /* DWT->CYCCNT does not run until TRCENA and CYCCNTENA are set. */
    uint32_t before = MIXQ_DWT_CYCCNT;
    spin(100);
    check("cyccnt_stopped_at_reset", MIXQ_DWT_CYCCNT == before, MIXQ_DWT_CYCCNT);

    mixq_cycle_counter_start();
    uint32_t first = mixq_cycles();
    spin(1000);
    uint32_t second = mixq_cycles();
    /* 1000 iterations of a loop of several instructions: at least 1000 cycles. */
    check("cyccnt_counts", second - first >= 1000u, second - first);

    MIXQ_DWT_CYCCNT = 0x10000000u;
    spin(10);
    uint32_t written = mixq_cycles();
    check("cyccnt_writable", written >= 0x10000000u && written < 0x10100000u, written);

    MIXQ_DWT_CTRL &= ~MIXQ_DWT_CTRL_CYCCNTENA;
    uint32_t frozen = mixq_cycles();
    spin(100);
    check("cyccnt_stops_when_disabled", mixq_cycles() == frozen, mixq_cycles() - frozen);
    MIXQ_DWT_CTRL |= MIXQ_DWT_CTRL_CYCCNTENA;
    spin(100);
    check("cyccnt_resumes", mixq_cycles() > frozen, mixq_cycles() - frozen);

    /* SysTick: 24-bit down-counter on the processor clock (CLKSOURCE = 1). */
    MIXQ_SYST_RVR = 0x00FFFFFFu;
    MIXQ_SYST_CVR = 0;
    MIXQ_SYST_CSR = (1u << 2) | 1u; /* CLKSOURCE | ENABLE, no interrupt */
    spin(100);
    uint32_t tick1 = MIXQ_SYST_CVR;
    spin(100);
    uint32_t tick2 = MIXQ_SYST_CVR;
    check("systick_counts_down", tick1 <= 0x00FFFFFFu && tick2 < tick1, tick1 - tick2);
    check("systick_reload_readback", MIXQ_SYST_RVR == 0x00FFFFFFu, MIXQ_SYST_RVR);

    /* A short reload wraps: COUNTFLAG (bit 16) reads 1 once, then clears on read. */
    MIXQ_SYST_RVR = 99u;
    MIXQ_SYST_CVR = 0;
    spin(500);
    uint32_t csr = MIXQ_SYST_CSR;
    check("systick_countflag_set", (csr & (1u << 16)) != 0, csr);
    /* Stopped, it cannot wrap again: the first read may still see COUNTFLAG, the second not. */
    MIXQ_SYST_CSR = 0;
    (void)MIXQ_SYST_CSR;
    uint32_t cleared = MIXQ_SYST_CSR;
    check("systick_countflag_clears_on_read", (cleared & (1u << 16)) == 0, cleared);

    /* The CMSIS-style cache enable sequences terminate and set CCR.IC / CCR.DC. */
    mixq_icache_enable();
    mixq_dcache_enable();
    check("ccr_icache_enabled", (MIXQ_SCB_CCR & MIXQ_SCB_CCR_IC) != 0, MIXQ_SCB_CCR);
    check("ccr_dcache_enabled", (MIXQ_SCB_CCR & MIXQ_SCB_CCR_DC) != 0, MIXQ_SCB_CCR);

    /* D-cache geometry through CSSELR/CCSIDR: 4 ways, 128 sets, 8-word lines (16 KiB). */
    MIXQ_SCB_CSSELR = 0;
    mixq_dsb();
    uint32_t ccsidr = MIXQ_SCB_CCSIDR;
    uint32_t ways = ((ccsidr >> 3) & 0x3FFu) + 1u, sets = ((ccsidr >> 13) & 0x7FFFu) + 1u;
    uint32_t line_bytes = 1u << ((ccsidr & 7u) + 4u);
    check("dcache_is_16k", ways * sets * line_bytes == 16384u && ways == 4u, ccsidr);

    printf("system-control: %u passed, %u failed\n", passed, failed);
    return (int)failed;
}
