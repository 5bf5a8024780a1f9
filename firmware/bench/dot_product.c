/*
 * dot_product.c - compute-heavy firmware for `mixq bench emulator`: int8 dot products with
 * SMLAD, the inner loop of every 8-bit convolution.
 *
 * Two 2048-element int8 vectors in DTCM are multiplied ROUNDS times (default 20000, about
 * 123 M instructions at -O3); each round perturbs one element so no round can be skipped.
 * Prints the instruction-independent checksum so a run can be checked for correctness:
 *   dot-product: rounds <R> checksum 0x<hex>
 */
#include <arm_acle.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifndef ROUNDS
#define ROUNDS 20000
#endif
#define LENGTH 2048

static int8_t a[LENGTH] __attribute__((aligned(4)));
static int8_t b[LENGTH] __attribute__((aligned(4)));

/* GCC 12's arm_acle.h has no __ror; the compiler folds this rotate into SXTB16's ROR #8. */
static inline uint32_t rotate_right_8(uint32_t x) { return (x >> 8) | (x << 24); }

/* Four int8 pairs per step: SXTB16 splits each word into two sign-extended halfword pairs
 * (bytes 0,2 and, after rotating by 8, bytes 1,3), SMLAD multiplies and accumulates both. */
__attribute__((noinline)) static int32_t dot(const int8_t *x, const int8_t *y, int n)
{
    int32_t sum = 0;
    for (int i = 0; i < n; i += 4) {
        uint32_t xw, yw;
        memcpy(&xw, x + i, 4);
        memcpy(&yw, y + i, 4);
        int16x2_t x_even = __sxtb16(xw), x_odd = __sxtb16(rotate_right_8(xw));
        int16x2_t y_even = __sxtb16(yw), y_odd = __sxtb16(rotate_right_8(yw));
        sum = __smlad(x_even, y_even, sum);
        sum = __smlad(x_odd, y_odd, sum);
    }
    return sum;
}

int main(void)
{
    uint32_t seed = 12345u;
    for (int i = 0; i < LENGTH; ++i) {
        seed = seed * 1664525u + 1013904223u; /* Numerical Recipes LCG */
        a[i] = (int8_t)(seed >> 24);
        seed = seed * 1664525u + 1013904223u;
        b[i] = (int8_t)(seed >> 24);
    }
    uint32_t checksum = 0;
    for (int round = 0; round < ROUNDS; ++round) {
        a[round % LENGTH] = (int8_t)(a[round % LENGTH] + 1);
        checksum = checksum * 31u + (uint32_t)dot(a, b, LENGTH);
    }
    printf("dot-product: rounds %d checksum 0x%08lx\n", ROUNDS, (unsigned long)checksum);
    return 0;
}
