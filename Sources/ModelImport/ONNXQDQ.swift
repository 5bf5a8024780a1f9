import Diagnostics
import Foundation
import ONNXSchema

/// Rewrites ONNX's own quantized forms into the QONNX form `ChainBuilder` reads, before anything
/// else looks at the graph:
///
/// - **QDQ** (`QuantizeLinear` -> `DequantizeLinear` around float operators, what onnxruntime's
///   `quantize_static` and `tf2onnx --tflite` write): a pair on an activation becomes a QONNX
///   `Quant` with the same scale, zero point, bit width and signedness. ONNX's QuantizeLinear
///   rounds half to even and saturates to its type's range (ONNX operator QuantizeLinear), which is
///   QONNX `Quant` with `rounding_mode ROUND`, `narrow 0`, so the value that reaches the next
///   operator is the same.
/// - `DequantizeLinear` of an integer initializer: a weight of Conv, Gemm or MatMul becomes a
///   float initializer through a `Quant` with the file's scale, zero point and bits (the builder
///   then keeps the file's codes); anything else (an int32 bias, a batch-norm constant) becomes
///   the float initializer it dequantizes to.
/// - **QOperator** (`QLinearConv`, `QLinearMatMul`, and the `com.microsoft` `QLinearAdd`,
///   `QLinearMul`, `QLinearAveragePool`, `QLinearGlobalAveragePool`): each first expands into
///   `DequantizeLinear` -> float operator -> `QuantizeLinear` (their definitions in the ONNX
///   operator list and onnxruntime's contrib operator list), then is lowered as QDQ.
/// - An integer graph input followed by `DequantizeLinear` becomes a float input through a
///   `Quant`: the input encoding's quantization (the pixels are the file's codes).
///
/// What MixQ cannot keep is dropped and said in the returned phrases: the quantization of a
/// layer's output before a batch-norm `Mul`/`Add` by constants (folded into the layer, whose
/// output keeps the quantization after them) and the output `QuantizeLinear` after a final
/// `Softmax`.
enum QDQLowering {
    /// The QONNX operator domain the builder reads `Quant` from.
    static let qonnxDomain = "qonnx.custom_op.general"

    /// What an imported QDQ file's results mean, for the plan and eval reports.
    static let comparison = "QDQ: the file's semantics are float (dequantize, compute, quantize), so MixQ's integer-only "
        + "result agrees with onnxruntime's by top class, not bit for bit"

    static let qOperators: Set<String> = ["QLinearConv", "QLinearMatMul", "QLinearAdd", "QLinearMul", "QLinearAveragePool",
                                          "QLinearGlobalAveragePool"]

    /// Rewrites `graph` in place; returns one phrase per kind of change (empty when the file has
    /// no QuantizeLinear, DequantizeLinear or QOperator node).
    /// - Throws: `ImportError` naming the node whose quantization is malformed or unsupported.
    static func apply(to graph: inout Onnx_GraphProto) throws(ImportError) -> [String] {
        guard graph.node.contains(where: { isQuantized($0) }) else { return [] }
        var rewriter = Rewriter(graph: graph)
        try rewriter.expandQOperators()
        try rewriter.lowerConstants()
        try rewriter.lowerIntegerInput()
        try rewriter.lowerActivations()
        rewriter.dropBeforeConstantArithmetic()
        try rewriter.checkNothingLeft()
        rewriter.finish()
        graph = rewriter.graph
        return rewriter.phrases
    }

    static func isQuantized(_ node: Onnx_NodeProto) -> Bool {
        node.opType == "QuantizeLinear" || node.opType == "DequantizeLinear" || qOperators.contains(node.opType)
    }
}

/// The parameters of one QuantizeLinear or DequantizeLinear: `q = saturate(round(x / s) + z)`,
/// `x = (q - z) * s`, per tensor or along `axis`.
struct LinearQuantization: Equatable {
    var scales: [Double]
    var zeroPoints: [Double]
    var bits: Int
    var signed: Bool
    /// The axis the scales run along (nil: one scale).
    var axis: Int?

    /// The zero point and scale of channel `k`.
    func parameters(_ k: Int) -> (scale: Double, zero: Double) {
        (scales.count == 1 ? scales[0] : scales[k], zeroPoints.count == 1 ? zeroPoints[0] : zeroPoints[k])
    }

