/// A TFLite model file decoded into typed values: the tables of TensorFlow's
/// `tensorflow/compiler/mlir/lite/schema/schema.fbs` (TensorFlow 2.21.0; older converters wrote
/// `tensorflow/lite/schema/schema.fbs`, the same schema with fewer fields at the end) that a
/// network importer needs.
///
/// Field slots below are schema.fbs declaration indices (`slot N`, vtable entry at byte
/// `4 + 2 * N`; a union takes two slots, type then value). Constant tensor data is not copied:
/// a `Buffer` holds a byte range into `bytes`, read through the typed accessors
/// (`int8Values(of:)` and the others), which check it against the tensor's type and shape.
///
/// Every value is checked as it is read (see `FlatBuffer`); indices between tables (operator
/// code, tensor, buffer indices) are checked against the vectors they index. Any damage gives a
/// `TFLiteError`, never a trap.
public struct TFLiteModel: Sendable {
    /// The file, as given. Buffers index into it.
    public let bytes: [UInt8]
    /// Model slot 0 `version:uint`, the schema version (3 for every current converter).
    public var version: UInt32
    /// Model slot 1 `operator_codes:[OperatorCode]`; `Operator.opcodeIndex` indexes it.
    public var operatorCodes: [OperatorCode]
    /// Model slot 2 `subgraphs:[SubGraph]`; the first is the main model.
    public var subgraphs: [SubGraph]
    /// Model slot 3 `description:string` (the converter writes e.g. "MLIR Converted.").
    public var description: String?
    /// Model slot 4 `buffers:[Buffer]`; `Tensor.buffer` indexes it, buffer 0 is the empty sentinel.
    public var buffers: [Buffer]

    /// The FlatBuffers file identifier of TFLite files (schema.fbs `file_identifier "TFL3"`),
    /// stored at bytes 4..<8.
    public static let fileIdentifier: [UInt8] = Array("TFL3".utf8)

    /// Whether `bytes` carry the TFLite file identifier "TFL3" at bytes 4..<8: the test by
    /// content that tells a `.tflite` from an ONNX protobuf whatever the file is named. (An ONNX
    /// file starts with protobuf field 1, `ir_version`, a varint: byte 0x08.)
    public static func looksLikeTFLite(_ bytes: some Collection<UInt8>) -> Bool {
        bytes.count >= 8 && bytes.dropFirst(4).prefix(4).elementsEqual(fileIdentifier)
    }

    /// Decodes a TFLite flatbuffer. Throws `TFLiteError` for anything that is not a readable
    /// TFLite model; never traps, and allocates no more than a small multiple of `bytes.count`.
    public init(bytes: [UInt8]) throws(TFLiteError) {
        guard bytes.count >= 8 else { throw .tooSmall(bytes: bytes.count) }
        guard Self.looksLikeTFLite(bytes) else {
            throw .notTFLite(identifier: Array(bytes[4..<8]), looksLikeONNX: bytes[0] == 0x08)
        }
        self.bytes = bytes
        var decoder = ModelDecoder(buffer: FlatBuffer(bytes: bytes))
        let root = try decoder.buffer.rootTable(path: "Model")
        version = try root.integer(slot: 0, name: "version", default: UInt32(0))
        operatorCodes = try decoder.tables(in: root, slot: 1, name: "operator_codes") { (t, d) throws(TFLiteError) in try OperatorCode(t, &d) }
        buffers = try decoder.tables(in: root, slot: 4, name: "buffers") { (t, d) throws(TFLiteError) in try Buffer(t, &d) }
        description = try decoder.string(in: root, slot: 3, name: "description")
        let context = ModelDecoder.Counts(operatorCodes: operatorCodes.count, buffers: buffers.count)
        subgraphs = try decoder.tables(in: root, slot: 2, name: "subgraphs") { (t, d) throws(TFLiteError) in try SubGraph(t, &d, context) }
        guard !subgraphs.isEmpty else {
            throw .invalidValue(path: root.path("subgraphs"), offset: root.offset, reason: "the model has no subgraph")
        }
    }

    /// The first subgraph, the model that runs (schema.fbs: "The 0th is assumed to be the main model").
    public var mainSubgraph: SubGraph { subgraphs[0] }

    /// The operator code of `op`, an operator of this model (its `opcodeIndex` was checked when
    /// the model was read).
    public func operatorCode(of op: Operator) -> OperatorCode { operatorCodes[op.opcodeIndex] }
}

// MARK: Constant data

extension TFLiteModel {
    /// The constant bytes of `tensor` (a slice of `bytes`, not a copy), nil when its buffer is
    /// empty: an activation, an input, or buffer 0.
    public func constantBytes(of tensor: Tensor) -> ArraySlice<UInt8>? {
        guard tensor.buffer < buffers.count else { return nil }
        let range = buffers[tensor.buffer].range
        return range.isEmpty ? nil : bytes[range]
    }

