/*
 * mixq_common.h - shared types and static inline helpers of the MixQ kernel library:
 * requantization, sub-byte unpacking and packing, and the weight layout contract.
 *
 * The Swift side of every contract here is in Sources/Quantization (FixedPointMultiplier,
 * BitPacking, KernelWeightLayout, ReferenceLayers); the two must agree bit for bit.
 *
 * Activation packing (docs/design.md#packing)
 *   Tensors are HWC, channels innermost, unsigned, packed LSB-first: element i of a b-bit
 *   tensor occupies bits (i*b)%8 .. (i*b)%8+b-1 of byte (i*b)/8. Kernels write the unused bits
 *   of a partially filled last byte as zero and preserve the bits of a byte they share with
 *   elements they do not own.
 *
 * Weight layout
 *   Matrix weights (conv, pointwise, fully connected): out_c rows of K = kernel_h*kernel_w*in_c
 *   weights in (ky, kx, ci) order. A row is R = mixq_matrix_row_bytes(K, bits) bytes: little-
 *   endian 32-bit words, each holding E*4 weights (E = 8/bits: 4, 8 or 16 weights); weight k of
 *   a word's block sits at slot (k%4)*E + k/4, slots LSB-first, `bits` wide; the last word is
 *   zero-padded. Rows are stored in pairs (0,1), (2,3), ...: the pair starting at row c occupies
 *   bytes c*R .. c*R+2R-1 with the two rows' words alternating (row c word 0, row c+1 word 0,
 *   row c word 1, ...); an odd last row follows alone, its words in order. The weight pointer
 *   must be 4-byte aligned. Unpacking word w with ((w >> j*bits) & mask) then UXTB16 and
 *   UXTB16 ROR 8 gives the 16-bit pairs (w[4j], w[4j+2]) and (w[4j+1], w[4j+3]) for every
 *   bit width; the pairing lets one LDRD fetch a word of both rows.
 *   Depthwise weights: kernel_h*kernel_w*channels weights in (ky, kx, c) order, packed like
 *   activations.
 *
 * Arithmetic (docs/design.md#quantization-arithmetic)
 *   acc = bias[c] + sum_k (w_k - zw[c]) * (x_k - zx)     int32, wrapping modulo 2^32
 *   y   = clamp(r + zy, 0, 2^out_bits - 1),  r = acc * M0[c] / 2^(31 + N0[c]) rounded as below
 *   Padded input positions read as zx (they contribute 0).
 *
 * Rounding rule (the same as FixedPointMultiplier.scaled in Swift)
 *   With s = 31 + N0 in 1..62:  p = (int64)acc * M0 + 2^(s-1);  r = p >> s  (arithmetic shift),
 *   i.e. r = floor(acc * M0 / 2^s + 1/2): round half up, towards +infinity, also for negative
 *   products (-2.5 -> -2). N0 < 0 (a scale >= 0.5) only shortens the shift; it never shifts
 *   left. |acc * M0| < 2^62, so p cannot overflow. For s >= 32 (N0 >= 1, every scale below 0.5)
 *   r is the high word of p shifted by s - 32 (one SMLAL into a register pair preloaded with
 *   2^(s-1), one ASR; mixq_lane keeps the constants), then + zy and USAT. Smaller shifts take
 *   mixq_requantize's 64-bit path, or, when the accumulator provably fits, the same SMLAL on
 *   acc << (32 - s) (mixq_lane_init_widened); all give the same values.
 *
 * Flavours (RequantizationFlavour in Swift)
 *   MIXQ_PL_FB:  multiplier/shift arrays of length 1, weight_zero of length 1.
 *   MIXQ_PL_ICN: multiplier/shift of length out_c, weight_zero of length 1.
 *   MIXQ_PC_ICN: multiplier/shift and weight_zero of length out_c.
 *   bias always has out_c entries.
 *
 * No global state: every function works only on its arguments and the caller's scratch.
 */
#ifndef MIXQ_COMMON_H
#define MIXQ_COMMON_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <arm_acle.h>

