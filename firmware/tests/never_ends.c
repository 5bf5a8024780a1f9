/*
 * never_ends.c - firmware that never exits: the emulator must stop it at the instruction
 * budget and name the PC (inside spin_forever) where it stopped.
 */
#include <stdint.h>
#include <stdio.h>

__attribute__((noinline)) static void spin_forever(volatile uint32_t *counter)
{
    for (;;) {
        *counter += 1;
    }
}

int main(void)
{
    static volatile uint32_t counter;
    printf("spinning\n");
    spin_forever(&counter);
    return 0;
}
