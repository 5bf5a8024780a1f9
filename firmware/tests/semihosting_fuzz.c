/*
 * semihosting_fuzz.c - random semihosting calls (Arm "Semihosting for AArch32 and AArch64",
 * chapter 5): operation numbers from the defined ones (SYS_OPEN 0x01 ... SYS_TICKFREQ 0x31),
 * their neighbours and arbitrary 32-bit values; parameters that are random words, pointers
 * into RAM, FLASH, the system control space, unmapped space and region ends, or parameter
 * blocks filled with such values (handles, buffers, lengths up to 4 GiB).
 *
 * The seed is placed at `fuzz_seed` (AXI SRAM, which start-up code leaves alone) by the test
 * through Machine.run(inputs:), so one build serves every seed. MixQ must end each run with an
 * exit, a typed error (fault, budget, output limit) and never crash or hang; SYS_EXIT and
 * SYS_EXIT_EXTENDED end the run when drawn.
 */
#include <stdint.h>

__attribute__((section(".axisram"))) volatile uint32_t fuzz_seed;
__attribute__((section(".axisram"))) uint32_t fuzz_block[64];
__attribute__((section(".axisram"))) char fuzz_text[256];

static uint32_t state;

static uint32_t next(void)
{
    /* xorshift32 (Marsaglia 2003) */
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}

static uint32_t pointer(void)
{
    static const uint32_t bases[] = {
        0x24000000u,                 /* AXI SRAM: the fuzz buffers       */
        0x20000000u,                 /* DTCM: stack and data             */
        0x08000000u,                 /* FLASH: read-only                 */
        0x0807FFF0u,                 /* inside FLASH                     */
        0x0001FFFCu,                 /* ITCM end - 4 .. past it          */
        0x2001FFFEu,                 /* DTCM's last bytes                */
        0x3887FFF0u,                 /* Backup SRAM end                  */
        0xE000E000u,                 /* system control space             */
        0x60000000u,                 /* unmapped                         */
        0xFFFFFFF0u,                 /* top of the address space         */
        0x00000000u,
    };
    uint32_t base = bases[next() % (sizeof bases / sizeof bases[0])];
    return base + (next() % 64u);
}

static uint32_t value(void)
{
    switch (next() % 6u) {
    case 0: return next();
    case 1: return next() % 16u;          /* small: handles, modes, lengths */
    case 2: return pointer();
    case 3: return (uint32_t)&fuzz_text[next() % 32u];
    case 4: return 0xFFFFFFFFu - (next() % 4u);
    default: return next() % 4096u;       /* plausible lengths */
    }
}

int main(void)
{
    state = fuzz_seed | 1u;
    for (int i = 0; i < (int)sizeof fuzz_text - 1; i++) fuzz_text[i] = (char)(' ' + next() % 95u);
    fuzz_text[sizeof fuzz_text - 1] = '\0';
    fuzz_text[0] = ':';
    fuzz_text[1] = 't';
    fuzz_text[2] = 't';
    for (unsigned call = 0; call < 400u; call++) {
        for (unsigned i = 0; i < 64u; i++) fuzz_block[i] = value();
        uint32_t operation;
        switch (next() % 4u) {
        case 0: operation = next(); break;
        case 1: operation = next() % 0x40u; break;
        default: operation = 1u + next() % 0x31u; break;
        }
        uint32_t parameter = (next() % 3u == 0) ? value() : (uint32_t)&fuzz_block[next() % 8u];
        register uint32_t r0 __asm__("r0") = operation;
        register uint32_t r1 __asm__("r1") = parameter;
        __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    }
    return 0;
}
