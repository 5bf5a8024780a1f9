import Foundation
import ONNXSchema

/// Rewrites what ONNX exporters leave behind into the graph `ONNXImporter`'s builder reads, so
/// that tf2onnx and Keras graphs import without surgery. Each fold is made only when it provably
/// computes the same values; anything else stays, and the builder refuses it with its message.
///
/// The folds, in order:
/// - `Identity`, and `Dropout` at inference (no mask output used, `training_mode` absent or 0),
///   are removed;
/// - a `Cast` of a constant (initializer or `Constant`) becomes an initializer of its value;
/// - a layout `Transpose` (perm `[0, 3, 1, 2]`) of an NHWC graph input, possibly after per-tensor
///   element-wise nodes (`Quant`, `QuantizeLinear`, `DequantizeLinear`, `Cast`): the input is
///   declared NCHW and the `Transpose` removed. MixQ's images are HWC whatever the file's layout
///   says, so the same pixels reach the same convolution;
/// - `Mul`, `Add`, `Sub` and `Div` by scalar or per-channel constants right after a `Conv`,
///   `Gemm` or `MatMul` (tf2onnx leaves batch-norm this way after depthwise convolutions) become
///   one `BatchNormalization` with scale `s`, bias `b`, mean 0, variance 1 and epsilon 0, i.e.
///   `y = s * x + b`: the builder carries it in the per-channel requantization and a file's weight
///   quantization is kept exactly. A lone `Add` after a bias-free layer is left to the builder
///   (it is that layer's bias);
/// - a `Pad` with constant 0 on the spatial axes only, read by a `Conv` with explicit or `VALID`
///   padding, moves into the `Conv`'s `pads`;
/// - `Clip(0, 6)` (bounds as inputs or, before opset 11, attributes) becomes a `Clip` the builder
///   reads as ReLU6, `Clip(0, inf)` a `Relu`;
/// - a `Reshape` target computed from the graph's shapes (`Shape`, `Gather`, `Slice`, `Concat`,
///   `Cast`) becomes an initializer; then `Transpose [0, 2, 3, 1]` before a flatten read by
///   `MatMul`/`Gemm` (Keras' `Flatten` of an NHWC map) goes, the classifier's weight rows put in
///   the C, H, W order the builder's flatten reads;
/// - `Reshape`, `Squeeze` and `Unsqueeze` whose input and output have at most one dimension
///   other than 1 (e.g. `[1, C]` to `[1, C, 1, 1]` in Keras' head), or the same shape, move no
///   data in any layout and are removed (a flatten to `[N, n]` is left to the builder, which
///   reads it before the classifier).
///
/// A constant operand may be an initializer, a `Constant` node or an expression of them
/// (`DequantizeLinear` or QONNX `Quant` of a constant, `Cast`, arithmetic), evaluated numerically
/// (`ONNXGraphValues`). Constant expressions and initializers no fold needs any more are dropped.
enum ExporterFolds {
    /// Folds `graph` in place; returns one phrase per kind of fold made, with its count, for
    /// `ImportedModel.folded`.
    static func apply(to graph: inout Onnx_GraphProto) throws(ImportError) -> [String] {
        var pass = FoldPass(graph: graph)
        pass.removeIdentities()
        pass.evaluateConstantCasts()
        pass.dropInputTranspose()
        pass.foldAffinesAfterLayers()
        pass.foldPadsIntoConvolutions()
        pass.canonicalizeClips()
        pass.evaluateReshapeTargets()
        pass.pruneUnusedConstants()  // the shape computations just evaluated no longer read the map
        pass.foldTransposeBeforeFlatten()
        pass.removeLayoutFreeReshapes()
        pass.pruneUnusedConstants()
        graph = pass.graph
        return pass.phrases
    }
}

/// One run of the folds over a graph, with the bookkeeping they share.
struct FoldPass {
    var graph: Onnx_GraphProto
    private(set) var phrases: [String] = []
    private var names: Set<String>

