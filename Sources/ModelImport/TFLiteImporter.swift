import Deployment
import Foundation
import Planning
import Quantization
import TFLiteSchema

/// Reads TFLite flatbuffers (int8 from TensorFlow 2's converter, uint8 from TensorFlow 1
/// quantization-aware training) into MixQ's network graph, with the file's quantization kept
/// exactly: its integer weights and biases, its scales and zero points, its fused activations,
/// and TFLite's own integer arithmetic (docs/design.md#tflite-arithmetic), so the integer network
/// equals LiteRT's reference kernels byte for byte.
///
/// Operators: CONV_2D, DEPTHWISE_CONV_2D (any depth multiplier), FULLY_CONNECTED,
/// AVERAGE_POOL_2D, MAX_POOL_2D, MEAN over height and width, ADD, RESHAPE, SQUEEZE, PAD / PADV2
/// (folded into the convolution that reads it), QUANTIZE at the input and DEQUANTIZE at the
/// output (the graph's float edges), SOFTMAX at the end; fused NONE, RELU and RELU6. Anything
/// else is an `ImportError` naming the operator, its index and this list.
///
/// Signed int8 tensors become MixQ's unsigned codes `q + 128` with zero point `z + 128`
/// (docs/design.md#network-graph).
public enum TFLiteImporter {
    /// The operators the importer takes, as the error for any other one lists them.
    public static let supportedOperators = "CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, AVERAGE_POOL_2D, MAX_POOL_2D, "
        + "MEAN (over height and width), ADD, RESHAPE, SQUEEZE, PAD/PADV2 before a convolution, QUANTIZE at the input, "
        + "DEQUANTIZE at the output, SOFTMAX at the end (fused NONE, RELU, RELU6)"

    /// Largest element count MixQ accepts for one tensor: 2^26 (64 Mi elements), far beyond
    /// any microcontroller's memory, so absurd shapes are refused before anything is allocated.
    static let maximumElements = 1 << 26

    /// Reads the TFLite file at `url`.
    public static func load(contentsOf url: URL) throws -> ImportedModel {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ImportError.unreadable(path: url.path, reason: error.localizedDescription)
        }
        return try importModel(bytes: [UInt8](data), path: url.path)
    }

    /// Reads TFLite bytes; `path` names the file in messages and the network.
    public static func importModel(bytes: [UInt8], path: String) throws -> ImportedModel {
        let model: TFLiteModel
        do {
            model = try TFLiteModel(bytes: bytes)
        } catch {
            throw ImportError.notTFLite(path: path, reason: error.description)
        }
        var builder = try GraphBuilder(model: model, path: path)
        return try builder.build()
    }
}

/// The walk over one TFLite subgraph that builds the network graph.
private struct GraphBuilder {
    let model: TFLiteModel
    let graph: SubGraph
    let path: String
    /// How many operators read each TFLite tensor.
    let readers: [Int]

    /// MixQ tensor of each TFLite tensor that has one.
    var tensorOf: [Int: Int] = [:]
    /// A PAD's output: the padded TFLite tensor and the padding, applied by the convolution that reads it.
    var padded: [Int: (source: Int, padding: Planning.Padding)] = [:]
    var steps: [(step: NetworkStep, inputs: [Int])] = []
    var quantizations: [TensorQuantization] = []
    var layers: [FloatLayerWeights] = []
    var trainedLayers: [TrainedQuantization.Layer] = []
    /// The network input's shape (tensor 0).
    var inputShape = TensorShape(height: 1, width: 1, channels: 1)
    /// The TFLite tensor that is the network's output (before a final DEQUANTIZE).
    var networkOutput = -1
    /// Index of the operator being imported (step names carry it).
    var currentOperator = 0
    /// Layers that are FULLY_CONNECTED operators in the file (TFLite forms their multipliers its own way).
    var fullyConnectedLayers = Set<Int>()
    var folded: [String] = []
    /// The float input's quantization when the graph starts with QUANTIZE.
    var floatInput: TensorQuantization?

    init(model: TFLiteModel, path: String) throws {
        self.model = model
        self.path = path
        graph = model.mainSubgraph
        var readers = [Int](repeating: 0, count: graph.tensors.count)
        for op in graph.operators {
            for input in op.inputs where input >= 0 && input < readers.count { readers[input] += 1 }
        }
        self.readers = readers
    }

