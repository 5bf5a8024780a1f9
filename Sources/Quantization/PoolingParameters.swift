/// Integer parameters of a global average pooling layer.
///
/// Output channel `c`: `acc = bias + sum over all H*W pixels of (x - zx)` (int32), then
/// `y = clamp(M.scaled(acc) + zy, 0, 2^outputBits - 1)` with the rounding rule of
/// `FixedPointMultiplier`. `M` folds `1 / (H * W)` and the input/output scale ratio; `bias` is 0
/// for MixQ's own rounded average.
///
/// A file's truncating average (QONNX `Trunc` after an average pool, `floor(sum / 2^k)`) is the
/// same kernel with `M = 2^-k` exactly and `bias = -2^(k-1)`: `floor((acc - 2^(k-1)) / 2^k + 1/2)`
/// is `floor(acc / 2^k)` (`truncating(shift:offset:...)`).
public struct PoolingParameters: Equatable, Sendable {
    /// Folds `1 / (H * W)` and the input-to-output scale ratio.
    public let multiplier: FixedPointMultiplier
    /// Zero-point of the input activations.
    public let inputZeroPoint: Int
    /// Zero-point of the output activations.
    public let outputZeroPoint: Int
    /// Bits of the input activations.
    public let inputBits: BitWidth
    /// Bits of the output activations.
    public let outputBits: BitWidth
    /// Added to every channel's sum before requantization.
    public let bias: Int32

    /// Creates and validates pooling parameters.
    /// - Throws: `QuantizationError.zeroPointOutOfRange` when a zero-point does not fit its bits.
    public init(multiplier: FixedPointMultiplier, inputZeroPoint: Int, outputZeroPoint: Int,
                inputBits: BitWidth, outputBits: BitWidth, bias: Int32 = 0) throws {
        guard (0...inputBits.maxUnsigned).contains(inputZeroPoint) else {
            throw QuantizationError.zeroPointOutOfRange(inputZeroPoint, bits: inputBits)
        }
        guard (0...outputBits.maxUnsigned).contains(outputZeroPoint) else {
            throw QuantizationError.zeroPointOutOfRange(outputZeroPoint, bits: outputBits)
        }
        self.multiplier = multiplier
        self.inputZeroPoint = inputZeroPoint
        self.outputZeroPoint = outputZeroPoint
        self.inputBits = inputBits
        self.outputBits = outputBits
        self.bias = bias
    }

    /// How a truncating average rounds the sum divided by `2^shift`.
    public enum TruncationRounding: String, Sendable {
        /// Toward minus infinity (QONNX `FLOOR`, Brevitas' `TruncAvgPool2d` default).
        case floor
        /// Toward plus infinity (QONNX `CEIL`).
        case ceil
    }

    /// A truncating average: `y = clamp(round((sum + offset) / 2^shift) + zy)` with `round` the
    /// given `rounding`, exactly, in MixQ's pooling kernel (the multiplier is `2^-shift` and the
    /// bias shifts the half-up rounding of `FixedPointMultiplier` to a floor or a ceiling).
    /// - Parameters:
    ///   - offset: added to `sum (x - zx)` first (a file's zero-point in accumulator units).
    /// - Throws: `QuantizationError` when `shift` is outside `0...30` or a zero-point does not fit.
    public static func truncating(shift: Int, rounding: TruncationRounding, offset: Int32, inputZeroPoint: Int,
                                  outputZeroPoint: Int, inputBits: BitWidth, outputBits: BitWidth) throws -> PoolingParameters {
        guard (0...30).contains(shift) else { throw QuantizationError.scaleOutOfRange(pow2(-shift)) }
        // M = 2^-shift exactly: M0 = 2^30, N0 = shift - 1 (total right shift 30 + shift).
        let multiplier = try FixedPointMultiplier(multiplier: 1 << 30, shift: shift - 1)
        // Half up of (acc + b) / 2^k: b = -2^(k-1) gives the floor, b = 2^(k-1) - 1 the ceiling (k >= 1);
        // k = 0 divides by 1, exact either way.
        let half: Int32 = shift == 0 ? 0 : 1 << (shift - 1)
        let rounding: Int32 = shift == 0 ? 0 : (rounding == .floor ? -half : half - 1)
        let (bias, overflow) = offset.addingReportingOverflow(rounding)
        guard !overflow else {
            throw QuantizationError.invalidGeometry("a truncating average's offset \(offset) plus its rounding leaves int32")
        }
        return try PoolingParameters(multiplier: multiplier, inputZeroPoint: inputZeroPoint, outputZeroPoint: outputZeroPoint,
                                     inputBits: inputBits, outputBits: outputBits, bias: bias)
    }
}
