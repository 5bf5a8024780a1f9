import Deployment
import Diagnostics
import Foundation
import struct TFLiteSchema.TFLiteModel
import ONNXSchema
import Planning
import Quantization
import SwiftProtobuf

/// A network brought in from a model file: the same `Network` and `FloatModel` types the
/// built-in MobilenetV1 family produces, so nothing downstream knows where it came from.
public struct ImportedModel: Sendable {
    /// The network, float weights, input encoding and (for QONNX) the trained quantization.
    public var model: FloatModel
    /// The file it was read from.
    public var path: String
    /// `"ONNX"` for a float model, `"QONNX"` when the file states its own quantization.
    public var format: String
    /// The ONNX default-domain opset the file declares (0 when it declares none); for a TFLite
    /// file, its schema version.
    public var opset: Int
    /// What the importer changed to fit MixQ's graph (a PAD folded into a convolution, a float
    /// edge turned into the input encoding), one phrase each; `plan` prints them.
    public var folded: [String] = []
    /// More about the file's quantization, e.g. `"int8, schema version 3"`; empty for none.
    public var detail: String = ""

    public var network: Network { model.network }

    public init(model: FloatModel, path: String, format: String, opset: Int, folded: [String] = [], detail: String = "") {
        self.model = model
        self.path = path
        self.format = format
        self.opset = opset
        self.folded = folded
        self.detail = detail
    }

    /// `"QONNX file data/models/x.onnx (opset 13): 28 layers, 81 k MACs"`.
    public var summary: String {
        let version = format == "TFLite" ? detail : (detail.isEmpty ? "opset \(opset)" : "opset \(opset); \(detail)")
        return "\(format) file \(path) (\(version)): \(network.layers.count) layers, \(network.steps.count) steps, "
            + "\(network.multiplyAccumulates) MACs, \(network.weightCount) weights"
    }
}

/// Reads ONNX and QONNX files (ONNX's protobuf schema, `onnx.proto`) into MixQ's network types.
///
/// The file's graph becomes MixQ's network graph (docs/design.md#network-graph): a node may read
/// any value written before it and a value may feed several nodes. What it accepts is what
/// MobilenetV1/V2- and ResNet-style networks contain:
/// - `Conv` (dense, depthwise with `group == channels`, 1x1 pointwise) with explicit `pads` or
///   `auto_pad`, then optionally `BatchNormalization`, then `Relu` or `Clip(0, 6)`;
/// - `Add` of two activations of one shape (a residual connection), then optionally `Relu` or
///   `Clip(0, 6)`;
/// - `GlobalAveragePool`, `ReduceMean` over H and W, `AveragePool` and `MaxPool` over any window,
///   stride and padding;
/// - `Flatten` / `Reshape` to a vector, then `Gemm`, or `MatMul` followed by `Add`;
/// - `Softmax` / `LogSoftmax` at the end (ignored: Top-1 does not need it), `Identity`, `Dropout`;
/// - QONNX `Quant` (domain `qonnx.custom_op.general`) on weights (per tensor or per output
///   channel) and on activations (per tensor): its bit-widths, scales and zero-points become the
///   network's quantization (see `TrainedQuantization`).
///
/// ONNX tensors are NCHW and Conv weights `[out][in/group][kh][kw]`; MixQ's are HWC and
/// `[out][kh][kw][in]` (depthwise `[kh][kw][c]`), converted here.
public enum ONNXImporter {
    /// The operators the importer accepts, for error messages.
    public static let supportedOperators = "Conv, BatchNormalization, Relu, Clip(0, 6), GlobalAveragePool, "
        + "AveragePool, MaxPool, ReduceMean (H, W), Add (residual, or a bias after MatMul), Flatten, Reshape, Gemm, "
        + "MatMul, Softmax, LogSoftmax, "
        + "Identity, Dropout, Constant, QONNX Quant (2, 4 or 8 bits; 32 on a bias) and QONNX Trunc after a global average pool"

    /// The most elements one tensor (a weight, an activation) may have: 2^31, far beyond any
    /// microcontroller's memory. Every count computed from a file is checked against it before
    /// anything multiplies with it, so sizes, byte counts and MACs fit an `Int`.
    public static let maximumElements = 1 << 31

    /// The most multiply-accumulates a whole network may take (2^48: days per inference on a
    /// Cortex-M7 at 480 MHz), so per-layer and total MACs fit an `Int`.
    public static let maximumMultiplyAccumulates = 1 << 48

    /// The product of `dimensions` when it is at most `maximumElements`, nil otherwise
    /// (including when it overflows an `Int`).
    static func elementCount(_ dimensions: [Int]) -> Int? {
        guard dimensions.allSatisfy({ $0 >= 0 }) else { return nil }
        if dimensions.contains(0) { return 0 }
        var count = 1
        for dimension in dimensions {
            let (next, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow, next <= maximumElements else { return nil }
            count = next
        }
        return count
    }

    /// The multiply-accumulates of `layer`, nil when its shapes or MACs exceed the limits
    /// (computed with checked arithmetic: a layer's own properties would trap first).
    static func checkedMultiplyAccumulates(_ layer: Layer) -> Int? {
        let output = [layer.output.height, layer.output.width, layer.output.channels]
        guard elementCount(output) != nil,
              elementCount([layer.input.height, layer.input.width, layer.input.channels]) != nil else { return nil }
        var taps = [layer.kernel.height, layer.kernel.width]
        if layer.kind != .depthwise { taps.append(layer.input.channels) }
        guard let perOutput = elementCount(taps), let outputs = elementCount(output) else { return nil }
        let (macs, overflow) = outputs.multipliedReportingOverflow(by: perOutput)
        return overflow || macs > maximumMultiplyAccumulates ? nil : macs
    }

    /// Reads the model file at `url`; the network is named after the file.
    ///
    /// - Parameters:
    ///   - inputMean: subtracted from pixels before `inputScale` (default 0).
    ///   - inputScale: multiplies `pixel - inputMean` (default 1/255). For a QONNX file whose graph
    ///     input is quantized, leaving both nil means the input codes are the pixels, with the
    ///     real value the file's `Quant` gives them.
    /// - Throws: `ImportError` naming the node, its operator and what is supported.
    public static func load(contentsOf url: URL, inputMean: Double? = nil,
                            inputScale: Double? = nil) throws(ImportError) -> ImportedModel {
        guard FileManager.default.fileExists(atPath: url.path) else { throw .unreadable(path: url.path, reason: "no such file") }
        let data: Data
        do {
            data = try InputFile.map(url.path)
        } catch {
            throw .unreadable(path: url.path, reason: error.reason)
        }
        let name = url.deletingPathExtension().lastPathComponent
        return try load(data: data, path: url.path, name: name, inputMean: inputMean, inputScale: inputScale)
    }

    /// Reads a model from bytes; `path` is for messages, `name` names the network.
    public static func load(data: Data, path: String, name: String, inputMean: Double? = nil,
                            inputScale: Double? = nil) throws(ImportError) -> ImportedModel {
        guard !data.isEmpty else { throw .notONNX(path: path, reason: "the file is empty") }
        guard !TFLiteModel.looksLikeTFLite(data.prefix(8)) else {
            throw .notONNX(path: path, reason: "it is a TFLite flatbuffer (file identifier \"TFL3\"); MixQ reads it as TFLite "
                           + "wherever --model is taken")
        }
        var proto: Onnx_ModelProto
        do {
            proto = try Onnx_ModelProto(serializedBytes: data)
        } catch {
            throw .notONNX(path: path, reason: "it does not decode as an ONNX protobuf model (\(error)); is it truncated?")
        }
        guard proto.hasGraph, !proto.graph.node.isEmpty else {
            throw .notONNX(path: path, reason: "it has no graph nodes (a truncated or non-ONNX file decodes as an empty model)")
        }
        let opset = proto.opsetImport.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }.map { Int($0.version) } ?? 0
        try ONNXExternalData.resolve(&proto.graph, modelPath: path)
        var graph = proto.graph
        // QDQ and QOperator quantization rewritten into QONNX Quant nodes (ONNXQDQ.swift), then
        // what exporters leave behind folded (ONNXExporterFolds.swift).
        let lowered = try QDQLowering.apply(to: &graph)
        let folded = try ExporterFolds.apply(to: &graph)
        var builder = try ONNXGraphBuilder(graph: graph, networkName: networkName(name))
        let model = try builder.build(inputMean: inputMean, inputScale: inputScale)
        if !lowered.isEmpty, model.quantization != nil {
            return ImportedModel(model: model, path: path, format: "ONNX QDQ", opset: opset, folded: lowered + folded,
                                 detail: QDQLowering.comparison)
        }
        return ImportedModel(model: model, path: path, format: model.quantization == nil ? "ONNX" : "QONNX", opset: opset,
                             folded: lowered + folded)
    }

