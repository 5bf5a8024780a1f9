/*
 * integer_mix.c - a CoreMark-like integer workload written for MixQ (not CoreMark's code): list
 * search and reversal, a small int16 matrix product, a character-class state machine and a
 * CRC-16, run as a board would run a benchmark: code in FLASH, data on the stack and in DTCM,
 * both L1 caches enabled. It tracks how the cycle models treat branchy, cache-resident integer
 * code (docs/timing.md, "Validation 7"); it does not give CoreMark scores.
 *
 * Prints  work <name> <cycles per iteration x 1000>  and a checksum.
 */
#include <stdint.h>
#include <stdio.h>

#include "mixq_target.h"

#define NODES 48
#define SIDE 12
#define TEXT 192
#define ITERATIONS 40

typedef struct node {
    struct node *next;
    int16_t key;
    int16_t value;
} node;

static node pool[NODES];
static int16_t ma[SIDE * SIDE], mb[SIDE * SIDE];
static int32_t mc[SIDE * SIDE];
static char text[TEXT];

static node *build_list(uint32_t seed)
{
    node *head = 0;
    for (int i = 0; i < NODES; ++i) {
        seed = seed * 1103515245u + 12345u;
        pool[i].key = (int16_t)((seed >> 16) & 0x3FF);
        pool[i].value = (int16_t)i;
        pool[i].next = head;
        head = &pool[i];
    }
    return head;
}

static node *reverse(node *head)
{
    node *previous = 0;
    while (head) {
        node *next = head->next;
        head->next = previous;
        previous = head;
        head = next;
    }
    return previous;
}

static int32_t find(const node *head, int16_t key)
{
    for (int32_t position = 0; head; head = head->next, ++position)
        if (head->key == key) return position;
    return -1;
}

static uint32_t matrix(int16_t shift)
{
    for (int i = 0; i < SIDE; ++i)
        for (int j = 0; j < SIDE; ++j) {
            int32_t sum = 0;
            for (int k = 0; k < SIDE; ++k) sum += (int32_t)ma[i * SIDE + k] * mb[k * SIDE + j];
            mc[i * SIDE + j] = sum >> shift;
        }
    uint32_t bits = 0;
    for (int i = 0; i < SIDE * SIDE; ++i) bits += (uint32_t)(mc[i] >> 2) & 0xF;
    return bits;
}

/* Counts integers, decimals and exponent forms in a text of digits, signs, dots and 'e's. */
static uint32_t classify(void)
{
    enum { START, SIGN, INTEGER, DOT, DECIMAL, EXPONENT, BAD } state = START;
    uint32_t counts[7] = {0};
    for (int i = 0; i < TEXT; ++i) {
        char c = text[i];
        if (c == ',') {
            counts[state]++;
            state = START;
            continue;
        }
        switch (state) {
        case START: state = (c == '+' || c == '-') ? SIGN : (c >= '0' && c <= '9') ? INTEGER : BAD; break;
        case SIGN: state = (c >= '0' && c <= '9') ? INTEGER : BAD; break;
        case INTEGER: state = (c == '.') ? DOT : (c == 'e') ? EXPONENT : (c >= '0' && c <= '9') ? INTEGER : BAD; break;
        case DOT: state = (c >= '0' && c <= '9') ? DECIMAL : BAD; break;
        case DECIMAL: state = (c == 'e') ? EXPONENT : (c >= '0' && c <= '9') ? DECIMAL : BAD; break;
        case EXPONENT: state = (c >= '0' && c <= '9') ? EXPONENT : BAD; break;
        default: break;
        }
    }
    return counts[INTEGER] * 3 + counts[DECIMAL] * 5 + counts[EXPONENT] * 7 + counts[BAD];
}

static uint16_t crc16(uint16_t crc, uint32_t value)
{
    for (int i = 0; i < 32; ++i) {
        uint16_t bit = (uint16_t)((crc ^ value) & 1u);
        crc >>= 1;
        value >>= 1;
        if (bit) crc ^= 0xA001u;
    }
    return crc;
}

int main(void)
{
    mixq_cycle_counter_start();
    mixq_icache_enable();
    mixq_dcache_enable();
    static const char alphabet[] = "0123456789+-.e,";
    uint32_t seed = 7;
    for (int i = 0; i < TEXT; ++i) {
        seed = seed * 1664525u + 1013904223u;
        text[i] = alphabet[(seed >> 24) % (sizeof alphabet - 1)];
    }
    for (int i = 0; i < SIDE * SIDE; ++i) {
        ma[i] = (int16_t)(i * 37 - 500);
        mb[i] = (int16_t)(700 - i * 11);
    }
    uint16_t crc = 0;
    uint32_t cycles[2] = {0, 0};
    for (int pass = 0; pass < 2; ++pass) {
        uint32_t start = mixq_cycles();
        for (int iteration = 0; iteration < ITERATIONS; ++iteration) {
            node *list = build_list((uint32_t)iteration + 1u);
            crc = crc16(crc, (uint32_t)find(list, pool[iteration % NODES].key));
            list = reverse(list);
            crc = crc16(crc, (uint32_t)find(list, (int16_t)(iteration * 3)));
            crc = crc16(crc, matrix((int16_t)(iteration & 3)));
            text[iteration % TEXT] = alphabet[(uint32_t)iteration % (sizeof alphabet - 1)];
            crc = crc16(crc, classify());
        }
        cycles[pass] = mixq_cycles() - start;
    }
    printf("work integer_mix_cold %lu\n", (unsigned long)((uint64_t)cycles[0] * 1000u / ITERATIONS));
    printf("work integer_mix %lu\n", (unsigned long)((uint64_t)cycles[1] * 1000u / ITERATIONS));
    printf("checksum %u\n", (unsigned)crc);
    return 0;
}
