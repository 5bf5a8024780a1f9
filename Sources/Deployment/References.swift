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
        Output(logits: GraphExecution.run(model.network, input: image) { index, step, inputs in
            floatStep(step, model, layerIndex: model.network.layerIndexOfStep[index], inputs: inputs)
        }, logitCodes: nil)
    }

    /// One step of the unquantized network; `layerIndex` is the step's planner-layer index.
    static func floatStep(_ step: NetworkStep, _ model: FloatModel, layerIndex: Int?, inputs x: [[Float]]) -> [Float] {
        switch step {
        case .globalAveragePool(let pool):
            return FloatLayers.globalAveragePool(x[0], shape: pool.input)
        case .pool(let pool):
            return FloatLayers.pool(pool, input: x[0])
        case .add(let add):
            return FloatLayers.add(x[0], x[1], activation: add.activation)
        case .softmax(let softmax):
            return FloatLayers.softmax(x[0], shape: softmax.shape, beta: softmax.beta)
        case .reshape:
            return x[0]
        case .layer(let layer):
            let weights = model.layers[layerIndex ?? 0]
            let (a, d) = weights.affine
            return FloatLayers.normalize(FloatLayers.linear(layer, weights: weights.weights, input: x[0]),
                                         a: a, d: d, activation: layer.activation)
        }
    }

    /// The smallest and largest value (widened to contain 0) of every step's output over float
    /// runs of the unquantized model on `images`, in step order.
    public static func outputRanges(_ model: FloatModel, images: [[Float]]) -> [(low: Double, high: Double)] {
        var ranges = [(low: Double, high: Double)](repeating: (0, 0), count: model.network.steps.count)
        let layerIndex = model.network.layerIndexOfStep
        for image in images {
            _ = GraphExecution.run(model.network, input: image, compute: { index, step, inputs in
                floatStep(step, model, layerIndex: layerIndex[index], inputs: inputs)
            }, observe: { index, x in
                for value in x {
                    ranges[index].low = min(ranges[index].low, Double(value))
                    ranges[index].high = max(ranges[index].high, Double(value))
                }
            })
        }
        return ranges
    }

    /// The fake-quantized network on the 8-bit image `pixels`.
    public static func runFakeQuantized(_ network: QuantizedNetwork, pixels: [UInt8]) -> Output {
        var stepCodes: [[Int]] = []
        let quantization = network.tensorQuantization
        let last = GraphExecution.run(network.network, input: (codes: pixels.map(Int.init), real: [Float]())) { index, _, inputs in
            fakeQuantizedStep(network.steps[index], inputs: inputs.map(\.codes),
                              inputQuantizations: network.network.stepInputs[index].map { quantization[$0] })
        } observe: { _, output in
            stepCodes.append(output.codes)
        }
        return Output(logits: last.real, logitCodes: last.codes, stepCodes: stepCodes)
    }

    /// One step in fake-quantized float: dequantize the input codes, compute in float with
    /// dequantized weights and float batch-norm, quantize the result to the output's codes.
    /// Returns the output codes and the float values before output quantization.
    public static func fakeQuantizedStep(_ step: QuantizedStep, input codes: [Int]) -> (codes: [Int], real: [Float]) {
        fakeQuantizedStep(step, inputs: [codes])
    }

    /// `fakeQuantizedStep(_:input:)` for a step with several inputs (an add), each with the
    /// quantization of the tensor it reads (needed where the step does not carry it).
    public static func fakeQuantizedStep(_ step: QuantizedStep, inputs: [[Int]],
                                         inputQuantizations: [TensorQuantization] = []) -> (codes: [Int], real: [Float]) {
        let codes = inputs[0]
        switch step {
        case .pool(let pool):
            let x = codes.map { Float(pool.input.real($0)) }
            let real = FloatLayers.globalAveragePool(x, shape: pool.pool.input)
            if let truncation = pool.truncation {
                // The file's Trunc in its own float semantics (`PoolTruncation`).
                let results = real.map { truncation.apply(Double($0)) }
                return (results.map { $0.integer + truncation.codeOffset }, results.map { Float($0.real) })
            }
            return (real.map { pool.quantization.code(Double($0)) }, real)
        case .reshape(_, let quantization):
            return (codes, codes.map { Float(quantization.real($0)) })
        case .tflitePool(let pool, _, let quantization):
            let real = FloatLayers.pool(pool, input: codes.map { Float(quantization.real($0)) })
            return (real.map { quantization.code(Double($0)) }, real)
        case .windowPool(let pool, _, let quantization):
            let input = inputQuantizations.first ?? quantization
            let real = FloatLayers.pool(pool, input: codes.map { Float(input.real($0)) })
            return (real.map { quantization.code(Double($0)) }, real)
        case .add(let add, _, let quantization),
             .tfliteAdd(let add, _, let quantization):
            // Each input dequantized with its own quantization, carried by the steps that wrote it.
            let real = FloatLayers.add(inputs[0].map { Float(inputQuantizations[0].real($0)) },
                                       inputs[1].map { Float(inputQuantizations[1].real($0)) }, activation: add.activation)
            return (real.map { quantization.code(Double($0)) }, real)
        case .tfliteMean(let pool, _, let quantization):
            let real = FloatLayers.globalAveragePool(codes.map { Float(inputQuantizations[0].real($0)) }, shape: pool.input)
            return (real.map { quantization.code(Double($0)) }, real)
        case .tfliteSoftmax(let softmax, _, let quantization):
            let real = FloatLayers.softmax(codes.map { Float(inputQuantizations[0].real($0)) }, shape: softmax.shape, beta: softmax.beta)
            return (real.map { quantization.code(Double($0)) }, real)
        case .layer(let layer):
            let inputChannels = layer.layer.input.channels
            let x = codes.enumerated().map { i, code in Float(layer.input.real(code, channel: i % inputChannels)) }
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
            return (real.enumerated().map { i, v in layer.output.code(Double(v), channel: i % n) }, real)
        }
    }
}

