import Foundation
import ONNXSchema

/// What an ONNX graph's tensors hold before it runs: the value of every tensor computed from
/// constants only, and the shape of every tensor, as far as the operators below define them.
/// `ExporterFolds` asks it whether a rewrite is safe; the answer `nil` means "not known", and
/// the fold is then not made.
///
/// Shapes are NCHW with batch 1 (MixQ runs one image at a time): a graph input's unknown batch
/// dimension is 1. Operator semantics are ONNX's (onnx.ai/onnx/operators, opsets 1-21) and
/// QONNX's `Quant` (github.com/fastmachinelearning/qonnx, docs/qonnx-custom-ops/quant_op.md).
struct ONNXGraphValues {
    private let initializers: [String: Onnx_TensorProto]
    private let producers: [String: Onnx_NodeProto]
    private let graphInputs: [String: [Int]]
    private let nodes: [Onnx_NodeProto]
    private var shapesWalked = false
    private var values: [String: ONNXTensor?] = [:]
    private var shapes: [String: [Int]?] = [:]
    /// How many lookups are under way (values and shapes recurse into each other).
    private var nesting = 0

    /// Operators whose output has the shape of their first input.
    static let shapePreserving: Set<String> = [
        "Relu", "Clip", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Softmax", "LogSoftmax", "Identity",
        "Dropout", "Cast", "BatchNormalization", "Quant", "BipolarQuant", "QuantizeLinear", "DequantizeLinear", "Trunc",
        "Floor", "Ceil", "Round", "Neg", "Abs", "Exp", "Log", "Sqrt", "Reciprocal", "Elu", "Selu", "PRelu",
    ]

    /// Element-wise operators of two or more inputs with NumPy broadcasting.
    static let broadcasting: Set<String> = ["Add", "Sub", "Mul", "Div", "Max", "Min", "Pow", "Sum"]

    init(_ graph: Onnx_GraphProto) {
        var initializers: [String: Onnx_TensorProto] = [:]
        for tensor in graph.initializer { initializers[tensor.name] = tensor }
        var producers: [String: Onnx_NodeProto] = [:]
        for node in graph.node { for output in node.output where !output.isEmpty { producers[output] = node } }
        var graphInputs: [String: [Int]] = [:]
        for input in graph.input where initializers[input.name] == nil {
            guard case .tensorType(let type)? = input.type.value, type.hasShape else { continue }
            let dims = type.shape.dim.enumerated().map { index, dim -> Int? in
                if case .dimValue(let v)? = dim.value, v > 0, v < 1 << 31 { return Int(v) }
                return index == 0 ? 1 : nil
            }
            if dims.allSatisfy({ $0 != nil }) { graphInputs[input.name] = dims.compactMap { $0 } }
        }
        self.initializers = initializers
        self.producers = producers
        self.graphInputs = graphInputs
        self.nodes = graph.node
    }

    // MARK: Constant values

    /// The value of `name` when it is computed from constants only (an initializer, a `Constant`
    /// node, and what `Identity`, `Cast`, `Reshape`, `Flatten`, `Squeeze`, `Unsqueeze`,
    /// `DequantizeLinear`, QONNX `Quant`, `Add`, `Sub`, `Mul`, `Div`, `Neg`, `Sqrt` and
    /// `Reciprocal` compute from them) or from known shapes (`Shape`, then `Gather` and `Slice`
    /// of a vector, `Concat` of vectors: the shape arithmetic tf2onnx writes for Keras'
    /// `Flatten`); nil otherwise.
    mutating func value(_ name: String) -> ONNXTensor? {
        if let known = values[name] { return known }
        // Constant expressions and shape computations are short; a deep one is not followed.
        guard nesting < 64 else { return nil }
        values[name] = .some(nil)  // in progress: a cycle in a malformed graph reads "unknown"
        nesting += 1
        let result = computeValue(name)
        nesting -= 1
        values[name] = result
        return result
    }

    /// Whether `name` is a constant that is not itself computed: an initializer or a `Constant`
    /// node, possibly through `Identity` or `Cast`.
    func isPlainConstant(_ name: String) -> Bool {
        if initializers[name] != nil { return true }
        guard let node = producers[name] else { return false }
        switch node.opType {
        case "Constant": return true
        case "Identity", "Cast": return node.input.first.map(isPlainConstant) ?? false
        default: return false
        }
    }