    /// The values of an INT8 tensor's constant data (weights, per-channel quantized filters).
    public func int8Values(of tensor: Tensor) throws(TFLiteError) -> [Int8] {
        try values(of: tensor, type: .int8, as: Int8.self)
    }

    /// The values of a UINT8 tensor's constant data (TensorFlow 1 quantization-aware training).
    public func uint8Values(of tensor: Tensor) throws(TFLiteError) -> [UInt8] {
        try values(of: tensor, type: .uint8, as: UInt8.self)
    }

    /// The values of an INT32 tensor's constant data (biases, shapes, paddings, axes).
    public func int32Values(of tensor: Tensor) throws(TFLiteError) -> [Int32] {
        try values(of: tensor, type: .int32, as: Int32.self)
    }

    /// The values of an INT64 tensor's constant data.
    public func int64Values(of tensor: Tensor) throws(TFLiteError) -> [Int64] {
        try values(of: tensor, type: .int64, as: Int64.self)
    }

    /// The values of a FLOAT32 tensor's constant data.
    public func float32Values(of tensor: Tensor) throws(TFLiteError) -> [Float] {
        try values(of: tensor, type: .float32, as: UInt32.self).map(Float.init(bitPattern:))
    }

    /// Little-endian elements of `T` from `tensor`'s buffer, after checking that the tensor has
    /// `type`, is dense, and that its buffer holds exactly `elementCount() * size` bytes.
    private func values<T: FixedWidthInteger>(of tensor: Tensor, type: TensorType, as: T.Type) throws(TFLiteError) -> [T] {
        guard tensor.type == type else {
            throw .tensorData(tensor: tensor.name, reason: "its type is \(tensor.type), not \(type)")
        }
        guard !tensor.isSparse else {
            throw .tensorData(tensor: tensor.name, reason: "its data is sparse (SparsityParameters), not dense \(type) values")
        }
        let count = try tensor.elementCount()
        guard let data = constantBytes(of: tensor) else {
            if count == 0 { return [] }
            throw .tensorData(tensor: tensor.name, reason: "it has no constant data (buffer \(tensor.buffer) is empty)")
        }
        let size = MemoryLayout<T>.size
        guard data.count % size == 0, data.count / size == count else {
            throw .tensorData(tensor: tensor.name,
                              reason: "shape \(tensor.shape) needs \(count) \(type) elements but buffer \(tensor.buffer) holds \(data.count) bytes")
        }
        return data.withUnsafeBytes { raw in
            (0..<count).map { T(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * size, as: T.self)) }
        }
    }
}

// MARK: Tables

/// schema.fbs `table OperatorCode`.
public struct OperatorCode: Sendable, Equatable {
    /// Slot 0 `deprecated_builtin_code:byte`, the only code field of files from converters
    /// before schema version 3a.
    public var deprecatedBuiltinCode: Int8
    /// Slot 1 `custom_code:string`, the name of a custom operator.
    public var customCode: String?
    /// Slot 2 `version:int = 1`, the operator's version.
    public var version: Int32
    /// Slot 3 `builtin_code:BuiltinOperator` (int32), written by converters from schema 3a on.
    public var builtinCode: Int32

    /// The operator's code: `max(deprecated_builtin_code, builtin_code)`. Old files set only
    /// the deprecated byte (builtin_code reads as its default 0), new files set builtin_code and
    /// put min(code, 127 = PLACEHOLDER_FOR_GREATER_OP_CODES) in the byte; the larger of the two is
    /// the code in both cases (schema.fbs comments on the two fields; TensorFlow's
    /// `tensorflow/compiler/mlir/lite/schema/schema_utils.cc`, GetBuiltinCode, resolves them so).
    public var code: Int32 { max(Int32(deprecatedBuiltinCode), builtinCode) }

    /// The builtin operator, nil for a code this schema does not know.
    public var builtinOperator: BuiltinOperator? { BuiltinOperator(rawValue: code) }

    /// A name for messages: the schema name (`CONV_2D`), or `CUSTOM 'name'` for a custom operator.
    public var name: String {
        if code == BuiltinOperator.custom.rawValue { return "CUSTOM '\(customCode ?? "")'" }
        return BuiltinOperator.schemaName(ofCode: code)
    }

    public init(deprecatedBuiltinCode: Int8, customCode: String? = nil, version: Int32 = 1, builtinCode: Int32) {
        self.deprecatedBuiltinCode = deprecatedBuiltinCode
        self.customCode = customCode
        self.version = version
        self.builtinCode = builtinCode
    }

    init(_ table: FlatTable, _ decoder: inout ModelDecoder) throws(TFLiteError) {
        deprecatedBuiltinCode = try table.integer(slot: 0, name: "deprecated_builtin_code", default: Int8(0))
        customCode = try decoder.string(in: table, slot: 1, name: "custom_code")
        version = try table.integer(slot: 2, name: "version", default: Int32(1))
        builtinCode = try table.integer(slot: 3, name: "builtin_code", default: Int32(0))
    }
}