/// The integer-only network run on the host with `Quantization.ReferenceLayers`: the values the
/// C kernels must reproduce bit for bit.
public enum HostReference {
    /// Every step's output codes (unpacked), in network order; the last is the network output.
    public static func run(_ network: QuantizedNetwork, pixels: [UInt8]) throws(DeploymentError) -> [[Int]] {
        var outputs: [[Int]] = []
        do {
            _ = try GraphExecution.run(network.network, input: pixels.map(Int.init)) { index, _, inputs in
                try step(network.steps[index], inputs: inputs)
            } observe: { _, output in
                outputs.append(output)
            }
        } catch let error as DeploymentError {
            throw error
        } catch {
            throw .unexpectedOutput("host reference failed: \(error)")
        }
        return outputs
    }

    /// One integer step on unpacked codes.
    public static func step(_ step: QuantizedStep, inputs: [[Int]]) throws -> [Int] {
        let x = inputs[0]
        switch step {
        case .pool(let pool):
            let shape = pool.pool.input
            return try ReferenceLayers.globalAveragePool(input: x, height: shape.height, width: shape.width,
                                                         channels: shape.channels, parameters: pool.parameters)
        case .reshape:
            return x
        case .tflitePool(let pool, let parameters, _):
            return try TFLiteLayers.pool(input: x, geometry: try pool.geometry, parameters: parameters)
        case .tfliteAdd(_, let parameters, _):
            return try TFLiteLayers.add(x, inputs[1], parameters: parameters)
        case .windowPool(let pool, let parameters, _):
            return try ReferenceLayers.windowPool(input: x, geometry: try pool.geometry, parameters: parameters)
        case .add(_, let parameters, _):
            return try ReferenceLayers.add(x, inputs[1], parameters: parameters)
        case .tfliteMean(let pool, let parameters, _):
            return try TFLiteLayers.mean(input: x, pixels: pool.input.height * pool.input.width, channels: pool.input.channels,
                                         parameters: parameters)
        case .tfliteSoftmax(let softmax, let parameters, _):
            return try TFLiteLayers.softmax(input: x, depth: softmax.shape.channels, parameters: parameters)
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
                return layer.kind == .conv
                    ? try ReferenceLayers.convolution(input: x, weights: quantized.weights, geometry: geometry,
                                                      parameters: quantized.parameters)
                    : try ReferenceLayers.depthwiseConvolution(input: x, weights: quantized.weights, geometry: geometry,
                                                               parameters: quantized.parameters)
            case .pointwise:
                return try ReferenceLayers.pointwiseConvolution(input: x, height: layer.input.height, width: layer.input.width,
                                                                inputChannels: layer.input.channels,
                                                                weights: quantized.weights, parameters: quantized.parameters)
            case .fc:
                return try ReferenceLayers.fullyConnected(input: x, weights: quantized.weights, parameters: quantized.parameters)
            }
        }
    }
}