    mutating func build() throws -> ImportedModel {
        guard graph.inputs.count == 1 else {
            throw ImportError.badInput("the model has \(graph.inputs.count) inputs; MixQ runs networks with one input")
        }
        guard graph.outputs.count == 1 else {
            throw ImportError.badInput("the model has \(graph.outputs.count) outputs; MixQ runs networks with one output")
        }
        var operators = graph.operators
        var inputTensor = graph.inputs[0]
        // A float input quantized by the graph's first operator: the network starts after it.
        if let first = operators.first, try name(of: first) == "QUANTIZE", first.inputs.first == inputTensor,
           tensor(inputTensor).type == .float32 {
            inputTensor = try single(first.outputs, of: first, index: 0)
            floatInput = try activation(inputTensor)
            operators.removeFirst()
            folded.append("QUANTIZE of the float input (its quantization is the input encoding)")
        }
        var outputTensor = graph.outputs[0]
        var dequantizesOutput = false
        if let last = operators.last, try name(of: last) == "DEQUANTIZE", last.outputs.first == outputTensor {
            outputTensor = try single(last.inputs, of: last, index: operators.count - 1)
            operators.removeLast()
            dequantizesOutput = true
            folded.append("DEQUANTIZE of the output (MixQ reports the integer output and its scale)")
        }
        networkOutput = outputTensor
        inputShape = try shape(inputTensor)
        let inputQuantization = try activation(inputTensor)
        tensorOf[inputTensor] = 0
        quantizations = [inputQuantization]

        let offset = graph.operators.count - operators.count - (dequantizesOutput ? 1 : 0)
        for (position, op) in operators.enumerated() {
            try add(op, index: position + offset)
        }
        guard let last = tensorOf[outputTensor], last == steps.count, last > 0 else {
            throw ImportError.badNetwork("the graph's output '\(tensor(outputTensor).name)' is not written by its last operator")
        }
        let network: Network
        do {
            network = try Network(name: Self.networkName(path), input: inputShape, graph: steps)
        } catch {
            throw ImportError.badNetwork("\(error)")
        }
        let encoding = InputEncoding(mean: Double(inputQuantization.zeroPoint), scale: inputQuantization.scale,
                                     quantization: inputQuantization)
        let type: TFLiteTensorType = model.mainSubgraph.tensors[inputTensor].type == .uint8 ? .uint8 : .int8
        var trained = TrainedQuantization(layers: trainedLayers, arithmetic: .tflite, tensors: quantizations, tfliteType: type,
                                          fullyConnectedLayers: fullyConnectedLayers)
        trained.floatOutput = dequantizesOutput
        let floatModel: FloatModel
        do {
            floatModel = try FloatModel(network: network, layers: layers, input: encoding, quantization: trained)
        } catch {
            throw ImportError.badNetwork("\(error)")
        }
        return ImportedModel(model: floatModel, path: path, format: "TFLite", opset: Int(model.version),
                             folded: folded, detail: "\(type.rawValue), schema version \(model.version)")
    }

    // MARK: Operators