    init(graph: Onnx_GraphProto) {
        self.graph = graph
        var names = Set(graph.initializer.map(\.name))
        for node in graph.node { names.formUnion(node.output); names.insert(node.name) }
        for input in graph.input { names.insert(input.name) }
        self.names = names
    }

    private mutating func note(_ count: Int, _ what: String) {
        if count > 0 { phrases.append("\(count)x \(what)") }
    }

    // MARK: The folds

    mutating func removeIdentities() {
        var values = ONNXGraphValues(graph)
        var removed = 0, index = 0
        while index < graph.node.count {
            let node = graph.node[index]
            var removable = node.domain.isEmpty && node.input.first.map { !$0.isEmpty } == true
            if node.opType == "Dropout" {
                let maskUsed = node.output.dropFirst().contains { !$0.isEmpty && (isUsed($0) || isGraphOutput($0)) }
                var training = false
                if node.input.count > 2, !node.input[2].isEmpty {
                    // Unknown counts as training: the node then stays.
                    training = values.value(node.input[2])?.values.allSatisfy({ value in value == 0 }) != true
                }
                removable = removable && !maskUsed && !training
            } else {
                removable = removable && node.opType == "Identity"
            }
            if removable, bypass(nodeAt: index) {
                removed += 1
            } else {
                index += 1
            }
        }
        note(removed, "Identity/Dropout removed")
    }

    mutating func evaluateConstantCasts() {
        var values = ONNXGraphValues(graph)
        var folded: [(index: Int, tensor: ONNXTensor, type: Int)] = []
        for (index, node) in graph.node.enumerated() where node.opType == "Cast" && node.domain.isEmpty {
            guard let input = node.input.first, let output = node.output.first, !output.isEmpty,
                  values.isPlainConstant(input), let tensor = values.value(output) else { continue }
            folded.append((index, tensor, NodeAttributes(node: node).int("to", default: 1)))
        }
        for entry in folded.reversed() {
            let output = graph.node[entry.index].output[0]
            graph.node.remove(at: entry.index)
            graph.initializer.append(Self.tensorProto(output, dims: entry.tensor.dims, values: entry.tensor.values,
                                                      type: Onnx_TensorProto.DataType(rawValue: entry.type) ?? .float))
        }
        note(folded.count, "Cast of a constant evaluated")
    }

    mutating func dropInputTranspose() {
        var values = ONNXGraphValues(graph)
        let initializers = Set(graph.initializer.map(\.name))
        for (inputIndex, input) in graph.input.enumerated() where !initializers.contains(input.name) {
            guard case .tensorType(let type)? = input.type.value, type.shape.dim.count == 4 else { continue }
            var current = input.name
            var path: [String] = []
            var transpose: Int?
            while transpose == nil, !isGraphOutput(current) {
                let readers = consumers(of: current)
                guard readers.count == 1 else { break }
                let node = graph.node[readers[0]]
                guard node.domain.isEmpty || node.opType == "Quant", node.input.first == current,
                      let output = node.output.first, !output.isEmpty else { break }
                if node.opType == "Transpose" {
                    if NodeAttributes(node: node).ints("perm") == [0, 3, 1, 2] { transpose = readers[0] }
                    break
                }
                // Element-wise with per-tensor operands: it commutes with a change of layout.
                let perTensor = node.input.dropFirst().allSatisfy { $0.isEmpty || values.value($0)?.count == 1 }
                guard ["Quant", "QuantizeLinear", "DequantizeLinear", "Cast", "Identity"].contains(node.opType), perTensor else {
                    break
                }
                path.append(output)
                current = output
            }
            guard let transpose, bypass(nodeAt: transpose) else { continue }
            let dims = type.shape.dim
            graph.input[inputIndex].type.tensorType.shape.dim = [dims[0], dims[3], dims[1], dims[2]]
            graph.valueInfo.removeAll { path.contains($0.name) }
            phrases.append("input Transpose [0, 3, 1, 2] (NHWC data; MixQ's images are HWC, the input is read as NCHW)")
        }
    }