    private mutating func computeValue(_ name: String) -> ONNXTensor? {
        if let tensor = initializers[name] { return Self.decode(tensor) }
        guard let node = producers[name], node.output.first == name else { return nil }
        let attributes = NodeAttributes(node: node)
        if node.opType == "Constant" { return Self.constantNode(attributes, name: name) }
        guard !node.input.isEmpty else { return nil }
        if node.opType == "Shape" {
            // The shape of a tensor whose shape is known is a constant (batch 1: MixQ runs one image).
            guard let dims = shape(node.input[0]) else { return nil }
            let rank = dims.count
            let start = Self.clampedIndex(attributes.int("start", default: 0), count: rank)
            let end = max(Self.clampedIndex(attributes.int("end", default: rank), count: rank), start)
            return ONNXTensor(name: name, dims: [end - start], values: dims[start..<end].map(Double.init))
        }
        var inputs: [ONNXTensor?] = []
        for input in node.input { inputs.append(input.isEmpty ? nil : value(input)) }
        if node.opType == "Concat" {
            // Of vectors (a shape being put together).
            let parts = inputs.compactMap { $0 }
            guard parts.count == inputs.count, parts.allSatisfy({ $0.dims.count == 1 }),
                  [0, -1].contains(attributes.int("axis", default: 0)) else { return nil }
            let values = parts.flatMap(\.values)
            return ONNXTensor(name: name, dims: [values.count], values: values)
        }
        guard let x = inputs[0] else { return nil }
        switch node.opType {
        case "Gather":
            // From a vector (axis 0): y[i...] = x[indices[i...]], negative indices from the end.
            guard inputs.count == 2, let indices = inputs[1], x.dims.count == 1, attributes.int("axis", default: 0) == 0 else {
                return nil
            }
            var values: [Double] = []
            for index in indices.values {
                guard let i = Int(exactly: index), (-x.count..<x.count).contains(i) else { return nil }
                values.append(x.values[i < 0 ? i + x.count : i])
            }
            return ONNXTensor(name: name, dims: indices.dims, values: values)
        case "Slice":
            // Of a vector with a positive step: starts, ends, axes, steps as inputs (opset 10 on)
            // or attributes (before); bounds clamped as in NumPy.
            func bound(_ position: Int, _ key: String) -> Int? {
                if inputs.count > position {
                    guard let tensor = inputs[position], tensor.count == 1 else { return nil }
                    return Int(exactly: min(max(tensor.values[0], -1e15), 1e15))
                }
                return attributes.ints(key).flatMap { $0.count == 1 ? $0[0] : nil }
            }
            let axisGiven = inputs.count > 3 ? inputs[3] != nil : attributes.attribute("axes") != nil
            let axis = axisGiven ? bound(3, "axes") : 0
            let step = inputs.count > 4 ? bound(4, "steps") : 1
            guard x.dims.count == 1, axis == 0 || axis == -1, step == 1, let first = bound(1, "starts"),
                  let last = bound(2, "ends") else { return nil }
            let start = Self.clampedIndex(first, count: x.count)
            let end = max(Self.clampedIndex(last, count: x.count), start)
            return ONNXTensor(name: name, dims: [end - start], values: Array(x.values[start..<end]))
        case "Identity":
            return ONNXTensor(name: name, dims: x.dims, values: x.values)
        case "Cast":
            return Self.cast(x, to: attributes.int("to", default: 0), name: name)
        case "Reshape", "Flatten", "Squeeze", "Unsqueeze":
            guard let dims = reshaped(node, attributes, input: x.dims) else { return nil }
            return ONNXTensor(name: name, dims: dims, values: x.values)
        case "DequantizeLinear":
            guard inputs.count >= 2, let scale = inputs[1] else { return nil }
            return Self.dequantize(x, scale: scale, zeroPoint: inputs.count > 2 ? inputs[2] : nil, attributes, name: name)
        case "Quant" where node.domain.isEmpty || node.domain.hasPrefix("qonnx") || node.domain.hasPrefix("finn"):
            guard inputs.count == 4, let scale = inputs[1], let zero = inputs[2], let bits = inputs[3] else { return nil }
            return Self.quantize(x, scale: scale, zeroPoint: zero, bits: bits, attributes, name: name)
        case "Add", "Sub", "Mul", "Div":
            guard inputs.count == 2, let y = inputs[1] else { return nil }
            let op = node.opType
            return Self.broadcast(x, y, name: name) { a, b in
                switch op {
                case "Add": return a + b
                case "Sub": return a - b
                case "Mul": return a * b
                default: return b == 0 ? nil : a / b
                }
            }
        case "Neg":
            return ONNXTensor(name: name, dims: x.dims, values: x.values.map { -$0 })
        case "Sqrt":
            guard x.values.allSatisfy({ $0 >= 0 }) else { return nil }
            return ONNXTensor(name: name, dims: x.dims, values: x.values.map { $0.squareRoot() })
        case "Reciprocal":
            guard x.values.allSatisfy({ $0 != 0 }) else { return nil }
            return ONNXTensor(name: name, dims: x.dims, values: x.values.map { 1 / $0 })
        default:
            return nil
        }
    }

