// TFLite's integer arithmetic for int8/uint8 models, written from its public descriptions:
// - TensorFlow Lite 8-bit quantization specification (https://ai.google.dev/edge/litert/models/quantization_spec):
//   real = scale * (q - zero_point); int8 weights symmetric, per channel for convolutions;
//   int32 bias with scale input_scale * weight_scale and zero point 0.
// - Jacob et al., "Quantization and Training of Neural Networks for Efficient Integer-Arithmetic-Only
//   Inference", CVPR 2018, section 2.2: M = 2^-n * M0 with M0 in [0.5, 1) as an int32, applied as a
//   saturating rounding doubling high multiply followed by a rounding right shift.
// - gemmlowp's fixed-point documentation (doc/quantization.md, fixedpoint/fixedpoint.h): the
//   SaturatingRoundingDoublingHighMul and RoundingDivideByPOT definitions, Q-format fixed point.
// docs/design.md#tflite-arithmetic summarises the formulas.

/// The data type of a TFLite tensor MixQ reads: signed int8 or unsigned uint8.
///
/// MixQ stores both as unsigned codes (docs/design.md#network-graph): an int8 value `q` with zero
/// point `z` is code `q + 128` with zero point `z + 128`, so `x - zx` does not change. Only the
/// few steps that work on the raw value itself (the rounding of an average) need the offset.
public enum TFLiteTensorType: String, Sendable, Codable, CaseIterable {
    case int8
    case uint8

    /// What is added to a stored value to get MixQ's unsigned code: 128 for int8, 0 for uint8.
    public var codeOffset: Int { self == .int8 ? 128 : 0 }
}

/// A fused activation of a TFLite op (`ActivationFunctionType` in TFLite's schema.fbs).
public enum TFLiteActivation: String, Sendable, Codable, CaseIterable {
    case none = "NONE"
    case relu = "RELU"
    case reluN1To1 = "RELU_N1_TO_1"
    case relu6 = "RELU6"

    /// The output clamp, in unsigned codes, that this activation leaves for an output with `scale`
    /// and code zero point `zeroPoint`: the real bounds (0 for RELU, [0, 6] for RELU6, [-1, 1] for
    /// RELU_N1_TO_1) quantized as `zeroPoint + round(bound / scale)` (the division in float32,
    /// rounding half away from zero) and intersected with `0...255`.
    public func outputRange(scale: Float, zeroPoint: Int) -> ClosedRange<Int> {
        func quantize(_ bound: Float) -> Int {
            let q = (bound / scale).rounded(.toNearestOrAwayFromZero)
            guard q.isFinite else { return q > 0 ? Int(Int32.max) : Int(Int32.min) }
            return zeroPoint + Int(max(min(q, 2e9), -2e9))
        }
        var low = 0, high = 255
        switch self {
        case .none: break
        case .relu: low = max(low, quantize(0))
        case .relu6: low = max(low, quantize(0)); high = min(high, quantize(6))
        case .reluN1To1: low = max(low, quantize(-1)); high = min(high, quantize(1))
        }
        // A degenerate range (possible only with absurd scales) collapses onto its lower end.
        return low...max(low, min(high, 255))
    }
}

/// TFLite's fixed-point primitives (gemmlowp's definitions), each exact on every `Int32` input.
public enum TFLiteArithmetic {
    /// `a * b / 2^31` rounded to nearest (the high word of the doubled product): `(a * b + nudge) / 2^31`
    /// with `nudge = 2^30` for a non-negative product and `1 - 2^30` otherwise, the division
    /// truncating toward zero, so ties go away from zero for positive products and toward zero for
    /// negative ones (1.5 -> 2, -1.5 -> -1). The one overflowing case, `a == b == Int32.min`,
    /// saturates to `Int32.max`.
    @inlinable
    public static func saturatingRoundingDoublingHighMultiply(_ a: Int32, _ b: Int32) -> Int32 {
        if a == Int32.min && b == Int32.min { return Int32.max }
        let product = Int64(a) * Int64(b)
        let nudge: Int64 = product >= 0 ? 1 << 30 : 1 - (1 << 30)
        return Int32(truncatingIfNeeded: (product + nudge) / (1 << 31))
    }