/// schema.fbs `table Buffer`: constant data, as a range of the file's bytes.
public struct Buffer: Sendable, Equatable {
    /// Where the data is in `TFLiteModel.bytes`: the slot 0 `data:[ubyte]` vector, or, for data
    /// stored after the flatbuffer (schema 3c, models over 2 GB), slot 1 `offset:ulong` and slot
    /// 2 `size:ulong` from the start of the file (schema.fbs: "only valid if > 1"). Empty for the
    /// sentinel buffer and for tensors without constant data.
    public var range: Range<Int>
    /// Whether the data came from `offset`/`size` rather than the `data` vector.
    public var isExternal: Bool

    public init(range: Range<Int>, isExternal: Bool = false) {
        self.range = range
        self.isExternal = isExternal
    }

    init(_ table: FlatTable, _ decoder: inout ModelDecoder) throws(TFLiteError) {
        let offset = try table.integer(slot: 1, name: "offset", default: UInt64(0))
        let size = try table.integer(slot: 2, name: "size", default: UInt64(0))
        if offset > 1 {
            let fileSize = table.buffer.bytes.count
            guard offset <= UInt64(fileSize), size <= UInt64(fileSize) - offset else {
                throw .outOfBounds(path: table.path("offset"), offset: Int(clamping: offset), length: Int(clamping: size), fileSize: fileSize)
            }
            range = Int(offset)..<(Int(offset) + Int(size))
            isExternal = true
        } else if let data = try table.vector(slot: 0, name: "data", elementSize: 1) {
            range = data.byteRange
            isExternal = false
        } else {
            range = 0..<0
            isExternal = false
        }
    }
}

/// schema.fbs `table SubGraph`.
public struct SubGraph: Sendable, Equatable {
    /// Slot 0 `tensors:[Tensor]`.
    public var tensors: [Tensor]
    /// Slot 1 `inputs:[int]`, indices into `tensors` of the subgraph's inputs.
    public var inputs: [Int]
    /// Slot 2 `outputs:[int]`, indices into `tensors` of the subgraph's outputs.
    public var outputs: [Int]
    /// Slot 3 `operators:[Operator]`, in execution order.
    public var operators: [Operator]
    /// Slot 4 `name:string`.
    public var name: String?

    init(_ table: FlatTable, _ decoder: inout ModelDecoder, _ counts: ModelDecoder.Counts) throws(TFLiteError) {
        tensors = try decoder.tables(in: table, slot: 0, name: "tensors") { (t, d) throws(TFLiteError) in try Tensor(t, &d, counts) }
        let tensorCount = tensors.count
        inputs = try decoder.indices(in: table, slot: 1, name: "inputs", below: tensorCount, what: "tensor")
        outputs = try decoder.indices(in: table, slot: 2, name: "outputs", below: tensorCount, what: "tensor")
        operators = try decoder.tables(in: table, slot: 3, name: "operators") { (t, d) throws(TFLiteError) in
            try Operator(t, &d, counts, tensorCount: tensorCount)
        }
        name = try decoder.string(in: table, slot: 4, name: "name")
    }
}

/// schema.fbs `enum TensorType : byte`: 0...20 as in TensorFlow 2.21.0; LiteRT 2.3.0's schema
/// (`ai_edge_litert/schema_py_generated.py`) adds the two float8 types 21 and 22.
public enum TensorType: Int8, CaseIterable, Sendable, CustomStringConvertible {
    case float32 = 0, float16 = 1, int32 = 2, uint8 = 3, int64 = 4, string = 5, bool = 6, int16 = 7
    case complex64 = 8, int8 = 9, float64 = 10, complex128 = 11, uint64 = 12, resource = 13, variant = 14
    case uint32 = 15, uint16 = 16, int4 = 17, bfloat16 = 18, int2 = 19, uint4 = 20
    case float8E4M3FN = 21, float8E5M2 = 22

    /// Bytes per element, nil for types without a fixed whole-byte size (strings, resources,
    /// variants, and the packed sub-byte int4, int2, uint4).
    public var elementSize: Int? {
        switch self {
        case .uint8, .int8, .bool, .float8E4M3FN, .float8E5M2: 1
        case .float16, .int16, .uint16, .bfloat16: 2
        case .float32, .int32, .uint32: 4
        case .int64, .uint64, .float64, .complex64: 8
        case .complex128: 16
        case .string, .resource, .variant, .int4, .int2, .uint4: nil
        }
    }