    /// A file name as a network name: letters, digits, `.`, `-` and single underscores (results
    /// files separate model and scheme with `__`).
    static func networkName(_ name: String) -> String {
        let mapped = String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") ? $0 : "_" })
        let trimmed = mapped.split(separator: "_", omittingEmptySubsequences: true).joined(separator: "_")
        return trimmed.isEmpty ? "model" : trimmed
    }

    /// Letters, digits and underscores only (names end up in C source and firmware output).
    static func sanitized(_ name: String, fallback: String) -> String {
        let mapped = String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
        let trimmed = mapped.split(separator: "_", omittingEmptySubsequences: true).joined(separator: "_")
        return trimmed.isEmpty ? fallback : trimmed
    }
}

/// A QONNX `Quant` node's parameters (QONNX custom op `Quant`: inputs x, scale, zeropt,
/// bitwidth; attributes signed, narrow, rounding_mode): `q = clip(round(x / scale + zeropt),
/// qmin, qmax)`, `y = (q - zeropt) * scale`.
struct QuantParameters {
    var scales: [Double]
    var zeroPoints: [Double]
    var scaleDims: [Int]
    var bits: BitWidth
    var signed: Bool
    var narrow: Bool

    var qmin: Double { signed ? -Double(1 << (bits.bits - 1)) + (narrow ? 1 : 0) : 0 }
    var qmax: Double { signed ? Double(1 << (bits.bits - 1)) - 1 : Double((1 << bits.bits) - 1) - (narrow ? 1 : 0) }

    /// Quantize-dequantize one value with the `k`-th scale (QONNX `ROUND`: half to even).
    func fakeQuantize(_ x: Double, _ k: Int) -> (q: Double, y: Double) {
        let s = scales.count == 1 ? scales[0] : scales[k], z = zeroPoints.count == 1 ? zeroPoints[0] : zeroPoints[k]
        let q = min(max((x / s + z).rounded(.toNearestOrEven), qmin), qmax)
        return (q, (q - z) * s)
    }

    /// MixQ's unsigned-code form of the `k`-th scale: signed codes shift by `2^(b-1)`.
    func tensorQuantization(_ k: Int) -> TensorQuantization {
        let s = scales.count == 1 ? scales[0] : scales[k], z = zeroPoints.count == 1 ? zeroPoints[0] : zeroPoints[k]
        return TensorQuantization(scale: s, zeroPoint: Int(z) + (signed ? 1 << (bits.bits - 1) : 0), bits: bits)
    }
}

/// A constant weight tensor, possibly through a `Quant` node.
struct WeightTensor {
    var tensor: ONNXTensor
    /// The `Quant` applied to it and the axis its per-channel scales run along (nil: per tensor).
    var quant: (parameters: QuantParameters, axis: Int?)?
}

/// Builds the network graph by walking the graph's nodes in order (ONNX requires topological
/// order): every ONNX value an activation becomes a MixQ tensor (docs/design.md#network-graph),
/// a node may read any value written before it, and a value may feed several nodes.
///
/// A Conv, Gemm or MatMul stays open while the nodes that follow it can be fused into it
/// (batch-norm, bias `Add`, `Relu`/`Clip`, an output `Quant`); likewise a residual `Add` for its
/// activation. A node fuses only when it alone reads the open step's output: a value read by
/// several nodes closes the step first.
struct ONNXGraphBuilder {
    let graph: Onnx_GraphProto
    let networkName: String
    var constants: [String: ONNXTensor] = [:]
    var weightQuants: [String: WeightTensor] = [:]
    /// The int32 codes of constants made by a 32-bit QONNX `Quant` (Brevitas' `Int32Bias`).
    var int32Biases: [String: [Int32]] = [:]
    /// The file's truncating averages (QONNX `Trunc`), by pooling step index.
    var poolTruncations: [Int: PoolTruncation] = [:]
    /// How many nodes (and graph outputs) read each value.
    var uses: [String: Int] = [:]

    /// An ONNX activation as MixQ holds it.
    struct Value {
        /// The MixQ tensor (0: the network input; `i + 1`: step `i`'s output).
        var tensor: Int
        /// Set by Flatten/Reshape of an HxWxC map (H*W > 1): the value is that map read as a
        /// vector in ONNX's CHW order, which only a classifier (Gemm, MatMul) can take.
        var flattenedFrom: TensorShape?
    }

    // The graph so far.
    /// The MixQ value of each ONNX activation written so far.
    var values: [String: Value] = [:]
    let inputShape: TensorShape
    var steps: [(step: NetworkStep, inputs: [Int])] = []
    /// The QONNX quantization stated for each MixQ tensor (nil: none), indexed like tensors.
    var statedQuantization: [QuantParameters?] = [nil]
    var floatLayers: [FloatLayerWeights] = []
    var trainedLayers: [TrainedQuantization.Layer?] = []
    var inputQuant: QuantParameters?
    /// Pools whose output the file requantizes, by step index.
    var poolOutputs: [Int: TensorQuantization] = [:]
    var pending: PendingLayer?
    var pendingAdd: PendingAdd?
    var sawQuant = false
    var ended = false
    var names = Set<String>()

    /// A layer whose trailing ops (batch-norm, activation, output Quant) may still follow.
    struct PendingLayer {
        var layer: Layer
        var nodeName: String
        /// The MixQ tensor it reads.
        var input: Int
        /// The ONNX value its (fused) output is so far.
        var outputName: String
        var weights: [Float]
        var weightQuantization: [TensorQuantization]?
        var bias: [Double]?
        /// The file's int32 bias codes, when a 32-bit Quant made the bias.
        var biasCodes: [Int32]?
        var batchNorm: (gamma: [Double], beta: [Double], mean: [Double], variance: [Double], epsilon: Double)?
        var activationSet = false
        var output: QuantParameters?
    }

    /// A residual `Add` whose activation (`Relu`, `Clip`) may still follow.
    struct PendingAdd {
        var add: ElementwiseAdd
        var inputs: [Int]
        var outputName: String
        var activationSet = false
    }

    init(graph: Onnx_GraphProto, networkName: String) throws(ImportError) {
        self.graph = graph
        self.networkName = networkName
        var constants: [String: ONNXTensor] = [:]
        for initializer in graph.initializer { constants[initializer.name] = try ONNXTensor(initializer) }
        self.constants = constants
        let inputs = graph.input.filter { constants[$0.name] == nil }
        guard inputs.count == 1, let input = inputs.first else {
            throw .badInput("the graph has \(inputs.count) non-constant inputs; MixQ needs exactly one image input")
        }
        guard case .tensorType(let type)? = input.type.value, type.hasShape else {
            throw .badInput("'\(input.name)' has no tensor shape; export the model with a fixed input shape")
        }
        let dims = type.shape.dim.map { dim -> Int? in
            if case .dimValue(let v)? = dim.value, v > 0 { return Int(v) } else { return nil }
        }
        guard dims.count == 4, let c = dims[1], let h = dims[2], let w = dims[3], dims[0] == nil || dims[0] == 1 else {
            throw .badInput("'\(input.name)' has shape \(dims.map { $0.map(String.init) ?? "?" }); MixQ needs an NCHW image "
                            + "[1 or N, C, H, W] with fixed C, H and W")
        }
        guard ONNXImporter.elementCount([c, h, w]) != nil else {
            throw .badInput("'\(ErrorText.quoted(input.name))' has shape [\(dims[0].map(String.init) ?? "N"), \(c), \(h), \(w)]: "
                            + "more than \(ONNXImporter.maximumElements) elements")
        }
        inputShape = TensorShape(height: h, width: w, channels: c)
        values[input.name] = Value(tensor: 0)
        var uses: [String: Int] = [:]
        for node in graph.node { for name in node.input where !name.isEmpty { uses[name, default: 0] += 1 } }
        for output in graph.output { uses[output.name, default: 0] += 1 }
        self.uses = uses
    }