    /// A Python-style index (negative counts from the end) clamped to `0...count`.
    static func clampedIndex(_ index: Int, count: Int) -> Int {
        min(max(index < 0 ? index &+ count : index, 0), count)
    }

    /// An initializer's values; half-precision and bfloat16 tensors (which `ONNXTensor` does not
    /// read) are decoded here so that a `Cast` of them can be folded.
    static func decode(_ proto: Onnx_TensorProto) -> ONNXTensor? {
        let type = Onnx_TensorProto.DataType(rawValue: Int(proto.dataType))
        guard type == .float16 || type == .bfloat16 else { return try? ONNXTensor(proto) }
        guard proto.dims.allSatisfy({ $0 >= 0 }), let count = ONNXImporter.elementCount(proto.dims.map { Int($0) }),
              proto.dataLocation != .external else { return nil }
        var bits: [UInt16] = []
        if proto.hasRawData {
            let bytes = [UInt8](proto.rawData)
            guard bytes.count == 2 * count else { return nil }
            bits = stride(from: 0, to: bytes.count, by: 2).map { UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8 }
        } else {
            // onnx.proto: float16 and bfloat16 values sit in int32_data, one per entry, as bit patterns.
            guard proto.int32Data.count == count else { return nil }
            bits = proto.int32Data.map { UInt16(truncatingIfNeeded: $0) }
        }
        let values = bits.map { type == .bfloat16 ? Double(Float(bitPattern: UInt32($0) << 16)) : halfToDouble($0) }
        guard values.allSatisfy(\.isFinite) else { return nil }
        return ONNXTensor(name: proto.name, dims: proto.dims.map { Int($0) }, values: values)
    }