    /// The schema's name (`INT8`).
    public var description: String {
        switch self {
        case .float32: "FLOAT32"
        case .float16: "FLOAT16"
        case .int32: "INT32"
        case .uint8: "UINT8"
        case .int64: "INT64"
        case .string: "STRING"
        case .bool: "BOOL"
        case .int16: "INT16"
        case .complex64: "COMPLEX64"
        case .int8: "INT8"
        case .float64: "FLOAT64"
        case .complex128: "COMPLEX128"
        case .uint64: "UINT64"
        case .resource: "RESOURCE"
        case .variant: "VARIANT"
        case .uint32: "UINT32"
        case .uint16: "UINT16"
        case .int4: "INT4"
        case .bfloat16: "BFLOAT16"
        case .int2: "INT2"
        case .uint4: "UINT4"
        case .float8E4M3FN: "FLOAT8_E4M3FN"
        case .float8E5M2: "FLOAT8_E5M2"
        }
    }
}

/// schema.fbs `table Tensor`.
public struct Tensor: Sendable, Equatable {
    /// Slot 0 `shape:[int]` (NHWC for builtin ops' activations).
    public var shape: [Int]
    /// Slot 1 `type:TensorType`.
    public var type: TensorType
    /// Slot 2 `buffer:uint`, index into `TFLiteModel.buffers` (0: no constant data).
    public var buffer: Int
    /// Slot 3 `name:string` ("" when absent).
    public var name: String
    /// Slot 4 `quantization:QuantizationParameters`, nil when absent.
    public var quantization: QuantizationParameters?
    /// Slot 5 `is_variable:bool = false`.
    public var isVariable: Bool
    /// Whether slot 6 `sparsity:SparsityParameters` is present: the buffer then holds a
    /// compressed encoding, not the dense values.
    public var isSparse: Bool
    /// Slot 7 `shape_signature:[int]`, the shape with -1 for unknown dimensions; nil when absent.
    public var shapeSignature: [Int]?

    public init(shape: [Int], type: TensorType, buffer: Int = 0, name: String = "", quantization: QuantizationParameters? = nil,
                isVariable: Bool = false, isSparse: Bool = false, shapeSignature: [Int]? = nil) {
        self.shape = shape
        self.type = type
        self.buffer = buffer
        self.name = name
        self.quantization = quantization
        self.isVariable = isVariable
        self.isSparse = isSparse
        self.shapeSignature = shapeSignature
    }

    init(_ table: FlatTable, _ decoder: inout ModelDecoder, _ counts: ModelDecoder.Counts) throws(TFLiteError) {
        shape = try decoder.int32s(in: table, slot: 0, name: "shape").map(Int.init)
        let rawType = try table.integer(slot: 1, name: "type", default: Int8(0))
        guard let type = TensorType(rawValue: rawType) else {
            throw .invalidValue(path: table.path("type"), offset: table.offset,
                                reason: "tensor type \(rawType) is not in schema.fbs (TensorType 0...22, LiteRT 2.3.0)")
        }
        self.type = type
        let buffer = try table.integer(slot: 2, name: "buffer", default: UInt32(0))
        // Buffer 0 is the empty sentinel; a model without a buffers vector can still say 0.
        guard buffer == 0 || Int(buffer) < counts.buffers else {
            throw .invalidValue(path: table.path("buffer"), offset: table.offset,
                                reason: "buffer index \(buffer) is out of range (the model has \(counts.buffers) buffers)")
        }
        self.buffer = Int(buffer)
        name = try decoder.string(in: table, slot: 3, name: "name") ?? ""
        quantization = try table.table(slot: 4, name: "quantization").map { (t) throws(TFLiteError) in
            try QuantizationParameters(t, &decoder)
        }
        isVariable = try table.bool(slot: 5, name: "is_variable", default: false)
        isSparse = try table.fieldOffset(slot: 6, size: 4, name: "sparsity") != nil
        shapeSignature = try decoder.optionalInt32s(in: table, slot: 7, name: "shape_signature")?.map(Int.init)
    }

    /// The number of elements the shape holds, computed with checked arithmetic. Throws for a
    /// negative (dynamic) dimension and for more than `Int32.max` elements, which no
    /// microcontroller tensor (nor TFLite's int32 sizes) can have.
    public func elementCount() throws(TFLiteError) -> Int {
        var count = 1
        for dimension in shape {
            guard dimension >= 0 else {
                throw .tensorData(tensor: name, reason: "shape \(shape) has a negative (dynamic) dimension \(dimension)")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow, product <= Int(Int32.max) else {
                throw .tensorData(tensor: name, reason: "shape \(shape) has more than \(Int32.max) elements")
            }
            count = product
        }
        return count
    }
}

/// schema.fbs `table QuantizationParameters`: `real = scale * (q - zero_point)`, per tensor
/// (one scale) or per channel along `quantizedDimension`.
public struct QuantizationParameters: Sendable, Equatable {
    /// Slot 0 `min:[float]`.
    public var min: [Float]
    /// Slot 1 `max:[float]`.
    public var max: [Float]
    /// Slot 2 `scale:[float]`.
    public var scale: [Float]
    /// Slot 3 `zero_point:[long]`.
    public var zeroPoint: [Int64]
    /// Slot 4 `details_type` of the `details:QuantizationDetails` union (slots 4 and 5): 0 for
    /// plain affine quantization; otherwise (1 CustomQuantization, 2 BlockwiseQuantization) the
    /// schema says min, max, scale and zero_point are to be ignored.
    public var detailsType: UInt8
    /// Slot 6 `quantized_dimension:int`, the axis of per-channel parameters.
    public var quantizedDimension: Int