    // MARK: Walking the graph

    mutating func build(inputMean: Double?, inputScale: Double?) throws(ImportError) -> FloatModel {
        for node in graph.node {
            try visit(node)
        }
        try finishPending()
        guard graph.output.count == 1, let output = graph.output.first else {
            throw .badNetwork("the graph has \(graph.output.count) outputs \(graph.output.prefix(4).map { ErrorText.quoted($0.name) }); "
                              + "MixQ runs networks with one output")
        }
        guard let value = values[output.name], value.tensor == steps.count, value.tensor > 0 else {
            throw .badNetwork("the graph's output '\(ErrorText.quoted(output.name))' is not written by its last node; MixQ's "
                              + "network output is its last step's")
        }
        guard value.flattenedFrom == nil else {
            throw .badNetwork("the graph's output '\(ErrorText.quoted(output.name))' is a flattened map; MixQ's outputs are "
                              + "vectors (Gemm, MatMul) or maps in HWC order")
        }
        guard !floatLayers.isEmpty else { throw .badNetwork("the graph has no Conv, Gemm or MatMul layer") }
        var totalMACs = 0, totalWeights = 0
        for case .layer(let layer) in steps.map(\.step) {
            // Each layer was checked when it was made; the sums are checked here.
            let (macs, o1) = totalMACs.addingReportingOverflow(layer.multiplyAccumulates)
            let (weights, o2) = totalWeights.addingReportingOverflow(layer.weightCount)
            guard !o1, !o2, macs <= ONNXImporter.maximumMultiplyAccumulates, weights <= ONNXImporter.maximumElements else {
                throw .badNetwork("the layers take more than \(ONNXImporter.maximumMultiplyAccumulates) multiply-accumulates "
                                  + "or \(ONNXImporter.maximumElements) weights in all")
            }
            (totalMACs, totalWeights) = (macs, weights)
        }
        let network: Network
        do {
            network = try Network(name: networkName, input: inputShape, graph: steps)
        } catch {
            throw .badNetwork("\(error)")
        }
        let encoding = try inputEncoding(mean: inputMean, scale: inputScale)
        var trained: TrainedQuantization?
        if sawQuant {
            // A QONNX file's stated quantization is one per layer output (TrainedQuantization);
            // a residual Add's output and its inputs' scales have no place in it yet.
            guard network.isChain else {
                throw .unsupportedUse(node: network.steps.first { $0.kindName == "add" }?.name ?? network.name, op: "Quant",
                                      reason: "a QONNX file whose graph branches (residual Add); MixQ takes a QONNX file's "
                                      + "quantization on chains of layers, and float ONNX graphs with any branches")
            }
            var layers: [TrainedQuantization.Layer] = []
            // A weight-only file (Quant on weights, float activations): MixQ chooses and calibrates
            // every activation; otherwise every activation but the final logits is the file's.
            let weightOnly = trainedLayers.allSatisfy { $0?.output == nil } && inputQuant == nil && poolTruncations.isEmpty && poolOutputs.isEmpty
            for (index, layer) in network.layers.enumerated() {
                guard let stated = trainedLayers[index] else {
                    throw .unsupportedUse(node: layer.name, op: "Conv/Gemm", reason: "the file quantizes some tensors (QONNX Quant) "
                                          + "but not this layer's weights; quantize every weight tensor, or none")
                }
                if stated.output == nil, index < network.layers.count - 1, !weightOnly {
                    throw .unsupportedUse(node: layer.name, op: "Conv/Gemm", reason: "the layer's output has no activation Quant; "
                                          + "in a QONNX file every activation but the final logits must be quantized, or none "
                                          + "(weights only: MixQ then chooses and calibrates the activations)")
                }
                layers.append(stated)
            }
            trained = TrainedQuantization(layers: layers)
            trained?.poolOutputs = poolOutputs
            trained?.pools = poolTruncations
            if weightOnly { trained?.floatActivations = Set(0..<(network.layers.count - 1)) }
        }
        do {
            return try FloatModel(network: network, layers: floatLayers, input: encoding, quantization: trained)
        } catch {
            throw .badNetwork("\(error)")
        }
    }

    func inputEncoding(mean: Double?, scale: Double?) throws(ImportError) -> InputEncoding {
        guard let quant = inputQuant else { return InputEncoding(mean: mean ?? 0, scale: scale ?? 1.0 / 255) }
        guard quant.bits == .eight else {
            throw .unsupportedUse(node: "input", op: "Quant", reason: "the network input is \(quant.bits.bits)-bit; MixQ's input is 8-bit")
        }
        let codes = quant.tensorQuantization(0)
        if mean == nil && scale == nil {
            // The file states what the codes mean: pixels are the codes.
            return InputEncoding(mean: Double(codes.zeroPoint), scale: codes.scale, quantization: codes)
        }
        return InputEncoding(mean: mean ?? 0, scale: scale ?? 1.0 / 255, quantization: codes)
    }

    mutating func visit(_ node: Onnx_NodeProto) throws(ImportError) {
        let attributes = NodeAttributes(node: node)
        let op = node.opType
        let isQONNX = node.domain.hasPrefix("qonnx") || node.domain.hasPrefix("finn")
        if op == "Constant" {
            guard let value = attributes.attribute("value"), value.hasT, let output = node.output.first else {
                throw .unsupportedUse(node: attributes.name, op: op, reason: "only tensor-valued constants are supported")
            }
            var tensor = try ONNXTensor(value.t)
            tensor.name = output
            constants[output] = tensor
            return
        }
        // Nodes computing on constants only (a weight's Quant) are folded here.
        if node.input.filter({ !$0.isEmpty }).allSatisfy({ constants[$0] != nil }) {
            try foldConstant(node, attributes)
            return
        }
        guard !ended else {
            throw .unsupportedUse(node: attributes.name, op: op, reason: "nothing may follow the final Softmax")
        }
        for name in node.input where !name.isEmpty && constants[name] == nil && weightQuants[name] == nil
            && values[name] == nil && name != openOutput {
            throw .unsupportedUse(node: attributes.name, op: op, reason: "it reads '\(ErrorText.quoted(name))', which no earlier "
                                  + "node writes and no initializer holds (ONNX lists nodes in topological order)")
        }
        // The value the node computes on: for an Add of a constant, its other input.
        let data = op == "Add" ? node.input.first { constants[$0] == nil } ?? "" : node.input.first ?? ""
        let others = node.input.filter { !$0.isEmpty && $0 != data }
        if op != "Add", let dynamic = others.first(where: { constants[$0] == nil && weightQuants[$0] == nil }) {
            throw .unsupportedUse(node: attributes.name, op: op, reason: "its input '\(ErrorText.quoted(dynamic))' is computed by "
                                  + "the graph; MixQ takes \(op)'s inputs after the first as constants (initializers)")
        }
        if !fuses(node, data: data) { try finishPending() }
        switch op {
        case "Quant" where isQONNX || node.domain.isEmpty:
            try activationQuant(node, attributes)
        case "BipolarQuant":
            throw .unsupportedOperator(node: attributes.name, op: "BipolarQuant (1-bit)",
                                       supported: ONNXImporter.supportedOperators + "; MixQ's kernels run 8, 4 and 2 bits")
        case "Trunc" where isQONNX:
            try truncate(node, attributes)
        case "Conv":
            try convolution(node, attributes)
        case "BatchNormalization":
            try batchNorm(node, attributes)
        case "Relu":
            try activation(.relu, node, attributes)
        case "Clip":
            let low = try optionalScalar(node, 1, attributes) ?? attributes.float("min", default: -.infinity)
            let high = try optionalScalar(node, 2, attributes) ?? attributes.float("max", default: .infinity)
            guard low == 0, high == 6 || high == .infinity else {
                throw .unsupportedUse(node: attributes.name, op: op, reason: "Clip(\(low), \(high)) is not supported; "
                                      + "MixQ imports Clip(0, 6) (ReLU6) and Clip(0, inf) (ReLU)")
            }
            try activation(high == 6 ? .relu6 : .relu, node, attributes)
        case "GlobalAveragePool":
            try pool(node, attributes)
        case "AveragePool", "MaxPool":
            try windowedPool(node, attributes)
        case "ReduceMean":
            let fromInput = try optionalInts(node, 1)
            let axes = attributes.ints("axes") ?? fromInput
            guard let axes, Set(axes.map { $0 < 0 ? $0 + 4 : $0 }) == [2, 3] else {
                throw .unsupportedUse(node: attributes.name, op: op, reason: "ReduceMean is supported over the spatial axes [2, 3] only")
            }
            try pool(node, attributes)
        case "Flatten", "Reshape", "Squeeze":
            try flatten(node, attributes)
        case "Gemm":
            try gemm(node, attributes)
        case "MatMul":
            try matMul(node, attributes)
        case "Add" where others.allSatisfy({ constants[$0] == nil }):
            try residualAdd(node, attributes)
        case "Add":
            try addBias(node, attributes)
        case "Softmax", "LogSoftmax":
            try alias(node, attributes)
            ended = true
        case "Identity", "Dropout":
            if fuses(node, data: data) { advance(node) } else { try alias(node, attributes) }
        default:
            throw .unsupportedOperator(node: attributes.name, op: node.domain.isEmpty ? op : "\(node.domain).\(op)",
                                       supported: ONNXImporter.supportedOperators)
        }
    }