    mutating func foldAffinesAfterLayers() {
        var values = ONNXGraphValues(graph)
        var folded = 0
        var index = 0
        while index < graph.node.count {
            defer { index += 1 }
            let layer = graph.node[index]
            guard layer.domain.isEmpty, ["Conv", "Gemm", "MatMul"].contains(layer.opType), let output = layer.output.first,
                  let shape = values.shape(output), shape.count == (layer.opType == "Conv" ? 4 : 2), shape[0] == 1 else { continue }
            let channels = shape[1]
            var scale = [Double](repeating: 1, count: channels), shift = [Double](repeating: 0, count: channels)
            var chain: [Int] = []
            var current = output
            while !isGraphOutput(current) {
                let readers = consumers(of: current)
                guard readers.count == 1 else { break }
                let node = graph.node[readers[0]]
                guard node.domain.isEmpty, ["Mul", "Add", "Sub", "Div"].contains(node.opType), node.input.count == 2,
                      let next = node.output.first, !next.isEmpty else { break }
                let commutes = node.opType == "Mul" || node.opType == "Add"
                let operand: String
                if node.input[0] == current, node.input[1] != current {
                    operand = node.input[1]
                } else if commutes, node.input[1] == current, node.input[0] != current {
                    operand = node.input[0]
                } else {
                    break
                }
                guard let constant = values.value(operand), let perChannel = Self.perChannel(constant, outputShape: shape) else { break }
                if node.opType == "Div" && perChannel.contains(0) { break }
                for c in 0..<channels {
                    switch node.opType {
                    case "Mul": scale[c] *= perChannel[c]; shift[c] *= perChannel[c]
                    case "Div": scale[c] /= perChannel[c]; shift[c] /= perChannel[c]
                    case "Add": shift[c] += perChannel[c]
                    default: shift[c] -= perChannel[c]
                    }
                }
                chain.append(readers[0])
                current = next
            }
            let hasBias = layer.opType != "MatMul" && layer.input.count > 2 && !layer.input[2].isEmpty
            guard !chain.isEmpty, !(chain.count == 1 && graph.node[chain[0]].opType == "Add" && !hasBias),
                  (scale + shift).allSatisfy({ $0.isFinite && Float($0).isFinite }) else { continue }
            let first = graph.node[chain[0]]
            let base = first.name.isEmpty ? "\(output)_affine" : first.name
            let parameters = [("scale", scale), ("bias", shift), ("mean", [Double](repeating: 0, count: channels)),
                              ("variance", [Double](repeating: 1, count: channels))].map { suffix, parameter in
                addInitializer(base: "\(base)_\(suffix)", dims: [channels], values: parameter)
            }
            var batchNorm = Onnx_NodeProto()
            batchNorm.opType = "BatchNormalization"
            batchNorm.name = freshName("\(base)_as_batchnorm")
            batchNorm.input = [output] + parameters
            batchNorm.output = [current]
            var epsilon = Onnx_AttributeProto()
            epsilon.name = "epsilon"
            epsilon.type = .float
            epsilon.f = 0
            batchNorm.attribute = [epsilon]
            let last = chain[chain.count - 1]
            graph.node[last] = batchNorm
            for removed in chain.dropLast().sorted(by: >) { graph.node.remove(at: removed) }
            folded += 1
        }
        note(folded, "Mul/Add by constants after a convolution or Gemm/MatMul as its batch-norm")
    }