#define MIXQ_OK 0
#define MIXQ_ERROR_ARGUMENT (-1)   /* a bit width, flavour or shape the kernel does not accept */

#define MIXQ_INLINE static inline __attribute__((always_inline))

typedef enum { MIXQ_PL_FB = 0, MIXQ_PL_ICN = 1, MIXQ_PC_ICN = 2 } mixq_flavour;

/* Requantization parameters of one layer (see "Flavours" above). */
typedef struct {
    const int32_t *bias;          /* [out_c] int32 bias in accumulator units                 */
    const int32_t *multiplier;    /* M0, Q31 with sign: [1] (PL_FB) or [out_c]                */
    const int8_t *shift;          /* N0 in -30..31: same length as multiplier                 */
    const uint8_t *weight_zero;   /* zw: [1] (PL flavours) or [out_c] (PC_ICN)                */
    uint8_t flavour;              /* mixq_flavour                                              */
    uint8_t input_zero;           /* zx, fits input_bits                                       */
    uint8_t output_zero;          /* zy, fits output_bits                                      */
    uint8_t input_bits, weight_bits, output_bits; /* each 2, 4 or 8                           */
} mixq_requant_params;

/* Geometry of a convolution on an HWC tensor. Padding after the input (bottom/right) is implied
 * by out_h/out_w: positions beyond the input read as the input zero-point. */
typedef struct {
    uint16_t in_h, in_w, in_c;
    uint16_t out_h, out_w, out_c;
    uint8_t kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left;
} mixq_conv_shape;

/* The window of pooling output (oy, ox) clipped to the input (pooling skips padded positions):
 * rows [*y0, *y1), columns [*x0, *x1); empty when the window lies in the padding. */
static inline void mixq_pool_window(const mixq_conv_shape *s, uint32_t oy, uint32_t ox, int32_t *y0, int32_t *y1, int32_t *x0,
                                    int32_t *x1)
{
    int32_t top = (int32_t)(oy * s->stride_h) - s->pad_top, left = (int32_t)(ox * s->stride_w) - s->pad_left;
    *y0 = top < 0 ? 0 : top;
    *y1 = top + s->kernel_h < s->in_h ? top + s->kernel_h : s->in_h;
    *x0 = left < 0 ? 0 : left;
    *x1 = left + s->kernel_w < s->in_w ? left + s->kernel_w : s->in_w;
}

MIXQ_INLINE int mixq_valid_bits(uint32_t bits) { return bits == 2 || bits == 4 || bits == 8; }

MIXQ_INLINE int mixq_valid_params(const mixq_requant_params *p)
{
    return mixq_valid_bits(p->input_bits) && mixq_valid_bits(p->weight_bits) && mixq_valid_bits(p->output_bits)
        && p->flavour <= MIXQ_PC_ICN && p->input_zero <= (1u << p->input_bits) - 1
        && p->output_zero <= (1u << p->output_bits) - 1;
}

/* Per-channel views of the parameters (index 0 for per-layer arrays). */
MIXQ_INLINE uint32_t mixq_multiplier_index(const mixq_requant_params *p, uint32_t c)
{
    return p->flavour == MIXQ_PL_FB ? 0 : c;
}
MIXQ_INLINE int32_t mixq_weight_zero(const mixq_requant_params *p, uint32_t c)
{
    return p->weight_zero[p->flavour == MIXQ_PC_ICN ? c : 0];
}

/* ---- element access ---------------------------------------------------------------------- */

/* Element `index` of a packed tensor (activation packing). */
MIXQ_INLINE uint32_t mixq_load_element(const uint8_t *base, uint32_t index, uint32_t bits)
{
    if (bits == 8) return base[index];
    uint32_t bit = index * bits;
    return (base[bit >> 3] >> (bit & 7)) & ((1u << bits) - 1);
}

/* Bytes of one packed matrix-weight row of `k` weights (whole 32-bit words). */
MIXQ_INLINE uint32_t mixq_matrix_row_bytes(uint32_t k, uint32_t bits)
{
    uint32_t per_word = 32 / bits;
    return (k + per_word - 1) / per_word * 4;
}