    /// The ONNX value the open step (a layer or a residual Add that later nodes may still join)
    /// writes so far; nil when none is open.
    var openOutput: String? { pending?.outputName ?? pendingAdd?.outputName }

    /// Whether `node` joins the open step: it reads the open step's output `data`, no other node
    /// reads that value, and it is an op the step absorbs (a layer: batch-norm, a constant bias
    /// Add, an activation, an output Quant; a residual Add: an activation).
    func fuses(_ node: Onnx_NodeProto, data: String) -> Bool {
        guard data == openOutput, uses[data, default: 0] == 1 else { return false }
        switch node.opType {
        case "Relu", "Clip", "Identity", "Dropout": return true
        case "BatchNormalization", "Quant": return pending != nil
        case "Add": return pending != nil && node.input.filter { $0 != data }.allSatisfy { constants[$0] != nil }
        default: return false
        }
    }

    /// The open step's output becomes `node`'s output (the node was fused into it).
    mutating func advance(_ node: Onnx_NodeProto) {
        guard let output = node.output.first else { return }
        if pending != nil {
            pending?.outputName = output
        } else {
            pendingAdd?.outputName = output
        }
    }

    /// `node`'s output is its first input's value (a layout no-op, Identity, Dropout, Softmax
    /// that Top-1 does not need).
    mutating func alias(_ node: Onnx_NodeProto, _ attributes: NodeAttributes,
                        flattenedFrom: TensorShape? = nil) throws(ImportError) {
        let value = try input(node, attributes)
        guard let output = node.output.first else { return }
        values[output] = Value(tensor: value.tensor, flattenedFrom: flattenedFrom ?? value.flattenedFrom)
    }

    /// The value `node` reads first (open steps are closed before a node that does not join them).
    func input(_ node: Onnx_NodeProto, _ attributes: NodeAttributes, at index: Int = 0) throws(ImportError) -> Value {
        guard node.input.count > index, let value = values[node.input[index]] else {
            throw .unsupportedUse(node: attributes.name, op: node.opType, reason: "it has no input \(index) computed by the graph")
        }
        return value
    }

    /// The shape of MixQ tensor `tensor`.
    func shape(of tensor: Int) -> TensorShape { tensor == 0 ? inputShape : steps[tensor - 1].step.output }

    /// The map `node` reads at `index`, refused when it is a flattened map (only a classifier takes one).
    func mapInput(_ node: Onnx_NodeProto, _ attributes: NodeAttributes,
                  at index: Int = 0) throws(ImportError) -> (tensor: Int, shape: TensorShape) {
        let value = try input(node, attributes, at: index)
        guard value.flattenedFrom == nil else {
            throw .unsupportedUse(node: attributes.name, op: node.opType, reason: "it reads a flattened map; after Flatten or "
                                  + "Reshape only Gemm or MatMul may follow")
        }
        return (value.tensor, shape(of: value.tensor))
    }

    /// Appends a step reading `inputs` and names its output `output`.
    mutating func append(_ step: NetworkStep, inputs: [Int], output: String?, stated: QuantParameters? = nil) {
        steps.append((step, inputs))
        statedQuantization.append(stated)
        if let output { values[output] = Value(tensor: steps.count) }
    }

    // MARK: Constants and Quant

    mutating func foldConstant(_ node: Onnx_NodeProto, _ attributes: NodeAttributes) throws(ImportError) {
        let name = attributes.name
        guard node.opType == "Quant", let x = node.input.first, let output = node.output.first,
              let tensor = constants[x] else {
            if node.opType == "Identity", let x = node.input.first, let output = node.output.first, let tensor = constants[x] {
                constants[output] = tensor
                return
            }
            throw .unsupportedUse(node: name, op: node.opType, reason: "computes on constants only; MixQ folds QONNX Quant "
                                  + "on weights and Identity, nothing else (export with constant folding on)")
        }
        if let bias = try QONNXOperators.int32Bias(node, attributes, tensor: tensor, constants: constants) {
            // A 32-bit Quant (Brevitas' Int32Bias): the int32 bias MixQ's kernels take.
            constants[output] = ONNXTensor(name: output, dims: tensor.dims, values: bias.values)
            int32Biases[output] = bias.codes
            return
        }
        let parameters = try quantParameters(node, attributes)
        // Which axis the scales run along: align the scale's dims with the tensor's, from the right.
        var axis: Int?
        if parameters.scales.count > 1 || parameters.zeroPoints.count > 1 {
            let dims = parameters.scaleDims
            let offset = tensor.dims.count - dims.count
            let axes = dims.indices.filter { dims[$0] != 1 }
            guard offset >= 0, axes.count == 1, tensor.dims[axes[0] + offset] == dims[axes[0]],
                  parameters.zeroPoints.count == 1 || parameters.zeroPoints.count == parameters.scales.count else {
                throw .unsupportedUse(node: name, op: "Quant", reason: "scale of shape \(dims) does not run along one axis of the "
                                      + "weight \(tensor.dims); MixQ supports per-tensor and per-output-channel scales")
            }
            axis = axes[0] + offset
        }
        var values = tensor.values
        let stride = axis.map { tensor.dims[($0 + 1)...].reduce(1, *) } ?? 1
        let channels = axis.map { tensor.dims[$0] } ?? 1
        for i in values.indices {
            let k = axis == nil ? 0 : (i / stride) % channels
            values[i] = parameters.fakeQuantize(values[i], k).y
        }
        constants[output] = ONNXTensor(name: output, dims: tensor.dims, values: values)
        weightQuants[output] = WeightTensor(tensor: tensor, quant: (parameters, axis))
    }