    mutating func foldPadsIntoConvolutions() {
        var values = ONNXGraphValues(graph)
        var folded = 0, index = 0
        while index < graph.node.count {
            let node = graph.node[index]
            guard node.opType == "Pad", node.domain.isEmpty, let x = node.input.first, !x.isEmpty,
                  let output = node.output.first, !isGraphOutput(output), consumers(of: output).count == 1,
                  let convIndex = consumers(of: output).first, graph.node[convIndex].opType == "Conv",
                  graph.node[convIndex].domain.isEmpty, graph.node[convIndex].input.first == output,
                  !graph.node[convIndex].input.dropFirst().contains(output) else { index += 1; continue }
            let attributes = NodeAttributes(node: node)
            let padValue: Double?
            if node.input.count > 2, !node.input[2].isEmpty {
                padValue = values.value(node.input[2]).flatMap { $0.isScalar ? $0.values[0] : nil }
            } else {
                padValue = attributes.float("value", default: 0)
            }
            let conv = NodeAttributes(node: graph.node[convIndex])
            let autoPad = conv.string("auto_pad") ?? "NOTSET"
            let convPads = autoPad == "VALID" ? [0, 0, 0, 0] : conv.ints("pads") ?? [0, 0, 0, 0]
            guard (attributes.string("mode") ?? "constant") == "constant", padValue == 0,
                  let pads = values.padAmounts(node, attributes, rank: 4),
                  pads[0] == 0, pads[1] == 0, pads[4] == 0, pads[5] == 0, pads.allSatisfy({ $0 >= 0 && $0 < 1 << 20 }),
                  autoPad == "NOTSET" || autoPad == "VALID", convPads.count == 4,
                  convPads.allSatisfy({ $0 >= 0 && $0 < 1 << 20 }) else {
                index += 1
                continue
            }
            var padsAttribute = Onnx_AttributeProto()
            padsAttribute.name = "pads"
            padsAttribute.type = .ints
            padsAttribute.ints = [convPads[0] + pads[2], convPads[1] + pads[3], convPads[2] + pads[6], convPads[3] + pads[7]]
                .map { Int64($0) }
            graph.node[convIndex].attribute.removeAll { $0.name == "pads" || $0.name == "auto_pad" }
            graph.node[convIndex].attribute.append(padsAttribute)
            graph.node[convIndex].input[0] = x
            graph.node.remove(at: index)
            folded += 1
        }
        note(folded, "Pad (zeros, spatial) into the next Conv's padding")
    }

    mutating func canonicalizeClips() {
        var values = ONNXGraphValues(graph)
        var relu6 = 0, relu = 0
        var bounds: (low: String, high: String)?
        for index in graph.node.indices where graph.node[index].opType == "Clip" && graph.node[index].domain.isEmpty {
            let node = graph.node[index]
            let attributes = NodeAttributes(node: node)
            func bound(_ position: Int, _ key: String, _ absent: Double) -> Double? {
                if node.input.count > position, !node.input[position].isEmpty {
                    return values.value(node.input[position]).flatMap { $0.isScalar ? $0.values[0] : nil }
                }
                return attributes.attribute(key).map { Double($0.f) } ?? absent
            }
            guard let x = node.input.first, !x.isEmpty, let low = bound(1, "min", -.infinity), let high = bound(2, "max", .infinity),
                  low == 0, high == 6 || high == .infinity else { continue }
            if high == .infinity {
                graph.node[index].opType = "Relu"
                graph.node[index].input = [x]
                relu += 1
            } else {
                if bounds == nil {
                    bounds = (addInitializer(base: "mixq_relu6_min", dims: [], values: [0]),
                              addInitializer(base: "mixq_relu6_max", dims: [], values: [6]))
                }
                if let bounds { graph.node[index].input = [x, bounds.low, bounds.high] }
                relu6 += 1
            }
            graph.node[index].attribute = []
        }
        note(relu6, "Clip(0, 6) as ReLU6")
        note(relu, "Clip(0, inf) as ReLU")
    }