    var summary: String {
        let type = "\(signed ? "int" : "uint")\(bits)"
        if scales.count == 1 {
            return "\(type) scale \(Float(scales[0])) zero point \(Int(zeroPoints[0]))"
        }
        return "\(type) per axis \(axis ?? 0) (\(scales.count) scales)"
    }
}

private struct Rewriter {
    var graph: Onnx_GraphProto
    var nodes: [Onnx_NodeProto]
    var initializers: [String: Onnx_TensorProto] = [:]
    var decoded: [String: ONNXTensor] = [:]
    var newInitializers: [Onnx_TensorProto] = []
    var removedInitializers = Set<String>()
    var phrases: [String] = []
    var usedNames = Set<String>()
    var counter = 0

    init(graph: Onnx_GraphProto) {
        self.graph = graph
        nodes = graph.node
        for initializer in graph.initializer { initializers[initializer.name] = initializer }
        for node in graph.node { usedNames.formUnion(node.output) }
        usedNames.formUnion(initializers.keys)
        usedNames.formUnion(graph.input.map(\.name))
    }

    // MARK: Names, constants and nodes

    mutating func fresh(_ base: String) -> String {
        var name = base
        while usedNames.contains(name) {
            counter += 1
            name = "\(base)_\(counter)"
        }
        usedNames.insert(name)
        return name
    }

    func nodeName(_ node: Onnx_NodeProto) -> String { NodeAttributes(node: node).name }

    mutating func constant(_ name: String) throws(ImportError) -> ONNXTensor? {
        if let tensor = decoded[name] { return tensor }
        guard let proto = initializers[name] else { return nil }
        let tensor = try ONNXTensor(proto)
        decoded[name] = tensor
        return tensor
    }

    mutating func addInitializer(_ name: String, dims: [Int], values: [Double]) {
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dims = dims.map { Int64($0) }
        tensor.dataType = Int32(Onnx_TensorProto.DataType.double.rawValue)
        tensor.doubleData = values
        newInitializers.append(tensor)
        initializers[name] = tensor
        decoded[name] = ONNXTensor(name: name, dims: dims, values: values)
        usedNames.insert(name)
    }