    func quantParameters(_ node: Onnx_NodeProto, _ attributes: NodeAttributes) throws(ImportError) -> QuantParameters {
        let name = attributes.name
        guard node.input.count == 4 else {
            throw .unsupportedUse(node: name, op: "Quant", reason: "a QONNX Quant takes four inputs (x, scale, zeropt, bitwidth), got \(node.input.count)")
        }
        var tensors: [ONNXTensor] = []
        for input in node.input.dropFirst() {
            guard let tensor = constants[input] else {
                throw .unsupportedUse(node: name, op: "Quant", reason: "its scale, zero-point and bit width must be constants ('\(input)' is not)")
            }
            tensors.append(tensor)
        }
        let (scale, zero, width) = (tensors[0], tensors[1], tensors[2])
        guard width.isScalar, let rawBits = Int(exactly: width.values[0]), let bits = BitWidth(rawValue: rawBits) else {
            throw .unsupportedUse(node: name, op: "Quant", reason: "bit width \(ErrorText.quoted(width.values.description)) is not "
                                  + "supported; MixQ's kernels run 8, 4 and 2 bits")
        }
        guard scale.count > 0, zero.count > 0 else {
            throw .unsupportedUse(node: name, op: "Quant", reason: "its scale (\(scale.count) values) and zero-point "
                                  + "(\(zero.count) values) must each hold at least one value")
        }
        guard scale.values.allSatisfy({ $0 > 0 }) else {
            throw .unsupportedUse(node: name, op: "Quant", reason: "every scale must be positive")
        }
        guard zero.values.allSatisfy({ $0.rounded() == $0 }) else {
            throw .unsupportedUse(node: name, op: "Quant", reason: "zero-points must be integers, got \(Array(zero.values.prefix(4)))")
        }
        let rounding = attributes.string("rounding_mode") ?? "ROUND"
        guard rounding == "ROUND" else {
            throw .unsupportedUse(node: name, op: "Quant", reason: "rounding_mode \(rounding) is not supported; MixQ's integer "
                                  + "arithmetic rounds to nearest (ROUND)")
        }
        let parameters = QuantParameters(scales: scale.values, zeroPoints: zero.values, scaleDims: scale.dims, bits: bits,
                                         signed: attributes.int("signed", default: 1) != 0,
                                         narrow: attributes.int("narrow", default: 0) != 0)
        for z in zero.values where z < parameters.qmin || z > parameters.qmax {
            throw .unsupportedUse(node: name, op: "Quant", reason: "zero-point \(z) is outside the \(bits.bits)-bit range")
        }
        return parameters
    }

    mutating func activationQuant(_ node: Onnx_NodeProto, _ attributes: NodeAttributes) throws(ImportError) {
        sawQuant = true
        let parameters = try quantParameters(node, attributes)
        let perChannel = parameters.scales.count > 1 || parameters.zeroPoints.count > 1
        if perChannel, pending.flatMap({ parameters.activationQuantization(channels: $0.layer.outputChannels) }) == nil {
            throw .unsupportedUse(node: attributes.name, op: "Quant", reason: "activation scales must be per tensor, or per "
                                  + "channel (scale [1, C, 1, 1], one zero point) on a layer's output; got "
                                  + "\(parameters.scales.count) scales of shape \(parameters.scaleDims)")
        }
        if var layer = pending {
            guard layer.output == nil else {
                throw .unsupportedUse(node: attributes.name, op: "Quant", reason: "the layer '\(layer.layer.name)' output is quantized twice")
            }
            layer.output = parameters
            pending = layer
            advance(node)
            return
        }
        let value = try input(node, attributes)
        if value.tensor == 0 {
            guard inputQuant == nil else {
                throw .unsupportedUse(node: attributes.name, op: "Quant", reason: "the network input is quantized twice")
            }
            inputQuant = parameters
            statedQuantization[0] = parameters
        } else if value.tensor == steps.count, case .globalAveragePool? = steps.last?.step, poolOutputs[steps.count - 1] == nil,
                  let stated = statedQuantization[value.tensor], stated.bits == parameters.bits,
                  stated.scales != parameters.scales || stated.zeroPoints != parameters.zeroPoints || stated.signed != parameters.signed {
            // The pool's output requantized (a QDQ file's QuantizeLinear after the pool): the pool
            // rescales to it.
            poolOutputs[steps.count - 1] = parameters.tensorQuantization(0)
            statedQuantization[value.tensor] = parameters
        } else {
            // After pooling or flattening: only a re-statement of the same quantization is supported.
            guard let stated = statedQuantization[value.tensor], stated.scales == parameters.scales,
                  stated.zeroPoints == parameters.zeroPoints, stated.bits == parameters.bits, stated.signed == parameters.signed else {
                throw .unsupportedUse(node: attributes.name, op: "Quant", reason: "a Quant after pooling or flattening must repeat the "
                                      + "quantization of the layer before (MixQ's pooling keeps its input's scale and bits)")
            }
        }
        try alias(node, attributes)
    }

    // MARK: Layers

    func constant(_ name: String, _ node: NodeAttributes, what: String) throws(ImportError) -> ONNXTensor {
        guard let tensor = constants[name] else {
            throw .unsupportedUse(node: node.name, op: node.node.opType, reason: "its \(what) '\(name)' must be a constant initializer")
        }
        return tensor
    }

    /// Refuses a layer whose output or MACs exceed the importer's limits, before anything
    /// computes with them.
    func checkSize(_ layer: Layer, _ attributes: NodeAttributes) throws(ImportError) {
        guard ONNXImporter.checkedMultiplyAccumulates(layer) != nil else {
            throw .unsupportedUse(node: attributes.name, op: attributes.node.opType, reason: "its output "
                                  + "\(layer.output.height)x\(layer.output.width)x\(layer.output.channels) or its multiply-accumulates "
                                  + "exceed \(ONNXImporter.maximumElements) elements or \(ONNXImporter.maximumMultiplyAccumulates) MACs")
        }
    }

    func optionalScalar(_ node: Onnx_NodeProto, _ index: Int, _ attributes: NodeAttributes) throws(ImportError) -> Double? {
        guard node.input.count > index, !node.input[index].isEmpty else { return nil }
        let tensor = try constant(node.input[index], attributes, what: "input \(index)")
        guard tensor.isScalar else {
            throw .unsupportedUse(node: attributes.name, op: node.opType, reason: "input \(index) must be a scalar")
        }
        return tensor.values[0]
    }

    func optionalInts(_ node: Onnx_NodeProto, _ index: Int) throws(ImportError) -> [Int]? {
        guard node.input.count > index, let tensor = constants[node.input[index]] else { return nil }
        var result: [Int] = []
        for value in tensor.values {
            guard let integer = Int(exactly: value), integer.magnitude <= UInt(ONNXImporter.maximumElements) else {
                throw .unsupportedUse(node: NodeAttributes(node: node).name, op: node.opType,
                                      reason: "input \(index) holds \(value), not an integer in range")
            }
            result.append(integer)
        }
        return result
    }

    mutating func uniqueName(_ node: NodeAttributes, kind: String) -> String {
        var name = ONNXImporter.sanitized(node.node.name, fallback: "\(kind)_\(steps.count)")
        if names.contains(name) { name = "\(name)_\(steps.count)" }
        names.insert(name)
        return name
    }