    /// A `Reshape` whose target is computed from the graph's shapes (tf2onnx writes Keras'
    /// `Flatten` as `Shape`, `Gather`, `Slice`, `Concat`, `Cast`) gets it as an initializer.
    mutating func evaluateReshapeTargets() {
        var values = ONNXGraphValues(graph)
        let initializers = Set(graph.initializer.map(\.name))
        var evaluated = 0
        for index in graph.node.indices where graph.node[index].opType == "Reshape" && graph.node[index].domain.isEmpty {
            let node = graph.node[index]
            guard node.input.count == 2, !initializers.contains(node.input[1]),
                  graph.node.first(where: { $0.output.contains(node.input[1]) })?.opType != "Constant",
                  let target = values.value(node.input[1]), target.dims.count == 1,
                  target.values.allSatisfy({ Int(exactly: $0) != nil && abs($0) <= Double(ONNXImporter.maximumElements) }) else {
                continue
            }
            let name = freshName("\(node.input[1])_evaluated")
            graph.initializer.append(Self.tensorProto(name, dims: target.dims, values: target.values, type: .int64))
            graph.node[index].input[1] = name
            evaluated += 1
        }
        note(evaluated, "Reshape target computed from known shapes (Shape, Gather, Slice, Concat) evaluated")
    }

    /// Keras' `Flatten` of an NHWC map, which tf2onnx writes `Transpose [0, 2, 3, 1]` then a
    /// flatten to `[1, H * W * C]` before `MatMul`/`Gemm`: the flattened order is HWC, MixQ's own.
    /// The builder reads a flatten of the NCHW map (order C, H, W), so the `Transpose` goes and the
    /// classifier's weight rows are put in C, H, W order instead (the same products, summed in the
    /// same layer). The weight may be an initializer, or the input of a QONNX `Quant` or a
    /// `DequantizeLinear` whose scales are per tensor or per output: its codes move, none changes.
    mutating func foldTransposeBeforeFlatten() {
        var values = ONNXGraphValues(graph)
        var folded = 0, index = 0
        while index < graph.node.count {
            let node = graph.node[index]
            guard node.opType == "Transpose", node.domain.isEmpty, NodeAttributes(node: node).ints("perm") == [0, 2, 3, 1],
                  let x = node.input.first, let map = values.shape(x), map.count == 4, map[0] == 1,
                  let transposed = node.output.first, !isGraphOutput(transposed), consumers(of: transposed).count == 1,
                  let flattenIndex = consumers(of: transposed).first,
                  ["Reshape", "Flatten"].contains(graph.node[flattenIndex].opType), graph.node[flattenIndex].input.first == transposed,
                  let flat = graph.node[flattenIndex].output.first, values.shape(flat) == [1, map[1] * map[2] * map[3]],
                  !isGraphOutput(flat), consumers(of: flat).count == 1, let layerIndex = consumers(of: flat).first,
                  permuteClassifierRows(layerIndex, reading: flat, channels: map[1], height: map[2], width: map[3], &values),
                  bypass(nodeAt: index) else {
                index += 1
                continue
            }
            folded += 1
        }
        note(folded, "Transpose [0, 2, 3, 1] before a flatten (Keras' Flatten of an NHWC map) into the classifier's weight order")
    }

