import Planning
import Quantization

/// How a real tensor maps to unsigned integer codes: `real = scale * (code - zeroPoint)`, or
/// with one scale per channel (`channelScales`) `real = channelScales[c] * (code - zeroPoint)`.
public struct TensorQuantization: Sendable, Hashable {
    /// The scale of every element; for a tensor with `channelScales`, the largest of them.
    public var scale: Double
    public var zeroPoint: Int
    public var bits: BitWidth
    /// One scale per channel (HWC: the innermost axis), when a file states them (a QONNX
    /// activation `Quant` whose scale has shape `[1, C, 1, 1]`); nil when `scale` applies to all.
    /// Only a consumer that can carry a per-channel input scale into its own per-channel
    /// requantization (a depthwise convolution) reads such a tensor.
    public var channelScales: [Double]?

    public init(scale: Double, zeroPoint: Int, bits: BitWidth) {
        self.scale = scale
        self.zeroPoint = zeroPoint
        self.bits = bits
    }

    /// A quantization with one scale per channel and one zero point.
    public init(channelScales: [Double], zeroPoint: Int, bits: BitWidth) {
        self.init(scale: channelScales.max() ?? 1, zeroPoint: zeroPoint, bits: bits)
        self.channelScales = channelScales.count == 1 ? nil : channelScales
    }

    /// Whether the scale differs per channel.
    public var isPerChannel: Bool { channelScales != nil }

    /// The scale of channel `c`.
    public func scale(channel c: Int) -> Double {
        guard let channelScales else { return scale }
        return channelScales[c % channelScales.count]
    }

    /// The code of `value` in channel `c`.
    public func code(_ value: Double, channel c: Int) -> Int {
        ((value / scale(channel: c)).rounded() + Double(zeroPoint)).clampedToInt(0...bits.maxUnsigned, nanValue: zeroPoint)
    }

    /// The real value of `code` in channel `c`.
    public func real(_ code: Int, channel c: Int) -> Double { scale(channel: c) * Double(code - zeroPoint) }

    /// Asymmetric uniform quantization of [min, max] widened to contain 0 (so padding and
    /// ReLU zeros are exact).
    public static func covering(min: Double, max: Double, bits: BitWidth) -> TensorQuantization {
        let low = Swift.min(min, 0), high = Swift.max(max, 0)
        guard high > low else { return TensorQuantization(scale: 1, zeroPoint: 0, bits: bits) }
        let scale = (high - low) / Double(bits.maxUnsigned)
        let zero = (-low / scale).rounded().clampedToInt(0...bits.maxUnsigned)
        return TensorQuantization(scale: scale, zeroPoint: zero, bits: bits)
    }

    /// The learned clip of a ReLU6 activation: [0, 6] at `bits`, zero-point 0
    /// (docs/design.md#quantization-arithmetic).
    public static func relu6(bits: BitWidth) -> TensorQuantization {
        TensorQuantization(scale: 6 / Double(bits.maxUnsigned), zeroPoint: 0, bits: bits)
    }

    public func code(_ value: Double) -> Int {
        ((value / scale).rounded() + Double(zeroPoint)).clampedToInt(0...bits.maxUnsigned, nanValue: zeroPoint)
    }

    public func real(_ code: Int) -> Double { scale * Double(code - zeroPoint) }

    /// The output clamp in codes of a fused activation on this quantization: ReLU clamps below
    /// at the zero point, ReLU6 also above at the code of 6; the whole range otherwise.
    public func clamp(of activation: Activation) -> ClosedRange<Int> {
        let top = bits.maxUnsigned
        switch activation {
        case .none: return 0...top
        case .relu: return min(zeroPoint, top)...top
        case .relu6:
            let six = (6 / scale).rounded().clampedToInt(0...top) + zeroPoint
            return min(zeroPoint, top)...max(min(six, top), min(zeroPoint, top))
        }
    }
}

extension Network {
    /// The network without a final softmax step (itself when it has none): what MixQ's own
    /// arithmetic plans and runs (`QuantizedNetwork.omittedSteps`).
    public var withoutFinalSoftmax: Network {
        guard steps.count > 1, case .softmax = steps.last else { return self }
        // Dropping the last step of a valid graph leaves a valid graph.
        return (try? Network(name: name, input: input,
                             graph: zip(steps, stepInputs).dropLast().map { (step: $0, inputs: $1) })) ?? self
    }
}