    mutating func convolution(_ node: Onnx_NodeProto, _ attributes: NodeAttributes) throws(ImportError) {
        let (input, shape) = try mapInput(node, attributes)
        let name = attributes.name
        guard node.input.count >= 2 else { throw .unsupportedUse(node: name, op: "Conv", reason: "it has no weight input") }
        let weight = try constant(node.input[1], attributes, what: "weight")
        guard weight.dims.count == 4 else {
            throw .unsupportedUse(node: name, op: "Conv", reason: "weight of shape \(weight.dims); MixQ supports 2-D convolutions")
        }
        let (outC, inPerGroup, kh, kw) = (weight.dims[0], weight.dims[1], weight.dims[2], weight.dims[3])
        let group = attributes.int("group", default: 1)
        let strides = attributes.ints("strides") ?? [1, 1]
        let dilations = attributes.ints("dilations") ?? [1, 1]
        guard dilations.allSatisfy({ $0 == 1 }) else {
            throw .unsupportedUse(node: name, op: "Conv", reason: "dilations \(dilations); MixQ's kernels support dilation 1")
        }
        guard strides.count == 2, strides[0] == strides[1], strides[0] > 0, strides[0] <= ONNXImporter.maximumElements else {
            throw .unsupportedUse(node: name, op: "Conv", reason: "strides \(strides); MixQ supports the same stride on both axes")
        }
        if let shapeAttribute = attributes.ints("kernel_shape"), shapeAttribute != [kh, kw] {
            throw .unsupportedUse(node: name, op: "Conv", reason: "kernel_shape \(shapeAttribute) disagrees with the weight \(weight.dims)")
        }
        let kind: LayerKind
        if group == 1 {
            guard inPerGroup == shape.channels else {
                throw .unsupportedUse(node: name, op: "Conv", reason: "weight \(weight.dims) expects \(inPerGroup) input channels, "
                                      + "the input has \(shape.channels)")
            }
            kind = kh == 1 && kw == 1 && strides[0] == 1 ? .pointwise : .conv
        } else if group == shape.channels && inPerGroup == 1 && outC == shape.channels {
            kind = .depthwise
        } else {
            throw .unsupportedUse(node: name, op: "Conv", reason: "group \(group) with weight \(weight.dims) on \(shape.channels) "
                                  + "channels; MixQ supports dense convolutions (group 1) and depthwise ones (group = channels, "
                                  + "depth multiplier 1)")
        }
        let padding = try convolutionPadding(attributes, input: shape, kernel: (kh, kw), strides: (strides[0], strides[0]))
        let layerName = uniqueName(attributes, kind: kind.rawValue)
        let layer: Layer
        do {
            layer = try Layer.padded(name: layerName, kind: kind, input: shape, outputChannels: outC,
                                     kernel: KernelSize(height: kh, width: kw), stride: strides[0], padding: padding,
                                     activation: .none, usesBatchNorm: false, hasBias: node.input.count > 2 && !node.input[2].isEmpty)
        } catch {
            throw .unsupportedUse(node: name, op: "Conv", reason: "\(error)")
        }
        try checkSize(layer, attributes)
        // [out][in][kh][kw] -> [out][kh][kw][in]; depthwise [c][1][kh][kw] -> [kh][kw][c].
        var weights = [Float](repeating: 0, count: layer.weightCount)
        let inC = kind == .depthwise ? 1 : inPerGroup
        for o in 0..<outC {
            for i in 0..<inC {
                for y in 0..<kh {
                    for x in 0..<kw {
                        let source = ((o * inC + i) * kh + y) * kw + x
                        let target = kind == .depthwise ? (y * kw + x) * outC + o : ((o * kh + y) * kw + x) * inC + i
                        weights[target] = Float(weight.values[source])
                    }
                }
            }
        }
        var bias: [Double]?
        if node.input.count > 2, !node.input[2].isEmpty {
            let tensor = try constant(node.input[2], attributes, what: "bias")
            guard tensor.count == outC else {
                throw .unsupportedUse(node: name, op: "Conv", reason: "bias has \(tensor.count) values for \(outC) channels")
            }
            bias = tensor.values
        }
        let quantization = try weightQuantization(node.input[1], outputAxis: 0, channels: outC, attributes)
        pending = PendingLayer(layer: layer, nodeName: name, input: input, outputName: node.output.first ?? "",
                               weights: weights, weightQuantization: quantization, bias: bias,
                               biasCodes: node.input.count > 2 ? int32Biases[node.input[2]] : nil)
    }

    /// Explicit `pads` `[top, left, bottom, right]`, or `auto_pad`: `SAME_UPPER` pads the end more
    /// (TensorFlow's "SAME"), `SAME_LOWER` the beginning, `VALID` nothing (ONNX's Conv,
    /// AveragePool and MaxPool operators share these attributes).
    func convolutionPadding(_ attributes: NodeAttributes, input shape: TensorShape, kernel: (Int, Int),
                            strides: (Int, Int)) throws(ImportError) -> Padding {
        let autoPad = attributes.string("auto_pad") ?? "NOTSET"
        switch autoPad {
        case "NOTSET":
            let pads = attributes.ints("pads") ?? [0, 0, 0, 0]
            guard pads.count == 4 else {
                throw .unsupportedUse(node: attributes.name, op: attributes.node.opType,
                                      reason: "pads \(pads); expected [top, left, bottom, right]")
            }
            return Padding(top: pads[0], left: pads[1], bottom: pads[2], right: pads[3])
        case "VALID":
            return .zero
        case "SAME_UPPER", "SAME_LOWER":
            let v = Padding.sameAxis(input: shape.height, kernel: kernel.0, stride: strides.0)
            let h = Padding.sameAxis(input: shape.width, kernel: kernel.1, stride: strides.1)
            return autoPad == "SAME_UPPER"
                ? Padding(top: v.before, left: h.before, bottom: v.after, right: h.after)
                : Padding(top: v.after, left: h.after, bottom: v.before, right: h.before)
        default:
            throw .unsupportedUse(node: attributes.name, op: attributes.node.opType,
                                  reason: "auto_pad \(autoPad) is not an ONNX padding mode")
        }
    }

    /// The trained weight quantization of the constant `name`, one entry per output channel when
    /// its scales run along `outputAxis`; nil when the weights are not quantized.
    func weightQuantization(_ name: String, outputAxis: Int, channels: Int,
                            _ attributes: NodeAttributes) throws(ImportError) -> [TensorQuantization]? {
        guard let quantized = weightQuants[name], let (parameters, axis) = quantized.quant else { return nil }
        guard axis == nil || axis == outputAxis else {
            throw .unsupportedUse(node: attributes.name, op: attributes.node.opType, reason: "the weight's scales run along axis "
                                  + "\(axis ?? 0), not the output channels (axis \(outputAxis)); MixQ supports per-output-channel scales")
        }
        return axis == nil ? [parameters.tensorQuantization(0)] : (0..<channels).map { parameters.tensorQuantization($0) }
    }

    mutating func batchNorm(_ node: Onnx_NodeProto, _ attributes: NodeAttributes) throws(ImportError) {
        guard var layer = pending, layer.batchNorm == nil, !layer.activationSet, layer.output == nil else {
            throw .unsupportedUse(node: attributes.name, op: "BatchNormalization", reason: "batch-norm must directly follow a Conv or Gemm")
        }
        guard node.input.count == 5 else {
            throw .unsupportedUse(node: attributes.name, op: "BatchNormalization", reason: "expected inputs X, scale, B, mean, var")
        }
        var parameters: [[Double]] = []
        for input in node.input.dropFirst() {
            let tensor = try constant(input, attributes, what: "parameter")
            guard tensor.count == layer.layer.outputChannels else {
                throw .unsupportedUse(node: attributes.name, op: "BatchNormalization",
                                      reason: "'\(input)' has \(tensor.count) values for \(layer.layer.outputChannels) channels")
            }
            parameters.append(tensor.values)
        }
        guard parameters[3].allSatisfy({ $0 >= 0 }) else {
            throw .unsupportedUse(node: attributes.name, op: "BatchNormalization", reason: "a variance is negative")
        }
        let epsilon = attributes.float("epsilon", default: 1e-5)
        guard epsilon.isFinite, epsilon >= 0 else {
            throw .unsupportedUse(node: attributes.name, op: "BatchNormalization", reason: "epsilon \(epsilon) is not a finite "
                                  + "non-negative number")
        }
        // The folded per-channel factor gamma / sqrt(var + eps) must be a finite Float, or the
        // float reference and the quantized weights become NaN or infinite.
        for c in 0..<layer.layer.outputChannels {
            let factor = Float(parameters[0][c] / (parameters[3][c] + epsilon).squareRoot())
            guard factor.isFinite else {
                throw .unsupportedUse(node: attributes.name, op: "BatchNormalization", reason: "channel \(c) folds to "
                                      + "gamma / sqrt(var + epsilon) = \(factor); a variance plus epsilon must be above 0")
            }
        }
        layer.batchNorm = (parameters[0], parameters[1], parameters[2], parameters[3], epsilon)
        layer.layer.usesBatchNorm = true
        pending = layer
        advance(node)
    }