    /// Reorders the input rows of the `MatMul`/`Gemm` at `layerIndex` (which reads `input`, the
    /// HWC-order flatten of a `channels x height x width` map) into C, H, W order, in the
    /// initializer that holds them; false, and nothing changed, when the weight is held otherwise.
    private mutating func permuteClassifierRows(_ layerIndex: Int, reading input: String, channels: Int, height: Int, width: Int,
                                                _ values: inout ONNXGraphValues) -> Bool {
        let layer = graph.node[layerIndex]
        let attributes = NodeAttributes(node: layer)
        guard layer.domain.isEmpty, layer.input.count >= 2, layer.input[0] == input, layer.input[1] != input else { return false }
        let inputAxis: Int
        switch layer.opType {
        case "MatMul": inputAxis = 0
        case "Gemm" where attributes.int("transA", default: 0) == 0: inputAxis = attributes.int("transB", default: 0) != 0 ? 1 : 0
        default: return false
        }
        // The initializer holding the weight: itself, or under one Quant / DequantizeLinear.
        var holder = layer.input[1]
        if let producer = graph.node.first(where: { $0.output.first == holder }) {
            let quantizes = producer.opType == "DequantizeLinear" || producer.opType == "Quant"
            guard quantizes, producer.output.count == 1, let stored = producer.input.first, consumers(of: layer.input[1]) == [layerIndex],
                  let weight = values.shape(holder), weight.count == 2 else { return false }
            // Its scales and zero points must not vary along the rows being moved.
            for parameter in producer.input.dropFirst() where !parameter.isEmpty {
                guard let tensor = values.value(parameter) else { return false }
                if tensor.count == 1 { continue }
                if producer.opType == "DequantizeLinear" {
                    var axis = NodeAttributes(node: producer).int("axis", default: 1)
                    if axis < 0 { axis += 2 }
                    guard axis == 1 - inputAxis else { return false }
                } else {
                    let aligned = [Int](repeating: 1, count: max(0, 2 - tensor.dims.count)) + tensor.dims
                    guard aligned.count == 2, aligned[inputAxis] == 1 else { return false }
                }
            }
            holder = stored
        }
        guard let position = graph.initializer.firstIndex(where: { $0.name == holder }), consumers(of: holder).count == 1,
              !isGraphOutput(holder), let weight = ONNXGraphValues.decode(graph.initializer[position]), weight.dims.count == 2,
              weight.dims[inputAxis] == channels * height * width,
              let type = Onnx_TensorProto.DataType(rawValue: Int(graph.initializer[position].dataType)) else { return false }
        let rows = weight.dims[inputAxis], columns = weight.dims[1 - inputAxis]
        var permuted = weight.values
        for c in 0..<channels {
            for y in 0..<height {
                for x in 0..<width {
                    let chw = (c * height + y) * width + x, hwc = (y * width + x) * channels + c
                    for k in 0..<columns {
                        if inputAxis == 0 {
                            permuted[chw * columns + k] = weight.values[hwc * columns + k]
                        } else {
                            permuted[k * rows + chw] = weight.values[k * rows + hwc]
                        }
                    }
                }
            }
        }
        graph.initializer[position] = Self.tensorProto(holder, dims: weight.dims, values: permuted, type: type)
        return true
    }

    mutating func removeLayoutFreeReshapes() {
        var values = ONNXGraphValues(graph)
        var outputs: [String] = []
        for node in graph.node where ["Reshape", "Flatten", "Squeeze", "Unsqueeze"].contains(node.opType) && node.domain.isEmpty {
            guard let x = node.input.first, let output = node.output.first, let from = values.shape(x),
                  let to = values.shape(output) else { continue }
            // A flatten to [N, n] is read by the builder itself (before the classifier).
            if to.count == 2 && node.opType != "Unsqueeze" { continue }
            // One dimension other than 1 is the same sequence of values in every layout.
            let significant = (from.filter { $0 != 1 }, to.filter { $0 != 1 })
            if from == to || (significant.0 == significant.1 && significant.0.count <= 1) { outputs.append(output) }
        }
        var removed = 0
        for output in outputs {
            if let index = graph.node.firstIndex(where: { $0.output.first == output }), bypass(nodeAt: index) { removed += 1 }
        }
        note(removed, "Reshape/Squeeze/Unsqueeze that moves no data removed")
    }

    /// Drops constant expressions nothing reads any more (e.g. the `DequantizeLinear` of a
    /// batch-norm factor now folded) and unused initializers, so the builder never sees them.
    mutating func pruneUnusedConstants() {
        var constant: [String: Bool] = [:]
        for tensor in graph.initializer { constant[tensor.name] = true }
        for node in graph.node {
            // A Shape node's output is fixed too (the graph's shapes are, at batch 1).
            let computed = node.opType == "Shape" || node.input.allSatisfy { $0.isEmpty || constant[$0] == true }
            for output in node.output where !output.isEmpty { constant[output] = computed }
        }
        var changed = true
        while changed {
            changed = false
            var used = Set(graph.output.map(\.name))
            for node in graph.node { used.formUnion(node.input) }
            let before = graph.node.count
            graph.node.removeAll { node in
                node.output.allSatisfy { !used.contains($0) } && node.output.allSatisfy { $0.isEmpty || constant[$0] == true }
            }
            changed = graph.node.count != before
        }
        var used = Set(graph.output.map(\.name))
        for node in graph.node { used.formUnion(node.input) }
        let unused = Set(graph.initializer.map(\.name)).subtracting(used)
        graph.initializer.removeAll { unused.contains($0.name) }
        graph.input.removeAll { unused.contains($0.name) }
    }

