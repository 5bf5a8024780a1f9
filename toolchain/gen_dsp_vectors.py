#!/usr/bin/env python3
"""Generates firmware/tests/dsp_selftest_vectors.h: inputs and expected results for the DSP/SIMD
instruction self-test, computed on the host from the instruction definitions in the ARMv7-M
Architecture Reference Manual (DDI 0403E, section A7.7), independently of any emulator.

Run:  python3 toolchain/gen_dsp_vectors.py > firmware/tests/dsp_selftest_vectors.h
Deterministic (fixed seed); the generated header is committed.
"""
import random
import struct
from fractions import Fraction

M32 = 0xFFFFFFFF
rng = random.Random(20261125)


def s16(x):
    x &= 0xFFFF
    return x - 0x10000 if x & 0x8000 else x


def s8(x):
    x &= 0xFF
    return x - 0x100 if x & 0x80 else x


def s32(x):
    x &= M32
    return x - (1 << 32) if x & 0x80000000 else x


def lo(x):
    return s16(x)


def hi(x):
    return s16(x >> 16)


def ror(x, r):
    x &= M32
    return ((x >> r) | (x << (32 - r))) & M32 if r else x


def sat_signed(v, n):
    top, bottom = (1 << (n - 1)) - 1, -(1 << (n - 1))
    return max(bottom, min(top, v))


def sat_unsigned(v, n):
    return max(0, min((1 << n) - 1, v))


def word():
    """Random words with extra weight on edge values (sign bits, saturation boundaries)."""
    pick = rng.random()
    if pick < 0.2:
        return rng.choice([0, 1, M32, 0x7FFFFFFF, 0x80000000, 0x7FFF7FFF, 0x80008000, 0x00FF00FF, 0xFF00FF00, 0x80807F7F])
    return rng.getrandbits(32)


def small_acc():
    return rng.getrandbits(32)


# Each op: name, number of inputs, function of the inputs -> expected 32-bit result(s).
def smlad(a, b, c):  # A7.7.134 SMLAD: Rd = Ra + Rn.lo*Rm.lo + Rn.hi*Rm.hi (wraps; Q flag aside)
    return (lo(a) * lo(b) + hi(a) * hi(b) + c) & M32


def smladx(a, b, c):  # SMLADX: Rm halves exchanged
    return (lo(a) * hi(b) + hi(a) * lo(b) + c) & M32


def sxtb16(rot):  # A7.7.181 SXTB16: sign-extend bytes 0 and 2 of ROR(Rm, rot)
    def f(a):
        r = ror(a, rot)
        return ((s8(r) & 0xFFFF) | ((s8(r >> 16) & 0xFFFF) << 16)) & M32
    return f


def uxtb16(rot):  # A7.7.221 UXTB16: zero-extend bytes 0 and 2 of ROR(Rm, rot)
    def f(a):
        r = ror(a, rot)
        return (r & 0xFF) | (r & 0xFF0000)
    return f


def ssat(n, shift):  # A7.7.139 SSAT Rd, #n, Rm, LSL #shift
    return lambda a: sat_signed(s32(a << shift), n) & M32


def usat(n, shift):  # A7.7.211 USAT Rd, #n, Rm, LSL #shift
    return lambda a: sat_unsigned(s32(a << shift), n) & M32


def pkhbt(shift):  # A7.7.91 PKHBT Rd, Rn, Rm, LSL #shift
    return lambda a, b: (a & 0xFFFF) | ((b << shift) & 0xFFFF0000)


def pkhtb(shift):  # PKHTB Rd, Rn, Rm, ASR #shift
    return lambda a, b: (a & 0xFFFF0000) | ((s32(b) >> shift) & 0xFFFF)


def sadd16(a, b):  # A7.7.119 SADD16: halfword adds, wrapping
    return ((lo(a) + lo(b)) & 0xFFFF) | (((hi(a) + hi(b)) & 0xFFFF) << 16)