/// One planner layer, quantized: integer weights and requantization parameters for the
/// kernels and the host reference, plus the scales the fake-quantized float reference needs.
public struct QuantizedLayer: Sendable {
    public var plan: LayerPlan
    public var layer: Layer { plan.layer }
    /// Unsigned weight codes in `ReferenceLayers` order (unpacked).
    public var weights: [Int]
    /// How weight codes map to reals: one entry (per-layer ranges) or one per output channel (PC+ICN).
    public var weightQuantization: [TensorQuantization]
    public var input: TensorQuantization
    public var output: TensorQuantization
    public var parameters: RequantizationParameters
    /// Batch-norm (or bias) as the float per-channel affine `a * conv + d`.
    public var affine: (a: [Double], d: [Double])
    /// PL+FB folds `a` into the weights: the fake-quantized reference then applies only `d`.
    public var foldsNormalization: Bool { plan.flavour == .perLayerFolded }
}

/// Global average pooling, quantized: MixQ's rounded average keeps the input's bits, and its
/// scale unless the model states the pooled output's own (`TrainedQuantization.poolOutputs`, a
/// QDQ file requantizing it); a file's truncating average (QONNX `Trunc`) has the file's output
/// quantization.
public struct QuantizedPool: Sendable {
    public var pool: GlobalAveragePool
    public var parameters: PoolingParameters
    /// The output's quantization.
    public var quantization: TensorQuantization
    /// The input's quantization (the output's unless `truncation` says otherwise).
    public var input: TensorQuantization
    /// The file's truncation, for the fake-quantized reference; nil for MixQ's rounded average.
    public var truncation: PoolTruncation?

    public init(pool: GlobalAveragePool, parameters: PoolingParameters, quantization: TensorQuantization,
                input: TensorQuantization? = nil, truncation: PoolTruncation? = nil) {
        self.pool = pool
        self.parameters = parameters
        self.quantization = quantization
        self.input = input ?? quantization
        self.truncation = truncation
    }
}

/// One step of an integer-only network, in the order of `Network.steps`.
public enum QuantizedStep: Sendable {
    case layer(QuantizedLayer)
    case pool(QuantizedPool)
    /// A layout no-op: the output is the input's codes with a new shape.
    case reshape(Reshape, TensorQuantization)
    /// Average or maximum pooling with TFLite's arithmetic; input and output share `TensorQuantization`.
    case tflitePool(Pool2D, TFLitePoolParameters, TensorQuantization)
    /// A residual add with TFLite's rescaling; the quantization is the output's.
    case tfliteAdd(ElementwiseAdd, TFLiteAddParameters, TensorQuantization)
    /// TFLite's integer softmax; the quantization is the output's.
    case tfliteSoftmax(Softmax, TFLiteSoftmaxParameters, TensorQuantization)
    /// TFLite's MEAN over height and width; the quantization is the output's.
    case tfliteMean(GlobalAveragePool, TFLiteMeanParameters, TensorQuantization)
    /// Average or maximum pooling in MixQ's arithmetic (`WindowPoolParameters`, 8/4/2 bits);
    /// the quantization is the output's.
    case windowPool(Pool2D, WindowPoolParameters, TensorQuantization)
    /// A residual add in MixQ's arithmetic (`AddParameters`: each input with its own bits, one
    /// rounding); the quantization is the output's.
    case add(ElementwiseAdd, AddParameters, TensorQuantization)

    /// The quantization of the step's output.
    public var outputQuantization: TensorQuantization {
        switch self {
        case .layer(let layer): return layer.output
        case .pool(let pool): return pool.quantization
        case .reshape(_, let quantization), .tflitePool(_, _, let quantization), .tfliteAdd(_, _, let quantization),
             .tfliteSoftmax(_, _, let quantization), .tfliteMean(_, _, let quantization),
             .windowPool(_, _, let quantization), .add(_, _, let quantization):
            return quantization
        }
    }

    /// The step's name.
    public var name: String {
        switch self {
        case .layer(let layer): return layer.layer.name
        case .pool(let pool): return pool.pool.name
        case .reshape(let reshape, _): return reshape.name
        case .tflitePool(let pool, _, _): return pool.name
        case .tfliteAdd(let add, _, _): return add.name
        case .tfliteSoftmax(let softmax, _, _): return softmax.name
        case .tfliteMean(let pool, _, _): return pool.name
        case .windowPool(let pool, _, _): return pool.name
        case .add(let add, _, _): return add.name
        }
    }
}