/* Weight k of row `row` of packed matrix weights with `rows` rows of `k_total` weights (the
 * pairing and slot rules of "Weight layout"); the plain paths read weights through this. */
MIXQ_INLINE uint32_t mixq_matrix_weight(const uint8_t *weights, uint32_t row, uint32_t rows, uint32_t k_total,
                                        uint32_t k, uint32_t bits)
{
    uint32_t row_bytes = mixq_matrix_row_bytes(k_total, bits);
    uint32_t per_word = 32 / bits, e = 8 / bits, j = k % per_word, word = k / per_word;
    uint32_t paired = (row | 1u) < rows;                 /* row has a partner in its pair */
    const uint8_t *pair = weights + (row & ~1u) * row_bytes;
    const uint8_t *w = paired ? pair + (2 * word + (row & 1u)) * 4 : pair + word * 4;
    return mixq_load_element(w, (j % 4) * e + j / 4, bits);
}

/* The rounding rule for s = 31 + n0 >= 32 (n0 >= 1), as one SMLAL and one shift. */
MIXQ_INLINE int32_t mixq_scale_right(int32_t acc, int32_t m0, int32_t n0)
{
    /* 2^(30 + n0) as a 64-bit constant: t = 2^n0, high word t / 4, low word t << 30 (nonzero only for n0 = 1) */
    uint32_t t = 1u << n0, round_hi = t >> 2, round_lo = t << 30;
    int64_t p = (int64_t)(((uint64_t)round_hi << 32) | round_lo) + (int64_t)acc * m0;
    return (int32_t)(p >> 32) >> (n0 - 1);
}

/* ---- requantization ---------------------------------------------------------------------- */

/* The rounding rule above, then + zy and clamp to 0..qmax. */
MIXQ_INLINE uint32_t mixq_requantize(int32_t acc, int32_t m0, int32_t n0, int32_t zy, int32_t qmax)
{
    int32_t r;
    if (n0 >= 1) {
        r = mixq_scale_right(acc, m0, n0);   /* |r| < 2^30: no overflow below */
    } else {
        int32_t s = 31 + n0;
        int64_t p = (int64_t)acc * m0 + ((int64_t)1 << (s - 1));
        int64_t wide = p >> s;
        r = wide > 65536 ? 65536 : (wide < -65536 ? -65536 : (int32_t)wide);
    }
    r += zy;
    return (uint32_t)(r < 0 ? 0 : (r > qmax ? qmax : r));   /* compiles to USAT for constant qmax */
}

/* Requantization constants of one output channel, prepared once and reused for many outputs,
 * so the per-output work is one SMLAL, one shift and a clamp (the rounding rule above with the
 * 64-bit constant 2^(30 + N0) split into round_hi:round_lo). */
typedef struct {
    int32_t bias, multiplier, shift;   /* shift = N0 - 1 (0 for a widened lane) */
    uint32_t round_hi, round_lo;
    int32_t general;                   /* N0 < 1 and not widened: take mixq_requantize */
    int32_t weight_zero;
    int32_t pre_shift;                 /* 1 - N0 for a widened lane (mixq_lane_init_widened), else 0 */
} mixq_lane;

MIXQ_INLINE void mixq_lane_init(mixq_lane *lane, const mixq_requant_params *p, uint32_t c)
{
    uint32_t m = mixq_multiplier_index(p, c);
    int32_t n0 = p->shift[m];
    lane->bias = p->bias[c];
    lane->multiplier = p->multiplier[m];
    lane->general = n0 < 1;
    lane->shift = n0 - 1;
    uint32_t t = n0 >= 1 ? 1u << n0 : 0;
    lane->round_hi = t >> 2;
    lane->round_lo = t << 30;
    lane->weight_zero = mixq_weight_zero(p, c);
    lane->pre_shift = 0;
}

