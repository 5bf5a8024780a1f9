import Deployment
import Planning
import Quantization

/// The integer-only network prepared for fast host evaluation: the same arithmetic as
/// `Deployment.HostReference` (and therefore as the C kernels), bit for bit, laid out for speed.
///
/// Per layer it stores the weights with their zero-point already subtracted (`w - zw[c]`, as
/// `Int32`) and works on inputs with theirs subtracted (`x - zx`), so every inner loop is a
/// plain `Int32` dot product the compiler vectorizes; padded taps read 0, which is what a padded
/// `zx` contributes. Accumulation wraps modulo 2^32 as the reference and the kernels do, so the
/// order of the sum does not matter. `EvaluationTests` checks it against `HostReference`.
public struct CompiledNetwork: Sendable {
    enum Step: Sendable {
        case layer(CompiledLayer)
        case pool(pixels: Int, channels: Int, parameters: PoolingParameters)
        /// A step without a fast form here: run by `HostReference` itself.
        case reference(QuantizedStep)
    }

    struct CompiledLayer: Sendable {
        var kind: LayerKind
        var input: TensorShape
        var output: TensorShape
        var kernelHeight: Int
        var kernelWidth: Int
        var stride: Int
        var padTop: Int
        var padLeft: Int
        /// `w - zw[c]`: `[out][ky][kx][in]` (conv, pointwise, fc) or `[ky][kx][c]` (depthwise).
        var weights: [Int32]
        var bias: [Int32]
        var multipliers: [FixedPointMultiplier]
        var inputZeroPoint: Int32
        var outputZeroPoint: Int64
        /// The output clamp (the bits' full range unless a fused activation narrows it).
        var outputMin: Int64
        var outputMax: Int64
        /// TFLite's double rounding instead of MixQ's single one.
        var tfliteRounding: Bool
    }

    let steps: [Step]
    /// The tensors each step reads (`Network.stepInputs`).
    let stepInputs: [[Int]]
    /// The last step that needs each tensor (`Network.lastUse`, through reshapes).
    let lastUse: [Int]
    /// Multiply-accumulates of one image.
    public let multiplyAccumulates: Int
    /// The input shape (HWC).
    public let input: TensorShape

    public init(_ network: QuantizedNetwork) {
        input = network.network.input
        multiplyAccumulates = network.network.multiplyAccumulates
        stepInputs = network.network.stepInputs
        lastUse = network.network.tensorShapes.indices.map { network.network.lastUse[network.network.storage(of: $0)] }
        steps = network.steps.map { step in
            switch step {
            case .layer(let quantized) where quantized.layer.depthMultiplier != 1
                                          || quantized.parameters.rounding == .tfliteFloatingPoint:
                return .reference(step)
            case .reshape, .tflitePool, .tfliteAdd, .tfliteSoftmax, .tfliteMean, .windowPool, .add:
                return .reference(step)
            case .pool(let pool):
                return .pool(pixels: pool.pool.input.height * pool.pool.input.width, channels: pool.pool.input.channels,
                             parameters: pool.parameters)
            case .layer(let quantized):
                let layer = quantized.layer
                let p = quantized.parameters
                let n = layer.outputChannels
                let perChannel = layer.kind == .depthwise ? 1 : layer.weightCount / n
                let weights = quantized.weights.enumerated().map { i, w -> Int32 in
                    let c = layer.kind == .depthwise ? i % n : i / perChannel
                    return Int32(w - p.weightZeroPoint(channel: c))
                }
                return .layer(CompiledLayer(
                    kind: layer.kind, input: layer.input, output: layer.output, kernelHeight: layer.kernel.height,
                    kernelWidth: layer.kernel.width, stride: layer.stride, padTop: layer.padding.top, padLeft: layer.padding.left,
                    weights: weights, bias: p.bias, multipliers: (0..<n).map { p.multiplier(channel: $0) },
                    inputZeroPoint: Int32(p.inputZeroPoint), outputZeroPoint: Int64(p.outputZeroPoint),
                    outputMin: Int64(p.outputRange.lowerBound), outputMax: Int64(p.outputRange.upperBound),
                    tfliteRounding: p.rounding == .tflite))
            }
        }
    }

    /// The logits' codes for one image's input codes (8-bit, HWC).
    public func logits(_ codes: [UInt8]) -> [Int32] {
        var tensors: [[Int32]?] = Array(repeating: nil, count: steps.count + 1)
        tensors[0] = codes.map { Int32($0) }
        var x: [Int32] = tensors[0] ?? []
        for (index, step) in steps.enumerated() {
            let inputs = stepInputs[index].map { tensors[$0] ?? [] }
            switch step {
            case .pool(let pixels, let channels, let p):
                x = Self.pool(inputs[0], pixels: pixels, channels: channels, parameters: p)
            case .layer(let layer):
                x = Self.run(layer, inputs[0])
            case .reference(let quantized):
                // The host reference checked its inputs when the network was built; a failure
                // here is a MixQ bug, reported as an empty output rather than a trap.
                x = ((try? HostReference.step(quantized, inputs: inputs.map { $0.map(Int.init) })) ?? []).map { Int32($0) }
            }
            tensors[index + 1] = x
            for tensor in stepInputs[index] where lastUse[tensor] <= index { tensors[tensor] = nil }
        }
        return x
    }