    mutating func activation(_ activation: Activation, _ node: Onnx_NodeProto, _ attributes: NodeAttributes) throws(ImportError) {
        if var add = pendingAdd, !add.activationSet {
            add.add.activation = activation
            add.activationSet = true
            pendingAdd = add
            advance(node)
            return
        }
        guard var layer = pending, !layer.activationSet, layer.output == nil else {
            throw .unsupportedUse(node: attributes.name, op: node.opType, reason: "an activation must follow a Conv, Gemm or "
                                  + "residual Add (and its batch-norm), once, and be the only node reading that output")
        }
        layer.layer.activation = activation
        layer.activationSet = true
        pending = layer
        advance(node)
    }

    mutating func pool(_ node: Onnx_NodeProto, _ attributes: NodeAttributes) throws(ImportError) {
        let (input, shape) = try mapInput(node, attributes)
        let pool = GlobalAveragePool(name: uniqueName(attributes, kind: "pool"), input: shape)
        append(.globalAveragePool(pool), inputs: [input], output: node.output.first, stated: statedQuantization[input])
    }

    /// `AveragePool` or `MaxPool` over a window (ONNX AveragePool/MaxPool operators): an
    /// average over the whole map without padding is global average pooling, anything else a
    /// `Pool2D`. ONNX's defaults match it: an average leaves padded positions out
    /// (`count_include_pad` 0), a maximum never picks them (they pad with minus infinity).
    mutating func windowedPool(_ node: Onnx_NodeProto, _ attributes: NodeAttributes) throws(ImportError) {
        let (input, shape) = try mapInput(node, attributes)
        let name = attributes.name, op = node.opType
        let kernel = attributes.ints("kernel_shape") ?? []
        let strides = attributes.ints("strides") ?? [1, 1]
        guard kernel.count == 2, strides.count == 2, kernel.allSatisfy({ $0 > 0 && $0 <= ONNXImporter.maximumElements }),
              strides.allSatisfy({ $0 > 0 && $0 <= ONNXImporter.maximumElements }) else {
            throw .unsupportedUse(node: name, op: op, reason: "kernel_shape \(kernel.prefix(4)) and strides \(strides.prefix(4)); "
                                  + "MixQ pools over 2-D windows with positive strides")
        }
        guard (attributes.ints("dilations") ?? [1, 1]).allSatisfy({ $0 == 1 }) else {
            throw .unsupportedUse(node: name, op: op, reason: "dilations \(attributes.ints("dilations")?.prefix(4) ?? []); "
                                  + "MixQ pools with dilation 1")
        }
        guard node.output.count < 2 || node.output[1].isEmpty else {
            throw .unsupportedUse(node: name, op: op, reason: "it writes the Indices output; MixQ's pooling writes one tensor")
        }
        let padding = try convolutionPadding(attributes, input: shape, kernel: (kernel[0], kernel[1]),
                                             strides: (strides[0], strides[1]))
        if op == "AveragePool", kernel == [shape.height, shape.width], padding == .zero {
            try pool(node, attributes)
            return
        }
        if op == "AveragePool", attributes.int("count_include_pad", default: 0) != 0, padding != .zero {
            throw .unsupportedUse(node: name, op: op, reason: "count_include_pad 1 with padding \(padding); MixQ's average "
                                  + "leaves padded positions out (count_include_pad 0, ONNX's default)")
        }
        let pool: Pool2D
        do {
            pool = try Pool2D(name: uniqueName(attributes, kind: op == "MaxPool" ? "maxpool" : "avgpool"),
                              kind: op == "MaxPool" ? .maximum : .average, input: shape,
                              window: KernelSize(height: kernel[0], width: kernel[1]), strideHeight: strides[0],
                              strideWidth: strides[1], padding: padding)
        } catch {
            throw .unsupportedUse(node: name, op: op, reason: "\(error)")
        }
        // ceil_mode rounds the output size up; it only matters when a window would hang over the
        // end (the padding is checked by Pool2D: smaller than the window, so the sums fit).
        let spans = (shape.height + padding.top + padding.bottom - kernel[0], shape.width + padding.left + padding.right - kernel[1])
        if attributes.int("ceil_mode", default: 0) != 0, spans.0 % strides[0] != 0 || spans.1 % strides[1] != 0 {
            throw .unsupportedUse(node: name, op: op, reason: "ceil_mode 1 adds a partial window on a \(shape.height)x\(shape.width) "
                                  + "map; MixQ's windows lie within the padded input (ceil_mode 0)")
        }
        append(.pool(pool), inputs: [input], output: node.output.first, stated: statedQuantization[input])
    }

    /// `Add` of two activations: a residual connection (an `ElementwiseAdd` of two tensors of one
    /// shape; a `Relu` or `Clip` that alone reads its output is fused into it).
    mutating func residualAdd(_ node: Onnx_NodeProto, _ attributes: NodeAttributes) throws(ImportError) {
        guard node.input.count == 2 else {
            throw .unsupportedUse(node: attributes.name, op: "Add", reason: "expected two inputs, got \(node.input.count)")
        }
        let a = try mapInput(node, attributes), b = try mapInput(node, attributes, at: 1)
        guard a.shape == b.shape else {
            throw .unsupportedUse(node: attributes.name, op: "Add", reason: "inputs of shapes \(a.shape) and \(b.shape) (HWC); "
                                  + "MixQ adds two tensors of one shape (no broadcasting)")
        }
        let add = ElementwiseAdd(name: uniqueName(attributes, kind: "add"), shape: a.shape)
        pendingAdd = PendingAdd(add: add, inputs: [a.tensor, b.tensor], outputName: node.output.first ?? "")
    }

    /// A QONNX `Trunc` right after a global average pool (Brevitas' `TruncAvgPool2d`): the pooled
    /// output takes the file's quantization (`PoolTruncation`).
    mutating func truncate(_ node: Onnx_NodeProto, _ attributes: NodeAttributes) throws(ImportError) {
        let value = try input(node, attributes)
        let index = value.tensor - 1
        guard index >= 0, case .globalAveragePool = steps[index].step, poolTruncations[index] == nil, value.flattenedFrom == nil,
              uses[node.input[0], default: 0] == 1 else {
            throw .unsupportedUse(node: attributes.name, op: "Trunc", reason: "MixQ runs a QONNX Trunc right after an average "
                                  + "pooling over the whole map (Brevitas' TruncAvgPool2d), as the pooling's only reader")
        }
        poolTruncations[index] = try QONNXOperators.truncation(node, attributes, constants: constants)
        statedQuantization[value.tensor] = nil
        try alias(node, attributes)
    }

    mutating func flatten(_ node: Onnx_NodeProto, _ attributes: NodeAttributes) throws(ImportError) {
        let source = try input(node, attributes)
        let shape = source.flattenedFrom ?? self.shape(of: source.tensor)
        if node.opType == "Flatten", attributes.int("axis", default: 1) != 1 {
            throw .unsupportedUse(node: attributes.name, op: "Flatten", reason: "axis must be 1 (keep the batch)")
        }
        if node.opType == "Reshape", let target = try optionalInts(node, 1) {
            let elements = shape.elementCount
            guard target.count == 2, target[0] == 1 || target[0] == -1 || target[0] == 0,
                  target[1] == -1 || target[1] == elements else {
                throw .unsupportedUse(node: attributes.name, op: "Reshape", reason: "reshape to \(target); MixQ supports flattening "
                                      + "to [N, \(elements)] before the classifier")
            }
        }
        try alias(node, attributes, flattenedFrom: shape.height * shape.width > 1 ? shape : nil)
    }