/* mixq_lane_init, and a lane with N0 in -29..0 (a scale >= 0.5: sub-byte inputs feeding 8-bit
 * outputs) moved off the 64-bit general path ("widened") when its accumulator provably stays
 * small. With L = 1 - N0 and s = 31 + N0 = 32 - L the rounding rule is
 *   r = floor((acc * M0 + 2^(s-1)) / 2^s) = floor(((acc << L) * M0 + 2^31) / 2^32),
 * the high word of one SMLAL on (acc << L) with round_hi:round_lo = 0:2^31 and no final shift,
 * exact whenever acc << L fits in int32. `dot_bound` bounds |sum (w - zw) * (x - zx)| over the
 * layer (the caller knows K and the bit widths); if |bias| + dot_bound < 2^(31 - L) every
 * accumulator qualifies and the lane is widened (pre_shift = L), otherwise it stays general.
 * r then lies within +-2^30, so + zy and USAT give what mixq_requantize's clamp gives.
 * Written as one pass (not mixq_lane_init then a fix-up): it runs once per output channel and
 * call, 1000 times for a classifier. */
MIXQ_INLINE void mixq_lane_init_widened(mixq_lane *lane, const mixq_requant_params *p, uint32_t c, uint32_t dot_bound)
{
    uint32_t m = mixq_multiplier_index(p, c);
    int32_t n0 = p->shift[m], bias = p->bias[c];
    lane->bias = bias;
    lane->multiplier = p->multiplier[m];
    lane->weight_zero = mixq_weight_zero(p, c);
    uint32_t t = n0 >= 1 ? 1u << n0 : 0, round_lo = t << 30;
    int32_t general = n0 < 1, shift = n0 - 1, pre_shift = 0;
    if (general && n0 >= -29) {
        uint32_t limit = 1u << (30 + n0);   /* 2^(31 - L) */
        uint32_t magnitude = bias < 0 ? 0u - (uint32_t)bias : (uint32_t)bias;
        if (magnitude < limit && limit - magnitude > dot_bound) {   /* |bias| + dot_bound < limit */
            general = 0;
            shift = 0;
            round_lo = 0x80000000u;
            pre_shift = 1 - n0;
        }
    }
    lane->general = general;
    lane->shift = shift;
    lane->round_hi = t >> 2;
    lane->round_lo = round_lo;
    lane->pre_shift = pre_shift;
}

/* Bound on |sum_k (w_k - zw) * (x_k - zx)| for k_total products: |x - zx| <= 2^input_bits - 1
 * (zx fits input_bits), |w - zw| <= 255 (both are bytes). */
MIXQ_INLINE uint32_t mixq_dot_bound(uint32_t k_total, uint32_t input_bits)
{
    uint64_t bound = (uint64_t)k_total * ((1u << input_bits) - 1u) * 255u;
    return bound > 0x7FFFFFFFu ? 0x7FFFFFFFu : (uint32_t)bound;
}

/* Output of a lane's channel for an accumulator without the bias. */
MIXQ_INLINE uint32_t mixq_lane_output(const mixq_lane *lane, int32_t acc, int32_t zy, int32_t qmax)
{
    acc = (int32_t)((uint32_t)acc + (uint32_t)lane->bias);
    if (lane->general) return mixq_requantize(acc, lane->multiplier, lane->shift + 1, zy, qmax);
    acc = (int32_t)((uint32_t)acc << lane->pre_shift);   /* a widened lane (mixq_lane_init_widened) */
    int64_t p = (int64_t)(((uint64_t)lane->round_hi << 32) | lane->round_lo) + (int64_t)acc * lane->multiplier;
    int32_t r = ((int32_t)(p >> 32) >> lane->shift) + zy;
    return (uint32_t)(r < 0 ? 0 : (r > qmax ? qmax : r));
}

/* Clamps to 0..2^bits-1 with one USAT when `bits` is a constant after inlining. */
MIXQ_INLINE uint32_t mixq_clamp_bits(int32_t r, const uint32_t bits)
{
    if (bits == 8) return (uint32_t)__usat(r, 8);
    if (bits == 4) return (uint32_t)__usat(r, 4);
    return (uint32_t)__usat(r, 2);
}

/* mixq_lane_output for a lane with N0 >= 1 (lane->general == 0) and constant output bits:
 * bias add, SMLAL, ASR, zero-point add, USAT. */