    /// IEEE 754 binary16: 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits.
    static func halfToDouble(_ bits: UInt16) -> Double {
        let sign: Double = bits & 0x8000 != 0 ? -1 : 1
        let exponent = Int(bits >> 10 & 0x1F), fraction = Double(bits & 0x3FF)
        switch exponent {
        case 0: return sign * fraction * 0x1p-24
        case 31: return fraction == 0 ? sign * .infinity : .nan
        default: return sign * (1 + fraction / 1024) * Double(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }

    static func constantNode(_ attributes: NodeAttributes, name: String) -> ONNXTensor? {
        if let value = attributes.attribute("value"), value.hasT {
            guard var tensor = decode(value.t) else { return nil }
            tensor.name = name
            return tensor
        }
        if let value = attributes.attribute("value_float") { return ONNXTensor(name: name, dims: [], values: [Double(value.f)]) }
        if let value = attributes.attribute("value_int") { return ONNXTensor(name: name, dims: [], values: [Double(value.i)]) }
        if let value = attributes.attribute("value_floats") {
            return ONNXTensor(name: name, dims: [value.floats.count], values: value.floats.map(Double.init))
        }
        if let value = attributes.attribute("value_ints") {
            return ONNXTensor(name: name, dims: [value.ints.count], values: value.ints.map(Double.init))
        }
        return nil
    }

    /// ONNX `Cast` of numbers: to a float type rounds to it, to an integer type truncates toward
    /// zero (values out of the type's range are left unevaluated: ONNX leaves them undefined).
    static func cast(_ x: ONNXTensor, to rawType: Int, name: String) -> ONNXTensor? {
        guard let type = Onnx_TensorProto.DataType(rawValue: rawType) else { return nil }
        let ranges: [Onnx_TensorProto.DataType: ClosedRange<Double>] = [
            .int8: -128...127, .uint8: 0...255, .int16: -32768...32767, .uint16: 0...65535,
            .int32: -2147483648...2147483647, .uint32: 0...4294967295,
            .int64: -9.2e18...9.2e18, .uint64: 0...1.8e19,
        ]
        let values: [Double]
        switch type {
        case .float: values = x.values.map { Double(Float($0)) }
        case .double: values = x.values
        case .bool: values = x.values.map { $0 != 0 ? 1 : 0 }
        default:
            guard let range = ranges[type] else { return nil }
            values = x.values.map { $0.rounded(.towardZero) }
            guard values.allSatisfy({ range.contains($0) }) else { return nil }
        }
        guard values.allSatisfy(\.isFinite) else { return nil }
        return ONNXTensor(name: name, dims: x.dims, values: values)
    }

    /// ONNX `DequantizeLinear`: `y = (x - zero_point) * scale`, per tensor or along `axis`
    /// (default 1); blocked quantization (`block_size`) is not evaluated.
    static func dequantize(_ x: ONNXTensor, scale: ONNXTensor, zeroPoint: ONNXTensor?, _ attributes: NodeAttributes,
                           name: String) -> ONNXTensor? {
        guard attributes.int("block_size", default: 0) == 0, scale.count > 0 else { return nil }
        let zero = zeroPoint ?? ONNXTensor(name: "", dims: [], values: [0])
        guard zero.count == scale.count || zero.count == 1 else { return nil }
        if scale.count == 1 {
            return ONNXTensor(name: name, dims: x.dims, values: x.values.map { ($0 - zero.values[0]) * scale.values[0] })
        }
        var axis = attributes.int("axis", default: 1)
        if axis < 0 { axis += x.dims.count }
        guard x.dims.indices.contains(axis), x.dims[axis] == scale.count else { return nil }
        let inner = x.dims[(axis + 1)...].reduce(1, *)
        let values = x.values.indices.map { i -> Double in
            let k = (i / max(inner, 1)) % scale.count
            return (x.values[i] - (zero.count == 1 ? zero.values[0] : zero.values[k])) * scale.values[k]
        }
        return ONNXTensor(name: name, dims: x.dims, values: values)
    }

    /// QONNX `Quant`: `q = clip(round(x / scale + zeropt), qmin, qmax)`, `y = (q - zeropt) *
    /// scale`, scale and zero-point broadcast against `x`; bit widths 1 to 32.
    static func quantize(_ x: ONNXTensor, scale: ONNXTensor, zeroPoint: ONNXTensor, bits: ONNXTensor,
                         _ attributes: NodeAttributes, name: String) -> ONNXTensor? {
        guard bits.isScalar, let width = Int(exactly: bits.values[0]), (1...32).contains(width),
              scale.values.allSatisfy({ $0 > 0 }) else { return nil }
        let signed = attributes.int("signed", default: 1) != 0, narrow = attributes.int("narrow", default: 0) != 0
        let levels = Double(sign: .plus, exponent: width - (signed ? 1 : 0), significand: 1)
        let qmin = signed ? -levels + (narrow ? 1 : 0) : 0
        let qmax = signed ? levels - 1 : levels - 1 - (narrow ? 1 : 0)
        let rule: FloatingPointRoundingRule
        switch attributes.string("rounding_mode") ?? "ROUND" {
        case "ROUND": rule = .toNearestOrEven
        case "FLOOR": rule = .down
        case "CEIL": rule = .up
        case "ROUND_TO_ZERO": rule = .towardZero
        default: return nil
        }
        // The scale and zero-point, repeated to x's shape (they may not enlarge it).
        guard let s = broadcast(x, scale, name: "", { _, s in s }), let z = broadcast(x, zeroPoint, name: "", { _, z in z }),
              s.dims == x.dims, z.dims == x.dims else { return nil }
        let values = x.values.indices.map { i -> Double in
            let q = min(max((x.values[i] / s.values[i] + z.values[i]).rounded(rule), qmin), qmax)
            return (q - z.values[i]) * s.values[i]
        }
        return ONNXTensor(name: name, dims: x.dims, values: values)
    }

    /// `op` element-wise with NumPy broadcasting; nil when the shapes do not broadcast, the
    /// result is too large, or `op` refuses a pair.
    static func broadcast(_ a: ONNXTensor, _ b: ONNXTensor, name: String, _ op: (Double, Double) -> Double?) -> ONNXTensor? {
        guard let dims = broadcastShape(a.dims, b.dims), let count = ONNXImporter.elementCount(dims),
              count <= 1 << 24 else { return nil }
        func index(_ flat: Int, in source: [Int]) -> Int {
            // The element of `source` (right-aligned, size-1 axes repeated) at `flat` of `dims`.
            var remaining = flat, result = 0, stride = 1
            for axis in (0..<dims.count).reversed() {
                let coordinate = remaining % dims[axis]
                remaining /= dims[axis]
                let sourceAxis = axis - (dims.count - source.count)
                guard sourceAxis >= 0 else { continue }
                if source[sourceAxis] != 1 { result += coordinate * stride }
                stride *= source[sourceAxis]
            }
            return result
        }
        var values: [Double] = []
        values.reserveCapacity(count)
        for flat in 0..<count {
            guard let v = op(a.values[index(flat, in: a.dims)], b.values[index(flat, in: b.dims)]), v.isFinite else { return nil }
            values.append(v)
        }
        return ONNXTensor(name: name, dims: dims, values: values)
    }

    /// NumPy's broadcast of two shapes, nil when they do not broadcast.
    static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        var dims: [Int] = []
        for axis in 0..<rank {
            let x = axis - (rank - a.count) >= 0 ? a[axis - (rank - a.count)] : 1
            let y = axis - (rank - b.count) >= 0 ? b[axis - (rank - b.count)] : 1
            guard x == y || x == 1 || y == 1 else { return nil }
            dims.append(x == 1 ? y : x)
        }
        return dims
    }

    // MARK: Shapes

    /// The shape of `name`, nil when the graph does not determine it here.
    mutating func shape(_ name: String) -> [Int]? {
        if !shapesWalked {
            // Every node's output in graph order (ONNX's order is topological), so that looking a
            // shape up never recurses further than a few nodes back.
            shapesWalked = true
            for node in nodes { for output in node.output where !output.isEmpty { _ = lookUpShape(output) } }
        }
        return lookUpShape(name)
    }

    private mutating func lookUpShape(_ name: String) -> [Int]? {
        if let known = shapes[name] { return known }
        guard nesting < 64 else { return nil }
        shapes[name] = .some(nil)  // in progress: a cycle in a malformed graph reads "unknown"
        nesting += 1
        defer { nesting -= 1 }
        var result: [Int]?
        if let dims = graphInputs[name] {
            result = dims
        } else if let tensor = initializers[name] {
            result = tensor.dims.allSatisfy({ $0 >= 0 && $0 < 1 << 31 }) ? tensor.dims.map { Int($0) } : nil
        } else if let node = producers[name], node.output.first == name {
            result = computeShape(node)
        }
        if let dims = result, ONNXImporter.elementCount(dims) == nil { result = nil }
        shapes[name] = result
        return result
    }

    private mutating func computeShape(_ node: Onnx_NodeProto) -> [Int]? {
        let attributes = NodeAttributes(node: node)
        if node.opType == "Constant" {
            guard let output = node.output.first else { return nil }
            return value(output)?.dims
        }
        guard let first = node.input.first, !first.isEmpty, let x = shape(first) else { return nil }
        let op = node.opType
        if Self.shapePreserving.contains(op) { return x }
        if Self.broadcasting.contains(op) {
            var dims = x
            for input in node.input.dropFirst() where !input.isEmpty {
                guard let other = shape(input), let joined = Self.broadcastShape(dims, other) else { return nil }
                dims = joined
            }
            return dims
        }
        switch op {
        case "Conv":
            guard node.input.count >= 2, let weight = shape(node.input[1]), weight.count == 4, x.count == 4 else {
                return nil
            }
            return Self.windowed(x, channels: weight[0], kernel: Array(weight[2...]), attributes)
        case "AveragePool", "MaxPool":
            guard x.count == 4, let kernel = attributes.ints("kernel_shape"), kernel.count == 2 else { return nil }
            return Self.windowed(x, channels: x[1], kernel: kernel, attributes)
        case "GlobalAveragePool", "GlobalMaxPool":
            return x.count >= 2 ? [x[0], x[1]] + [Int](repeating: 1, count: x.count - 2) : nil
        case "ReduceMean":
            let fromInput = ints(node, 1)
            let axes = attributes.ints("axes") ?? fromInput ?? Array(x.indices)
            let normalized = Set(axes.map { $0 < 0 ? $0 + x.count : $0 })
            guard normalized.allSatisfy(x.indices.contains) else { return nil }
            return attributes.int("keepdims", default: 1) != 0
                ? x.indices.map { normalized.contains($0) ? 1 : x[$0] }
                : x.indices.filter { !normalized.contains($0) }.map { x[$0] }
        case "Transpose":
            let perm = attributes.ints("perm") ?? Array(x.indices.reversed())
            guard perm.sorted() == Array(x.indices) else { return nil }
            return perm.map { x[$0] }
        case "Pad":
            guard let pads = padAmounts(node, attributes, rank: x.count) else { return nil }
            let dims = x.indices.map { x[$0] + pads[$0] + pads[$0 + x.count] }
            return dims.allSatisfy({ $0 >= 0 }) ? dims : nil
        case "Reshape", "Flatten", "Squeeze", "Unsqueeze":
            return reshaped(node, attributes, input: x)
        case "Gemm":
            guard node.input.count >= 2, let b = shape(node.input[1]), x.count == 2, b.count == 2 else { return nil }
            let m = attributes.int("transA", default: 0) != 0 ? x[1] : x[0]
            let n = attributes.int("transB", default: 0) != 0 ? b[0] : b[1]
            return [m, n]
        case "MatMul":
            guard node.input.count == 2, let b = shape(node.input[1]), x.count >= 2, b.count == 2,
                  x[x.count - 1] == b[0] else { return nil }
            return Array(x.dropLast()) + [b[1]]
        default:
            return nil
        }
    }

    /// The output of a convolution or pooling window over NCHW `x` (ONNX Conv/AveragePool:
    /// `floor((in + pads - dilation * (k - 1) - 1) / stride) + 1`, `ceil` with `ceil_mode`;
    /// `SAME_*` give `ceil(in / stride)`).
    static func windowed(_ x: [Int], channels: Int, kernel: [Int], _ attributes: NodeAttributes) -> [Int]? {
        let strides = attributes.ints("strides") ?? [1, 1], dilations = attributes.ints("dilations") ?? [1, 1]
        let pads = attributes.ints("pads") ?? [0, 0, 0, 0]
        guard kernel.count == 2, strides.count == 2, dilations.count == 2, pads.count == 4,
              strides.allSatisfy({ $0 > 0 && $0 < 1 << 20 }), dilations.allSatisfy({ $0 > 0 && $0 < 1 << 20 }),
              kernel.allSatisfy({ $0 > 0 && $0 < 1 << 20 }), pads.allSatisfy({ $0 >= 0 && $0 < 1 << 20 }) else { return nil }
        let autoPad = attributes.string("auto_pad") ?? "NOTSET"
        var spatial: [Int] = []
        for axis in 0..<2 {
            let size = x[2 + axis], stride = strides[axis]
            if autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
                spatial.append((size + stride - 1) / stride)
                continue
            }
            guard autoPad == "NOTSET" || autoPad == "VALID" else { return nil }
            let padded = size + (autoPad == "VALID" ? 0 : pads[axis] + pads[axis + 2])
            let span = dilations[axis] * (kernel[axis] - 1) + 1
            guard padded >= span else { return nil }
            let steps = attributes.int("ceil_mode", default: 0) != 0
                ? (padded - span + stride - 1) / stride : (padded - span) / stride
            spatial.append(steps + 1)
        }
        return [x[0], channels] + spatial
    }