    mutating func add(_ op: Operator, index: Int) throws {
        let opName = try name(of: op)
        currentOperator = index
        switch (opName, op.builtinOptions) {
        case ("CONV_2D", .conv2D(let options)):
            try addConvolution(op, index: index, depthwise: false, padding: options.padding, strideH: options.strideH,
                               strideW: options.strideW, dilations: (options.dilationH, options.dilationW),
                               activation: options.activation, depthMultiplier: 1)
        case ("DEPTHWISE_CONV_2D", .depthwiseConv2D(let options)):
            try addConvolution(op, index: index, depthwise: true, padding: options.padding, strideH: options.strideH,
                               strideW: options.strideW, dilations: (options.dilationH, options.dilationW),
                               activation: options.activation, depthMultiplier: options.depthMultiplier)
        case ("FULLY_CONNECTED", .fullyConnected(let options)):
            try addFullyConnected(op, index: index, activation: options.activation, shuffled: options.weightsFormat != .default)
        case ("AVERAGE_POOL_2D", .pool2D(let options)), ("MAX_POOL_2D", .pool2D(let options)):
            try addPool(op, index: index, kind: opName == "MAX_POOL_2D" ? .maximum : .average, options: options)
        case ("MEAN", _):
            try addMean(op, index: index)
        case ("ADD", .add(let activation)):
            try addAdd(op, index: index, activation: activation)
        case ("ADD", .none):
            try addAdd(op, index: index, activation: .none)
        case ("RESHAPE", _), ("SQUEEZE", _):
            let input = try mixqTensor(op.inputs.first ?? -1, op: op, index: index)
            let output = try single(op.outputs, of: op, index: index)
            let outShape = try shape(output)
            let inShape = tensorShape(input)
            try append(.reshape(Reshape(name: stepName("reshape"), input: inShape, output: outShape)),
                       inputs: [input], output: output, quantization: quantizations[input], op: op, index: index)
        case ("PAD", _), ("PADV2", _):
            try addPad(op, index: index)
        case ("SOFTMAX", .softmax(let beta)):
            let input = try mixqTensor(op.inputs.first ?? -1, op: op, index: index)
            let output = try single(op.outputs, of: op, index: index)
            guard output == networkOutput else {
                throw unsupported(op, index: index, reason: "SOFTMAX is supported as the network's last operator only")
            }
            try append(.softmax(Softmax(name: stepName("softmax"), shape: tensorShape(input), beta: Double(beta))),
                       inputs: [input], output: output, quantization: try activation(output), op: op, index: index)
        default:
            throw ImportError.unsupportedOperator(node: "operator \(index)", op: opName, supported: TFLiteImporter.supportedOperators)
        }
    }

    mutating func addConvolution(_ op: Operator, index: Int, depthwise: Bool, padding mode: TFLiteSchema.Padding,
                                 strideH: Int, strideW: Int, dilations: (Int, Int), activation fused: ActivationFunction,
                                 depthMultiplier: Int) throws {
        let opName = depthwise ? "DEPTHWISE_CONV_2D" : "CONV_2D"
        guard op.inputs.count >= 2 else { throw unsupported(op, index: index, reason: "\(opName) needs an input and a filter") }
        guard dilations == (1, 1) else {
            throw unsupported(op, index: index, reason: "dilation \(dilations.0)x\(dilations.1); MixQ's kernels take dilation 1")
        }
        guard strideH == strideW, strideH > 0 else {
            throw unsupported(op, index: index, reason: "strides \(strideH)x\(strideW); MixQ's kernels take one positive stride for both axes")
        }
        // A PAD before the convolution becomes part of its padding.
        var source = op.inputs[0]
        var extra = Planning.Padding.zero
        if let pad = padded[source] {
            source = pad.source
            extra = pad.padding
            folded.append("PAD into \(opName) (operator \(index))")
        }
        let input = try mixqTensor(source, op: op, index: index)
        let inShape = tensorShape(input)
        let filter = tensor(op.inputs[1])
        guard filter.shape.count == 4 else {
            throw unsupported(op, index: index, reason: "filter shape \(filter.shape) is not 4-D")
        }
        let (kh, kw) = (filter.shape[1], filter.shape[2])
        let outputChannels = depthwise ? filter.shape[3] : filter.shape[0]
        guard depthwise ? (filter.shape[0] == 1 && outputChannels == inShape.channels * depthMultiplier)
                        : filter.shape[3] == inShape.channels else {
            throw unsupported(op, index: index, reason: "filter \(filter.shape) does not fit the input \(inShape)"
                              + (depthwise ? " with depth multiplier \(depthMultiplier)" : ""))
        }
        var pad = extra
        if mode == .same {
            let v = Planning.Padding.sameAxis(input: inShape.height + extra.top + extra.bottom, kernel: kh, stride: strideH)
            let h = Planning.Padding.sameAxis(input: inShape.width + extra.left + extra.right, kernel: kw, stride: strideW)
            pad = Planning.Padding(top: extra.top + v.before, left: extra.left + h.before,
                                   bottom: extra.bottom + v.after, right: extra.right + h.after)
        }
        let output = try single(op.outputs, of: op, index: index)
        let kind: LayerKind = depthwise ? .depthwise : (kh == 1 && kw == 1 && strideH == 1 && pad == .zero ? .pointwise : .conv)
        let layer: Layer
        do {
            layer = try Layer.padded(name: stepName(depthwise ? "depthwise_conv_2d" : "conv_2d"), kind: kind, input: inShape,
                                     outputChannels: outputChannels, kernel: KernelSize(height: kh, width: kw), stride: strideH,
                                     padding: pad, activation: try mixqActivation(fused, op: op, index: index),
                                     usesBatchNorm: false, hasBias: op.inputs.count > 2 && op.inputs[2] >= 0)
        } catch {
            throw unsupported(op, index: index, reason: "\(error)")
        }
        try appendLayer(layer, op: op, index: index, input: input, output: output,
                        channelAxis: depthwise ? 3 : 0)
    }

