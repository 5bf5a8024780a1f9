import Planning
import Quantization

/// Float runs of a network: the unquantized model, and the fake-quantized model (every tensor
/// quantized and dequantized at its planned bits, batch-norm in float), which is what the
/// integer-only network approximates. Comparing the two measures the cost of integer-only
/// conversion (PL+FB, PL+ICN, PC+ICN) separately from the cost of low bit-widths.
public enum FloatReference {
    public struct Output: Sendable {
        /// The classifier's float outputs before output quantization.
        public var logits: [Float]
        /// For the fake-quantized run: the logits quantized like the integer network's output.
        public var logitCodes: [Int]?
        /// For the fake-quantized run: every step's output as codes of its quantization.
        public var stepCodes: [[Int]] = []
    }

    /// The unquantized float network.
    public static func run(_ model: FloatModel, image: [Float]) -> Output {
        var x = image
        var layerIndex = 0
        for step in model.network.steps { x = floatStep(step, model, layerIndex: &layerIndex, input: x) }
        return Output(logits: x, logitCodes: nil)
    }

    /// One step of the unquantized network; `layerIndex` counts planner layers.
    static func floatStep(_ step: NetworkStep, _ model: FloatModel, layerIndex: inout Int, input x: [Float]) -> [Float] {
        switch step {
        case .globalAveragePool(let pool):
            return FloatLayers.globalAveragePool(x, shape: pool.input)
        case .layer(let layer):
            let (a, d) = model.layers[layerIndex].affine
            defer { layerIndex += 1 }
            return FloatLayers.normalize(FloatLayers.linear(layer, weights: model.layers[layerIndex].weights, input: x),
                                         a: a, d: d, activation: layer.activation)
        }
    }

    /// The smallest and largest value (widened to contain 0) of every step's output over float
    /// runs of the unquantized model on `images`, in step order.
    public static func outputRanges(_ model: FloatModel, images: [[Float]]) -> [(low: Double, high: Double)] {
        var ranges = [(low: Double, high: Double)](repeating: (0, 0), count: model.network.steps.count)
        for image in images {
            var x = image
            var layerIndex = 0
            for (index, step) in model.network.steps.enumerated() {
                x = floatStep(step, model, layerIndex: &layerIndex, input: x)
                for value in x {
                    ranges[index].low = min(ranges[index].low, Double(value))
                    ranges[index].high = max(ranges[index].high, Double(value))
                }
            }
        }
        return ranges
    }

    /// The fake-quantized network on the 8-bit image `pixels`.
    public static func runFakeQuantized(_ network: QuantizedNetwork, pixels: [UInt8]) -> Output {
        var codes = pixels.map(Int.init)
        var preQuantization: [Float] = []
        var stepCodes: [[Int]] = []
        for step in network.steps {
            (codes, preQuantization) = fakeQuantizedStep(step, input: codes)
            stepCodes.append(codes)
        }
        return Output(logits: preQuantization, logitCodes: stepCodes.last, stepCodes: stepCodes)
    }

    /// One step in fake-quantized float: dequantize the input codes, compute in float with
    /// dequantized weights and float batch-norm, quantize the result to the output's codes.
    /// Returns the output codes and the float values before output quantization.
    public static func fakeQuantizedStep(_ step: QuantizedStep, input codes: [Int]) -> (codes: [Int], real: [Float]) {
        switch step {
        case .pool(let pool):
            let x = codes.map { Float(pool.quantization.real($0)) }
            let real = FloatLayers.globalAveragePool(x, shape: pool.pool.input)
            return (real.map { pool.quantization.code(Double($0)) }, real)
        case .layer(let layer):
            let x = codes.map { Float(layer.input.real($0)) }
            let n = layer.layer.outputChannels
            let perChannel = layer.layer.weightCount / (layer.layer.kind == .depthwise ? 1 : n)
            let weights = layer.weights.enumerated().map { i, code -> Float in
                let c = layer.layer.kind == .depthwise ? i % n : i / perChannel
                let range = layer.weightQuantization.count == 1 ? layer.weightQuantization[0] : layer.weightQuantization[c]
                return Float(range.real(code))
            }
            let a = layer.foldsNormalization ? [Double](repeating: 1, count: n) : layer.affine.a
            let real = FloatLayers.normalize(FloatLayers.linear(layer.layer, weights: weights, input: x),
                                             a: a, d: layer.affine.d, activation: layer.layer.activation)
            return (real.map { layer.output.code(Double($0)) }, real)
        }
    }
}

/// The integer-only network run on the host with `Quantization.ReferenceLayers`: the values the
/// C kernels must reproduce bit for bit.
public enum HostReference {
    /// Every step's output codes (unpacked), in network order; the last is the logits.
    public static func run(_ network: QuantizedNetwork, pixels: [UInt8]) throws(DeploymentError) -> [[Int]] {
        var x = pixels.map(Int.init)
        var outputs: [[Int]] = []
        do {
            for step in network.steps {
                switch step {
                case .pool(let pool):
                    let shape = pool.pool.input
                    x = try ReferenceLayers.globalAveragePool(input: x, height: shape.height, width: shape.width,
                                                              channels: shape.channels, parameters: pool.parameters)
                case .layer(let quantized):
                    let layer = quantized.layer
                    switch layer.kind {
                    case .conv, .depthwise:
                        let geometry = try ConvolutionGeometry(
                            inputHeight: layer.input.height, inputWidth: layer.input.width,
                            inputChannels: layer.input.channels, outputChannels: layer.outputChannels,
                            kernelHeight: layer.kernel.height, kernelWidth: layer.kernel.width,
                            strideHeight: layer.stride, strideWidth: layer.stride,
                            padTop: layer.padding.top, padLeft: layer.padding.left,
                            padBottom: layer.padding.bottom, padRight: layer.padding.right)
                        x = layer.kind == .conv
                            ? try ReferenceLayers.convolution(input: x, weights: quantized.weights, geometry: geometry,
                                                              parameters: quantized.parameters)
                            : try ReferenceLayers.depthwiseConvolution(input: x, weights: quantized.weights, geometry: geometry,
                                                                       parameters: quantized.parameters)
                    case .pointwise:
                        x = try ReferenceLayers.pointwiseConvolution(input: x, height: layer.input.height, width: layer.input.width,
                                                                     inputChannels: layer.input.channels,
                                                                     weights: quantized.weights, parameters: quantized.parameters)
                    case .fc:
                        x = try ReferenceLayers.fullyConnected(input: x, weights: quantized.weights, parameters: quantized.parameters)
                    }
                }
                outputs.append(x)
            }
        } catch {
            throw .unexpectedOutput("host reference failed: \(error)")
        }
        return outputs
    }
}
