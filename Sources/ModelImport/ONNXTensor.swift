import Diagnostics
import Foundation
import ONNXSchema

/// A constant tensor of an ONNX graph (an initializer or a `Constant` node's value), decoded to
/// doubles. ONNX stores numbers either in the typed repeated fields or little-endian in
/// `raw_data` (onnx.proto, `TensorProto`).
struct ONNXTensor {
    var name: String
    var dims: [Int]
    var values: [Double]

    var count: Int { values.count }
    var isScalar: Bool { values.count == 1 }

    init(name: String, dims: [Int], values: [Double]) {
        self.name = name
        self.dims = dims
        self.values = values
    }

    init(_ proto: Onnx_TensorProto) throws(ImportError) {
        name = proto.name
        guard proto.dims.allSatisfy({ $0 >= 0 && $0 < 1 << 31 }) else {
            throw .badTensor(name: ErrorText.quoted(proto.name), reason: "dimensions \(ErrorText.quoted(proto.dims.description)) are not valid")
        }
        dims = proto.dims.map { Int($0) }
        guard let expected = ONNXImporter.elementCount(dims) else {
            throw .badTensor(name: ErrorText.quoted(proto.name), reason: "dimensions \(ErrorText.quoted(proto.dims.description)) hold more "
                             + "than \(ONNXImporter.maximumElements) elements")
        }
        guard proto.dataLocation != .external else {
            throw .badTensor(name: proto.name, reason: "its data is stored outside the file (external data); "
                             + "save the model with all tensors inside (onnx.save(..., save_as_external_data=False))")
        }
        guard let type = Onnx_TensorProto.DataType(rawValue: Int(proto.dataType)) else {
            throw .badTensor(name: proto.name, reason: "unknown data type \(proto.dataType)")
        }
        if proto.hasRawData {
            values = try Self.decodeRaw(proto.rawData, type: type, name: proto.name)
        } else {
            switch type {
            case .float: values = proto.floatData.map(Double.init)
            case .double: values = proto.doubleData
            case .int64: values = proto.int64Data.map(Double.init)
            case .uint64: values = proto.uint64Data.map(Double.init)
            case .int32, .int16, .int8, .uint8, .uint16, .bool: values = proto.int32Data.map(Double.init)
            default:
                throw .badTensor(name: proto.name, reason: "data type \(type) is not supported (float, double or integers)")
            }
        }
        guard values.count == expected else {
            throw .badTensor(name: ErrorText.quoted(proto.name), reason: "holds \(values.count) values, its dimensions "
                             + "\(ErrorText.quoted(dims.description)) need \(expected)")
        }
        guard values.allSatisfy(\.isFinite) else {
            throw .badTensor(name: proto.name, reason: "holds a NaN or infinite value")
        }
    }

    private static func decodeRaw(_ data: Data, type: Onnx_TensorProto.DataType, name: String) throws(ImportError) -> [Double] {
        let bytes = [UInt8](data)
        func words<T: FixedWidthInteger>(_: T.Type) -> [T] {
            let size = MemoryLayout<T>.size
            return stride(from: 0, to: bytes.count - size + 1, by: size).map { offset in
                var value: T = 0
                for k in 0..<size { value |= T(truncatingIfNeeded: bytes[offset + k]) << (8 * k) }
                return T(littleEndian: value)
            }
        }
        let sizes: [Onnx_TensorProto.DataType: Int] = [.float: 4, .double: 8, .int64: 8, .uint64: 8, .int32: 4, .uint32: 4,
                                                        .int16: 2, .uint16: 2, .int8: 1, .uint8: 1, .bool: 1]
        guard let size = sizes[type] else {
            throw .badTensor(name: name, reason: "data type \(type) is not supported (float, double or integers)")
        }
        guard bytes.count % size == 0 else {
            throw .badTensor(name: name, reason: "raw data of \(bytes.count) bytes is not a whole number of \(size)-byte values")
        }
        switch type {
        case .float: return words(UInt32.self).map { Double(Float(bitPattern: $0)) }
        case .double: return words(UInt64.self).map { Double(bitPattern: $0) }
        case .int64: return words(Int64.self).map(Double.init)
        case .uint64: return words(UInt64.self).map(Double.init)
        case .int32: return words(Int32.self).map(Double.init)
        case .uint32: return words(UInt32.self).map(Double.init)
        case .int16: return words(Int16.self).map(Double.init)
        case .uint16: return words(UInt16.self).map(Double.init)
        case .int8: return bytes.map { Double(Int8(bitPattern: $0)) }
        default: return bytes.map(Double.init)
        }
    }
}

/// Typed access to a node's attributes.
struct NodeAttributes {
    let node: Onnx_NodeProto

    var name: String { node.name.isEmpty ? "\(node.opType) producing \(node.output.first ?? "?")" : node.name }

    func attribute(_ key: String) -> Onnx_AttributeProto? { node.attribute.first { $0.name == key } }

    func int(_ key: String, default value: Int) -> Int { attribute(key).map { Int($0.i) } ?? value }
    func float(_ key: String, default value: Double) -> Double { attribute(key).map { Double($0.f) } ?? value }
    func ints(_ key: String) -> [Int]? { attribute(key).map { $0.ints.map { Int($0) } } }
    func string(_ key: String) -> String? { attribute(key).map { String(decoding: $0.s, as: UTF8.self) } }
}