    mutating func addFullyConnected(_ op: Operator, index: Int, activation fused: ActivationFunction, shuffled: Bool) throws {
        guard !shuffled else { throw unsupported(op, index: index, reason: "shuffled weights format; MixQ reads the default format") }
        guard op.inputs.count >= 2 else { throw unsupported(op, index: index, reason: "FULLY_CONNECTED needs an input and weights") }
        let input = try mixqTensor(op.inputs[0], op: op, index: index)
        let inShape = tensorShape(input)
        let weights = tensor(op.inputs[1])
        guard weights.shape.count == 2, weights.shape[1] == inShape.elementCount, weights.shape[0] > 0 else {
            throw unsupported(op, index: index, reason: "weights \(weights.shape) do not fit the input \(inShape)")
        }
        let output = try single(op.outputs, of: op, index: index)
        let name = stepName("fully_connected")
        let activation = try mixqActivation(fused, op: op, index: index)
        let hasBias = op.inputs.count > 2 && op.inputs[2] >= 0
        let layer: Layer
        do {
            // On an HxWxC map the weights' NHWC flattening is a VALID HxW convolution's [out][ky][kx][in].
            layer = inShape.height == 1 && inShape.width == 1
                ? try Layer.fullyConnected(name: name, input: inShape, outputs: weights.shape[0], activation: activation, hasBias: hasBias)
                : try Layer.padded(name: name, kind: .conv, input: inShape, outputChannels: weights.shape[0],
                                   kernel: KernelSize(height: inShape.height, width: inShape.width), stride: 1, padding: .zero,
                                   activation: activation, usesBatchNorm: false, hasBias: hasBias)
        } catch {
            throw unsupported(op, index: index, reason: "\(error)")
        }
        fullyConnectedLayers.insert(layers.count)
        try appendLayer(layer, op: op, index: index, input: input, output: output, channelAxis: 0)
    }

    mutating func addPool(_ op: Operator, index: Int, kind: Pool2D.Kind, options: Pool2DOptions) throws {
        let input = try mixqTensor(op.inputs.first ?? -1, op: op, index: index)
        let inShape = tensorShape(input)
        let output = try single(op.outputs, of: op, index: index)
        var pad = Planning.Padding.zero
        if options.padding == .same {
            let v = Planning.Padding.sameAxis(input: inShape.height, kernel: options.filterHeight, stride: options.strideH)
            let h = Planning.Padding.sameAxis(input: inShape.width, kernel: options.filterWidth, stride: options.strideW)
            pad = Planning.Padding(top: v.before, left: h.before, bottom: v.after, right: h.after)
        }
        let pool: Pool2D
        do {
            pool = try Pool2D(name: stepName(kind == .average ? "average_pool_2d" : "max_pool_2d"), kind: kind, input: inShape,
                              window: KernelSize(height: options.filterHeight, width: options.filterWidth),
                              strideHeight: options.strideH, strideWidth: options.strideW, padding: pad,
                              activation: try mixqActivation(options.activation, op: op, index: index))
        } catch {
            throw unsupported(op, index: index, reason: "\(error)")
        }
        let quantization = try activation(output)
        guard quantization == quantizations[input] else {
            throw unsupported(op, index: index, reason: "its output quantization differs from its input's; TFLite's pooling keeps it")
        }
        try append(.pool(pool), inputs: [input], output: output, quantization: quantization, op: op, index: index)
    }

    /// MEAN over height and width is TFLite's form of global average pooling (Keras'
    /// GlobalAveragePooling2D); its output may have its own quantization.
    mutating func addMean(_ op: Operator, index: Int) throws {
        guard op.inputs.count == 2 else { throw unsupported(op, index: index, reason: "MEAN needs an input and axes") }
        let input = try mixqTensor(op.inputs[0], op: op, index: index)
        let inShape = tensorShape(input)
        let axes: [Int32]
        do { axes = try model.int32Values(of: tensor(op.inputs[1])) } catch {
            throw unsupported(op, index: index, reason: "its axes are not constant int32 values (\(error))")
        }
        guard Set(axes) == [1, 2] else {
            throw unsupported(op, index: index, reason: "MEAN over axes \(axes); MixQ takes the mean over height and width (axes 1, 2)")
        }
        let output = try single(op.outputs, of: op, index: index)
        let pool = GlobalAveragePool(name: stepName("mean"), input: inShape)
        try append(.globalAveragePool(pool), inputs: [input], output: output, quantization: try activation(output), op: op,
                   index: index)
    }