def qadd16(a, b):  # A7.7.101 QADD16: saturating halfword adds
    return (sat_signed(lo(a) + lo(b), 16) & 0xFFFF) | ((sat_signed(hi(a) + hi(b), 16) & 0xFFFF) << 16)


def sadd16_sel(a, b, c, d):
    """SADD16 a, b sets GE[1:0] when the low sum >= 0 and GE[3:2] when the high sum >= 0;
    then SEL Rd, c, d takes each byte from c where its GE bit is set, else from d (A7.7.123)."""
    ge_lo = lo(a) + lo(b) >= 0
    ge_hi = hi(a) + hi(b) >= 0
    mask = (0xFFFF if ge_lo else 0) | (0xFFFF0000 if ge_hi else 0)
    return (c & mask) | (d & ~mask & M32)


def smlabb(a, b, c):  # A7.7.133 SMLABB: Ra + Rn.lo * Rm.lo
    return (lo(a) * lo(b) + c) & M32


def smull(a, b):  # A7.7.149 SMULL: signed 64-bit product, (lo, hi)
    p = (s32(a) * s32(b)) & 0xFFFFFFFFFFFFFFFF
    return p & M32, p >> 32


def umull(a, b):  # A7.7.204 UMULL
    p = a * b
    return p & M32, p >> 32


def usad8(a, b):  # A7.7.215 USAD8: sum of absolute byte differences
    return sum(abs(((a >> (8 * i)) & 0xFF) - ((b >> (8 * i)) & 0xFF)) for i in range(4))


def clz(a):  # A7.7.24 CLZ
    return 32 - a.bit_length()


def it_clamp(a, b, c):
    """An IT block: signed clamp of a into [b, c] written as two ITs (see dsp_selftest.c)."""
    x = s32(a)
    if x < s32(b):
        x = s32(b)
    if x > s32(c):
        x = s32(c)
    return x & M32


# ---- float32 helpers: exact arithmetic on rationals, then correct round-to-nearest-even ----
def f32_bits_to_fraction(bits):
    (value,) = struct.unpack("<f", struct.pack("<I", bits))
    return Fraction(value)


def fraction_to_f32_bits(q):
    """Rounds a rational to the nearest float32 (ties to even); finite normal results only."""
    if q == 0:
        return 0
    sign = 0x80000000 if q < 0 else 0
    q = abs(q)
    exponent = 0
    while q >= 2:
        q /= 2
        exponent += 1
    while q < 1:
        q *= 2
        exponent -= 1
    assert -126 <= exponent <= 127, "keep the vectors in the normal range"
    scaled = q * (1 << 23)  # in [2^23, 2^24)
    whole = scaled.numerator // scaled.denominator
    remainder = scaled - whole
    if remainder > Fraction(1, 2) or (remainder == Fraction(1, 2) and whole & 1):
        whole += 1
    if whole == 1 << 24:
        whole >>= 1
        exponent += 1
    return sign | ((exponent + 127) << 23) | (whole & 0x7FFFFF)


def random_float():
    mantissa = rng.getrandbits(23)
    exponent = rng.randint(-20, 20)
    sign = rng.getrandbits(1) << 31
    return sign | ((exponent + 127) << 23) | mantissa


def vfma(a, b, c):  # VFMA.F32: c + a*b with a single rounding (A7.7.241)
    return fraction_to_f32_bits(f32_bits_to_fraction(c) + f32_bits_to_fraction(a) * f32_bits_to_fraction(b))


def vmul(a, b):
    return fraction_to_f32_bits(f32_bits_to_fraction(a) * f32_bits_to_fraction(b))


def vdiv(a, b):
    return fraction_to_f32_bits(f32_bits_to_fraction(a) / f32_bits_to_fraction(b))