    /// `x / 2^exponent` rounded to nearest, ties away from zero (`exponent` in `0...31`): the
    /// arithmetic shift plus one when the remainder exceeds half (half included for negative `x`).
    @inlinable
    public static func roundingDivideByPowerOfTwo(_ x: Int32, _ exponent: Int) -> Int32 {
        let mask = Int32(truncatingIfNeeded: (Int64(1) << exponent) - 1)
        let remainder = x & mask
        let threshold = (mask >> 1) + (x < 0 ? 1 : 0)
        return (x >> Int32(exponent)) + (remainder > threshold ? 1 : 0)
    }

    /// `x * 2^exponent` for `exponent >= 0`, saturated to the `Int32` range (gemmlowp's
    /// SaturatingRoundingMultiplyByPOT with a positive exponent).
    @inlinable
    public static func saturatingShiftLeft(_ x: Int32, _ exponent: Int) -> Int32 {
        let wide = Int64(x) << exponent
        return Int32(max(min(wide, Int64(Int32.max)), Int64(Int32.min)))
    }

    /// Effective scale of an int8 convolution or depthwise convolution (per channel) and of every
    /// fully connected layer in LiteRT's reference kernels: `double(input) * double(weight) /
    /// double(output)`, every factor widened to double first, so the product of the two float32
    /// scales is exact.
    public static func perChannelScale(input: Float, weight: Float, output: Float) -> Double {
        Double(input) * Double(weight) / Double(output)
    }

    /// Effective scale of a per-tensor layer as TFLite forms it for uint8 convolutions and depthwise
    /// convolutions (and, in TFLite's optimised integer kernels only, per-tensor fully connected
    /// layers): the product `input * weight` in float32 (rounded to float), then widened and
    /// divided by the output scale in double. This can differ from `perChannelScale` in the last
    /// bit of the multiplier.
    public static func perTensorScale(input: Float, weight: Float, output: Float) -> Double {
        Double(input * weight) / Double(output)
    }
}

extension FixedPointMultiplier {
    /// TFLite's decomposition of a real scale (Jacob et al. 2018, section 2.2): `scale = f * 2^e`
    /// with `f` in `[0.5, 1)` (frexp), `M0 = round(f * 2^31)` rounding half away from zero,
    /// `M0 = 2^31` renormalised to `2^30` with `e + 1`. Edge cases as TFLite: `e < -31` (a scale
    /// below about `2^-32`) gives `M0 = 0, e = 0`; `e > 30` saturates to `M0 = 2^31 - 1, e = 30`.
    /// Stored with `N0 = -e`, so `scale = M0 * 2^-(31 + N0)` as for every `FixedPointMultiplier`;
    /// a negative `N0` is TFLite's left shift (`tfliteShift > 0`).
    /// - Throws: `QuantizationError` when the scale is negative or not finite.
    public static func tflite(scale: Double) throws -> FixedPointMultiplier {
        guard scale.isFinite else { throw QuantizationError.notFinite(what: "TFLite requantization scale") }
        guard scale >= 0 else { throw QuantizationError.scaleOutOfRange(scale) }
        if scale == 0 { return try FixedPointMultiplier(multiplier: 0, shift: 0) }
        // scale = f * 2^e, f in [0.5, 1): Double.exponent is floor(log2), so e = exponent + 1.
        var e = Int(scale.exponent) + 1
        var q = (scale * pow2(31 - e)).rounded(.toNearestOrAwayFromZero)
        if q == pow2(31) {
            q /= 2
            e += 1
        }
        if e < -31 { return try FixedPointMultiplier(multiplier: 0, shift: 0) }
        if e > 30 { return try FixedPointMultiplier(multiplier: Int32.max, shift: -30) }
        return try FixedPointMultiplier(multiplier: Int32(q), shift: -e)
    }

    /// TFLite's shift: the exponent `e = -N0`, positive for a left shift.
    public var tfliteShift: Int { -shift }

    /// TFLite's MultiplyByQuantizedMultiplier (double rounding): `x` shifted left by
    /// `max(e, 0)` (wrapping like the int32 product TFLite computes), then the saturating rounding
    /// doubling high multiply by `M0`, then the rounding divide by `2^max(-e, 0)`.
    @inlinable
    public func tfliteScaled(_ x: Int32) -> Int32 {
        let e = -shift
        let left = max(e, 0), right = max(-e, 0)
        let shifted = x &* Int32(truncatingIfNeeded: Int64(1) << left)
        let high = TFLiteArithmetic.saturatingRoundingDoublingHighMultiply(shifted, multiplier)
        return TFLiteArithmetic.roundingDivideByPowerOfTwo(high, right)
    }
}
