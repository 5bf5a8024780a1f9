/*
 * itcm_code.c - a function explicitly placed in ITCM with section(".itcm_text"), not through
 * MIXQ_ITCM_CODE: it links and runs on parts with ITCM (exit 0), and the STM32F412's linker
 * script refuses it, which Tests/EmulatorTests/PartTests.swift checks.
 */
#include <stdio.h>

__attribute__((noinline, section(".itcm_text"))) int doubled(int x)
{
    return 2 * x;
}

int main(void)
{
    printf("doubled %d\n", doubled(21));
    return doubled(21) == 42 ? 0 : 1;
}
