// TFLite's int8/uint8 ops on MixQ's unsigned codes, bit-exact with LiteRT's reference kernels
// (checked against them in Tests/QuantizationTests/TFLiteVectorTests.swift). Formulas and sources:
// docs/design.md#tflite-arithmetic and Sources/Quantization/TFLiteArithmetic.swift.

/// Which layer a TFLite multiplier is for: it decides in which precision TFLite forms the
/// effective scale from the float32 tensor scales (`TFLiteArithmetic.perChannelScale` /
/// `perTensorScale`).
public enum TFLiteLayerKind: String, Sendable, Codable {
    /// CONV_2D (standard or 1x1).
    case convolution
    /// DEPTHWISE_CONV_2D.
    case depthwiseConvolution
    /// FULLY_CONNECTED.
    case fullyConnected
}

extension RequantizationParameters {
    /// The parameters of a TFLite CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED layer with the
    /// `.tflite` rounding rule and its fused activation's clamp, for `ReferenceLayers.convolution`,
    /// `depthwiseConvolution` and `fullyConnected` on unsigned codes.
    ///
    /// Zero points are given as the file stores them (signed for int8) and converted to codes
    /// (`+ type.codeOffset`); weights must be passed to the layer as codes too (int8 symmetric
    /// weights: `w + 128` with weight zero point 128). What LiteRT's reference kernels do:
    /// - int8 convolution and depthwise: `.tflite` rounding with per-channel multipliers from
    ///   `double(S_in) * double(S_w[c]) / double(S_out)` (one weight scale is broadcast);
    /// - uint8 convolution and depthwise: `.tflite` rounding with one multiplier from
    ///   `double(float(S_in * S_w)) / double(S_out)`, the product rounded to float32 first;
    /// - fully connected (int8 and uint8, per-tensor or per-channel): `.tfliteFloatingPoint`,
    ///   `round(double(acc) * double(S_in) * double(S_w[c]) / double(S_out))` with the scale formed
    ///   first. `multipliers` then hold the same scales as `FixedPointMultiplier.tflite` for
    ///   runtimes that use TFLite's optimised integer path (TFLite Micro, CMSIS-NN).
    /// - Parameters:
    ///   - weightScales: one per output channel or one for the tensor.
    ///   - weightZeroPoints: one per output channel or one for the tensor (0 for int8 symmetric weights).
    ///   - bias: int32 bias per output channel (scale `S_in * S_w[c]`, zero point 0).
    /// - Throws: `QuantizationError` when the arrays disagree, a zero point does not fit `type`,
    ///   or a scale is not positive and finite.
    public static func tflite(_ kind: TFLiteLayerKind, type: TFLiteTensorType, inputScale: Float, inputZeroPoint: Int,
                              weightScales: [Float], weightZeroPoints: [Int], outputScale: Float,
                              outputZeroPoint: Int, bias: [Int32],
                              activation: TFLiteActivation) throws -> RequantizationParameters {
        let n = bias.count
        guard n > 0 else { throw QuantizationError.invalidGeometry("a layer needs at least one output channel") }
        guard weightScales.count == 1 || weightScales.count == n else {
            throw QuantizationError.sizeMismatch(what: "TFLite weight scales", expected: n, actual: weightScales.count)
        }
        guard weightZeroPoints.count == 1 || weightZeroPoints.count == n else {
            throw QuantizationError.sizeMismatch(what: "TFLite weight zero points", expected: n, actual: weightZeroPoints.count)
        }
        for s in weightScales + [inputScale, outputScale] where !(s.isFinite && s > 0) {
            throw QuantizationError.scaleOutOfRange(Double(s))
        }
        let perChannel = weightScales.count > 1 || (kind != .fullyConnected && type == .int8)
        let doubleProduct = perChannel || kind == .fullyConnected
        let reals = (0..<(perChannel ? n : 1)).map { c in
            let weightScale = weightScales.count == 1 ? weightScales[0] : weightScales[c]
            return doubleProduct
                ? TFLiteArithmetic.perChannelScale(input: inputScale, weight: weightScale, output: outputScale)
                : TFLiteArithmetic.perTensorScale(input: inputScale, weight: weightScale, output: outputScale)
        }
        let multipliers = try reals.map { try FixedPointMultiplier.tflite(scale: $0) }
        let zeroCodes = weightZeroPoints.map { $0 + type.codeOffset }
        let sameMultiplier = multipliers.allSatisfy { $0 == multipliers[0] } && reals.allSatisfy { $0 == reals[0] }
        let sameZero = zeroCodes.allSatisfy { $0 == zeroCodes[0] }
        let flavour: RequantizationFlavour = !sameZero ? .perChannelICN : (sameMultiplier ? .perLayerFolded : .perLayerICN)
        let zeros = flavour == .perChannelICN ? (zeroCodes.count == n ? zeroCodes : Array(repeating: zeroCodes[0], count: n))
            : [zeroCodes[0]]
        let stored = flavour == .perLayerFolded ? [multipliers[0]]
            : (multipliers.count == n ? multipliers : Array(repeating: multipliers[0], count: n))
        let storedReals = flavour == .perLayerFolded ? [reals[0]] : (reals.count == n ? reals : Array(repeating: reals[0], count: n))
        let outputCode = outputZeroPoint + type.codeOffset
        return try RequantizationParameters(
            flavour: flavour, bias: bias, multipliers: stored, weightZeroPoints: zeros,
            inputZeroPoint: inputZeroPoint + type.codeOffset, outputZeroPoint: outputCode,
            inputBits: .eight, weightBits: .eight, outputBits: .eight,
            rounding: kind == .fullyConnected ? .tfliteFloatingPoint : .tflite,
            outputRange: activation.outputRange(scale: outputScale, zeroPoint: outputCode),
            realScales: kind == .fullyConnected ? storedReals : [])
    }
}

