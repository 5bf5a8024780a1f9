/*
 * demo.c - the firmware `mixq demo` builds and runs: one int8 pointwise (1x1) convolution of a
 * 16x16x32 activation into 64 channels, the workhorse layer of MobilenetV1, written in plain C.
 *
 * It places the activations in AXI SRAM and the weights in FLASH as a deployed network does,
 * times the layer with DWT->CYCCNT exactly as firmware on a board would, and prints:
 *   pointwise 16x16x32 -> 64: <macs> MACs, <cycles> cycles, checksum 0x<hex>
 */
#include <stdint.h>
#include <stdio.h>

#include "mixq_target.h"

#define HEIGHT 16
#define WIDTH 16
#define IN_CHANNELS 32
#define OUT_CHANNELS 64

static uint8_t input[HEIGHT * WIDTH * IN_CHANNELS] __attribute__((section(".axisram")));
static uint8_t output[HEIGHT * WIDTH * OUT_CHANNELS] __attribute__((section(".axisram")));

/* Weights: a fixed pattern in FLASH (const), int8 with zero-point 0. */
#define W(o, i) ((int8_t)((((o) * 7 + (i) * 13) % 31) - 15))
#define ROW(o) {W(o, 0), W(o, 1), W(o, 2), W(o, 3), W(o, 4), W(o, 5), W(o, 6), W(o, 7), \
    W(o, 8), W(o, 9), W(o, 10), W(o, 11), W(o, 12), W(o, 13), W(o, 14), W(o, 15), \
    W(o, 16), W(o, 17), W(o, 18), W(o, 19), W(o, 20), W(o, 21), W(o, 22), W(o, 23), \
    W(o, 24), W(o, 25), W(o, 26), W(o, 27), W(o, 28), W(o, 29), W(o, 30), W(o, 31)}
#define ROWS8(o) ROW(o), ROW(o + 1), ROW(o + 2), ROW(o + 3), ROW(o + 4), ROW(o + 5), ROW(o + 6), ROW(o + 7)
static const int8_t weights[OUT_CHANNELS][IN_CHANNELS] = {
    ROWS8(0), ROWS8(8), ROWS8(16), ROWS8(24), ROWS8(32), ROWS8(40), ROWS8(48), ROWS8(56),
};

/* Requantize: y = clamp((acc >> 6) + 128, 0, 255). */
static inline uint8_t requantize(int32_t acc)
{
    int32_t y = (acc >> 6) + 128;
    return (uint8_t)(y < 0 ? 0 : y > 255 ? 255 : y);
}

__attribute__((noinline)) static void pointwise(const uint8_t *in, uint8_t *out)
{
    for (int pixel = 0; pixel < HEIGHT * WIDTH; ++pixel) {
        const uint8_t *x = in + pixel * IN_CHANNELS;
        for (int o = 0; o < OUT_CHANNELS; ++o) {
            int32_t acc = 0;
            for (int i = 0; i < IN_CHANNELS; ++i) {
                acc += (int32_t)x[i] * weights[o][i];
            }
            out[pixel * OUT_CHANNELS + o] = requantize(acc);
        }
    }
}

int main(void)
{
    uint32_t seed = 1u;
    for (unsigned i = 0; i < sizeof input; ++i) {
        seed = seed * 1664525u + 1013904223u; /* Numerical Recipes LCG */
        input[i] = (uint8_t)(seed >> 24);
    }
    mixq_cycle_counter_start();
    uint32_t start = mixq_cycles();
    pointwise(input, output);
    uint32_t cycles = mixq_cycles() - start;

    uint32_t checksum = 0;
    for (unsigned i = 0; i < sizeof output; ++i) {
        checksum = checksum * 31u + output[i];
    }
    printf("pointwise %dx%dx%d -> %d: %d MACs, %lu cycles, checksum 0x%08lx\n", HEIGHT, WIDTH, IN_CHANNELS,
           OUT_CHANNELS, HEIGHT * WIDTH * IN_CHANNELS * OUT_CHANNELS, (unsigned long)cycles, (unsigned long)checksum);
    return 0;
}