    // MARK: Graph edits

    /// The indices of the nodes reading `name`.
    func consumers(of name: String) -> [Int] {
        graph.node.indices.filter { graph.node[$0].input.contains(name) }
    }

    func isUsed(_ name: String) -> Bool { graph.node.contains { $0.input.contains(name) } }

    func isGraphOutput(_ name: String) -> Bool { graph.output.contains { $0.name == name } }

    /// Removes the node at `index`, whose first output then stands for its first input. When that
    /// output is a graph output, the input's producer is renamed instead (the graph's output keeps
    /// its name); false, and nothing changed, when that is not possible.
    mutating func bypass(nodeAt index: Int) -> Bool {
        let node = graph.node[index]
        guard let x = node.input.first, !x.isEmpty, let y = node.output.first, !y.isEmpty else { return false }
        if isGraphOutput(y) {
            guard !isGraphOutput(x), consumers(of: x) == [index],
                  let producer = graph.node.firstIndex(where: { $0.output.contains(x) }),
                  let slot = graph.node[producer].output.firstIndex(of: x) else { return false }
            graph.node[producer].output[slot] = y
        } else {
            for k in graph.node.indices {
                for slot in graph.node[k].input.indices where graph.node[k].input[slot] == y { graph.node[k].input[slot] = x }
            }
        }
        graph.node.remove(at: index)
        return true
    }

    mutating func freshName(_ base: String) -> String {
        var name = base, k = 1
        while names.contains(name) {
            k += 1
            name = "\(base)_\(k)"
        }
        names.insert(name)
        return name
    }

    /// Adds a double-precision initializer under a new name derived from `base`; returns the name.
    mutating func addInitializer(base: String, dims: [Int], values: [Double]) -> String {
        let name = freshName(base)
        graph.initializer.append(Self.tensorProto(name, dims: dims, values: values, type: .double))
        return name
    }

    /// A tensor holding `values` (already in `type`'s range and precision) in `type`'s typed field.
    static func tensorProto(_ name: String, dims: [Int], values: [Double], type: Onnx_TensorProto.DataType) -> Onnx_TensorProto {
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dims = dims.map { Int64($0) }
        tensor.dataType = Int32(type.rawValue)
        switch type {
        case .float: tensor.floatData = values.map { Float($0) }
        case .double: tensor.doubleData = values
        case .int64: tensor.int64Data = values.map { Int64($0) }
        case .uint64, .uint32: tensor.uint64Data = values.map { UInt64($0) }
        case .int32, .int16, .int8, .uint16, .uint8, .bool: tensor.int32Data = values.map { Int32($0) }
        default:
            tensor.dataType = Int32(Onnx_TensorProto.DataType.double.rawValue)
            tensor.doubleData = values
        }
        return tensor
    }

    /// `constant` as one value per channel of a layer output of shape `outputShape` (`[1, C, H,
    /// W]` or `[1, C]`), when it broadcasts along the channel axis only (a scalar, `[C]` for a
    /// vector output, `[C, 1, 1]`, `[1, C, 1, 1]`); nil otherwise.
    static func perChannel(_ constant: ONNXTensor, outputShape: [Int]) -> [Double]? {
        let rank = outputShape.count, channels = outputShape[1]
        guard constant.dims.count <= rank else { return nil }
        let aligned = [Int](repeating: 1, count: rank - constant.dims.count) + constant.dims
        for axis in 0..<rank where aligned[axis] != 1 && !(axis == 1 && aligned[axis] == channels) { return nil }
        if constant.count == 1 { return [Double](repeating: constant.values[0], count: channels) }
        return constant.count == channels ? constant.values : nil
    }
}