    mutating func gemm(_ node: Onnx_NodeProto, _ attributes: NodeAttributes) throws(ImportError) {
        let name = attributes.name
        guard attributes.float("alpha", default: 1) == 1, attributes.float("beta", default: 1) == 1,
              attributes.int("transA", default: 0) == 0 else {
            throw .unsupportedUse(node: name, op: "Gemm", reason: "alpha, beta must be 1 and transA 0")
        }
        guard node.input.count >= 2 else { throw .unsupportedUse(node: name, op: "Gemm", reason: "it has no weight input") }
        let transposed = attributes.int("transB", default: 0) != 0
        try fullyConnected(node, attributes, weightName: node.input[1], transposed: transposed,
                           bias: node.input.count > 2 && !node.input[2].isEmpty ? node.input[2] : nil)
    }

    mutating func matMul(_ node: Onnx_NodeProto, _ attributes: NodeAttributes) throws(ImportError) {
        guard node.input.count == 2 else { throw .unsupportedUse(node: attributes.name, op: "MatMul", reason: "expected two inputs") }
        try fullyConnected(node, attributes, weightName: node.input[1], transposed: false, bias: nil)
    }

    /// A classifier: `y = x W^T + b` with `W` `[out][in]` when `transposed`, `x W + b` with `W`
    /// `[in][out]` otherwise. After Flatten of an HxWxC map (ONNX order `c*H*W + y*W + x`) it becomes
    /// a VALID HxW convolution with MixQ's `[out][y][x][c]` weights.
    mutating func fullyConnected(_ node: Onnx_NodeProto, _ attributes: NodeAttributes, weightName: String,
                                 transposed: Bool, bias biasName: String?) throws(ImportError) {
        let name = attributes.name
        let value = try input(node, attributes)
        let shape = self.shape(of: value.tensor), flattenedFrom = value.flattenedFrom
        let weight = try constant(weightName, attributes, what: "weight")
        let source = flattenedFrom ?? shape
        let inputs = source.elementCount
        guard weight.dims.count == 2 else {
            throw .unsupportedUse(node: name, op: node.opType, reason: "weight of shape \(weight.dims); expected a matrix")
        }
        let outputs = transposed ? weight.dims[0] : weight.dims[1]
        guard (transposed ? weight.dims[1] : weight.dims[0]) == inputs else {
            throw .unsupportedUse(node: name, op: node.opType, reason: "weight \(weight.dims) does not take the \(inputs) inputs of "
                                  + "the \(source) map before it")
        }
        guard shape.height == 1 && shape.width == 1 || flattenedFrom != nil else {
            throw .unsupportedUse(node: name, op: node.opType, reason: "the input is a \(shape) map; pool or flatten it first")
        }
        let layerName = uniqueName(attributes, kind: "fc")
        let layer: Layer
        do {
            layer = flattenedFrom == nil
                ? try Layer.fullyConnected(name: layerName, input: shape, outputs: outputs, hasBias: biasName != nil)
                : try Layer.padded(name: layerName, kind: .conv, input: source, outputChannels: outputs,
                                   kernel: KernelSize(height: source.height, width: source.width), stride: 1, padding: .zero,
                                   activation: .none, usesBatchNorm: false, hasBias: biasName != nil)
        } catch {
            throw .unsupportedUse(node: name, op: node.opType, reason: "\(error)")
        }
        try checkSize(layer, attributes)
        var weights = [Float](repeating: 0, count: outputs * inputs)
        let (h, w, c) = (source.height, source.width, source.channels)
        for o in 0..<outputs {
            for i in 0..<inputs {
                // ONNX flatten index i = ch * H * W + y * W + x; MixQ's HWC position of the same element.
                let (ch, rest) = (i / (h * w), i % (h * w))
                let target = o * inputs + (rest / w * w + rest % w) * c + ch
                weights[target] = Float(weight.values[transposed ? o * inputs + i : i * outputs + o])
            }
        }
        var bias: [Double]?
        if let biasName {
            let tensor = try constant(biasName, attributes, what: "bias")
            guard tensor.count == outputs else {
                throw .unsupportedUse(node: name, op: node.opType, reason: "bias has \(tensor.count) values for \(outputs) outputs")
            }
            bias = tensor.values
        }
        let quantization = try weightQuantization(weightName, outputAxis: transposed ? 0 : 1, channels: outputs, attributes)
        pending = PendingLayer(layer: layer, nodeName: name, input: value.tensor, outputName: node.output.first ?? "",
                               weights: weights, weightQuantization: quantization, bias: bias,
                               biasCodes: biasName.flatMap { int32Biases[$0] })
    }

    mutating func addBias(_ node: Onnx_NodeProto, _ attributes: NodeAttributes) throws(ImportError) {
        guard var layer = pending, layer.bias == nil, layer.batchNorm == nil, !layer.activationSet, layer.output == nil,
              node.input.count == 2, let biasName = node.input.first(where: { $0 != layer.outputName }) else {
            throw .unsupportedUse(node: attributes.name, op: "Add", reason: "an Add of a constant is supported as the bias right "
                                  + "after MatMul or a bias-free Conv/Gemm whose output it alone reads")
        }
        let tensor = try constant(biasName, attributes, what: "bias")
        guard tensor.count == layer.layer.outputChannels else {
            throw .unsupportedUse(node: attributes.name, op: "Add", reason: "bias has \(tensor.count) values for "
                                  + "\(layer.layer.outputChannels) outputs")
        }
        layer.bias = tensor.values
        layer.biasCodes = int32Biases[node.input[1]]
        layer.layer.hasBias = true
        pending = layer
        advance(node)
    }

    /// Closes the pending layer: its float weights (batch-norm or bias as the per-channel affine)
    /// and trained quantization join the chain.
    mutating func finishPending() throws(ImportError) {
        if let open = pendingAdd {
            pendingAdd = nil
            append(.add(open.add), inputs: open.inputs, output: open.outputName)
        }
        guard let layer = pending else { return }
        pending = nil
        let n = layer.layer.outputChannels
        let bias = layer.bias ?? [Double](repeating: 0, count: n)
        let weights: FloatLayerWeights
        if let bn = layer.batchNorm {
            // a * (conv + bias - mean) + beta, with a = gamma / sqrt(var + eps): the conv bias moves into the mean.
            weights = FloatLayerWeights(weights: layer.weights, beta: bn.beta.map(Float.init),
                                        movingMean: zip(bn.mean, bias).map { Float($0 - $1) },
                                        movingVariance: bn.variance.map(Float.init), gamma: bn.gamma.map(Float.init),
                                        batchNormEpsilon: Float(bn.epsilon))
        } else {
            weights = FloatLayerWeights(weights: layer.weights, beta: bias.map(Float.init),
                                        movingMean: [Float](repeating: 0, count: n), movingVariance: [Float](repeating: 1, count: n),
                                        gamma: nil, batchNormEpsilon: 0)
        }
        let folded = [weights.weights, weights.beta, weights.movingMean, weights.movingVariance, weights.gamma ?? []]
        guard folded.allSatisfy({ $0.allSatisfy(\.isFinite) }) else {
            throw .unsupportedUse(node: layer.nodeName, op: "Conv/Gemm", reason: "a weight, bias or batch-norm value does not fit "
                                  + "a 32-bit float (it becomes infinite)")
        }
        append(.layer(layer.layer), inputs: [layer.input], output: layer.outputName, stated: layer.output)
        floatLayers.append(weights)
        if layer.output != nil { sawQuant = true }
        if let stated = layer.weightQuantization {
            sawQuant = true
            let output = layer.output.flatMap { $0.activationQuantization(channels: n) }
            // The file's int32 bias is the accumulator's when nothing (batch-norm) follows the layer.
            trainedLayers.append(TrainedQuantization.Layer(weights: stated, output: output,
                                                           bias: layer.batchNorm == nil ? layer.biasCodes : nil))
        } else {
            trainedLayers.append(nil)
        }
    }
}