    mutating func addAdd(_ op: Operator, index: Int, activation fused: ActivationFunction) throws {
        guard op.inputs.count == 2 else { throw unsupported(op, index: index, reason: "ADD needs two inputs") }
        let a = try mixqTensor(op.inputs[0], op: op, index: index), b = try mixqTensor(op.inputs[1], op: op, index: index)
        guard tensorShape(a) == tensorShape(b) else {
            throw unsupported(op, index: index, reason: "inputs of shapes \(tensorShape(a)) and \(tensorShape(b)); MixQ adds tensors "
                              + "of one shape (no broadcasting)")
        }
        let output = try single(op.outputs, of: op, index: index)
        let quantization = try activation(output)
        try append(.add(ElementwiseAdd(name: stepName("add"), shape: tensorShape(a),
                                       activation: try mixqActivation(fused, op: op, index: index))),
                   inputs: [a, b], output: output, quantization: quantization, op: op, index: index)
    }

    mutating func addPad(_ op: Operator, index: Int) throws {
        guard op.inputs.count >= 2 else { throw unsupported(op, index: index, reason: "PAD needs an input and paddings") }
        let source = op.inputs[0]
        let output = try single(op.outputs, of: op, index: index)
        let values: [Int32]
        do { values = try model.int32Values(of: tensor(op.inputs[1])) } catch {
            throw unsupported(op, index: index, reason: "its paddings are not constant int32 values (\(error))")
        }
        guard values.count == 8, values[0] == 0, values[1] == 0, values[6] == 0, values[7] == 0,
              values.allSatisfy({ $0 >= 0 }) else {
            throw unsupported(op, index: index, reason: "paddings \(values); MixQ folds spatial padding (height and width) only")
        }
        let input = try mixqTensor(source, op: op, index: index)
        if op.inputs.count > 2, op.inputs[2] >= 0 {
            let value: [Int]
            let constant = tensor(op.inputs[2])
            do {
                value = constant.type == .int8 ? try model.int8Values(of: constant).map { Int($0) + 128 }
                    : try model.uint8Values(of: constant).map(Int.init)
            } catch {
                throw unsupported(op, index: index, reason: "its pad value is not a constant 8-bit value (\(error))")
            }
            guard value == [quantizations[input].zeroPoint] else {
                throw unsupported(op, index: index, reason: "it pads with a value other than the zero point; MixQ's convolutions "
                                  + "pad with the zero point")
            }
        }
        guard readers[output] == 1, try activation(output) == quantizations[input] else {
            throw unsupported(op, index: index, reason: "MixQ folds a PAD into the one convolution that reads it, with the same "
                              + "quantization")
        }
        padded[output] = (source, Planning.Padding(top: Int(values[2]), left: Int(values[4]), bottom: Int(values[3]),
                                                    right: Int(values[5])))
    }

    // MARK: Layers and their quantization