    public init(min: [Float] = [], max: [Float] = [], scale: [Float], zeroPoint: [Int64], detailsType: UInt8 = 0, quantizedDimension: Int = 0) {
        self.min = min
        self.max = max
        self.scale = scale
        self.zeroPoint = zeroPoint
        self.detailsType = detailsType
        self.quantizedDimension = quantizedDimension
    }

    init(_ table: FlatTable, _ decoder: inout ModelDecoder) throws(TFLiteError) {
        min = try decoder.floats(in: table, slot: 0, name: "min")
        max = try decoder.floats(in: table, slot: 1, name: "max")
        scale = try decoder.floats(in: table, slot: 2, name: "scale")
        zeroPoint = try decoder.int64s(in: table, slot: 3, name: "zero_point")
        detailsType = try table.integer(slot: 4, name: "details_type", default: UInt8(0))
        quantizedDimension = Int(try table.integer(slot: 6, name: "quantized_dimension", default: Int32(0)))
    }
}

/// schema.fbs `table Operator`.
public struct Operator: Sendable, Equatable {
    /// Slot 0 `opcode_index:uint`, index into `TFLiteModel.operatorCodes`.
    public var opcodeIndex: Int
    /// Slot 1 `inputs:[int]`, tensor indices; -1 marks an omitted optional input (e.g. no bias).
    public var inputs: [Int]
    /// Slot 2 `outputs:[int]`, tensor indices.
    public var outputs: [Int]
    /// Slots 3 and 4, the `builtin_options:BuiltinOptions` union.
    public var builtinOptions: BuiltinOptions
    /// Slot 11 `builtin_options_2_type`: nonzero for options in the second union
    /// (`BuiltinOptions2`, StableHLO operators), which this reader does not decode.
    public var builtinOptions2Type: UInt8

    public init(opcodeIndex: Int, inputs: [Int], outputs: [Int], builtinOptions: BuiltinOptions = .none, builtinOptions2Type: UInt8 = 0) {
        self.opcodeIndex = opcodeIndex
        self.inputs = inputs
        self.outputs = outputs
        self.builtinOptions = builtinOptions
        self.builtinOptions2Type = builtinOptions2Type
    }

    init(_ table: FlatTable, _ decoder: inout ModelDecoder, _ counts: ModelDecoder.Counts, tensorCount: Int) throws(TFLiteError) {
        let opcode = try table.integer(slot: 0, name: "opcode_index", default: UInt32(0))
        guard Int(opcode) < counts.operatorCodes else {
            throw .invalidValue(path: table.path("opcode_index"), offset: table.offset,
                                reason: "operator code index \(opcode) is out of range (the model has \(counts.operatorCodes) operator codes)")
        }
        opcodeIndex = Int(opcode)
        inputs = try decoder.indices(in: table, slot: 1, name: "inputs", below: tensorCount, what: "tensor", allowingOmitted: true)
        outputs = try decoder.indices(in: table, slot: 2, name: "outputs", below: tensorCount, what: "tensor")
        builtinOptions = try BuiltinOptions(table, &decoder)
        builtinOptions2Type = try table.integer(slot: 11, name: "builtin_options_2_type", default: UInt8(0))
    }
}

// MARK: Options

/// schema.fbs `enum Padding : byte { SAME, VALID }`.
public enum Padding: Int8, Sendable {
    case same = 0, valid = 1
}

/// schema.fbs `enum ActivationFunctionType : byte`, the activation fused into an operator.
public enum ActivationFunction: Int8, Sendable {
    case none = 0, relu = 1, reluN1To1 = 2, relu6 = 3, tanh = 4, signBit = 5
}

/// schema.fbs `enum FullyConnectedOptionsWeightsFormat : byte`.
public enum WeightsFormat: Int8, Sendable {
    case `default` = 0, shuffled4x16Int8 = 1
}

/// schema.fbs `table Conv2DOptions`.
public struct Conv2DOptions: Sendable, Equatable {
    /// Slot 0 `padding`.
    public var padding: Padding
    /// Slots 1 and 2 `stride_w`, `stride_h`.
    public var strideW: Int, strideH: Int
    /// Slot 3 `fused_activation_function`.
    public var activation: ActivationFunction
    /// Slots 4 and 5 `dilation_w_factor = 1`, `dilation_h_factor = 1`.
    public var dilationW: Int, dilationH: Int