/// AVERAGE_POOL_2D and MAX_POOL_2D of a TFLite file. Input and output share one scale and zero
/// point (TFLite requires it), so pooling does not rescale.
public struct TFLitePoolParameters: Equatable, Sendable {
    public enum Kind: String, Equatable, Sendable, Codable {
        /// The mean of the valid window positions (padding is not counted).
        case average
        /// The maximum of the valid window positions.
        case maximum
    }

    public let kind: Kind
    /// The file's tensor type: the average rounds the file's raw values, so it needs the code offset.
    public let type: TFLiteTensorType
    /// The fused activation's clamp in codes (`TFLiteActivation.outputRange`).
    public let outputRange: ClosedRange<Int>

    /// - Parameters:
    ///   - scale, zeroPoint: the tensor's quantization (zero point as the file stores it), for the clamp.
    public init(kind: Kind, type: TFLiteTensorType, scale: Float, zeroPoint: Int, activation: TFLiteActivation) {
        self.kind = kind
        self.type = type
        self.outputRange = activation.outputRange(scale: scale, zeroPoint: zeroPoint + type.codeOffset)
    }
}

/// ADD of two tensors of one shape, each with its own scale and zero point (TFLite's rescaling:
/// both inputs to a common scale `2 * max(S1, S2) / 2^20`, then to the output).
///
///     a' = RDBP(SRDHM((a - za) << 20, M1), -e1)       M1 * 2^e1 = S1 / (2 max(S1, S2))
///     b' = RDBP(SRDHM((b - zb) << 20, M2), -e2)       M2 * 2^e2 = S2 / (2 max(S1, S2))
///     y  = clamp(RDBP(SRDHM(a' + b', Mo), -eo) + zy)  Mo * 2^eo = 2 max(S1, S2) / (2^20 S_out)
///
/// with SRDHM the saturating rounding doubling high multiply and RDBP the rounding divide by a power
/// of two (`TFLiteArithmetic`); every multiplier is below 1 (no left shift).
public struct TFLiteAddParameters: Equatable, Sendable {
    /// TFLite's left shift of both inputs before rescaling (20 for 8-bit outputs).
    public static let leftShift = 20