MIXQ_INLINE uint32_t mixq_lane_output_fast(const mixq_lane *lane, int32_t acc, int32_t zy, const uint32_t bits)
{
    acc = (int32_t)((uint32_t)acc + (uint32_t)lane->bias);
    int64_t p = (int64_t)(((uint64_t)lane->round_hi << 32) | lane->round_lo) + (int64_t)acc * lane->multiplier;
    return mixq_clamp_bits(((int32_t)(p >> 32) >> lane->shift) + zy, bits);
}

/* mixq_lane_output_fast for lanes that may be widened (pre_shift > 0): one LSL more. Gives the
 * same as mixq_lane_output_fast for pre_shift = 0. */
MIXQ_INLINE uint32_t mixq_lane_output_shifted(const mixq_lane *lane, int32_t acc, int32_t zy, const uint32_t bits)
{
    acc = (int32_t)(((uint32_t)acc + (uint32_t)lane->bias) << lane->pre_shift);
    int64_t p = (int64_t)(((uint64_t)lane->round_hi << 32) | lane->round_lo) + (int64_t)acc * lane->multiplier;
    return mixq_clamp_bits(((int32_t)(p >> 32) >> lane->shift) + zy, bits);
}

/* ---- sequential packed writer ------------------------------------------------------------ */

/* Writes consecutive elements of a packed tensor from element `first` on. A byte shared with
 * elements the writer does not own is read-modify-written, so two writers may fill
 * neighbouring ranges in any order. Call mixq_writer_finish() after the last element. */
typedef struct {
    uint8_t *byte;
    uint32_t acc, mask, used, bits, qmax;
} mixq_writer;

MIXQ_INLINE void mixq_writer_init(mixq_writer *w, uint8_t *base, uint32_t first, uint32_t bits)
{
    uint32_t bit = first * bits;
    w->byte = base + (bit >> 3);
    w->used = bit & 7;
    w->acc = 0;
    w->mask = 0;
    w->bits = bits;
    w->qmax = (1u << bits) - 1;
}

MIXQ_INLINE void mixq_writer_flush(mixq_writer *w)
{
    if (w->mask == 0xFFu) {
        *w->byte = (uint8_t)w->acc;
    } else if (w->mask != 0) {
        *w->byte = (uint8_t)((*w->byte & ~w->mask) | w->acc);
    }
    w->acc = 0;
    w->mask = 0;
}

MIXQ_INLINE void mixq_writer_push(mixq_writer *w, uint32_t value)
{
    if (w->bits == 8) {
        *w->byte++ = (uint8_t)value;
        return;
    }
    w->acc |= value << w->used;
    w->mask |= w->qmax << w->used;
    w->used += w->bits;
    if (w->used == 8) {
        mixq_writer_flush(w);
        w->byte++;
        w->used = 0;
    }
}

/* Flushes a partially filled last byte, preserving the bits the writer does not own. */
MIXQ_INLINE void mixq_writer_finish(mixq_writer *w)
{
    mixq_writer_flush(w);
}

/* Zeroes the unused bits of the last byte of a packed tensor of `count` elements. */
MIXQ_INLINE void mixq_clear_tail(uint8_t *base, uint32_t count, uint32_t bits)
{
    uint32_t bit = count * bits;
    if (bit & 7) base[bit >> 3] &= (uint8_t)((1u << (bit & 7)) - 1);
}

/* ---- DSP helpers --------------------------------------------------------------------------- */

/* UXTB16 with the operand rotated right by 8: bytes 1 and 3 zero-extended into two halfwords.
 * One instruction (the rotation is part of UXTB16's operand), written as inline assembly
 * because GCC does not fuse __ror() into the intrinsic. */
MIXQ_INLINE uint32_t mixq_uxtb16_ror8(uint32_t x)
{
    uint32_t r;
    __asm__("uxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

MIXQ_INLINE uint32_t mixq_load_word(const void *p)
{
    uint32_t v;
    memcpy(&v, p, 4);   /* one LDR: the Cortex-M7 allows unaligned word loads */
    return v;
}

#endif /* MIXQ_COMMON_H */