    static func pool(_ x: [Int32], pixels: Int, channels: Int, parameters p: PoolingParameters) -> [Int32] {
        let zx = Int32(p.inputZeroPoint)
        var sums = [Int32](repeating: p.bias, count: channels)
        for pixel in 0..<pixels {
            for c in 0..<channels { sums[c] = sums[c] &+ (x[pixel * channels + c] &- zx) }
        }
        return sums.map { Int32(RequantizationParameters.requantize($0, multiplier: p.multiplier, outputZeroPoint: p.outputZeroPoint,
                                                                    outputBits: p.outputBits)) }
    }

    @inline(__always)
    static func requantize(_ acc: Int32, _ m: FixedPointMultiplier, _ layer: CompiledLayer) -> Int32 {
        let r = (layer.tfliteRounding ? Int64(m.tfliteScaled(acc)) : m.scaled(acc)) + layer.outputZeroPoint
        return Int32(min(max(r, layer.outputMin), layer.outputMax))
    }

    /// One layer on codes `x`; returns output codes.
    static func run(_ layer: CompiledLayer, _ x: [Int32]) -> [Int32] {
        let zx = layer.inputZeroPoint
        let centred = x.map { $0 &- zx }
        let (inH, inW, inC) = (layer.input.height, layer.input.width, layer.input.channels)
        let (outH, outW, outC) = (layer.output.height, layer.output.width, layer.output.channels)
        let (kh, kw, stride) = (layer.kernelHeight, layer.kernelWidth, layer.stride)
        var output = [Int32](repeating: 0, count: outH * outW * outC)
        centred.withUnsafeBufferPointer { xs in
            layer.weights.withUnsafeBufferPointer { ws in
                output.withUnsafeMutableBufferPointer { ys in
                    switch layer.kind {
                    case .pointwise, .fc:
                        for pixel in 0..<(outH * outW) {
                            let row = UnsafeBufferPointer(rebasing: xs[(pixel * inC)..<((pixel + 1) * inC)])
                            for o in 0..<outC {
                                let acc = layer.bias[o] &+ dot(row, UnsafeBufferPointer(rebasing: ws[(o * inC)..<((o + 1) * inC)]))
                                ys[pixel * outC + o] = requantize(acc, layer.multipliers[o], layer)
                            }
                        }
                    case .conv:
                        // Gather each output pixel's window (zeros where it falls on padding), then
                        // one dot product per output channel.
                        let window = kh * kw * inC
                        var column = [Int32](repeating: 0, count: window)
                        column.withUnsafeMutableBufferPointer { col in
                            for oy in 0..<outH {
                                for ox in 0..<outW {
                                    var k = 0
                                    for ky in 0..<kh {
                                        let iy = oy * stride + ky - layer.padTop
                                        for kx in 0..<kw {
                                            let ix = ox * stride + kx - layer.padLeft
                                            let inside = iy >= 0 && iy < inH && ix >= 0 && ix < inW
                                            let base = (iy * inW + ix) * inC
                                            for c in 0..<inC { col[k + c] = inside ? xs[base + c] : 0 }
                                            k += inC
                                        }
                                    }
                                    let gathered = UnsafeBufferPointer(col)
                                    for o in 0..<outC {
                                        let acc = layer.bias[o] &+ dot(gathered, UnsafeBufferPointer(rebasing: ws[(o * window)..<((o + 1) * window)]))
                                        ys[(oy * outW + ox) * outC + o] = requantize(acc, layer.multipliers[o], layer)
                                    }
                                }
                            }
                        }
                    case .depthwise:
                        var acc = [Int32](repeating: 0, count: outC)
                        acc.withUnsafeMutableBufferPointer { a in
                            for oy in 0..<outH {
                                for ox in 0..<outW {
                                    for c in 0..<outC { a[c] = layer.bias[c] }
                                    for ky in 0..<kh {
                                        let iy = oy * stride + ky - layer.padTop
                                        guard iy >= 0, iy < inH else { continue }
                                        for kx in 0..<kw {
                                            let ix = ox * stride + kx - layer.padLeft
                                            guard ix >= 0, ix < inW else { continue }
                                            let xBase = (iy * inW + ix) * inC, wBase = (ky * kw + kx) * inC
                                            for c in 0..<outC { a[c] = a[c] &+ xs[xBase + c] &* ws[wBase + c] }
                                        }
                                    }
                                    let yBase = (oy * outW + ox) * outC
                                    for c in 0..<outC { ys[yBase + c] = requantize(a[c], layer.multipliers[c], layer) }
                                }
                            }
                        }
                    }
                }
            }
        }
        return output
    }

    /// `sum a[i] * b[i]` modulo 2^32.
    @inline(__always)
    static func dot(_ a: UnsafeBufferPointer<Int32>, _ b: UnsafeBufferPointer<Int32>) -> Int32 {
        var sum: Int32 = 0
        for i in 0..<a.count { sum = sum &+ a[i] &* b[i] }
        return sum
    }
}
