/// Host reference of every quantized layer the C kernels implement, bit for bit.
///
/// Tensors are arrays of unsigned element values (one `Int` per element, unpacked), HWC with
/// channels innermost; pack them with `BitPacking` for the target. Accumulation is int32 and
/// wraps modulo 2^32 exactly like the C kernels' (`&+`, `&*`), so any reordering of the sum
/// gives the same result; MobilenetV1 shapes never come close to wrapping.
///
/// One output of channel `c` (docs/design.md#quantization-arithmetic):
///
///     acc = bias[c] + sum_k (w_k - zw[c]) * (x_k - zx)
///     y   = clamp(M[c].scaled(acc) + zy, 0, 2^outputBits - 1)
///
/// (with the parameters' rounding rule and output range, `RequantizationParameters`), where padded input positions read as `zx` (they contribute 0).
public enum ReferenceLayers {
    /// Standard convolution. `weights` are `[outputChannels][kernelHeight][kernelWidth][inputChannels]`.
    /// - Throws: `QuantizationError` when sizes disagree with the geometry or a value does not fit its bits.
    public static func convolution(input: [Int], weights: [Int], geometry g: ConvolutionGeometry,
                                   parameters p: RequantizationParameters) throws -> [Int] {
        try check(input, count: g.inputElements, bits: p.inputBits, what: "convolution input")
        try check(weights, count: g.outputChannels * g.weightsPerOutputChannel, bits: p.weightBits,
                  what: "convolution weights")
        try checkChannels(p, g.outputChannels)
        let zx = Int32(p.inputZeroPoint)
        var output = [Int](repeating: 0, count: g.outputElements)
        var o = 0
        for oy in 0..<g.outputHeight {
            for ox in 0..<g.outputWidth {
                for c in 0..<g.outputChannels {
                    let zw = Int32(p.weightZeroPoint(channel: c))
                    var acc = p.bias[c]
                    for ky in 0..<g.kernelHeight {
                        let iy = oy * g.strideHeight + ky - g.padTop
                        guard iy >= 0, iy < g.inputHeight else { continue }
                        for kx in 0..<g.kernelWidth {
                            let ix = ox * g.strideWidth + kx - g.padLeft
                            guard ix >= 0, ix < g.inputWidth else { continue }
                            for ci in 0..<g.inputChannels {
                                let x = Int32(input[(iy * g.inputWidth + ix) * g.inputChannels + ci])
                                let w = Int32(weights[((c * g.kernelHeight + ky) * g.kernelWidth + kx) * g.inputChannels + ci])
                                acc = acc &+ (w - zw) &* (x - zx)
                            }
                        }
                    }
                    output[o] = p.output(accumulator: acc, channel: c)
                    o += 1
                }
            }
        }
        return output
    }

    /// Depthwise convolution with a depth multiplier `M = outputChannels / inputChannels` (1 or
    /// more): `weights` are `[kernelHeight][kernelWidth][inputChannels * M]` and output channel
    /// `o = c * M + m` filters input channel `c = o / M`, as TFLite orders them.
    /// - Throws: `QuantizationError` when `outputChannels` is not a multiple of `inputChannels` or sizes disagree.
    public static func depthwiseConvolution(input: [Int], weights: [Int], geometry g: ConvolutionGeometry,
                                            parameters p: RequantizationParameters) throws -> [Int] {
        guard g.outputChannels % g.inputChannels == 0 else {
            throw QuantizationError.invalidGeometry(
                "a depthwise convolution has a whole multiple of its input channels as outputs (\(g.outputChannels) vs \(g.inputChannels))")
        }
        let channels = g.inputChannels, outputs = g.outputChannels, depthMultiplier = outputs / channels
        try check(input, count: g.inputElements, bits: p.inputBits, what: "depthwise input")
        try check(weights, count: g.kernelHeight * g.kernelWidth * outputs, bits: p.weightBits, what: "depthwise weights")
        try checkChannels(p, outputs)
        let zx = Int32(p.inputZeroPoint)
        var output = [Int](repeating: 0, count: g.outputElements)
        var o = 0
        for oy in 0..<g.outputHeight {
            for ox in 0..<g.outputWidth {
                for c in 0..<outputs {
                    let zw = Int32(p.weightZeroPoint(channel: c))
                    let ci = c / depthMultiplier
                    var acc = p.bias[c]
                    for ky in 0..<g.kernelHeight {
                        let iy = oy * g.strideHeight + ky - g.padTop
                        guard iy >= 0, iy < g.inputHeight else { continue }
                        for kx in 0..<g.kernelWidth {
                            let ix = ox * g.strideWidth + kx - g.padLeft
                            guard ix >= 0, ix < g.inputWidth else { continue }
                            let x = Int32(input[(iy * g.inputWidth + ix) * channels + ci])
                            let w = Int32(weights[(ky * g.kernelWidth + kx) * outputs + c])
                            acc = acc &+ (w - zw) &* (x - zx)
                        }
                    }
                    output[o] = p.output(accumulator: acc, channel: c)
                    o += 1
                }
            }
        }
        return output
    }

    /// Pointwise (1x1, stride 1) convolution of a `height x width x inputChannels` tensor;
    /// `weights` are `[outputChannels][inputChannels]`.
    public static func pointwiseConvolution(input: [Int], height: Int, width: Int, inputChannels: Int,
                                            weights: [Int], parameters p: RequantizationParameters) throws -> [Int] {
        let g = try ConvolutionGeometry(inputHeight: height, inputWidth: width, inputChannels: inputChannels,
                                        outputChannels: p.outputChannels, kernelHeight: 1, kernelWidth: 1)
        return try convolution(input: input, weights: weights, geometry: g, parameters: p)
    }

    /// Fully connected layer: `weights` are `[outputs][input.count]`.
    public static func fullyConnected(input: [Int], weights: [Int], parameters p: RequantizationParameters) throws -> [Int] {
        try pointwiseConvolution(input: input, height: 1, width: 1, inputChannels: input.count, weights: weights,
                                 parameters: p)
    }

    /// Global average pooling of a `height x width x channels` tensor to `channels` outputs.
    public static func globalAveragePool(input: [Int], height: Int, width: Int, channels: Int,
                                         parameters p: PoolingParameters) throws -> [Int] {
        guard height > 0, width > 0, channels > 0 else {
            throw QuantizationError.invalidGeometry("pooling needs a non-empty input, got \(height)x\(width)x\(channels)")
        }
        try check(input, count: height * width * channels, bits: p.inputBits, what: "pooling input")
        let zx = Int32(p.inputZeroPoint)
        return (0..<channels).map { c in
            var acc: Int32 = p.bias
            for pixel in 0..<(height * width) { acc = acc &+ (Int32(input[pixel * channels + c]) - zx) }
            return RequantizationParameters.requantize(acc, multiplier: p.multiplier, outputZeroPoint: p.outputZeroPoint,
                                                       outputBits: p.outputBits)
        }
    }

    static func check(_ values: [Int], count: Int, bits: BitWidth, what: String) throws {
        guard values.count == count else { throw QuantizationError.sizeMismatch(what: what, expected: count, actual: values.count) }
        if let bad = values.first(where: { !(0...bits.maxUnsigned).contains($0) }) {
            throw QuantizationError.valueOutOfRange(bad, bits: bits)
        }
    }

    static func checkChannels(_ p: RequantizationParameters, _ channels: Int) throws {
        guard p.outputChannels == channels else {
            throw QuantizationError.sizeMismatch(what: "requantization parameters (output channels)", expected: channels,
                                                 actual: p.outputChannels)
        }
    }
}
