/*
 * mixq_target.h - Cortex-M7 system registers used by MixQ firmware, and small helpers.
 *
 * Addresses and bit positions: ARMv7-M Architecture Reference Manual (DDI 0403E) sections
 * B3.2 (SCB), C1.6 (DEMCR), C1.8 (DWT), B3.3 (SysTick), and the Cortex-M7 TRM (DDI 0489)
 * section 4 for the cache maintenance registers and CCSIDR layout.
 *
 * Contract
 *   - Header only: every helper is `static inline`, there is no global state.
 *   - mixq_cycle_counter_start() must run once before mixq_cycles() means anything. Under MixQ the
 *     counter is the emulator's cycle model; on a board it is the core clock.
 *   - The cache helpers follow the architecture's enable sequence (invalidate, then enable,
 *     with DSB/ISB); calling them twice is harmless.
 */
#ifndef MIXQ_TARGET_H
#define MIXQ_TARGET_H

#include <stdint.h>

#define MIXQ_REG32(address) (*(volatile uint32_t *)(uintptr_t)(address))

/* System Control Block (DDI 0403E B3.2.2). */
#define MIXQ_SCB_CCR      MIXQ_REG32(0xE000ED14u) /* configuration and control          */
#define MIXQ_SCB_CFSR     MIXQ_REG32(0xE000ED28u) /* configurable fault status          */
#define MIXQ_SCB_HFSR     MIXQ_REG32(0xE000ED2Cu) /* HardFault status                   */
#define MIXQ_SCB_MMFAR    MIXQ_REG32(0xE000ED34u) /* MemManage fault address            */
#define MIXQ_SCB_BFAR     MIXQ_REG32(0xE000ED38u) /* BusFault address                   */
#define MIXQ_SCB_CCSIDR   MIXQ_REG32(0xE000ED80u) /* cache size ID (selected by CSSELR)  */
#define MIXQ_SCB_CSSELR   MIXQ_REG32(0xE000ED84u) /* cache size selection               */
#define MIXQ_SCB_CPACR    MIXQ_REG32(0xE000ED88u) /* coprocessor access control         */
#define MIXQ_SCB_ICIALLU  MIXQ_REG32(0xE000EF50u) /* invalidate all I-cache to PoU      */
#define MIXQ_SCB_DCISW    MIXQ_REG32(0xE000EF60u) /* invalidate D-cache line by set/way */
#define MIXQ_SCB_DCCISW   MIXQ_REG32(0xE000EF74u) /* clean+invalidate D-cache by set/way */

#define MIXQ_SCB_CCR_DC   (1u << 16) /* data cache enable        */
#define MIXQ_SCB_CCR_IC   (1u << 17) /* instruction cache enable */

/* CPACR: CP10 and CP11 (the FPU) full access = 0b11 in bits 21:20 and 23:22 (DDI 0403E B3.2.20). */
#define MIXQ_SCB_CPACR_FPU_FULL_ACCESS ((3u << 20) | (3u << 22))

/* Debug Exception and Monitor Control: TRCENA (bit 24) powers DWT and ITM (DDI 0403E C1.6.5). */
#define MIXQ_DEMCR        MIXQ_REG32(0xE000EDFCu)
#define MIXQ_DEMCR_TRCENA (1u << 24)

/* Data Watchpoint and Trace unit (DDI 0403E C1.8.7). */
#define MIXQ_DWT_CTRL     MIXQ_REG32(0xE0001000u)
#define MIXQ_DWT_CYCCNT   MIXQ_REG32(0xE0001004u)
#define MIXQ_DWT_LAR      MIXQ_REG32(0xE0001FB0u) /* CoreSight lock access (Cortex-M7 TRM 4.1) */
#define MIXQ_DWT_CTRL_CYCCNTENA  (1u << 0)
#define MIXQ_DWT_LAR_UNLOCK_KEY  0xC5ACCE55u       /* CoreSight architecture, "LAR" key        */

/* SysTick (DDI 0403E B3.3.2). */
#define MIXQ_SYST_CSR     MIXQ_REG32(0xE000E010u)
#define MIXQ_SYST_RVR     MIXQ_REG32(0xE000E014u)
#define MIXQ_SYST_CVR     MIXQ_REG32(0xE000E018u)

/*
 * MIXQ_ITCM_CODE: puts a function in ITCM (copied there at reset, zero-wait fetch) on parts
 * that have one; nothing on parts without (the STM32F412, whose flags file defines
 * MIXQ_HAS_ITCM=0 and whose linker script refuses .itcm_text).
 */
#if defined(MIXQ_HAS_ITCM) && MIXQ_HAS_ITCM == 0
#define MIXQ_ITCM_CODE
#else
#define MIXQ_ITCM_CODE __attribute__((section(".itcm_text")))
#endif

static inline void mixq_dsb(void) { __asm__ volatile("dsb 0xF" ::: "memory"); }
static inline void mixq_isb(void) { __asm__ volatile("isb 0xF" ::: "memory"); }

/* Enables and zeroes DWT->CYCCNT: DEMCR.TRCENA, DWT unlock, CYCCNTENA (docs/design.md#memory-map). */
static inline void mixq_cycle_counter_start(void)
{
    MIXQ_DEMCR |= MIXQ_DEMCR_TRCENA;
    MIXQ_DWT_LAR = MIXQ_DWT_LAR_UNLOCK_KEY;
    MIXQ_DWT_CYCCNT = 0;
    MIXQ_DWT_CTRL |= MIXQ_DWT_CTRL_CYCCNTENA;
}

/* The current cycle count; wraps every 2^32 cycles (about 10.7 s at 400 MHz). */
static inline uint32_t mixq_cycles(void)
{
    return MIXQ_DWT_CYCCNT;
}

/* Invalidates and enables the L1 instruction cache (Cortex-M7 TRM 4.1.6 sequence). */
static inline void mixq_icache_enable(void)
{
    mixq_dsb();
    mixq_isb();
    MIXQ_SCB_ICIALLU = 0;
    mixq_dsb();
    mixq_isb();
    MIXQ_SCB_CCR |= MIXQ_SCB_CCR_IC;
    mixq_dsb();
    mixq_isb();
}

/*
 * Invalidates the L1 data cache by set/way, then enables it.
 * CCSIDR: NumSets in bits 27:13, Associativity in bits 12:3, LineSize (log2(words) - 2) in bits 2:0.
 * DCISW operand: way in the top log2(ways) bits, set shifted by log2(line bytes).
 */
static inline void mixq_dcache_enable(void)
{
    MIXQ_SCB_CSSELR = 0; /* level 1 data cache */
    mixq_dsb();
    uint32_t ccsidr = MIXQ_SCB_CCSIDR;
    uint32_t sets = ((ccsidr >> 13) & 0x7FFFu) + 1;
    uint32_t ways = ((ccsidr >> 3) & 0x3FFu) + 1;
    uint32_t line_shift = (ccsidr & 0x7u) + 4;
    uint32_t way_shift = ways > 1 ? (uint32_t)__builtin_clz(ways - 1) : 0;
    for (uint32_t set = 0; set < sets; ++set) {
        for (uint32_t way = 0; way < ways; ++way) {
            MIXQ_SCB_DCISW = (ways > 1 ? way << way_shift : 0) | (set << line_shift);
        }
    }
    mixq_dsb();
    MIXQ_SCB_CCR |= MIXQ_SCB_CCR_DC;
    mixq_dsb();
    mixq_isb();
}

#endif /* MIXQ_TARGET_H */