def vsqrt(a):
    """Correctly rounded square root of |a|: bisect on the float32 grid (exact comparisons)."""
    q = abs(f32_bits_to_fraction(a))
    lo_bits, hi_bits = 0, 0x7F800000
    while hi_bits - lo_bits > 1:  # largest float32 whose square is <= q
        mid = (lo_bits + hi_bits) // 2
        if f32_bits_to_fraction(mid) ** 2 <= q:
            lo_bits = mid
        else:
            hi_bits = mid
    below, above = f32_bits_to_fraction(lo_bits), f32_bits_to_fraction(lo_bits + 1)
    # Compare q with the midpoint squared to round to nearest (a tie cannot occur for sqrt).
    midpoint = (below + above) / 2
    return lo_bits if q < midpoint * midpoint else lo_bits + 1


def vadd_f64(a, b):  # VADD.F64 on the two halves of a double: exact in Python's float (IEEE double)
    (x,) = struct.unpack("<d", struct.pack("<Q", a))
    (y,) = struct.unpack("<d", struct.pack("<Q", b))
    return struct.unpack("<Q", struct.pack("<d", x + y))[0]


def random_double():
    return struct.unpack("<Q", struct.pack("<d", rng.uniform(-1e6, 1e6)))[0]


COUNT = 12
tables = []


def table(name, arity, fn, gen=word, outputs=1):
    rows = []
    for _ in range(COUNT):
        args = [gen() for _ in range(arity)]
        result = fn(*args)
        results = list(result) if isinstance(result, tuple) else [result]
        assert len(results) == outputs
        rows.append(args + results)
    tables.append((name, arity, outputs, rows))


table("smlad", 3, smlad)
table("smladx", 3, smladx)
for rot in (0, 8, 16, 24):
    table(f"sxtb16_ror{rot}", 1, sxtb16(rot))
    table(f"uxtb16_ror{rot}", 1, uxtb16(rot))
table("ssat8", 1, ssat(8, 0))
table("ssat16_lsl3", 1, ssat(16, 3))
table("usat8", 1, usat(8, 0))
table("usat4_lsl2", 1, usat(4, 2))
table("pkhbt_lsl16", 2, pkhbt(16))
table("pkhbt_lsl0", 2, pkhbt(0))
table("pkhtb_asr16", 2, pkhtb(16))
table("pkhtb_asr8", 2, pkhtb(8))
table("sadd16", 2, sadd16)
table("qadd16", 2, qadd16)
table("sel_after_sadd16", 4, sadd16_sel)
table("smlabb", 3, smlabb)
table("smull", 2, smull, outputs=2)
table("umull", 2, umull, outputs=2)
table("usad8", 2, usad8)
table("clz", 1, clz)
table("it_clamp", 3, it_clamp)
table("vfma_f32", 3, vfma, gen=random_float)
table("vmul_f32", 2, vmul, gen=random_float)
table("vdiv_f32", 2, vdiv, gen=random_float)
table("vsqrt_f32", 1, lambda a: vsqrt(a & 0x7FFFFFFF), gen=random_float)


def emit():
    out = []
    out.append("/* Generated by toolchain/gen_dsp_vectors.py from the ARMv7-M ARM (DDI 0403E) definitions. */")
    out.append("/* Do not edit: rerun the script. Each row: inputs, then expected outputs. */")
    out.append("#ifndef DSP_SELFTEST_VECTORS_H")
    out.append("#define DSP_SELFTEST_VECTORS_H")
    out.append("#include <stdint.h>")
    out.append(f"#define DSP_VECTOR_COUNT {COUNT}")
    for name, arity, outputs, rows in tables:
        width = arity + outputs
        out.append(f"static const uint32_t vectors_{name}[{COUNT}][{width}] = {{")
        for row in rows:
            out.append("    {" + ", ".join(f"0x{v:08x}u" for v in row) + "},")
        out.append("};")
    rows64 = []
    for _ in range(COUNT):
        a, b = random_double(), random_double()
        rows64.append((a, b, vadd_f64(a, b)))
    out.append(f"static const uint64_t vectors_vadd_f64[{COUNT}][3] = {{")
    for row in rows64:
        out.append("    {" + ", ".join(f"0x{v:016x}ull" for v in row) + "},")
    out.append("};")
    out.append("#endif")
    print("\n".join(out))


emit()