    public init(padding: Padding, strideW: Int, strideH: Int, activation: ActivationFunction, dilationW: Int = 1, dilationH: Int = 1) {
        self.padding = padding
        self.strideW = strideW
        self.strideH = strideH
        self.activation = activation
        self.dilationW = dilationW
        self.dilationH = dilationH
    }
}

/// schema.fbs `table DepthwiseConv2DOptions`.
public struct DepthwiseConv2DOptions: Sendable, Equatable {
    /// Slot 0 `padding`.
    public var padding: Padding
    /// Slots 1 and 2 `stride_w`, `stride_h`.
    public var strideW: Int, strideH: Int
    /// Slot 3 `depth_multiplier` (schema.fbs: redundant with the filter's shape since
    /// TensorFlow 2.0; the filter's last dimension is authoritative).
    public var depthMultiplier: Int
    /// Slot 4 `fused_activation_function`.
    public var activation: ActivationFunction
    /// Slots 5 and 6 `dilation_w_factor = 1`, `dilation_h_factor = 1`.
    public var dilationW: Int, dilationH: Int

    public init(padding: Padding, strideW: Int, strideH: Int, depthMultiplier: Int, activation: ActivationFunction,
                dilationW: Int = 1, dilationH: Int = 1) {
        self.padding = padding
        self.strideW = strideW
        self.strideH = strideH
        self.depthMultiplier = depthMultiplier
        self.activation = activation
        self.dilationW = dilationW
        self.dilationH = dilationH
    }
}

/// schema.fbs `table FullyConnectedOptions`.
public struct FullyConnectedOptions: Sendable, Equatable {
    /// Slot 0 `fused_activation_function`.
    public var activation: ActivationFunction
    /// Slot 1 `weights_format = DEFAULT`.
    public var weightsFormat: WeightsFormat
    /// Slot 2 `keep_num_dims:bool`.
    public var keepNumDims: Bool

    public init(activation: ActivationFunction, weightsFormat: WeightsFormat = .default, keepNumDims: Bool = false) {
        self.activation = activation
        self.weightsFormat = weightsFormat
        self.keepNumDims = keepNumDims
    }
}

/// schema.fbs `table Pool2DOptions` (AVERAGE_POOL_2D, MAX_POOL_2D, L2_POOL_2D).
public struct Pool2DOptions: Sendable, Equatable {
    /// Slot 0 `padding`.
    public var padding: Padding
    /// Slots 1 and 2 `stride_w`, `stride_h`.
    public var strideW: Int, strideH: Int
    /// Slots 3 and 4 `filter_width`, `filter_height`.
    public var filterWidth: Int, filterHeight: Int
    /// Slot 5 `fused_activation_function`.
    public var activation: ActivationFunction

    public init(padding: Padding, strideW: Int, strideH: Int, filterWidth: Int, filterHeight: Int, activation: ActivationFunction) {
        self.padding = padding
        self.strideW = strideW
        self.strideH = strideH
        self.filterWidth = filterWidth
        self.filterHeight = filterHeight
        self.activation = activation
    }
}

/// The options union of an operator: schema.fbs `union BuiltinOptions`, decoded for the
/// members an importer of microcontroller networks needs; any other member keeps its union
/// type number (its name: `builtinOptionsName(ofType:)`).
public enum BuiltinOptions: Sendable, Equatable {
    /// Type 0, NONE (operators without options, e.g. QUANTIZE, or new converters' RESHAPE).
    case none
    /// Type 1 `Conv2DOptions`.
    case conv2D(Conv2DOptions)
    /// Type 2 `DepthwiseConv2DOptions`.
    case depthwiseConv2D(DepthwiseConv2DOptions)
    /// Type 5 `Pool2DOptions`.
    case pool2D(Pool2DOptions)
    /// Type 8 `FullyConnectedOptions`.
    case fullyConnected(FullyConnectedOptions)
    /// Type 9 `SoftmaxOptions`: slot 0 `beta:float`.
    case softmax(beta: Float)
    /// Type 10 `ConcatenationOptions`: slot 0 `axis:int`, slot 1 `fused_activation_function`.
    case concatenation(axis: Int, activation: ActivationFunction)
    /// Type 11 `AddOptions`: slot 0 `fused_activation_function`.
    case add(activation: ActivationFunction)
    /// Type 17 `ReshapeOptions`: slot 0 `new_shape:[int]` (nil when absent; new converters
    /// give the shape as the operator's second input instead).
    case reshape(newShape: [Int]?)
    /// Type 21 `MulOptions`: slot 0 `fused_activation_function`.
    case mul(activation: ActivationFunction)
    /// Type 22 `PadOptions` (no fields).
    case pad
    /// Type 27 `ReducerOptions` (MEAN, SUM, REDUCE_MAX...): slot 0 `keep_dims:bool`.
    case reducer(keepDims: Bool)
    /// Type 30 `SqueezeOptions`: slot 0 `squeeze_dims:[int]`.
    case squeeze(dimensions: [Int])
    /// Type 43 `PadV2Options` (no fields).
    case padV2
    /// Any other member of the union, by type number.
    case other(type: UInt8)