/// An integer-only network: what code generation emits and the host reference runs.
public struct QuantizedNetwork: Sendable {
    public var plan: BitWidthPlan
    public var network: Network
    public var steps: [QuantizedStep]
    /// The 8-bit image: `pixel / 255`.
    public var input: TensorQuantization
    /// The classifier's 8-bit output.
    public var logits: TensorQuantization
    /// Steps of the model left out of the integer network: a final softmax under MixQ's own
    /// arithmetic (Top-1 and Top-5 need only the logits, whose order it keeps). `network` is then
    /// the model's network without them; empty when nothing was left out.
    public var omittedSteps: [String] = []

    public var layers: [QuantizedLayer] {
        steps.compactMap { if case .layer(let layer) = $0 { return layer } else { return nil } }
    }

    /// The quantization of every tensor: the input, then each step's output.
    public var tensorQuantization: [TensorQuantization] { [input] + steps.map(\.outputQuantization) }

    /// Quantizes `model` with the bit-widths and flavours of `plan`
    /// (docs/design.md#quantization-arithmetic):
    /// - input: the model's `InputEncoding` (the built-in models: `pixel / 255`);
    /// - activations: the trained quantization when the model states one (a QONNX file's learned
    ///   clips); otherwise ReLU6 clip at the planned bits (zero-point 0), and for unbounded ReLU or
    ///   linear outputs the range seen on float runs over the calibration images (logits plus 10%);
    /// - PL+FB: batch-norm folded into the weights, one per-layer weight range, one multiplier
    ///   `S_w S_x / S_y`, bias `round(d / (S_w S_x))`;
    /// - PL+ICN / PC+ICN: raw weights on a per-layer / per-channel range (the trained one when the
    ///   model states it), per-channel `M[c] = a[c] S_w[c] S_x / S_y` and bias
    ///   `round(d[c] / (a[c] S_w[c] S_x))`.
    ///
    /// - Parameters:
    ///   - calibration: images (bytes) to calibrate ranges on; nil for `calibrationImages` seeded
    ///     synthetic images.
    ///   - method: how ranges the model does not state are chosen (`CalibrationMethod`); `.mse` clips
    ///     sub-byte tensors at their MSE-optimal ranges and corrects the bias of sub-byte layers.
    ///   - statistics: float statistics of `model` measured beforehand (then `calibration` is not run).
    public static func quantize(_ model: FloatModel, plan: BitWidthPlan, calibration: [[UInt8]]? = nil,
                                calibrationImages: Int = 2, seed: UInt64 = 1, method: CalibrationMethod = .minMax,
                                statistics: CalibrationStatistics? = nil) throws(DeploymentError) -> QuantizedNetwork {
        guard plan.layers.count == model.layers.count else {
            throw .modelMismatch("the plan has \(plan.layers.count) layers, the model \(model.layers.count)")
        }
        if let trained = model.quantization, trained.arithmetic == .tflite {
            guard plan.scheme != .int8 else { return try fileIntegers(model, trained: trained, plan: plan) }
            // MixQ's own schemes on a TFLite file: its dequantized weights, re-quantized.
            var float = model
            float.quantization = nil
            return try quantize(float, plan: plan, calibration: calibration, calibrationImages: calibrationImages, seed: seed,
                                method: method, statistics: statistics)
        }
        let images: [[Float]]
        if statistics != nil {
            images = []
        } else if let calibration {
            images = calibration.map { model.input.real($0) }
        } else if model.input == .unitRange {
            images = (0..<calibrationImages).map { SyntheticImage.float(shape: model.network.input, seed: seed &+ 2000 &+ UInt64($0)) }
        } else {
            images = (0..<calibrationImages).map {
                model.input.real(SyntheticImage.bytes(shape: model.network.input, seed: seed &+ 2000 &+ UInt64($0)))
            }
        }
        let measured = statistics ?? (method == .minMax ? nil : CalibrationStatistics(model: model, images: images))
        let ranges = measured?.ranges ?? FloatReference.outputRanges(model, images: images)

        var steps: [QuantizedStep] = []
        var layerIndex = 0
        var tensors = [model.input.quantization]
        var logits = model.input.quantization
        var omitted: [String] = []
        for (stepIndex, step) in model.network.steps.enumerated() {
            let current = tensors[model.network.stepInputs[stepIndex][0]]
            switch step {
            case .globalAveragePool(let pool):
                if let truncation = model.quantization?.pools[stepIndex] {
                    steps.append(.pool(try truncatedPool(pool, truncation, input: current)))
                    tensors.append(truncation.output)
                    continue
                }
                guard !current.isPerChannel else {
                    throw .quantization(layer: pool.name, reason: "its input has one scale per channel; MixQ's average "
                                        + "pooling keeps one scale (quantize the tensor before it per tensor)")
                }
                let pixels = Double(pool.input.height * pool.input.width)
                // The input's quantization, or the file's own for the pooled output (a QDQ file
                // requantizing it), at the same bits.
                let output = model.quantization?.poolOutputs[stepIndex] ?? current
                guard output.bits == current.bits else {
                    throw .modelMismatch("pool \(pool.name): the file quantizes its output at \(output.bits.bits) bits, its input at "
                                         + "\(current.bits.bits); MixQ's pooling keeps the bits")
                }
                do {
                    let parameters = try PoolingParameters(multiplier: FixedPointMultiplier(scale: current.scale / (output.scale * pixels)),
                                                           inputZeroPoint: current.zeroPoint, outputZeroPoint: output.zeroPoint,
                                                           inputBits: current.bits, outputBits: output.bits)
                    steps.append(.pool(QuantizedPool(pool: pool, parameters: parameters, quantization: output, input: current)))
                    tensors.append(output)
                } catch {
                    throw .quantization(layer: pool.name, reason: "\(error)")
                }
            case .layer(let layer):
                let layerPlan = plan.layers[layerIndex]
                let trained = model.quantization?.layers[layerIndex]
                let isLast = layerIndex == model.layers.count - 1
                let output: TensorQuantization
                if let stated = trained?.output {
                    output = stated
                } else if let measured, method == .mse, layerPlan.outputBits < .eight, layer.activation != .none, !isLast {
                    output = measured.clippedActivation(step: stepIndex, bits: layerPlan.outputBits)
                } else if layer.activation == .relu6 && !isLast {
                    output = .relu6(bits: layerPlan.outputBits)
                } else {
                    // Calibrated: widened by 10% for linear outputs (logits), whose extremes on
                    // new images exceed those of the calibration set more often than ReLU's.
                    let (low, high) = ranges[stepIndex]
                    let margin = layer.activation == .none ? 0.1 * (high - low) : 0
                    output = .covering(min: low - margin, max: high + margin, bits: layerPlan.outputBits)
                }
                guard output.bits == layerPlan.outputBits else {
                    throw .modelMismatch("layer \(layer.name): trained output is \(output.bits.bits)-bit, the plan says \(layerPlan.outputBits.bits)")
                }
                let clipping = method == .mse && trained == nil ? measured.map { (statistics: $0, layerIndex: layerIndex, step: stepIndex) } : nil
                let quantized = try quantizeLayer(layerPlan, weights: model.layers[layerIndex], trained: trained?.weights,
                                                  input: current, output: output, clipping: clipping, fileBias: trained?.bias)
                steps.append(.layer(quantized))
                tensors.append(output)
                logits = output
                layerIndex += 1
            case .reshape(let reshape):
                steps.append(.reshape(reshape, current))
                tensors.append(current)
            case .pool(let pool):
                // The pooling step's input and output are one activation group: one quantization.
                do {
                    let parameters = try WindowPoolParameters.scaled(
                        kind: pool.kind == .average ? .average : .maximum, windowPositions: pool.window.height * pool.window.width,
                        inputScale: current.scale, inputZeroPoint: current.zeroPoint, inputBits: current.bits,
                        outputScale: current.scale, outputZeroPoint: current.zeroPoint, outputBits: current.bits,
                        outputRange: current.clamp(of: pool.activation))
                    steps.append(.windowPool(pool, parameters, current))
                    tensors.append(current)
                } catch {
                    throw .quantization(layer: pool.name, reason: "\(error)")
                }
            case .add(let add):
                let bits = try plannedBits(ofTensor: stepIndex + 1, plan: plan, step: add.name)
                let output: TensorQuantization
                if let measured, method == .mse, bits < .eight, add.activation != .none {
                    output = measured.clippedActivation(step: stepIndex, bits: bits)
                } else if add.activation == .relu6 {
                    output = .relu6(bits: bits)
                } else {
                    // Calibrated as a layer's output: the range seen on the calibration images,
                    // widened by 10% when no ReLU bounds it.
                    let (low, high) = ranges[stepIndex]
                    let margin = add.activation == .none ? 0.1 * (high - low) : 0
                    output = .covering(min: low - margin, max: high + margin, bits: bits)
                }
                let second = tensors[model.network.stepInputs[stepIndex][1]]
                do {
                    let parameters = try AddParameters.scaled(
                        input1Scale: current.scale, input1ZeroPoint: current.zeroPoint, input1Bits: current.bits,
                        input2Scale: second.scale, input2ZeroPoint: second.zeroPoint, input2Bits: second.bits,
                        outputScale: output.scale, outputZeroPoint: output.zeroPoint, outputBits: output.bits,
                        outputRange: output.clamp(of: add.activation))
                    steps.append(.add(add, parameters, output))
                    tensors.append(output)
                    logits = output
                } catch {
                    throw .quantization(layer: add.name, reason: "\(error)")
                }
            case .softmax(let softmax):
                // Only as the last step (Network checks it): Top-1 and Top-5 need only the logits,
                // whose order the softmax keeps, so MixQ's integer network ends before it.
                guard stepIndex == model.network.steps.count - 1 else {
                    throw .unsupportedStep(step: softmax.name, reason: "a softmax is supported only as the network's last step")
                }
                omitted.append(softmax.name)
            }
        }
        var quantized = QuantizedNetwork(plan: plan, network: model.network.withoutFinalSoftmax, steps: steps, input: model.input.quantization, logits: logits)
        quantized.omittedSteps = omitted
        return quantized
    }