    /// A `Pad` node's `pads` (`[x1_begin, x2_begin, ..., x1_end, x2_end, ...]`, one pair per
    /// axis of a rank-`rank` input): the attribute before opset 11, the second input after,
    /// restricted to `axes` (the fourth input, opset 18) when given.
    mutating func padAmounts(_ node: Onnx_NodeProto, _ attributes: NodeAttributes, rank: Int) -> [Int]? {
        let given: [Int]
        if let pads = attributes.ints("pads") {
            given = pads
        } else if let pads = ints(node, 1) {
            given = pads
        } else {
            return nil
        }
        guard node.input.count > 3, !node.input[3].isEmpty else { return given.count == 2 * rank ? given : nil }
        guard let axes = ints(node, 3), given.count == 2 * axes.count else { return nil }
        var pads = [Int](repeating: 0, count: 2 * rank)
        for (k, axis) in axes.enumerated() {
            let a = axis < 0 ? axis + rank : axis
            guard (0..<rank).contains(a) else { return nil }
            pads[a] = given[k]
            pads[a + rank] = given[k + axes.count]
        }
        return pads
    }

    /// The output dims of a `Reshape` (`0` copies the input's dim unless `allowzero`, one `-1` is
    /// inferred), `Flatten`, `Squeeze` or `Unsqueeze` (axes as attribute or, from opset 13, input).
    mutating func reshaped(_ node: Onnx_NodeProto, _ attributes: NodeAttributes, input x: [Int]) -> [Int]? {
        guard let total = ONNXImporter.elementCount(x) else { return nil }
        switch node.opType {
        case "Reshape":
            guard let target = ints(node, 1) else { return nil }
            let allowZero = attributes.int("allowzero", default: 0) != 0
            var dims = target.enumerated().map { i, d in d == 0 && !allowZero ? (i < x.count ? x[i] : -2) : d }
            guard dims.allSatisfy({ $0 >= -1 }), dims.filter({ $0 == -1 }).count <= 1 else { return nil }
            if let unknown = dims.firstIndex(of: -1) {
                let known = dims.filter { $0 != -1 }
                guard let product = ONNXImporter.elementCount(known), product > 0, total % product == 0 else { return nil }
                dims[unknown] = total / product
            }
            return ONNXImporter.elementCount(dims) == total ? dims : nil
        case "Flatten":
            var axis = attributes.int("axis", default: 1)
            if axis < 0 { axis += x.count }
            guard (0...x.count).contains(axis) else { return nil }
            return [x[..<axis].reduce(1, *), x[axis...].reduce(1, *)]
        case "Squeeze":
            let fromInput = ints(node, 1)
            guard let axes = attributes.ints("axes") ?? fromInput else { return x.filter { $0 != 1 } }
            let normalized = Set(axes.map { $0 < 0 ? $0 + x.count : $0 })
            guard normalized.allSatisfy({ x.indices.contains($0) && x[$0] == 1 }) else { return nil }
            return x.indices.filter { !normalized.contains($0) }.map { x[$0] }
        case "Unsqueeze":
            let fromInput = ints(node, 1)
            guard let axes = attributes.ints("axes") ?? fromInput else { return nil }
            let rank = x.count + axes.count
            let normalized = Set(axes.map { $0 < 0 ? $0 + rank : $0 })
            guard normalized.count == axes.count, normalized.allSatisfy({ (0..<rank).contains($0) }) else { return nil }
            var rest = x.makeIterator()
            return (0..<rank).map { normalized.contains($0) ? 1 : rest.next() ?? 1 }
        default:
            return nil
        }
    }

    /// Input `index` of `node` as integers when it is a constant of integers in a sane range.
    mutating func ints(_ node: Onnx_NodeProto, _ index: Int) -> [Int]? {
        guard node.input.count > index, !node.input[index].isEmpty, let tensor = value(node.input[index]) else { return nil }
        var result: [Int] = []
        for v in tensor.values {
            guard let i = Int(exactly: v), abs(i) <= ONNXImporter.maximumElements else { return nil }
            result.append(i)
        }
        return result
    }
}
