import TFLiteSchema

typealias FBTable = FlatBufferBuilder.Table

/// Tables of schema.fbs built field by field (slots as in Sources/TFLiteSchema/TFLiteModel.swift,
/// each written from the schema independently of the reader's code paths).
enum Schema {
    static func model(version: UInt32 = 3, codes: [FBTable], subgraphs: [FBTable], description: String? = nil,
                      buffers: [FBTable]) -> FBTable {
        var t = FBTable([0: .uint32(version), 1: .tables(codes), 2: .tables(subgraphs), 4: .tables(buffers)])
        if let description { t[3] = .string(description) }
        return t
    }

    /// An OperatorCode; nil leaves a field out (so it reads as its default).
    static func opcode(builtin: Int32?, deprecated: Int8?, version: Int32? = nil, custom: String? = nil) -> FBTable {
        var t = FBTable()
        if let deprecated { t[0] = .int8(deprecated) }
        if let custom { t[1] = .string(custom) }
        if let version { t[2] = .int32(version) }
        if let builtin { t[3] = .int32(builtin) }
        return t
    }

    static func buffer(_ data: [UInt8]?) -> FBTable {
        guard let data else { return FBTable() }
        return FBTable([0: .bytes(data)])
    }

    static func externalBuffer(offset: UInt64, size: UInt64) -> FBTable {
        FBTable([1: .uint64(offset), 2: .uint64(size)])
    }

    static func tensor(shape: [Int32], type: Int8, buffer: UInt32 = 0, name: String, quantization: FBTable? = nil,
                       isVariable: Bool? = nil, shapeSignature: [Int32]? = nil) -> FBTable {
        var t = FBTable([0: .int32s(shape), 1: .int8(type), 2: .uint32(buffer), 3: .string(name)])
        if let quantization { t[4] = .table(quantization) }
        if let isVariable { t[5] = .bool(isVariable) }
        if let shapeSignature { t[7] = .int32s(shapeSignature) }
        return t
    }

    static func quantization(scale: [Float], zeroPoint: [Int64], dimension: Int32? = nil, min: [Float]? = nil,
                             max: [Float]? = nil) -> FBTable {
        var t = FBTable([2: .floats(scale), 3: .int64s(zeroPoint)])
        if let min { t[0] = .floats(min) }
        if let max { t[1] = .floats(max) }
        if let dimension { t[6] = .int32(dimension) }
        return t
    }

    static func op(_ opcode: UInt32, _ inputs: [Int32], _ outputs: [Int32], options: (type: UInt8, table: FBTable)? = nil) -> FBTable {
        var t = FBTable([0: .uint32(opcode), 1: .int32s(inputs), 2: .int32s(outputs)])
        if let options {
            t[3] = .uint8(options.type)
            t[4] = .table(options.table)
        }
        return t
    }

    static func subgraph(tensors: [FBTable], inputs: [Int32], outputs: [Int32], operators: [FBTable], name: String? = nil) -> FBTable {
        var t = FBTable([0: .tables(tensors), 1: .int32s(inputs), 2: .int32s(outputs), 3: .tables(operators)])
        if let name { t[4] = .string(name) }
        return t
    }
}

/// A small model with every table and every decoded options kind, and the values it holds.
enum SampleModel {
    // TensorType values (schema.fbs enum TensorType).
    static let float32: Int8 = 0, int32: Int8 = 2, uint8: Int8 = 3, int64: Int8 = 4, int8: Int8 = 9

    static let weights: [Int8] = [-128, -1, 0, 127]
    static let bias: [Int32] = [-70_000, 123_456]
    static let floats: [Float] = [1.5, -0.25]
    static let longs: [Int64] = [-(1 << 40), 7]
    static let bytes: [UInt8] = [0, 128, 255]