    /// The planned bits of tensor `t` (the plan's `tensorBits`; 8 when the plan has none).
    private static func plannedBits(ofTensor t: Int, plan: BitWidthPlan, step: String) throws(DeploymentError) -> BitWidth {
        guard !plan.tensorBits.isEmpty else { return .eight }
        guard plan.tensorBits.indices.contains(t) else {
            throw .modelMismatch("step \(step): the plan has \(plan.tensorBits.count) tensors, not \(t + 1)")
        }
        return plan.tensorBits[t]
    }

    /// A TFLite file's network exactly as the file fixed it (docs/design.md#tflite-arithmetic):
    /// its weight codes and int32 biases, its scales and zero points, TFLite's multipliers and
    /// rounding, its fused activations' clamps. Nothing is recomputed from float values.
    static func fileIntegers(_ model: FloatModel, trained: TrainedQuantization, plan: BitWidthPlan) throws(DeploymentError) -> QuantizedNetwork {
        let network = model.network
        guard let tensors = trained.tensors, tensors.count == network.steps.count + 1 else {
            throw .modelMismatch("a TFLite network needs the quantization of each of its \(network.steps.count + 1) tensors")
        }
        let type: TFLiteTensorType = trained.tfliteType
        // The file's float32 scale and signed zero point of a tensor.
        func file(_ t: Int) -> (scale: Float, zero: Int) { (Float(tensors[t].scale), tensors[t].zeroPoint - type.codeOffset) }
        func activation(_ a: Activation) -> TFLiteActivation {
            switch a {
            case .none: return .none
            case .relu: return .relu
            case .relu6: return .relu6
            }
        }
        var steps: [QuantizedStep] = []
        var layerIndex = 0
        for (index, step) in network.steps.enumerated() {
            let inputs = network.stepInputs[index]
            let output = index + 1
            do {
                switch step {
                case .layer(let layer):
                    let fileLayer = trained.layers[layerIndex]
                    guard let codes = fileLayer.codes, let bias = fileLayer.bias else {
                        throw DeploymentError.modelMismatch("layer \(layer.name): the file's weight codes and biases are missing")
                    }
                    let kind: TFLiteLayerKind = layer.kind == .depthwise ? .depthwiseConvolution
                        : (layer.kind == .fc || trained.fullyConnectedLayers.contains(layerIndex) ? .fullyConnected : .convolution)
                    let (inScale, inZero) = file(inputs[0]), (outScale, outZero) = file(output)
                    let parameters = try RequantizationParameters.tflite(
                        kind, type: type, inputScale: inScale, inputZeroPoint: inZero,
                        weightScales: fileLayer.weights.map { Float($0.scale) },
                        weightZeroPoints: fileLayer.weights.map { $0.zeroPoint - type.codeOffset },
                        outputScale: outScale, outputZeroPoint: outZero, bias: bias, activation: activation(layer.activation))
                    let weights = model.layers[layerIndex]
                    steps.append(.layer(QuantizedLayer(plan: plan.layers[layerIndex], weights: codes,
                                                       weightQuantization: fileLayer.weights, input: tensors[inputs[0]],
                                                       output: tensors[output], parameters: parameters, affine: weights.affine)))
                    layerIndex += 1
                case .pool(let pool):
                    let (scale, zero) = file(output)
                    steps.append(.tflitePool(pool, TFLitePoolParameters(kind: pool.kind == .average ? .average : .maximum, type: type,
                                                                        scale: scale, zeroPoint: zero,
                                                                        activation: activation(pool.activation)),
                                             tensors[output]))
                case .add(let add):
                    let (s1, z1) = file(inputs[0]), (s2, z2) = file(inputs[1]), (so, zo) = file(output)
                    steps.append(.tfliteAdd(add, try TFLiteAddParameters(type: type, input1Scale: s1, input1ZeroPoint: z1,
                                                                         input2Scale: s2, input2ZeroPoint: z2, outputScale: so,
                                                                         outputZeroPoint: zo, activation: activation(add.activation)),
                                            tensors[output]))
                case .softmax(let softmax):
                    let (si, _) = file(inputs[0]), (so, zo) = file(output)
                    steps.append(.tfliteSoftmax(softmax, try TFLiteSoftmaxParameters(type: type, inputScale: si, beta: Float(softmax.beta),
                                                                                     outputScale: so, outputZeroPoint: zo),
                                                tensors[output]))
                case .reshape(let reshape):
                    steps.append(.reshape(reshape, tensors[output]))
                case .globalAveragePool(let pool):
                    let (si, zi) = file(inputs[0]), (so, zo) = file(output)
                    steps.append(.tfliteMean(pool, try TFLiteMeanParameters(type: type, elementCount: pool.input.height * pool.input.width,
                                                                            inputScale: si, inputZeroPoint: zi, outputScale: so,
                                                                            outputZeroPoint: zo),
                                             tensors[output]))
                }
            } catch let error as DeploymentError {
                throw error
            } catch {
                throw .quantization(layer: step.name, reason: "\(error)")
            }
        }
        return QuantizedNetwork(plan: plan, network: network, steps: steps, input: tensors[0], logits: tensors[network.steps.count])
    }