    /// The union's type number (schema.fbs `union BuiltinOptions` member index, 0 = NONE).
    public var type: UInt8 {
        switch self {
        case .none: 0
        case .conv2D: 1
        case .depthwiseConv2D: 2
        case .pool2D: 5
        case .fullyConnected: 8
        case .softmax: 9
        case .concatenation: 10
        case .add: 11
        case .reshape: 17
        case .mul: 21
        case .pad: 22
        case .reducer: 27
        case .squeeze: 30
        case .padV2: 43
        case let .other(type): type
        }
    }

    /// The schema name of the union member (`Conv2DOptions`).
    public var name: String { builtinOptionsName(ofType: type) }

    init(_ operatorTable: FlatTable, _ decoder: inout ModelDecoder) throws(TFLiteError) {
        // Operator slots 3 (builtin_options_type) and 4 (builtin_options).
        let (type, table) = try operatorTable.union(typeSlot: 3, name: "builtin_options")
        guard let t = table else { self = .none; return }
        switch type {
        case 1:
            self = .conv2D(Conv2DOptions(
                padding: try t.enumValue(slot: 0, name: "padding", default: .same),
                strideW: Int(try t.integer(slot: 1, name: "stride_w", default: Int32(0))),
                strideH: Int(try t.integer(slot: 2, name: "stride_h", default: Int32(0))),
                activation: try t.enumValue(slot: 3, name: "fused_activation_function", default: .none),
                dilationW: Int(try t.integer(slot: 4, name: "dilation_w_factor", default: Int32(1))),
                dilationH: Int(try t.integer(slot: 5, name: "dilation_h_factor", default: Int32(1)))))
        case 2:
            self = .depthwiseConv2D(DepthwiseConv2DOptions(
                padding: try t.enumValue(slot: 0, name: "padding", default: .same),
                strideW: Int(try t.integer(slot: 1, name: "stride_w", default: Int32(0))),
                strideH: Int(try t.integer(slot: 2, name: "stride_h", default: Int32(0))),
                depthMultiplier: Int(try t.integer(slot: 3, name: "depth_multiplier", default: Int32(0))),
                activation: try t.enumValue(slot: 4, name: "fused_activation_function", default: .none),
                dilationW: Int(try t.integer(slot: 5, name: "dilation_w_factor", default: Int32(1))),
                dilationH: Int(try t.integer(slot: 6, name: "dilation_h_factor", default: Int32(1)))))
        case 5:
            self = .pool2D(Pool2DOptions(
                padding: try t.enumValue(slot: 0, name: "padding", default: .same),
                strideW: Int(try t.integer(slot: 1, name: "stride_w", default: Int32(0))),
                strideH: Int(try t.integer(slot: 2, name: "stride_h", default: Int32(0))),
                filterWidth: Int(try t.integer(slot: 3, name: "filter_width", default: Int32(0))),
                filterHeight: Int(try t.integer(slot: 4, name: "filter_height", default: Int32(0))),
                activation: try t.enumValue(slot: 5, name: "fused_activation_function", default: .none)))
        case 8:
            self = .fullyConnected(FullyConnectedOptions(
                activation: try t.enumValue(slot: 0, name: "fused_activation_function", default: .none),
                weightsFormat: try t.enumValue(slot: 1, name: "weights_format", default: .default),
                keepNumDims: try t.bool(slot: 2, name: "keep_num_dims", default: false)))
        case 9:
            self = .softmax(beta: try t.float(slot: 0, name: "beta", default: 0))
        case 10:
            self = .concatenation(axis: Int(try t.integer(slot: 0, name: "axis", default: Int32(0))),
                                  activation: try t.enumValue(slot: 1, name: "fused_activation_function", default: .none))
        case 11:
            self = .add(activation: try t.enumValue(slot: 0, name: "fused_activation_function", default: .none))
        case 17:
            self = .reshape(newShape: try decoder.optionalInt32s(in: t, slot: 0, name: "new_shape")?.map(Int.init))
        case 21:
            self = .mul(activation: try t.enumValue(slot: 0, name: "fused_activation_function", default: .none))
        case 22:
            self = .pad
        case 27:
            self = .reducer(keepDims: try t.bool(slot: 0, name: "keep_dims", default: false))
        case 30:
            self = .squeeze(dimensions: try decoder.int32s(in: t, slot: 0, name: "squeeze_dims").map(Int.init))
        case 43:
            self = .padV2
        default:
            self = .other(type: type)
        }
    }
}

extension FlatTable {
    /// A byte enum field, `defaultValue` when absent; a value the schema does not define is an error.
    func enumValue<E: RawRepresentable>(slot: Int, name: String, default defaultValue: E) throws(TFLiteError) -> E
    where E.RawValue == Int8 {
        let raw = try integer(slot: slot, name: name, default: defaultValue.rawValue)
        guard let value = E(rawValue: raw) else {
            throw .invalidValue(path: path(name), offset: offset, reason: "\(raw) is not a value of schema.fbs enum \(E.self)")
        }
        return value
    }
}

// MARK: Decoding

/// Reads vectors and vectors of tables while charging what it decodes to a budget of a small
/// multiple of the file size: tables and vectors may be shared by many references, so without
/// it a small hostile file could make the reader build quadratically large arrays.
struct ModelDecoder {
    /// Vector lengths that indices are checked against.
    struct Counts {
        var operatorCodes: Int
        var buffers: Int
    }