    static func little<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        values.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
    }

    static var codes: [FBTable] {
        [
            Schema.opcode(builtin: 3, deprecated: 3, version: 3),       // 0 CONV_2D, both fields
            Schema.opcode(builtin: nil, deprecated: 4, version: 2),     // 1 DEPTHWISE_CONV_2D, old converter
            Schema.opcode(builtin: 9, deprecated: nil),                 // 2 FULLY_CONNECTED, new field only
            Schema.opcode(builtin: 150, deprecated: 127),               // 3 GELU via PLACEHOLDER_FOR_GREATER_OP_CODES
            Schema.opcode(builtin: 32, deprecated: 32, custom: "MyOp"), // 4 CUSTOM
            Schema.opcode(builtin: 17, deprecated: 17),                 // 5 MAX_POOL_2D
            Schema.opcode(builtin: 25, deprecated: 25),                 // 6 SOFTMAX
            Schema.opcode(builtin: 2, deprecated: 2),                   // 7 CONCATENATION
            Schema.opcode(builtin: 0, deprecated: 0),                   // 8 ADD
            Schema.opcode(builtin: 22, deprecated: 22),                 // 9 RESHAPE
            Schema.opcode(builtin: 18, deprecated: 18),                 // 10 MUL
            Schema.opcode(builtin: 34, deprecated: 34),                 // 11 PAD
            Schema.opcode(builtin: 40, deprecated: 40),                 // 12 MEAN
            Schema.opcode(builtin: 43, deprecated: 43),                 // 13 SQUEEZE
            Schema.opcode(builtin: 60, deprecated: 60),                 // 14 PADV2
            Schema.opcode(builtin: 53, deprecated: 53),                 // 15 CAST
        ]
    }

    static var tensors: [FBTable] {
        [
            Schema.tensor(shape: [1, 4, 4, 2], type: int8, name: "input",
                          quantization: Schema.quantization(scale: [0.5], zeroPoint: [-3], min: [-62.5], max: [65.0]),
                          shapeSignature: [-1, 4, 4, 2]),
            Schema.tensor(shape: [2, 1, 1, 2], type: int8, buffer: 1, name: "conv/weights",
                          quantization: Schema.quantization(scale: [0.125, 0.0625], zeroPoint: [0, 0], dimension: 0)),
            Schema.tensor(shape: [2], type: int32, buffer: 2, name: "conv/bias"),
            Schema.tensor(shape: [2], type: float32, buffer: 3, name: "floats"),
            Schema.tensor(shape: [2, 1], type: int64, buffer: 4, name: "longs"),
            Schema.tensor(shape: [3], type: uint8, buffer: 5, name: "bytes"),
            Schema.tensor(shape: [1, 4, 4, 2], type: int8, name: "output",
                          quantization: Schema.quantization(scale: [0.25], zeroPoint: [5]), isVariable: true),
            Schema.tensor(shape: [4], type: int8, buffer: 6, name: "external"),
        ]
    }

    static var operators: [FBTable] {
        [
            Schema.op(0, [0, 1, 2], [6], options: (1, FBTable([0: .int8(1), 1: .int32(2), 2: .int32(3), 3: .int8(3), 4: .int32(2), 5: .int32(4)]))),
            Schema.op(1, [0, 1, -1], [6], options: (2, FBTable([0: .int8(0), 1: .int32(1), 2: .int32(2), 3: .int32(8), 4: .int8(1)]))),
            Schema.op(2, [0, 1, 2], [6], options: (8, FBTable([0: .int8(1), 1: .int8(1), 2: .bool(true)]))),
            Schema.op(3, [0], [6]),
            Schema.op(4, [0], [6]),
            Schema.op(5, [0], [6], options: (5, FBTable([0: .int8(1), 1: .int32(2), 2: .int32(2), 3: .int32(3), 4: .int32(2), 5: .int8(2)]))),
            Schema.op(6, [0], [6], options: (9, FBTable([0: .float(0.75)]))),
            Schema.op(7, [0, 6], [6], options: (10, FBTable([0: .int32(-1), 1: .int8(1)]))),
            Schema.op(8, [0, 6], [6], options: (11, FBTable([0: .int8(3), 1: .bool(false)]))),
            Schema.op(9, [0], [6], options: (17, FBTable([0: .int32s([1, -1, 2])]))),
            Schema.op(10, [0, 6], [6], options: (21, FBTable([0: .int8(4)]))),
            Schema.op(11, [0, 2], [6], options: (22, FBTable())),
            Schema.op(12, [0, 2], [6], options: (27, FBTable([0: .bool(true)]))),
            Schema.op(13, [0], [6], options: (30, FBTable([0: .int32s([1, 2])]))),
            Schema.op(14, [0, 2, 0], [6], options: (43, FBTable())),
            Schema.op(15, [0], [6], options: (37, FBTable([0: .int8(9), 1: .int8(0)]))), // CastOptions
            Schema.op(9, [0, 2], [6]), // RESHAPE without options, as new converters write it
        ]
    }

    /// External data stored after the flatbuffer (Buffer.offset/size).
    static let externalData: [UInt8] = [9, 8, 7, 6]

    /// The sample without external data (buffer 6 refers to 4 bytes after the flatbuffer:
    /// `bytesWithExternalData` appends them).
    static func table(externalOffset: UInt64) -> FBTable {
        Schema.model(
            codes: codes,
            subgraphs: [Schema.subgraph(tensors: tensors, inputs: [0], outputs: [6], operators: operators, name: "main")],
            description: "MixQ sample",
            buffers: [
                Schema.buffer(nil),
                Schema.buffer(little(weights)),
                Schema.buffer(little(bias)),
                Schema.buffer(little(floats.map(\.bitPattern))),
                Schema.buffer(little(longs)),
                Schema.buffer(bytes),
                Schema.externalBuffer(offset: externalOffset, size: UInt64(externalData.count)),
            ])
    }

    /// The sample model with its external buffer's bytes appended after the flatbuffer, at a
    /// 16-byte aligned offset.
    static var bytesWithExternalData: [UInt8] {
        let size = FlatBufferBuilder.build(table(externalOffset: 0)).count
        let offset = (size + 15) / 16 * 16
        var bytes = FlatBufferBuilder.build(table(externalOffset: UInt64(offset)))
        precondition(bytes.count == size)
        bytes += [UInt8](repeating: 0, count: offset - size) + externalData
        return bytes
    }

    /// A minimal valid model: one tensor, one operator, no data. Small enough to damage at every byte.
    static var tiny: FBTable {
        Schema.model(
            codes: [Schema.opcode(builtin: 3, deprecated: 3)],
            subgraphs: [Schema.subgraph(
                tensors: [Schema.tensor(shape: [1, 2], type: int8, buffer: 1, name: "w",
                                        quantization: Schema.quantization(scale: [0.5], zeroPoint: [1]))],
                inputs: [0], outputs: [0],
                operators: [Schema.op(0, [0, -1], [0], options: (1, FBTable([1: .int32(1), 2: .int32(1)])))])],
            description: "t",
            buffers: [Schema.buffer(nil), Schema.buffer([1, 2])])
    }
}
