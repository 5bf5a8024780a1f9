/// Integer parameters of a global average pooling layer.
///
/// Output channel `c`: `acc = sum over all H*W pixels of (x - zx)` (int32), then
/// `y = clamp(M.scaled(acc) + zy, 0, 2^outputBits - 1)` with the rounding rule of
/// `FixedPointMultiplier`. `M` folds `1 / (H * W)` and the input/output scale ratio.
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

    /// Creates and validates pooling parameters.
    /// - Throws: `QuantizationError.zeroPointOutOfRange` when a zero-point does not fit its bits.
    public init(multiplier: FixedPointMultiplier, inputZeroPoint: Int, outputZeroPoint: Int,
                inputBits: BitWidth, outputBits: BitWidth) throws {
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
    }
}