    mutating func appendLayer(_ layer: Layer, op: Operator, index: Int, input: Int, output: Int, channelAxis: Int) throws {
        let inputQuantization = quantizations[input]
        let outputQuantization = try activation(output)
        let filter = tensor(op.inputs[1])
        guard let q = filter.quantization, !q.scale.isEmpty, q.scale.count == q.zeroPoint.count || q.zeroPoint.count == 1 else {
            throw unsupported(op, index: index, reason: "its weights '\(filter.name)' have no quantization scale")
        }
        let n = layer.outputChannels
        guard q.scale.count == 1 || (q.scale.count == n && q.quantizedDimension == channelAxis) else {
            throw unsupported(op, index: index, reason: "\(q.scale.count) weight scales along dimension \(q.quantizedDimension) "
                              + "for \(n) output channels")
        }
        // Codes in MixQ's order: CONV_2D [O][KH][KW][I], DEPTHWISE [1][KH][KW][C*M] and
        // FULLY_CONNECTED [O][I] are exactly `ReferenceLayers`' orders.
        let codes: [Int]
        let offset: Int
        do {
            switch filter.type {
            case .int8:
                codes = try model.int8Values(of: filter).map { Int($0) + 128 }
                offset = 128
            case .uint8:
                codes = try model.uint8Values(of: filter).map(Int.init)
                offset = 0
            default:
                throw unsupported(op, index: index, reason: "weights of type \(filter.type); MixQ reads int8 and uint8 weights")
            }
        } catch let error as ImportError {
            throw error
        } catch {
            throw unsupported(op, index: index, reason: "\(error)")
        }
        guard codes.count == layer.weightCount else {
            throw unsupported(op, index: index, reason: "\(codes.count) weights for a layer of \(layer.weightCount)")
        }
        var weightQuantization: [TensorQuantization] = []
        for c in 0..<q.scale.count {
            let scale = Double(q.scale[c])
            let zero = Int(q.zeroPoint.count == 1 ? q.zeroPoint[0] : q.zeroPoint[c]) + offset
            guard scale.isFinite, scale > 0, (0...255).contains(zero) else {
                throw unsupported(op, index: index, reason: "weight scale \(scale) or zero point \(zero - offset) of channel \(c) is not usable")
            }
            weightQuantization.append(TensorQuantization(scale: scale, zeroPoint: zero, bits: .eight))
        }
        var bias = [Int32](repeating: 0, count: n)
        if op.inputs.count > 2, op.inputs[2] >= 0 {
            do { bias = try model.int32Values(of: tensor(op.inputs[2])) } catch {
                throw unsupported(op, index: index, reason: "its bias is not int32 (\(error))")
            }
            guard bias.count == n else {
                throw unsupported(op, index: index, reason: "\(bias.count) biases for \(n) output channels")
            }
        }
        // The float weights the file's integers stand for (the float reference and MixQ's own
        // schemes start from them).
        let perChannel = layer.kind == .depthwise ? 1 : layer.weightCount / n
        let weights = codes.enumerated().map { i, code -> Float in
            let c = layer.kind == .depthwise ? i % n : i / perChannel
            return Float(weightQuantization[weightQuantization.count == 1 ? 0 : c].real(code))
        }
        let beta = (0..<n).map { c -> Float in
            Float(Double(bias[c]) * inputQuantization.scale * weightQuantization[weightQuantization.count == 1 ? 0 : c].scale)
        }
        layers.append(FloatLayerWeights(weights: weights, beta: beta, movingMean: [Float](repeating: 0, count: n),
                                        movingVariance: [Float](repeating: 1 - FloatLayerWeights.epsilon, count: n)))
        trainedLayers.append(TrainedQuantization.Layer(weights: weightQuantization, output: outputQuantization, codes: codes,
                                                       bias: bias))
        try append(.layer(layer), inputs: [input], output: output, quantization: outputQuantization, op: op, index: index)
    }

    mutating func append(_ step: NetworkStep, inputs: [Int], output: Int, quantization: TensorQuantization, op: Operator,
                         index: Int) throws {
        let shape = try self.shape(output)
        guard shape == step.output else {
            throw unsupported(op, index: index, reason: "MixQ computes an output of \(step.output), the file says \(shape)")
        }
        steps.append((step, inputs))
        quantizations.append(quantization)
        tensorOf[output] = steps.count
    }

    // MARK: Tensors

    func tensor(_ index: Int) -> Tensor {
        index >= 0 && index < graph.tensors.count ? graph.tensors[index] : Tensor(shape: [], type: .float32, name: "missing")
    }

    func tensorShape(_ mixq: Int) -> TensorShape { mixq == 0 ? inputShape : steps[mixq - 1].step.output }

    func mixqTensor(_ index: Int, op: Operator, index opIndex: Int) throws -> Int {
        if let t = tensorOf[index] { return t }
        if padded[index] != nil {
            throw unsupported(op, index: opIndex, reason: "it reads a PAD's output; MixQ folds PAD into a convolution only")
        }
        if index >= 0, index < graph.tensors.count, model.constantBytes(of: graph.tensors[index]) != nil {
            throw unsupported(op, index: opIndex, reason: "it reads the constant tensor '\(graph.tensors[index].name)' as an activation")
        }
        throw unsupported(op, index: opIndex, reason: "it reads tensor \(index), which no earlier operator writes")
    }