    public let input1Multiplier: FixedPointMultiplier
    public let input2Multiplier: FixedPointMultiplier
    public let outputMultiplier: FixedPointMultiplier
    /// Zero points as codes.
    public let input1ZeroPoint: Int
    public let input2ZeroPoint: Int
    public let outputZeroPoint: Int
    /// The fused activation's clamp in codes.
    public let outputRange: ClosedRange<Int>

    /// Forms the multipliers as TFLite does: `twice = 2 * max(S1, S2)` (exact in float32), each
    /// real multiplier a double division of the float32 scales.
    /// - Throws: `QuantizationError.scaleOutOfRange` when a scale is not positive and finite or a
    ///   multiplier is not below 1 (an output scale below `2 max(S1, S2) / 2^20`, which TFLite rejects too).
    public init(type: TFLiteTensorType, input1Scale: Float, input1ZeroPoint: Int, input2Scale: Float,
                input2ZeroPoint: Int, outputScale: Float, outputZeroPoint: Int, activation: TFLiteActivation) throws {
        for s in [input1Scale, input2Scale, outputScale] where !(s.isFinite && s > 0) {
            throw QuantizationError.scaleOutOfRange(Double(s))
        }
        let twice = Double(2 * max(input1Scale, input2Scale))
        func belowOne(_ real: Double) throws -> FixedPointMultiplier {
            guard real < 1 else { throw QuantizationError.scaleOutOfRange(real) }
            return try FixedPointMultiplier.tflite(scale: real)
        }
        input1Multiplier = try belowOne(Double(input1Scale) / twice)
        input2Multiplier = try belowOne(Double(input2Scale) / twice)
        outputMultiplier = try belowOne(twice / Double(Float(1 << Self.leftShift) * outputScale))
        self.input1ZeroPoint = input1ZeroPoint + type.codeOffset
        self.input2ZeroPoint = input2ZeroPoint + type.codeOffset
        self.outputZeroPoint = outputZeroPoint + type.codeOffset
        outputRange = activation.outputRange(scale: outputScale, zeroPoint: outputZeroPoint + type.codeOffset)
    }

    /// One output code from two input codes.
    @inlinable
    public func output(_ a: Int, _ b: Int) -> Int {
        let x = Int32(truncatingIfNeeded: a - input1ZeroPoint) << Int32(Self.leftShift)
        let y = Int32(truncatingIfNeeded: b - input2ZeroPoint) << Int32(Self.leftShift)
        let sum = input1Multiplier.tfliteScaled(x) &+ input2Multiplier.tfliteScaled(y)
        let r = Int(outputMultiplier.tfliteScaled(sum)) + outputZeroPoint
        return min(max(r, outputRange.lowerBound), outputRange.upperBound)
    }
}

/// SOFTMAX of an int8 or uint8 TFLite file (output scale 1/256, zero point -128 for int8, 0 for
/// uint8), as LiteRT's reference resolver computes it: LiteRT's quantized softmax (one kernel for
/// every resolver, BUILTIN_REF included) works in float32 with a 256-entry table of exponentials,
///
///     table[255 - v] = expf(float(-S_in * beta) * float(v))       v = 0...255
///     e(x)  = table[255 + x - max]                                 x - max in -255...0
///     sum   = e(x_0) + e(x_1) + ...                                float32, in element order
///     inv   = 1 / (sum * S_out)                                    float32
///     y     = round(e(x) * inv) + z_out,  clamped to the type's range
///
/// where `round` is half away from zero for int8 and `int(p + 0.5f)` for uint8 (x86-64 builds;
/// on AArch64 builds uint8 rounds like int8). The tests check it against LiteRT on edge inputs.
public struct TFLiteSoftmaxParameters: Equatable, Sendable {
    /// The 256 exponentials, as the kernels take them (so host and target share one `expf`).
    public let table: [Float]
    public let type: TFLiteTensorType
    /// The output scale (1/256 in every converted file).
    public let outputScale: Float
    /// The output zero point as a code (0 for both types).
    public let outputZeroPoint: Int