    /// A file's truncating average (QONNX `Trunc` after a global average pool) in MixQ's pooling
    /// kernel: the sum of the input codes is the file's `x / scale` exactly when the Trunc's scale is
    /// the average's (`input scale / pixels`, as Brevitas exports `TruncAvgPool2d`), then a floor or
    /// ceiling division by `2^k` and the clamp of the output bits (`PoolingParameters.truncating`).
    static func truncatedPool(_ pool: GlobalAveragePool, _ truncation: PoolTruncation,
                              input: TensorQuantization) throws(DeploymentError) -> QuantizedPool {
        let pixels = pool.input.height * pool.input.width
        let averageScale = input.scale / Double(pixels)
        guard !input.isPerChannel, abs(truncation.scale / averageScale - 1) < 1e-5 else {
            throw .quantization(layer: pool.name, reason: "the Trunc reads the average with scale \(truncation.scale); MixQ "
                                + "runs a Trunc whose scale is the average's, input scale / pixels = \(averageScale) (Brevitas' "
                                + "TruncAvgPool2d), on an input with one scale")
        }
        guard truncation.output.bits == input.bits else {
            throw .quantization(layer: pool.name, reason: "the Trunc makes \(truncation.output.bits.bits)-bit outputs from "
                                + "\(input.bits.bits)-bit inputs; MixQ's pooled output keeps its input's bits")
        }
        guard let offset = Int32(exactly: truncation.zeroPoint),
              truncation.clamp == -truncation.codeOffset...(truncation.output.bits.maxUnsigned - truncation.codeOffset) else {
            throw .quantization(layer: pool.name, reason: "the Trunc's zero point \(truncation.zeroPoint) or clamp is not one "
                                + "MixQ's pooling kernel computes (an integer zero point, the full range of the output bits)")
        }
        do {
            let parameters = try PoolingParameters.truncating(shift: truncation.shift, rounding: truncation.rounding, offset: offset,
                                                              inputZeroPoint: input.zeroPoint, outputZeroPoint: truncation.codeOffset,
                                                              inputBits: input.bits, outputBits: truncation.output.bits)
            return QuantizedPool(pool: pool, parameters: parameters, quantization: truncation.output, input: input,
                                 truncation: truncation)
        } catch {
            throw .quantization(layer: pool.name, reason: "\(error)")
        }
    }

