/// MEAN over height and width of a TFLite file (Keras' GlobalAveragePooling2D), as LiteRT's
/// reference kernel computes it for int8/uint8 tensors whose output quantization may differ from
/// the input's: the input-to-output scale `double(S_in) / double(S_out)` decomposed as every TFLite
/// multiplier (`FixedPointMultiplier.tflite`), then the division by the element count `n` folded
/// into it: `shift = min(floor(log2 n), 32, 31 + e)`, `M' = (M * 2^shift) / n` (integer division),
/// `e' = e - shift`; each output is `clamp(MultiplyByQuantizedMultiplier(sum(x - z_in), M', e') + z_out)`.
///
/// The fold was established against LiteRT 2.3's `OpResolverType.BUILTIN_REF` on converted Keras
/// models: dividing after the multiplier instead (the older description) differed on 6-20% of the
/// outputs. The Keras MobileNet fixture (Tests/ModelImportTests/TFLiteImporterTests.swift,
/// `mobilenet_v1_025_96_int8`) checks it end to end.
public struct TFLiteMeanParameters: Equatable, Sendable {
    /// `M'` and `e'`: the multiplier with the division by the element count folded in.
    public let multiplier: FixedPointMultiplier
    /// Input and output zero points, codes.
    public let inputZeroPoint: Int
    public let outputZeroPoint: Int
    /// Elements averaged per channel.
    public let elementCount: Int

    /// - Parameters: zero points as the file stores them (signed for int8), scales as float32.
    /// - Throws: `QuantizationError` for scales that are not positive and finite or an empty window.
    public init(type: TFLiteTensorType, elementCount n: Int, inputScale: Float, inputZeroPoint: Int, outputScale: Float,
                outputZeroPoint: Int) throws {
        for s in [inputScale, outputScale] where !(s.isFinite && s > 0) { throw QuantizationError.scaleOutOfRange(Double(s)) }
        guard n > 0, n < 1 << 30 else { throw QuantizationError.invalidGeometry("MEAN over \(n) elements") }
        let base = try FixedPointMultiplier.tflite(scale: Double(inputScale) / Double(outputScale))
        let e = base.tfliteShift
        let log2n = Int.bitWidth - 1 - n.leadingZeroBitCount
        let shift = min(log2n, 32, 31 + e)
        let folded = (Int64(base.multiplier) << Int64(max(shift, 0))) / Int64(n)
        guard shift >= 0, let m = Int32(exactly: folded) else {
            throw QuantizationError.scaleOutOfRange(Double(inputScale) / Double(outputScale) / Double(n))
        }
        multiplier = try FixedPointMultiplier(multiplier: m, shift: -(e - shift))
        self.inputZeroPoint = inputZeroPoint + type.codeOffset
        self.outputZeroPoint = outputZeroPoint + type.codeOffset
        elementCount = n
    }
}

extension TFLiteLayers {
    /// MEAN over the `pixels` pixels of a `pixels x channels` code tensor, one output per channel.
    /// - Throws: `QuantizationError` when the input size disagrees or a code is not a byte.
    public static func mean(input: [Int], pixels: Int, channels: Int, parameters p: TFLiteMeanParameters) throws -> [Int] {
        try ReferenceLayers.check(input, count: pixels * channels, bits: .eight, what: "MEAN input")
        return (0..<channels).map { c in
            var sum: Int32 = 0
            for pixel in 0..<pixels { sum = sum &+ Int32(input[pixel * channels + c] - p.inputZeroPoint) }
            let r = Int(p.multiplier.tfliteScaled(sum)) + p.outputZeroPoint
            return min(max(r, 0), 255)
        }
    }
}