    /// - Throws: `QuantizationError.scaleOutOfRange` for a scale that is not positive and finite.
    public init(type: TFLiteTensorType, inputScale: Float, beta: Float, outputScale: Float, outputZeroPoint: Int) throws {
        for s in [inputScale, outputScale] where !(s.isFinite && s > 0) { throw QuantizationError.scaleOutOfRange(Double(s)) }
        guard beta.isFinite else { throw QuantizationError.notFinite(what: "softmax beta") }
        let scale = -inputScale * beta
        var table = [Float](repeating: 0, count: 256)
        for v in 0...255 { table[255 - v] = exponential(scale * Float(v)) }
        self.table = table
        self.type = type
        self.outputScale = outputScale
        self.outputZeroPoint = outputZeroPoint + type.codeOffset
    }
}

/// TFLite's pooling, ADD and SOFTMAX on unsigned codes (convolutions, depthwise and fully
/// connected layers are `ReferenceLayers` with `RequantizationParameters.tflite`).
public enum TFLiteLayers {
    /// AVERAGE_POOL_2D or MAX_POOL_2D over `geometry`'s windows (kernel = window, output channels =
    /// input channels, padding as the file's SAME/VALID gives it; padded positions are skipped).
    /// The average sums the file's raw values `s` of the valid positions (count `n`) and rounds
    /// `s / n` half away from zero: `(s + n/2) / n` for `s > 0`, `(s - n/2) / n` otherwise,
    /// the division truncating.
    /// - Throws: `QuantizationError` when the input size disagrees with the geometry or a code is
    ///   not a byte.
    public static func pool(input: [Int], geometry g: ConvolutionGeometry, parameters p: TFLitePoolParameters) throws -> [Int] {
        guard g.outputChannels == g.inputChannels else {
            throw QuantizationError.invalidGeometry("pooling keeps the channels (\(g.inputChannels) in, \(g.outputChannels) out)")
        }
        try ReferenceLayers.check(input, count: g.inputElements, bits: .eight, what: "pooling input")
        let offset = p.type.codeOffset
        let channels = g.inputChannels
        var output = [Int](repeating: 0, count: g.outputElements)
        var o = 0
        for oy in 0..<g.outputHeight {
            for ox in 0..<g.outputWidth {
                let y0 = max(oy * g.strideHeight - g.padTop, 0), y1 = min(oy * g.strideHeight - g.padTop + g.kernelHeight, g.inputHeight)
                let x0 = max(ox * g.strideWidth - g.padLeft, 0), x1 = min(ox * g.strideWidth - g.padLeft + g.kernelWidth, g.inputWidth)
                for c in 0..<channels {
                    var sum = 0, count = 0, maximum = 0
                    for iy in y0..<max(y0, y1) {
                        for ix in x0..<max(x0, x1) {
                            let x = input[(iy * g.inputWidth + ix) * channels + c]
                            sum += x - offset
                            maximum = max(maximum, x)
                            count += 1
                        }
                    }
                    let r: Int
                    switch p.kind {
                    case .maximum:
                        r = maximum
                    case .average:
                        guard count > 0 else { throw QuantizationError.invalidGeometry("a pooling window covers no input") }
                        r = (sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count) + offset
                    }
                    output[o] = min(max(r, p.outputRange.lowerBound), p.outputRange.upperBound)
                    o += 1
                }
            }
        }
        return output
    }

