import Foundation
import ONNXSchema
import SwiftProtobuf

/// Builds small ONNX / QONNX models in the test itself with the generated protobuf types.
struct ONNXGraph {
    var nodes: [Onnx_NodeProto] = []
    var initializers: [Onnx_TensorProto] = []
    var input: (name: String, dims: [Int64]) = ("x", [1, 1, 2, 2])
    var output = "y"
    var count = 0

    /// A float initializer.
    @discardableResult
    mutating func tensor(_ name: String, _ dims: [Int64], _ values: [Float]) -> String {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = dims
        t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        t.floatData = values
        initializers.append(t)
        return name
    }

    /// A float initializer stored little-endian in raw_data (as PyTorch exports them).
    @discardableResult
    mutating func rawTensor(_ name: String, _ dims: [Int64], _ values: [Float]) -> String {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = dims
        t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        var data = Data()
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        t.rawData = data
        initializers.append(t)
        return name
    }

    static func attribute(_ name: String, int: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = Int64(int)
        return a
    }

    static func attribute(_ name: String, ints: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .ints
        a.ints = ints.map { Int64($0) }
        return a
    }

    static func attribute(_ name: String, float: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .float
        a.f = float
        return a
    }

    static func attribute(_ name: String, string: String) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .string
        a.s = Data(string.utf8)
        return a
    }

    @discardableResult
    mutating func node(_ op: String, _ inputs: [String], name: String? = nil, domain: String = "",
                       attributes: [Onnx_AttributeProto] = []) -> String {
        count += 1
        var n = Onnx_NodeProto()
        n.opType = op
        n.input = inputs
        n.output = ["t\(count)"]
        n.name = name ?? "\(op)_\(count)"
        n.domain = domain
        n.attribute = attributes
        nodes.append(n)
        output = "t\(count)"
        return "t\(count)"
    }

    /// A QONNX Quant node on `x` with constant scale, zero-point and bit width.
    @discardableResult
    mutating func quant(_ x: String, scale: [Float], scaleDims: [Int64] = [], zeroPoint: Float = 0, bits: Float,
                        signed: Bool, narrow: Bool = false, rounding: String = "ROUND") -> String {
        let id = count + 1
        tensor("s\(id)", scaleDims, scale)
        tensor("z\(id)", [], [zeroPoint])
        tensor("b\(id)", [], [bits])
        return node("Quant", [x, "s\(id)", "z\(id)", "b\(id)"], domain: "qonnx.custom_op.general",
                    attributes: [Self.attribute("signed", int: signed ? 1 : 0), Self.attribute("narrow", int: narrow ? 1 : 0),
                                 Self.attribute("rounding_mode", string: rounding)])
    }

    var model: Onnx_ModelProto {
        var graph = Onnx_GraphProto()
        graph.name = "test"
        graph.node = nodes
        graph.initializer = initializers
        var value = Onnx_ValueInfoProto()
        value.name = input.name
        var type = Onnx_TypeProto.Tensor()
        type.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        var shape = Onnx_TensorShapeProto()
        shape.dim = input.dims.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            dim.dimValue = d
            return dim
        }
        type.shape = shape
        value.type.tensorType = type
        graph.input = [value]
        var out = Onnx_ValueInfoProto()
        out.name = output
        graph.output = [out]
        var model = Onnx_ModelProto()
        model.irVersion = 8
        model.graph = graph
        var opset = Onnx_OperatorSetIdProto()
        opset.version = 13
        model.opsetImport = [opset]
        return model
    }

    func data() throws -> Data { try model.serializedData() }
}
