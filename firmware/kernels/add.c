/* add.c - MixQ's element-wise add; contract in add.h. */
#include "add.h"

static int valid(const mixq_add_params *p)
{
    return mixq_valid_bits(p->input1_bits) && mixq_valid_bits(p->input2_bits) && mixq_valid_bits(p->output_bits)
        && p->input1_zero <= (1u << p->input1_bits) - 1 && p->input2_zero <= (1u << p->input2_bits) - 1
        && p->output_zero <= (1u << p->output_bits) - 1 && p->shift >= 1 && p->shift <= 62
        && p->act_min <= p->act_max && p->act_max <= (1u << p->output_bits) - 1;
}

/* The arithmetic of add.h for one element, written the plain way. */
static uint32_t add_one(int32_t x1, int32_t x2, const mixq_add_params *p)
{
    int64_t sum = (int64_t)(x1 - p->input1_zero) * p->input1_multiplier
        + (int64_t)(x2 - p->input2_zero) * p->input2_multiplier;
    int64_t r = ((sum + ((int64_t)1 << (p->shift - 1))) >> p->shift) + p->output_zero;
    return (uint32_t)(r < p->act_min ? p->act_min : (r > p->act_max ? p->act_max : r));
}

int mixq_add_plain(uint32_t count, const uint8_t *input1, const uint8_t *input2, const mixq_add_params *p,
                   uint8_t *output)
{
    if (!valid(p)) return MIXQ_ERROR_ARGUMENT;
    mixq_writer out;
    mixq_writer_init(&out, output, 0, p->output_bits);
    for (uint32_t i = 0; i < count; ++i) {
        mixq_writer_push(&out, add_one((int32_t)mixq_load_element(input1, i, p->input1_bits),
                                       (int32_t)mixq_load_element(input2, i, p->input2_bits), p));
    }
    mixq_writer_finish(&out);
    mixq_clear_tail(output, count, p->output_bits);
    return MIXQ_OK;
}

/* Constants of the optimised path, prepared once per call. */
typedef struct {
    int32_t m1, m2, z1, z2, zy, low, high;
    int64_t round;      /* 2^(s-1) */
    int32_t high_word;  /* s >= 32: r is the high word of the sum shifted by s - 32 */
    uint32_t shift;     /* s - 32 when high_word, else s */
} add_constants;

MIXQ_INLINE uint32_t add_fast(int32_t x1, int32_t x2, const add_constants *k)
{
    int64_t sum = k->round + (int64_t)(x1 - k->z1) * k->m1 + (int64_t)(x2 - k->z2) * k->m2;  /* SMLAL, SMLAL */
    int32_t r;
    if (k->high_word) {
        r = (int32_t)(sum >> 32) >> k->shift;   /* |sum| < 2^62: the high word is below 2^30 */
    } else {
        int64_t wide = sum >> k->shift;         /* a ratio of 1 or more: keep it in range first */
        r = wide > 65536 ? 65536 : (wide < -65536 ? -65536 : (int32_t)wide);
    }
    r += k->zy;
    return (uint32_t)(r < k->low ? k->low : (r > k->high ? k->high : r));
}

/* One specialisation per (input1, input2, output) bit width; the widths are constants after inlining. */
MIXQ_INLINE void add_loop(uint32_t count, const uint8_t *a, const uint8_t *b, const add_constants *k, uint8_t *output,
                          const uint32_t bits1, const uint32_t bits2, const uint32_t bits_out)
{
    uint32_t i = 0;
    if (bits1 == 8 && bits2 == 8 && bits_out == 8) {
        for (; i + 4 <= count; i += 4) {
            uint32_t va = mixq_load_word(a + i), vb = mixq_load_word(b + i);
            uint32_t y = add_fast((int32_t)(va & 0xFF), (int32_t)(vb & 0xFF), k)
                | add_fast((int32_t)((va >> 8) & 0xFF), (int32_t)((vb >> 8) & 0xFF), k) << 8
                | add_fast((int32_t)((va >> 16) & 0xFF), (int32_t)((vb >> 16) & 0xFF), k) << 16
                | add_fast((int32_t)(va >> 24), (int32_t)(vb >> 24), k) << 24;
            memcpy(output + i, &y, 4);
        }
        for (; i < count; ++i) output[i] = (uint8_t)add_fast(a[i], b[i], k);
        return;
    }
    mixq_writer out;
    mixq_writer_init(&out, output, 0, bits_out);
    for (; i < count; ++i) {
        mixq_writer_push(&out, add_fast((int32_t)mixq_load_element(a, i, bits1), (int32_t)mixq_load_element(b, i, bits2), k));
    }
    mixq_writer_finish(&out);
    mixq_clear_tail(output, count, bits_out);
}

#define ADD_CASE(b1, b2, bo) \
    if (p->input1_bits == (b1) && p->input2_bits == (b2) && p->output_bits == (bo)) { \
        add_loop(count, input1, input2, &k, output, (b1), (b2), (bo)); return MIXQ_OK; }
#define ADD_CASES(b1, b2) ADD_CASE(b1, b2, 8) ADD_CASE(b1, b2, 4) ADD_CASE(b1, b2, 2)

int mixq_add(uint32_t count, const uint8_t *input1, const uint8_t *input2, const mixq_add_params *p, uint8_t *output)
{
    if (!valid(p)) return MIXQ_ERROR_ARGUMENT;
    add_constants k = { p->input1_multiplier, p->input2_multiplier, p->input1_zero, p->input2_zero, p->output_zero,
                        p->act_min, p->act_max, (int64_t)1 << (p->shift - 1), p->shift >= 32,
                        p->shift >= 32 ? p->shift - 32u : p->shift };
    ADD_CASES(8, 8) ADD_CASES(8, 4) ADD_CASES(8, 2)
    ADD_CASES(4, 8) ADD_CASES(4, 4) ADD_CASES(4, 2)
    ADD_CASES(2, 8) ADD_CASES(2, 4) ADD_CASES(2, 2)
    return MIXQ_ERROR_ARGUMENT;
}