    private static func quantizeLayer(_ plan: LayerPlan, weights float: FloatLayerWeights, trained: [TensorQuantization]?,
                                      input: TensorQuantization, output: TensorQuantization,
                                      clipping: (statistics: CalibrationStatistics, layerIndex: Int, step: Int)? = nil,
                                      fileBias: [Int32]? = nil)
        throws(DeploymentError) -> QuantizedLayer {
        let layer = plan.layer
        let n = layer.outputChannels
        // A per-channel input scale is carried into the per-channel requantization of a depthwise
        // convolution (output channel c reads input channel c / m); a dense layer sums over input
        // channels, so one scale per channel cannot leave the sum.
        if input.isPerChannel, layer.kind != .depthwise {
            throw .quantization(layer: layer.name, reason: "its input has one scale per channel (a QONNX activation Quant "
                                + "with scales [1, C, 1, 1]); MixQ carries per-channel input scales only into a depthwise "
                                + "convolution's requantization, and a \(layer.kind.rawValue) layer sums over the channels")
        }
        if (input.isPerChannel || output.isPerChannel), plan.flavour == .perLayerFolded {
            throw .quantization(layer: layer.name, reason: "its \(output.isPerChannel ? "output" : "input") has one scale per "
                                + "channel, which needs a multiplier per channel; PL+FB has one (use --scheme mixpc or "
                                + "--flavour pl_icn or pc_icn)")
        }
        let inputChannelOf: (Int) -> Int = { [m = max(1, layer.depthMultiplier)] c in c / m }
        let (a, floatShift) = float.affine
        var d = floatShift
        let channelOf: (Int) -> Int = layer.kind == .depthwise
            ? { $0 % n } : { [perChannel = layer.weightCount / n] in $0 / perChannel }
        let folded = plan.flavour == .perLayerFolded
        let values = float.weights.enumerated().map { i, w in folded ? a[channelOf(i)] * Double(w) : Double(w) }

        if let trained, trained[0].bits != plan.weightBits {
            throw .modelMismatch("layer \(layer.name): trained weights are \(trained[0].bits.bits)-bit, the plan says \(plan.weightBits.bits)")
        }
        var ranges: [TensorQuantization]
        if let trained, plan.flavour == .perChannelICN {
            // The trained codes, one range per channel (a per-tensor range repeated).
            ranges = trained.count == n ? trained : Array(repeating: trained[0], count: n)
        } else if let trained, plan.flavour == .perLayerICN, trained.count == 1 {
            ranges = trained
        } else if let clipping, plan.weightBits < .eight {
            ranges = clipping.statistics.clippedWeights(layerIndex: clipping.layerIndex, values: values, channelOf: channelOf, channels: n,
                                                        perChannel: plan.flavour == .perChannelICN, folded: folded, bits: plan.weightBits)
        } else if plan.flavour == .perChannelICN {
            var lows = [Double](repeating: 0, count: n), highs = lows
            for (i, v) in values.enumerated() {
                lows[channelOf(i)] = min(lows[channelOf(i)], v)
                highs[channelOf(i)] = max(highs[channelOf(i)], v)
            }
            ranges = (0..<n).map { TensorQuantization.covering(min: lows[$0], max: highs[$0], bits: plan.weightBits) }
        } else {
            ranges = [TensorQuantization.covering(min: values.min() ?? 0, max: values.max() ?? 0, bits: plan.weightBits)]
        }
        if trained == nil, ranges.count == n, n > 1 {
            // A channel whose weights are numerically zero next to the layer's (all below 2^-24 of
            // its largest magnitude, float32's resolution; trained networks leave channels at 1e-30)
            // is a zero channel: its own range would make a scale near 1e-32 and a bias beyond int32.
            var largest = [Double](repeating: 0, count: n)
            for (i, v) in values.enumerated() { largest[channelOf(i)] = max(largest[channelOf(i)], abs(v)) }
            let threshold = (largest.max() ?? 0) * 0x1p-24
            for c in 0..<n where largest[c] <= threshold {
                ranges[c] = TensorQuantization(scale: 1, zeroPoint: 0, bits: plan.weightBits)
            }
        }
        let rangeOf: (Int) -> TensorQuantization = { c in ranges.count == 1 ? ranges[0] : ranges[c] }
        // Under ICN a channel with a = 0 (batch-norm gamma 0) ignores its weights: they become zero codes.
        let codes = values.enumerated().map { i, v in
            !folded && a[channelOf(i)] == 0 ? rangeOf(channelOf(i)).zeroPoint : rangeOf(channelOf(i)).code(v)
        }
        // Channels whose codes are all their zero point: their output is the constant d[c].
        var zeroChannels = Set(0..<n)
        for (i, code) in codes.enumerated() where code != rangeOf(channelOf(i)).zeroPoint { zeroChannels.remove(channelOf(i)) }
        if let clipping, plan.weightBits < .eight || input.bits < .eight {
            let dequantized = codes.enumerated().map { i, code in rangeOf(channelOf(i)).real(code) }
            let statistics = clipping.statistics
            let shift = CalibrationStatistics.biasShift(layer: layer, values: values, dequantized: dequantized,
                                                        inputMeans: statistics.inputMeans(ofStep: clipping.step),
                                                        quantizedInputMeans: statistics.quantizedInputMeans(ofStep: clipping.step, quantization: input),
                                                        channelOf: channelOf)
            d = (0..<n).map { c in d[c] - (folded ? 1 : a[c]) * shift[c] }
        }

        var bias: [Int32] = []
        var multipliers: [FixedPointMultiplier] = []
        do {
            for c in 0..<n {
                var accumulatorScale = rangeOf(c).scale * input.scale(channel: inputChannelOf(c)) * (folded ? 1 : a[c])
                var b = (d[c] / accumulatorScale).rounded()
                if !(abs(b) < 2_147_483_647), zeroChannels.contains(c), fileBias == nil {
                    if !folded {
                        // A zero channel under ICN: the accumulator is the bias alone, so its unit is
                        // free; 2^-16 of an output step keeps the constant exact to 2^-16 of a step.
                        accumulatorScale = output.scale(channel: c) * 0x1p-16
                        b = (d[c] / accumulatorScale).rounded()
                    }
                    // Beyond 2^30 the output saturates whatever the multiplier (2^14 or more output
                    // steps under ICN; PL+FB only when the shared multiplier takes the bias past the
                    // output range), so the clamped bias gives the same codes.
                    let saturates = !folded || abs(accumulatorScale / output.scale(channel: c)) * 0x1p30
                        >= Double(output.bits.maxUnsigned + 1)
                    if saturates { b = min(max(b, -0x1p30), 0x1p30) }
                }
                if let fileBias {
                    // The file's int32 bias (a QONNX Quant of 32 bits, Brevitas' Int32Bias) is MixQ's when
                    // its unit is the accumulator's: input scale x weight scale.
                    let stated = Double(fileBias[fileBias.count == 1 ? 0 : c])
                    guard abs(b - stated) <= 1 + 1e-5 * abs(stated) else {
                        throw DeploymentError.quantization(layer: layer.name, reason: "the file's int32 bias of channel \(c) "
                                                           + "(\(Int(stated))) is not in the accumulator's units (input scale x "
                                                           + "weight scale = \(accumulatorScale)): it would be \(b)")
                    }
                    b = stated
                }
                guard abs(b) < 2_147_483_647 else {
                    throw DeploymentError.quantization(layer: layer.name, reason: "bias of channel \(c) is \(b) accumulator units "
                                                       + "(\(d[c]) / \(accumulatorScale)), beyond int32: the channel's weights are "
                                                       + "too small next to its bias for one int32 accumulator")
                }
                bias.append(Int32(b))
                if !folded || c == 0 {
                    multipliers.append(try FixedPointMultiplier(scale: accumulatorScale / output.scale(channel: c)))
                }
            }
            let parameters = try RequantizationParameters(
                flavour: plan.flavour, bias: bias, multipliers: multipliers,
                weightZeroPoints: ranges.map(\.zeroPoint), inputZeroPoint: input.zeroPoint,
                outputZeroPoint: output.zeroPoint, inputBits: input.bits, weightBits: plan.weightBits,
                outputBits: output.bits)
            return QuantizedLayer(plan: plan, weights: codes, weightQuantization: ranges, input: input, output: output,
                                  parameters: parameters, affine: (a, d))
        } catch let error as DeploymentError {
            throw error
        } catch {
            throw .quantization(layer: layer.name, reason: "\(error)")
        }
    }
}