    /// ADD of two code tensors of one shape.
    /// - Throws: `QuantizationError` when the sizes differ or a code is not a byte.
    public static func add(_ a: [Int], _ b: [Int], parameters p: TFLiteAddParameters) throws -> [Int] {
        try ReferenceLayers.check(a, count: a.count, bits: .eight, what: "add input 1")
        try ReferenceLayers.check(b, count: a.count, bits: .eight, what: "add input 2")
        return zip(a, b).map { p.output($0, $1) }
    }

    /// SOFTMAX over the innermost `depth` codes of `input` (every row separately).
    /// - Throws: `QuantizationError` when `depth` does not divide the input or a code is not a byte.
    public static func softmax(input: [Int], depth: Int, parameters p: TFLiteSoftmaxParameters) throws -> [Int] {
        guard depth > 0, input.count % depth == 0 else {
            throw QuantizationError.sizeMismatch(what: "softmax rows of \(depth)", expected: max(depth, 1), actual: input.count)
        }
        try ReferenceLayers.check(input, count: input.count, bits: .eight, what: "softmax input")
        var output = [Int](repeating: 0, count: input.count)
        for row in stride(from: 0, to: input.count, by: depth) {
            let values = input[row..<(row + depth)]
            let top = values.max() ?? 0
            var sum: Float = 0
            for x in values { sum += p.table[255 + x - top] }
            let inverse = 1 / (sum * p.outputScale)
            for (k, x) in values.enumerated() {
                let probability = p.table[255 + x - top] * inverse
                let rounded: Float = p.type == .int8 ? probability.rounded(.toNearestOrAwayFromZero)
                    : (probability + 0.5).rounded(.towardZero)
                let q = Int(max(min(rounded, 1e6), -1e6)) + p.outputZeroPoint
                output[row + k] = min(max(q, 0), 255)
            }
        }
        return output
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `expf` of the C library (the float32 exponential TFLite's table uses).
@inline(__always) func exponential(_ x: Float) -> Float { expf(x) }

/// A TFLite op's padding (`Padding` in TFLite's schema.fbs).
public enum TFLitePadding: String, Sendable, Codable {
    /// Output `ceil(in / stride)`; total padding `max((out - 1) * stride + kernel - in, 0)`, the
    /// smaller half before.
    case same = "SAME"
    /// No padding: output `(in - kernel) / stride + 1`.
    case valid = "VALID"
}

extension ConvolutionGeometry {
    /// The geometry of a TFLite convolution, depthwise convolution or pooling window (dilation 1).
    /// - Throws: `QuantizationError.invalidGeometry` as `init` does (a VALID kernel larger than the input).
    public static func tflite(inputHeight: Int, inputWidth: Int, inputChannels: Int, outputChannels: Int,
                              kernelHeight: Int, kernelWidth: Int, strideHeight: Int, strideWidth: Int,
                              padding: TFLitePadding) throws -> ConvolutionGeometry {
        guard strideHeight > 0, strideWidth > 0, kernelHeight > 0, kernelWidth > 0 else {
            throw QuantizationError.invalidGeometry("kernel and stride must be positive")
        }
        func pads(_ size: Int, _ kernel: Int, _ stride: Int) -> (Int, Int) {
            guard padding == .same else { return (0, 0) }
            let out = (size + stride - 1) / stride
            let total = max((out - 1) * stride + kernel - size, 0)
            return (total / 2, total - total / 2)
        }
        let (top, bottom) = pads(inputHeight, kernelHeight, strideHeight)
        let (left, right) = pads(inputWidth, kernelWidth, strideWidth)
        return try ConvolutionGeometry(inputHeight: inputHeight, inputWidth: inputWidth, inputChannels: inputChannels,
                                       outputChannels: outputChannels, kernelHeight: kernelHeight, kernelWidth: kernelWidth,
                                       strideHeight: strideHeight, strideWidth: strideWidth, padTop: top, padLeft: left,
                                       padBottom: bottom, padRight: right)
    }
}