    static func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String, domain: String = "",
                     attributes: [Onnx_AttributeProto] = []) -> Onnx_NodeProto {
        var node = Onnx_NodeProto()
        node.opType = op
        node.domain = domain
        node.name = name
        node.input = inputs
        node.output = outputs
        node.attribute = attributes
        return node
    }

    static func intAttribute(_ name: String, _ value: Int) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .int
        attribute.i = Int64(value)
        return attribute
    }

    static func stringAttribute(_ name: String, _ value: String) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .string
        attribute.s = Data(value.utf8)
        return attribute
    }

    /// The nodes reading `tensor`, by index.
    func consumers(_ tensor: String) -> [Int] {
        nodes.indices.filter { nodes[$0].input.contains(tensor) }
    }

    func producer(_ tensor: String) -> Int? {
        nodes.firstIndex { $0.output.contains(tensor) }
    }

    func isGraphOutput(_ tensor: String) -> Bool { graph.output.contains { $0.name == tensor } }

    // MARK: Reading a QuantizeLinear / DequantizeLinear

    /// The element type a zero point (or a DequantizeLinear's input) fixes: bits and signedness.
    static func integerType(_ dataType: Int32, node: String, op: String) throws(ImportError) -> (bits: Int, signed: Bool) {
        switch Onnx_TensorProto.DataType(rawValue: Int(dataType)) {
        case .int8?: return (8, true)
        case .uint8?: return (8, false)
        case .int4?: return (4, true)
        case .uint4?: return (4, false)
        case .int32?: return (32, true)
        default:
            let type = Onnx_TensorProto.DataType(rawValue: Int(dataType)).map { "\($0)" } ?? "\(dataType)"
            throw .unsupportedUse(node: node, op: op, reason: "quantizes to \(type); MixQ reads int8, uint8, int4 and uint4 "
                                  + "tensors (int32 for biases)")
        }
    }

    /// The scale, zero point, type and axis of a QuantizeLinear/DequantizeLinear node.
    /// `dataType` is the integer input's type for a DequantizeLinear of a constant.
    mutating func quantization(of node: Onnx_NodeProto, dataType: Int32? = nil,
                               rank: Int? = nil, axisLength: ((Int) -> Int?)? = nil) throws(ImportError) -> LinearQuantization {
        let name = nodeName(node), op = node.opType
        let attributes = NodeAttributes(node: node)
        guard node.input.count >= 2, !node.input[1].isEmpty else {
            throw .unsupportedUse(node: name, op: op, reason: "it has no scale input; \(op) takes x, y_scale and an optional zero point")
        }
        guard let scale = try constant(node.input[1]) else {
            throw .unsupportedUse(node: name, op: op, reason: "its scale '\(ErrorText.quoted(node.input[1]))' must be a constant "
                                  + "initializer")
        }
        guard scale.count > 0 else {
            throw .unsupportedUse(node: name, op: op, reason: "its scale '\(ErrorText.quoted(node.input[1]))' holds no value")
        }
        guard scale.values.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw .unsupportedUse(node: name, op: op, reason: "every scale must be a positive finite number")
        }
        guard attributes.int("block_size", default: 0) == 0 else {
            throw .unsupportedUse(node: name, op: op, reason: "blocked quantization (block_size) is not supported; MixQ reads "
                                  + "per-tensor and per-axis scales")
        }
        var type: (bits: Int, signed: Bool)
        var zeroPoints = [0.0]
        if node.input.count >= 3, !node.input[2].isEmpty {
            guard let zero = try constant(node.input[2]), let proto = initializers[node.input[2]] else {
                throw .unsupportedUse(node: name, op: op, reason: "its zero point '\(ErrorText.quoted(node.input[2]))' must be a "
                                      + "constant initializer")
            }
            guard zero.count == 1 || zero.count == scale.count else {
                throw .unsupportedUse(node: name, op: op, reason: "\(zero.count) zero points for \(scale.count) scales")
            }
            type = try Self.integerType(proto.dataType, node: name, op: op)
            zeroPoints = zero.values
        } else if let dataType {
            type = try Self.integerType(dataType, node: name, op: op)
        } else if let outputType = attributes.attribute("output_dtype"), outputType.i != 0 {
            type = try Self.integerType(Int32(truncatingIfNeeded: outputType.i), node: name, op: op)
        } else {
            type = (8, false)  // ONNX QuantizeLinear: uint8 when neither a zero point nor output_dtype says otherwise.
        }
        if let dataType, type != (try Self.integerType(dataType, node: name, op: op)) {
            throw .unsupportedUse(node: name, op: op, reason: "its zero point's type differs from its input's")
        }
        let (low, high) = type.signed ? (-Double(1 << (type.bits - 1)), Double(1 << (type.bits - 1)) - 1)
                                      : (0.0, Double((1 << type.bits) - 1))
        guard zeroPoints.allSatisfy({ $0 >= low && $0 <= high }) else {
            throw .unsupportedUse(node: name, op: op, reason: "a zero point is outside the \(type.bits)-bit range")
        }
        var axis: Int?
        if scale.count > 1 {
            let stated = attributes.int("axis", default: 1)
            guard let rank else {
                throw .unsupportedUse(node: name, op: op, reason: "\(scale.count) scales on an activation; MixQ quantizes activations "
                                      + "per tensor")
            }
            let normalized = stated < 0 ? stated + rank : stated
            guard normalized >= 0, normalized < rank, axisLength?(normalized) == scale.count else {
                throw .unsupportedUse(node: name, op: op, reason: "axis \(stated) does not match \(scale.count) scales on a tensor of "
                                      + "rank \(rank)\(axisLength.flatMap { f in (0..<rank).contains(normalized) ? f(normalized) : nil }.map { " (that axis has \($0))" } ?? "")")
            }
            axis = normalized
        }
        return LinearQuantization(scales: scale.values, zeroPoints: zeroPoints, bits: type.bits, signed: type.signed, axis: axis)
    }

    /// A QONNX `Quant` of `input` with `q`'s parameters; the scale tensor's dims put the scales
    /// along `q.axis` of a rank-`rank` tensor.
    mutating func quantNode(_ input: String, output: String, _ q: LinearQuantization, rank: Int, name: String) -> Onnx_NodeProto {
        let base = fresh("\(output)_quant")
        var scaleDims: [Int] = []
        if let axis = q.axis {
            scaleDims = (0..<rank).map { $0 == axis ? q.scales.count : 1 }
        }
        let zeroDims = q.zeroPoints.count == 1 ? [] : scaleDims
        addInitializer("\(base)_scale", dims: scaleDims, values: q.scales)
        addInitializer("\(base)_zero_point", dims: zeroDims, values: q.zeroPoints)
        addInitializer("\(base)_bits", dims: [], values: [Double(q.bits)])
        return Self.node("Quant", [input, "\(base)_scale", "\(base)_zero_point", "\(base)_bits"], [output], name: name,
                         domain: QDQLowering.qonnxDomain,
                         attributes: [Self.intAttribute("signed", q.signed ? 1 : 0), Self.intAttribute("narrow", 0),
                                      Self.stringAttribute("rounding_mode", "ROUND")])
    }

    // MARK: QOperator

    /// Replaces each QOperator node with DequantizeLinear -> float operator -> QuantizeLinear.
    mutating func expandQOperators() throws(ImportError) {
        guard nodes.contains(where: { QDQLowering.qOperators.contains($0.opType) }) else { return }
        var expanded: [Onnx_NodeProto] = []
        var count = 0
        for node in nodes {
            guard QDQLowering.qOperators.contains(node.opType) else {
                expanded.append(node)
                continue
            }
            count += 1
            expanded += try expand(node)
        }
        nodes = expanded
        phrases.append("\(count) QOperator node\(count == 1 ? "" : "s") (QLinearConv, QLinearMatMul, QLinearAdd, ...) read as "
                       + "DequantizeLinear, the float operator and QuantizeLinear")
    }

    mutating func expand(_ node: Onnx_NodeProto) throws(ImportError) -> [Onnx_NodeProto] {
        let name = nodeName(node), op = node.opType
        func inputs(_ count: Int) throws(ImportError) -> [String] {
            guard node.input.count >= count, node.output.count == 1 else {
                throw .unsupportedUse(node: name, op: op, reason: "expected \(count) inputs and one output, got "
                                      + "\(node.input.count) and \(node.output.count)")
            }
            return Array(node.input)
        }
        var result: [Onnx_NodeProto] = []
        /// DequantizeLinear(x, scale, zero) -> a fresh tensor.
        func dequantize(_ x: String, _ scale: String, _ zero: String, axis: Int? = nil) -> String {
            let output = fresh("\(x)_dequantized")
            result.append(Self.node("DequantizeLinear", [x, scale, zero], [output], name: "\(name)_dequantize_\(result.count)",
                                    attributes: axis.map { [Self.intAttribute("axis", $0)] } ?? []))
            return output
        }
        let output = node.output.first ?? ""
        let float = fresh("\(output)_float")
        let passed = node.attribute.filter { $0.name != "channels_last" }
        if NodeAttributes(node: node).int("channels_last", default: 0) != 0 {
            throw .unsupportedUse(node: name, op: op, reason: "channels_last 1 is not supported (NCHW only)")
        }
        let yScale: String, yZero: String
        switch op {
        case "QLinearConv":
            let i = try inputs(8)
            let x = dequantize(i[0], i[1], i[2])
            let w = dequantize(i[3], i[4], i[5], axis: 0)
            var convInputs = [x, w]
            if i.count > 8, !i[8].isEmpty {
                convInputs.append(try qLinearConvBias(node, bias: i[8], inputScale: i[1], weightScale: i[4]))
            }
            result.append(Self.node("Conv", convInputs, [float], name: name, attributes: passed))
            (yScale, yZero) = (i[6], i[7])
        case "QLinearMatMul":
            let i = try inputs(8)
            let a = dequantize(i[0], i[1], i[2])
            let b = dequantize(i[3], i[4], i[5], axis: 1)
            result.append(Self.node("MatMul", [a, b], [float], name: name))
            (yScale, yZero) = (i[6], i[7])
        case "QLinearAdd", "QLinearMul":
            let i = try inputs(7)
            let a = dequantize(i[0], i[1], i[2])
            let b = dequantize(i[3], i[4], i[5])
            result.append(Self.node(op == "QLinearAdd" ? "Add" : "Mul", [a, b], [float], name: name))
            (yScale, yZero) = (i[6], i.count > 7 ? i[7] : "")
        default:  // QLinearAveragePool, QLinearGlobalAveragePool
            let i = try inputs(4)
            let x = dequantize(i[0], i[1], i[2])
            result.append(Self.node(op == "QLinearAveragePool" ? "AveragePool" : "GlobalAveragePool", [x], [float], name: name,
                                    attributes: passed))
            (yScale, yZero) = (i[3], i.count > 4 ? i[4] : "")
        }
        result.append(Self.node("QuantizeLinear", [float, yScale, yZero], [output], name: "\(name)_quantize"))
        return result
    }

    /// QLinearConv's int32 bias as the float bias it stands for: `B[c] * x_scale * w_scale[c]`
    /// (ONNX operator QLinearConv: the bias is quantized with zero point 0 and that scale).
    mutating func qLinearConvBias(_ node: Onnx_NodeProto, bias: String, inputScale: String,
                                  weightScale: String) throws(ImportError) -> String {
        let name = nodeName(node)
        guard let b = try constant(bias), let xs = try constant(inputScale), let ws = try constant(weightScale) else {
            throw .unsupportedUse(node: name, op: node.opType, reason: "its bias and scales must be constant initializers")
        }
        guard xs.count == 1, ws.count == 1 || ws.count == b.count, b.count > 0 else {
            throw .unsupportedUse(node: name, op: node.opType, reason: "bias of \(b.count) values with \(ws.count) weight scales")
        }
        let values = b.values.indices.map { c in b.values[c] * xs.values[0] * (ws.count == 1 ? ws.values[0] : ws.values[c]) }
        let output = fresh("\(bias)_float")
        addInitializer(output, dims: [b.count], values: values)
        return output
    }

    // MARK: Constants

    /// Each DequantizeLinear of an integer initializer: a Conv/Gemm/MatMul weight through a
    /// `Quant`, anything else as its float values.
    mutating func lowerConstants() throws(ImportError) {
        var weights = 0, others = 0
        var lowered: [Onnx_NodeProto] = []
        for node in nodes {
            guard node.opType == "DequantizeLinear", let x = node.input.first, let proto = initializers[x],
                  let output = node.output.first else {
                lowered.append(node)
                continue
            }
            guard let tensor = try constant(x) else {
                lowered.append(node)
                continue
            }
            let q = try quantization(of: node, dataType: proto.dataType, rank: tensor.dims.count,
                                     axisLength: { tensor.dims[$0] })
            var values = tensor.values
            let stride = q.axis.map { tensor.dims[($0 + 1)...].reduce(1, *) } ?? 1
            let channels = q.axis.map { tensor.dims[$0] } ?? 1
            for i in values.indices {
                let (s, z) = q.parameters(q.axis == nil ? 0 : (i / max(stride, 1)) % max(channels, 1))
                values[i] = (values[i] - z) * s
            }
            let isWeight = consumers(output).contains { index in
                let consumer = nodes[index]
                return ["Conv", "Gemm", "MatMul"].contains(consumer.opType) && consumer.input.count > 1 && consumer.input[1] == output
            }
            if isWeight && q.bits != 32 {
                let floatName = fresh("\(x)_float")
                addInitializer(floatName, dims: tensor.dims, values: values)
                lowered.append(quantNode(floatName, output: output, q, rank: tensor.dims.count, name: nodeName(node)))
                weights += 1
            } else {
                addInitializer(output, dims: tensor.dims, values: values)
                others += 1
            }
            removedInitializers.insert(x)
        }
        nodes = lowered
        if weights + others > 0 {
            var parts: [String] = []
            if weights > 0 { parts.append("\(weights) weight\(weights == 1 ? "" : "s") kept as the file's codes") }
            if others > 0 { parts.append("\(others) bias or constant\(others == 1 ? "" : "s") dequantized") }
            phrases.append("DequantizeLinear of integer initializers: " + parts.joined(separator: ", "))
        }
    }

    // MARK: The input

    /// An integer graph input read through DequantizeLinear (possibly after a layout Transpose)
    /// becomes a float input through a `Quant` with the same parameters.
    mutating func lowerIntegerInput() throws(ImportError) {
        let constants = Set(initializers.keys)
        for (index, input) in graph.input.enumerated() where !constants.contains(input.name) {
            guard case .tensorType(let type)? = input.type.value,
                  let elementType = Onnx_TensorProto.DataType(rawValue: Int(type.elemType)),
                  [.int8, .uint8].contains(elementType) else { continue }
            // Follow layout-only nodes to the DequantizeLinear.
            var tensor = input.name
            var rank = type.shape.dim.count
            while true {
                let readers = consumers(tensor)
                guard readers.count == 1 else {
                    throw .badInput("'\(ErrorText.quoted(input.name))' is \(elementType) and read by \(readers.count) nodes; MixQ "
                                    + "reads an integer input through one DequantizeLinear")
                }
                let reader = nodes[readers[0]]
                if ["Transpose", "Identity", "Reshape"].contains(reader.opType), let next = reader.output.first {
                    tensor = next
                    if reader.opType == "Reshape" { rank = 4 }
                    continue
                }
                guard reader.opType == "DequantizeLinear", let output = reader.output.first else {
                    throw .badInput("'\(ErrorText.quoted(input.name))' is \(elementType) and read by \(reader.opType); MixQ reads an "
                                    + "integer input through DequantizeLinear")
                }
                let q = try quantization(of: reader, dataType: type.elemType)
                nodes[readers[0]] = quantNode(tensor, output: output, q, rank: rank, name: nodeName(reader))
                graph.input[index].type.tensorType.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
                phrases.append("the \(elementType) input's DequantizeLinear became the input encoding (\(q.summary)): the pixels are "
                               + "the file's codes\(q.signed ? " + \(1 << (q.bits - 1))" : "")")
                break
            }
        }
    }

    // MARK: Activations

    /// QuantizeLinear -> (layout-only nodes) -> DequantizeLinear on an activation becomes a
    /// `Quant` before the layout nodes. A QuantizeLinear writing the graph's output becomes a
    /// `Quant` too (the output is its dequantized value), or is dropped after a final Softmax.
    mutating func lowerActivations() throws(ImportError) {
        var pairs = 0
        var index = 0
        while index < nodes.count {
            let node = nodes[index]
            guard node.opType == "QuantizeLinear", let input = node.input.first, let output = node.output.first else {
                index += 1
                continue
            }
            let q = try quantization(of: node)
            // Walk single-reader layout nodes to the DequantizeLinear.
            var tensor = output
            var layout: [Int] = []
            var dequantize: Int?
            while true {
                let readers = consumers(tensor)
                if readers.isEmpty && isGraphOutput(tensor) { break }
                guard readers.count == 1, !isGraphOutput(tensor) else {
                    throw .unsupportedUse(node: nodeName(node), op: "QuantizeLinear", reason: "its output is read by \(readers.count) "
                                          + "nodes; MixQ reads a QuantizeLinear followed by one DequantizeLinear")
                }
                let reader = nodes[readers[0]]
                if ["Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity"].contains(reader.opType), let next = reader.output.first {
                    layout.append(readers[0])
                    tensor = next
                    continue
                }
                guard reader.opType == "DequantizeLinear" else {
                    throw .unsupportedUse(node: nodeName(node), op: "QuantizeLinear", reason: "its output is read by \(reader.opType); "
                                          + "MixQ reads a QuantizeLinear followed by DequantizeLinear")
                }
                dequantize = readers[0]
                break
            }
            if let dequantize {
                let dq = nodes[dequantize]
                let back = try quantization(of: dq)
                guard back == q else {
                    throw .unsupportedUse(node: nodeName(dq), op: "DequantizeLinear", reason: "dequantizes with \(back.summary), the "
                                          + "QuantizeLinear before it quantized with \(q.summary)")
                }
                // Quant in the QuantizeLinear's place (on the float tensor), layout nodes after it
                // unchanged, and the DequantizeLinear's readers reading the last layout node's output.
                nodes[index] = quantNode(input, output: output, q, rank: 0, name: nodeName(node))
                nodes.remove(at: dequantize)
                if let dqOutput = dq.output.first, let dqInput = dq.input.first { rename(dqOutput, to: dqInput) }
                pairs += 1
            } else if let producer = producer(input), ["Softmax", "LogSoftmax"].contains(nodes[producer].opType), layout.isEmpty {
                nodes.remove(at: index)
                rename(output, to: input)
                phrases.append("the output QuantizeLinear after \(nodes[producer].opType) (\(q.summary)) dropped: MixQ's output is the "
                               + "layer before Softmax, which keeps the top class")
                continue
            } else {
                nodes[index] = quantNode(input, output: output, q, rank: 0, name: nodeName(node))
                phrases.append("the output QuantizeLinear (\(q.summary)) read as the logits' quantization")
            }
            index += 1
        }
        if pairs > 0 {
            phrases.append("\(pairs) QuantizeLinear/DequantizeLinear pair\(pairs == 1 ? "" : "s") on activations read as QONNX Quant")
        }
    }

    /// Parameters of a `Quant` node this rewriter wrote: scale, zero point, bits, signedness.
    func quantParameters(_ node: Onnx_NodeProto) -> (scale: [Double], zero: [Double], bits: [Double], signed: Int)? {
        guard node.opType == "Quant", node.domain == QDQLowering.qonnxDomain, node.input.count == 4,
              let scale = decoded[node.input[1]], let zero = decoded[node.input[2]], let bits = decoded[node.input[3]] else { return nil }
        return (scale.values, zero.values, bits.values, NodeAttributes(node: node).int("signed", default: 1))
    }

    func isConstant(_ tensor: String) -> Bool { initializers[tensor] != nil && !removedInitializers.contains(tensor) }

    /// Drops the quantization of a layer's output that a Mul or Add by a constant reads (an
    /// unfused batch norm, a MatMul's bias): MixQ folds the Mul/Add into the layer, and the layer's
    /// output is quantized once, after them.
    mutating func dropBeforeConstantArithmetic() {
        var dropped: [String] = []
        var index = 0
        while index < nodes.count {
            let node = nodes[index]
            guard quantParameters(node) != nil, let input = node.input.first, let output = node.output.first,
                  let producer = producer(input),
                  ["Conv", "Gemm", "MatMul", "Mul", "Add"].contains(nodes[producer].opType) else {
                index += 1
                continue
            }
            let readers = consumers(output)
            guard readers.count == 1, !isGraphOutput(output) else {
                index += 1
                continue
            }
            let reader = nodes[readers[0]]
            guard ["Mul", "Add"].contains(reader.opType), reader.input.count == 2,
                  reader.input.contains(where: { isConstant($0) }) else {
                index += 1
                continue
            }
            dropped.append("'\(output)' before \(reader.opType)")
            nodes.remove(at: index)
            rename(output, to: input)
        }
        if !dropped.isEmpty {
            phrases.append("the file's quantization of \(dropped.count) layer output\(dropped.count == 1 ? "" : "s") before a Mul/Add "
                           + "by constants (batch norm, bias) dropped: MixQ folds the Mul/Add into the layer and quantizes its "
                           + "output once, after them (\(dropped.joined(separator: ", ")))")
        }
    }

    /// Every QuantizeLinear/DequantizeLinear must be gone: one left is a form MixQ does not read.
    func checkNothingLeft() throws(ImportError) {
        if let node = nodes.first(where: { $0.opType == "QuantizeLinear" || $0.opType == "DequantizeLinear" }) {
            throw .unsupportedUse(node: nodeName(node), op: node.opType, reason: "it is not part of a QuantizeLinear/DequantizeLinear "
                                  + "pair on an activation nor a DequantizeLinear of a constant; MixQ reads QDQ in those forms")
        }
    }

    /// A dropped node's readers (and the graph's output) read `replacement` instead of `tensor`.
    mutating func rename(_ tensor: String, to replacement: String) {
        for k in nodes.indices where nodes[k].input.contains(tensor) {
            nodes[k].input = nodes[k].input.map { $0 == tensor ? replacement : $0 }
        }
        for k in graph.output.indices where graph.output[k].name == tensor { graph.output[k].name = replacement }
    }

    /// Writes the nodes and initializers back.
    mutating func finish() {
        graph.node = nodes
        let stillRead = Set(nodes.flatMap(\.input))
        graph.initializer = graph.initializer.filter { !removedInitializers.contains($0.name) || stillRead.contains($0.name) }
            + newInitializers
    }
}
