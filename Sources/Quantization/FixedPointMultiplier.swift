/// A real requantization scale as an integer multiplier `M0` (Q31) and a shift `N0`.
///
/// Represents `scale = M0 * 2^-(31 + N0)`. For a normal scale `|M0|` is in `[2^30, 2^31)`
/// (that is, `[0.5, 1)` in Q31) and carries the sign. Scales below `2^-32` are stored with
/// `N0 = 31` and a smaller ("denormal") `M0`, possibly 0.
///
/// # The rounding rule (the one place it is defined; firmware/kernels/mixq_common.h (mixq_requantize)
/// implements the same)
///
/// With `s = 31 + N0` (always in `1...62`):
///
///     p = Int64(acc) * Int64(M0) + 2^(s-1)     // exact: |acc * M0| < 2^62
///     r = p >> s                               // arithmetic shift = floor division by 2^s
///
/// so `r = floor(acc * M0 / 2^s + 1/2)`: round half up (toward positive infinity), for negative
/// products too (`-2.5 -> -2`, `-1.5 -> -1`, `2.5 -> 3`). There is never a left shift: `N0 < 0`
/// (a scale of 0.5 or more) only shortens the right shift, down to `s = 1`; scales of `2^30` or
/// more are rejected. `|acc * M0| < 2^62`, so `p` never overflows. On a
/// Cortex-M7 this is one SMLAL into a register pair preloaded with `2^(s-1)`, then, for the
/// usual `s >= 32`, one ASR of the high word by `s - 32`. The caller then adds the output
/// zero-point and clamps to the output's unsigned range, in 64-bit so nothing can overflow.
public struct FixedPointMultiplier: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// Q31 multiplier with sign; `|M0| < 2^31`.
    public let multiplier: Int32
    /// Extra right shift `N0` in `-30...31`; the total right shift is `31 + N0`.
    public let shift: Int

    /// Smallest and largest `N0`: keep the total shift `31 + N0` in `1...62`.
    public static let shiftRange = -30...31

    /// Creates a multiplier from its integer parts.
    /// - Throws: `QuantizationError.scaleOutOfRange` when `shift` is outside `shiftRange`
    ///   or `multiplier` is `Int32.min` (its magnitude is not below `2^31`).
    public init(multiplier: Int32, shift: Int) throws {
        guard Self.shiftRange.contains(shift), multiplier != Int32.min else {
            throw QuantizationError.scaleOutOfRange(Double(multiplier) * pow2(-(31 + shift)))
        }
        self.multiplier = multiplier
        self.shift = shift
    }

    /// Converts a real scale: `M0 = round(f * 2^31)` where `|scale| = f * 2^-N0`, `f` in `[0.5, 1)`.
    ///
    /// Rounding of `f * 2^31` is to nearest, ties away from zero; a result of `2^31` is
    /// renormalised to `2^30` with `N0 - 1`. Scales too small for `N0 <= 31` keep `N0 = 31`
    /// and a smaller `M0 = round(scale * 2^62)`.
    /// - Throws: `QuantizationError` when the scale is not finite or `|scale| >= 2^30`.
    public init(scale: Double) throws {
        guard scale.isFinite else { throw QuantizationError.notFinite(what: "requantization scale") }
        if scale == 0 {
            self.multiplier = 0
            self.shift = 0
            return
        }
        let magnitude = abs(scale)
        // magnitude = f * 2^e with f in [0.5, 1): Double.exponent gives magnitude = g * 2^x, g in [1, 2).
        var e = Int(magnitude.exponent) + 1
        var q = (magnitude * pow2(31 - e)).rounded(.toNearestOrAwayFromZero)
        if q >= pow2(31) {
            q /= 2
            e += 1
        }
        var n0 = -e
        if n0 > Self.shiftRange.upperBound {
            n0 = Self.shiftRange.upperBound
            q = (magnitude * pow2(62)).rounded(.toNearestOrAwayFromZero)
        }
        guard n0 >= Self.shiftRange.lowerBound else { throw QuantizationError.scaleOutOfRange(scale) }
        let signed = scale < 0 ? -Int64(q) : Int64(q)
        self.multiplier = Int32(signed)
        self.shift = n0
    }

    /// The real scale this pair represents exactly.
    public var scale: Double { Double(multiplier) * pow2(-(31 + shift)) }

    /// Total right shift `s = 31 + N0`, in `1...62`.
    public var totalShift: Int { 31 + shift }

    /// `floor(acc * M0 / 2^s + 1/2)`: the rounding rule above, exact for every `Int32` input.
    public func scaled(_ accumulator: Int32) -> Int64 {
        let s = totalShift
        let product = Int64(accumulator) * Int64(multiplier) + (Int64(1) << (s - 1))
        return product >> s
    }

    public var description: String { "M0=\(multiplier) N0=\(shift) (scale \(scale))" }
}

/// `2^n` for any integer `n` representable as a Double.
@inline(__always)
func pow2(_ n: Int) -> Double { Double(sign: .plus, exponent: n, significand: 1) }