    /// Bytes charged for each table decoded (its fields and the Swift value built from them).
    static let bytesPerTable = 64

    let buffer: FlatBuffer
    let budget: Int
    private var spent = 0

    init(buffer: FlatBuffer) {
        self.buffer = buffer
        // A file decodes each of its bytes once; 16x covers the per-table charge of files made
        // almost entirely of small tables, plus 1 MiB for tiny files.
        budget = 16 * buffer.bytes.count + (1 << 20)
    }

    mutating func charge(_ bytes: Int, path: String) throws(TFLiteError) {
        let (total, overflow) = spent.addingReportingOverflow(bytes)
        guard !overflow, total <= budget else {
            throw .decodeBudgetExceeded(path: path, fileSize: buffer.bytes.count, budget: budget)
        }
        spent = total
    }

    /// Decodes the vector of tables in `slot` of `table` with `decode` (empty when absent).
    mutating func tables<T>(in table: FlatTable, slot: Int, name: String,
                            _ decode: (FlatTable, inout ModelDecoder) throws(TFLiteError) -> T) throws(TFLiteError) -> [T] {
        guard let vector = try table.vector(slot: slot, name: name, elementSize: 4) else { return [] }
        let (cost, overflow) = vector.count.multipliedReportingOverflow(by: Self.bytesPerTable)
        try charge(overflow ? Int.max : cost, path: vector.path)
        var result: [T] = []
        result.reserveCapacity(vector.count)
        for index in 0..<vector.count {
            result.append(try decode(try vector.table(at: index), &self))
        }
        return result
    }

    /// A string field (nil when absent), charged like a vector: a shared table with a long
    /// name must not be decodable thousands of times.
    mutating func string(in table: FlatTable, slot: Int, name: String) throws(TFLiteError) -> String? {
        guard let value = try table.string(slot: slot, name: name) else { return nil }
        try charge(value.utf8.count, path: table.path(name))
        return value
    }

    mutating func optionalInt32s(in table: FlatTable, slot: Int, name: String) throws(TFLiteError) -> [Int32]? {
        guard let vector = try table.vector(slot: slot, name: name, elementSize: 4) else { return nil }
        try charge(vector.count * 4, path: vector.path)
        return vector.integers(Int32.self)
    }

    mutating func int32s(in table: FlatTable, slot: Int, name: String) throws(TFLiteError) -> [Int32] {
        try optionalInt32s(in: table, slot: slot, name: name) ?? []
    }

    mutating func int64s(in table: FlatTable, slot: Int, name: String) throws(TFLiteError) -> [Int64] {
        guard let vector = try table.vector(slot: slot, name: name, elementSize: 8) else { return [] }
        try charge(vector.count * 8, path: vector.path)
        return vector.integers(Int64.self)
    }

    mutating func floats(in table: FlatTable, slot: Int, name: String) throws(TFLiteError) -> [Float] {
        guard let vector = try table.vector(slot: slot, name: name, elementSize: 4) else { return [] }
        try charge(vector.count * 4, path: vector.path)
        return vector.floats()
    }

    /// A vector of tensor indices, each checked to be below `limit` (or -1 where an optional
    /// input may be omitted).
    mutating func indices(in table: FlatTable, slot: Int, name: String, below limit: Int, what: String,
                          allowingOmitted: Bool = false) throws(TFLiteError) -> [Int] {
        let values = try int32s(in: table, slot: slot, name: name)
        var result: [Int] = []
        result.reserveCapacity(values.count)
        for (position, value) in values.enumerated() {
            guard (value >= 0 && Int(value) < limit) || (allowingOmitted && value == -1) else {
                throw .invalidValue(path: "\(table.path(name))[\(position)]", offset: table.offset,
                                    reason: "\(what) index \(value) is out of range (the subgraph has \(limit) \(what)s)")
            }
            result.append(Int(value))
        }
        return result
    }
}