    /// HWC shape of a TFLite activation `[1, H, W, C]`, `[1, W, C]`, `[1, C]` or `[C]`.
    func shape(_ index: Int) throws -> TensorShape {
        let t = tensor(index)
        let dims = t.shape
        guard dims.allSatisfy({ $0 > 0 }) else {
            throw ImportError.badTensor(name: t.name, reason: "shape \(dims) has a dimension below 1")
        }
        let shape: TensorShape
        switch dims.count {
        case 4 where dims[0] == 1: shape = TensorShape(height: dims[1], width: dims[2], channels: dims[3])
        case 3 where dims[0] == 1: shape = TensorShape(height: 1, width: dims[1], channels: dims[2])
        case 2 where dims[0] == 1: shape = TensorShape(height: 1, width: 1, channels: dims[1])
        case 1: shape = TensorShape(height: 1, width: 1, channels: dims[0])
        default:
            throw ImportError.badTensor(name: t.name, reason: "shape \(dims); MixQ takes activations of batch 1, [1, H, W, C] or [1, C]")
        }
        let (hw, o1) = shape.height.multipliedReportingOverflow(by: shape.width)
        let (count, o2) = hw.multipliedReportingOverflow(by: shape.channels)
        guard !o1, !o2, count <= TFLiteImporter.maximumElements else {
            throw ImportError.badTensor(name: t.name, reason: "shape \(dims) has more than \(TFLiteImporter.maximumElements) elements")
        }
        return shape
    }

    /// An activation's quantization as MixQ codes: int8 `q + 128` with zero point `z + 128`, uint8 as it is.
    func activation(_ index: Int) throws -> TensorQuantization {
        let t = tensor(index)
        let offset: Int
        switch t.type {
        case .int8: offset = 128
        case .uint8: offset = 0
        default:
            throw ImportError.badTensor(name: t.name, reason: "activations of type \(t.type); MixQ runs int8 and uint8 tensors "
                                        + "(convert with full integer quantization)")
        }
        guard let q = t.quantization, q.scale.count == 1, q.zeroPoint.count == 1 else {
            throw ImportError.badTensor(name: t.name, reason: "an activation needs one scale and one zero point")
        }
        let scale = Double(q.scale[0])
        let (zero, overflow) = Int(clamping: q.zeroPoint[0]).addingReportingOverflow(offset)
        guard scale.isFinite, scale > 0, !overflow, (0...255).contains(zero) else {
            throw ImportError.badTensor(name: t.name, reason: "scale \(q.scale[0]) and zero point \(q.zeroPoint[0]) are not usable")
        }
        return TensorQuantization(scale: scale, zeroPoint: zero, bits: .eight)
    }

    func mixqActivation(_ fused: ActivationFunction, op: Operator, index: Int) throws -> Activation {
        switch fused {
        case .none: return .none
        case .relu: return .relu
        case .relu6: return .relu6
        default: throw unsupported(op, index: index, reason: "fused activation \(fused); MixQ takes NONE, RELU and RELU6")
        }
    }

    // MARK: Names and errors

    func name(of op: Operator) throws -> String {
        guard op.opcodeIndex >= 0, op.opcodeIndex < model.operatorCodes.count else {
            throw ImportError.badNetwork("an operator names operator code \(op.opcodeIndex) of \(model.operatorCodes.count)")
        }
        return model.operatorCodes[op.opcodeIndex].name
    }

    func single(_ tensors: [Int], of op: Operator, index: Int) throws -> Int {
        guard tensors.count == 1, let only = tensors.first, only >= 0, only < graph.tensors.count else {
            throw unsupported(op, index: index, reason: "it has \(tensors.count) outputs; MixQ's steps write one tensor")
        }
        return only
    }

    func unsupported(_ op: Operator, index: Int, reason: String) -> ImportError {
        .unsupportedUse(node: "operator \(index)", op: (try? name(of: op)) ?? "?", reason: reason)
    }

    /// A step name from the operator and its index in the file (`conv_2d_3`, `add_12`): short,
    /// unique (one step per operator), and found again in a graph viewer such as Netron, which
    /// numbers operators the same way.
    func stepName(_ operatorName: String) -> String { "\(operatorName)_\(currentOperator)" }

    static func networkName(_ path: String) -> String {
        let file = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        return file.replacingOccurrences(of: "__", with: "_")
    }
}
