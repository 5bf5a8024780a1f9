import Testing
@testable import TFLiteSchema

/// Decoding of models built field by field (FlatBufferBuilder): every decoded value is the one
/// written.
@Suite struct TFLiteModelTests {
    let model: TFLiteModel

    init() throws {
        model = try TFLiteModel(bytes: SampleModel.bytesWithExternalData)
    }

    @Test func modelFields() {
        #expect(model.version == 3)
        #expect(model.description == "MixQ sample")
        #expect(model.subgraphs.count == 1)
        #expect(model.buffers.count == 7)
        #expect(model.buffers[0].range.isEmpty)
        #expect(model.mainSubgraph.name == "main")
        #expect(model.mainSubgraph.inputs == [0])
        #expect(model.mainSubgraph.outputs == [6])
    }

    @Test func operatorCodesResolveOldAndNewConverters() {
        let codes = model.operatorCodes
        #expect(codes[0].code == 3 && codes[0].builtinOperator == .conv2D && codes[0].version == 3)
        // Old converter: deprecated_builtin_code only, builtin_code reads as 0, version as written.
        #expect(codes[1].deprecatedBuiltinCode == 4 && codes[1].builtinCode == 0)
        #expect(codes[1].builtinOperator == .depthwiseConv2D && codes[1].version == 2)
        // New field only; version absent -> schema default 1.
        #expect(codes[2].builtinOperator == .fullyConnected && codes[2].version == 1)
        // Codes above 127: the byte holds PLACEHOLDER_FOR_GREATER_OP_CODES.
        #expect(codes[3].deprecatedBuiltinCode == 127 && codes[3].code == 150 && codes[3].builtinOperator == .gelu)
        #expect(codes[3].name == "GELU")
        #expect(codes[4].builtinOperator == .custom && codes[4].customCode == "MyOp")
        #expect(codes[4].name == "CUSTOM 'MyOp'")
        #expect(codes.map(\.name).suffix(11) == ["MAX_POOL_2D", "SOFTMAX", "CONCATENATION", "ADD", "RESHAPE", "MUL", "PAD",
                                                 "MEAN", "SQUEEZE", "PADV2", "CAST"])
    }

    @Test func tensorsAndQuantization() throws {
        let tensors = model.mainSubgraph.tensors
        #expect(tensors.count == 8)
        let input = tensors[0]
        #expect(input.name == "input" && input.shape == [1, 4, 4, 2] && input.type == .int8 && input.buffer == 0)
        #expect(input.shapeSignature == [-1, 4, 4, 2])
        #expect(!input.isVariable && !input.isSparse)
        #expect(input.quantization == QuantizationParameters(min: [-62.5], max: [65.0], scale: [0.5], zeroPoint: [-3]))
        let weights = tensors[1]
        #expect(weights.quantization?.scale == [0.125, 0.0625])
        #expect(weights.quantization?.zeroPoint == [0, 0])
        #expect(weights.quantization?.quantizedDimension == 0)
        #expect(weights.shapeSignature == nil)
        #expect(tensors[2].quantization == nil)
        #expect(tensors.map(\.type) == [.int8, .int8, .int32, .float32, .int64, .uint8, .int8, .int8])
        #expect(tensors[6].isVariable)
        #expect(try tensors[0].elementCount() == 32)
    }

    @Test func constantDataAccessors() throws {
        let t = model.mainSubgraph.tensors
        #expect(try model.int8Values(of: t[1]) == SampleModel.weights)
        #expect(try model.int32Values(of: t[2]) == SampleModel.bias)
        #expect(try model.float32Values(of: t[3]) == SampleModel.floats)
        #expect(try model.int64Values(of: t[4]) == SampleModel.longs)
        #expect(try model.uint8Values(of: t[5]) == SampleModel.bytes)
        #expect(model.constantBytes(of: t[0]) == nil)
        // Wrong type, no data.
        #expect(throws: TFLiteError.self) { try model.int32Values(of: t[1]) }
        #expect(throws: TFLiteError.self) { try model.int8Values(of: t[0]) }
    }

    @Test func externalBufferOffsetAndSize() throws {
        let buffer = model.buffers[6]
        #expect(buffer.isExternal)
        #expect(buffer.range.lowerBound % 16 == 0)
        #expect(try model.int8Values(of: model.mainSubgraph.tensors[7]) == SampleModel.externalData.map { Int8(bitPattern: $0) })
        // The same model without the appended bytes: offset/size point past the end.
        let cut = Array(SampleModel.bytesWithExternalData.prefix(buffer.range.lowerBound))
        #expect(throws: TFLiteError.self) { try TFLiteModel(bytes: cut) }
    }

    @Test func operatorsAndOptions() {
        let ops = model.mainSubgraph.operators
        #expect(ops.map(\.opcodeIndex) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 9])
        #expect(ops[0].inputs == [0, 1, 2] && ops[0].outputs == [6])
        #expect(ops[1].inputs == [0, 1, -1])
        #expect(ops[0].builtinOptions == .conv2D(Conv2DOptions(padding: .valid, strideW: 2, strideH: 3, activation: .relu6,
                                                                dilationW: 2, dilationH: 4)))
        // Dilations absent -> schema defaults 1.
        #expect(ops[1].builtinOptions == .depthwiseConv2D(DepthwiseConv2DOptions(padding: .same, strideW: 1, strideH: 2,
                                                                                 depthMultiplier: 8, activation: .relu,
                                                                                 dilationW: 1, dilationH: 1)))
        #expect(ops[2].builtinOptions == .fullyConnected(FullyConnectedOptions(activation: .relu, weightsFormat: .shuffled4x16Int8,
                                                                               keepNumDims: true)))
        #expect(ops[3].builtinOptions == .none)
        #expect(ops[5].builtinOptions == .pool2D(Pool2DOptions(padding: .valid, strideW: 2, strideH: 2, filterWidth: 3, filterHeight: 2,
                                                               activation: .reluN1To1)))
        #expect(ops[6].builtinOptions == .softmax(beta: 0.75))
        #expect(ops[7].builtinOptions == .concatenation(axis: -1, activation: .relu))
        #expect(ops[8].builtinOptions == .add(activation: .relu6))
        #expect(ops[9].builtinOptions == .reshape(newShape: [1, -1, 2]))
        #expect(ops[10].builtinOptions == .mul(activation: .tanh))
        #expect(ops[11].builtinOptions == .pad)
        #expect(ops[12].builtinOptions == .reducer(keepDims: true))
        #expect(ops[13].builtinOptions == .squeeze(dimensions: [1, 2]))
        #expect(ops[14].builtinOptions == .padV2)
        #expect(ops[15].builtinOptions == .other(type: 37))
        #expect(ops[15].builtinOptions.name == "CastOptions")
        #expect(ops[16].builtinOptions == .none)
        #expect(ops.map(\.builtinOptions.type) == [1, 2, 8, 0, 0, 5, 9, 10, 11, 17, 21, 22, 27, 30, 43, 37, 0])
        #expect(ops[0].builtinOptions.name == "Conv2DOptions")
    }

    @Test func absentOptionFieldsReadAsSchemaDefaults() throws {
        let bytes = FlatBufferBuilder.build(Schema.model(
            codes: [Schema.opcode(builtin: nil, deprecated: nil)],
            subgraphs: [Schema.subgraph(tensors: [FBTable()], inputs: [], outputs: [],
                                        operators: [Schema.op(0, [], [], options: (1, FBTable())),
                                                    Schema.op(0, [], [], options: (8, FBTable())),
                                                    Schema.op(0, [], [], options: (9, FBTable())),
                                                    Schema.op(0, [], [], options: (17, FBTable())),
                                                    Schema.op(0, [], [], options: (30, FBTable()))])],
            buffers: []))
        let model = try TFLiteModel(bytes: bytes)
        #expect(model.operatorCodes[0].builtinOperator == .add && model.operatorCodes[0].version == 1)
        let tensor = model.mainSubgraph.tensors[0]
        #expect(tensor == Tensor(shape: [], type: .float32))
        #expect(try tensor.elementCount() == 1)
        #expect(model.description == nil && model.mainSubgraph.name == nil)
        let ops = model.mainSubgraph.operators
        #expect(ops[0].builtinOptions == .conv2D(Conv2DOptions(padding: .same, strideW: 0, strideH: 0, activation: .none)))
        #expect(ops[1].builtinOptions == .fullyConnected(FullyConnectedOptions(activation: .none)))
        #expect(ops[2].builtinOptions == .softmax(beta: 0))
        #expect(ops[3].builtinOptions == .reshape(newShape: nil))
        #expect(ops[4].builtinOptions == .squeeze(dimensions: []))
    }

    @Test func formatDetectionByContent() throws {
        #expect(TFLiteModel.looksLikeTFLite(SampleModel.bytesWithExternalData))
        // An ONNX ModelProto starts with field 1 (ir_version) as a varint: 0x08 0x07 ...
        let onnx: [UInt8] = [0x08, 0x07, 0x12, 0x07] + Array("pytorch".utf8) + [0x1A, 0x03, 0x32, 0x2E, 0x31]
        #expect(!TFLiteModel.looksLikeTFLite(onnx))
        #expect(!TFLiteModel.looksLikeTFLite([UInt8]("TFL3".utf8)))
        #expect(throws: TFLiteError.notTFLite(identifier: Array(onnx[4..<8]), looksLikeONNX: true)) { try TFLiteModel(bytes: onnx) }
        #expect(throws: TFLiteError.tooSmall(bytes: 4)) { try TFLiteModel(bytes: [1, 2, 3, 4]) }
        let message = String(describing: TFLiteError.notTFLite(identifier: Array(onnx[4..<8]), looksLikeONNX: true))
        #expect(message.contains("ONNX") && message.contains("TFL3"))
        // Same bytes, other identifier.
        var other = SampleModel.bytesWithExternalData
        other[4] = UInt8(ascii: "X")
        #expect(throws: TFLiteError.self) { try TFLiteModel(bytes: other) }
    }

    @Test func builtinOperatorNamesFollowTheSchema() {
        let required: [(BuiltinOperator, Int32, String)] = [
            (.add, 0, "ADD"), (.averagePool2D, 1, "AVERAGE_POOL_2D"), (.concatenation, 2, "CONCATENATION"),
            (.conv2D, 3, "CONV_2D"), (.depthwiseConv2D, 4, "DEPTHWISE_CONV_2D"), (.dequantize, 6, "DEQUANTIZE"),
            (.fullyConnected, 9, "FULLY_CONNECTED"), (.logistic, 14, "LOGISTIC"), (.maxPool2D, 17, "MAX_POOL_2D"),
            (.mul, 18, "MUL"), (.relu, 19, "RELU"), (.relu6, 21, "RELU6"), (.reshape, 22, "RESHAPE"), (.softmax, 25, "SOFTMAX"),
            (.pad, 34, "PAD"), (.mean, 40, "MEAN"), (.squeeze, 43, "SQUEEZE"), (.padV2, 60, "PADV2"), (.quantize, 114, "QUANTIZE"),
            (.gelu, 150, "GELU"), (.stablehloCase, 209, "STABLEHLO_CASE"),
        ]
        for (op, code, name) in required {
            #expect(op.rawValue == code && op.schemaName == name && BuiltinOperator.schemaName(ofCode: code) == name)
        }
        #expect(BuiltinOperator.allCases.count == 210)
        #expect(BuiltinOperator.allCases.map(\.rawValue) == Array(0..<210))
        #expect(BuiltinOperator.schemaName(ofCode: 210) == "unknown builtin operator 210")
        #expect(BuiltinOperator.schemaName(ofCode: -5) == "unknown builtin operator -5")
        #expect(TensorType.allCases.map(\.rawValue) == Array(0...22))
        #expect(TensorType.int8.description == "INT8" && TensorType.float8E5M2.description == "FLOAT8_E5M2")
        #expect(builtinOptionsName(ofType: 0) == "NONE")
        #expect(builtinOptionsName(ofType: 5) == "Pool2DOptions")
        #expect(builtinOptionsName(ofType: 126) == "RightShiftOptions")
        #expect(builtinOptionsName(ofType: 200) == "unknown options type 200")
    }

    @Test func elementCountIsChecked() throws {
        let huge = Tensor(shape: [Int(Int32.max), Int(Int32.max)], type: .int8, name: "huge")
        #expect(throws: TFLiteError.self) { try huge.elementCount() }
        let overflow = Tensor(shape: Array(repeating: Int(Int32.max), count: 5), type: .int8, name: "overflow")
        #expect(throws: TFLiteError.self) { try overflow.elementCount() }
        let dynamic = Tensor(shape: [-1, 4], type: .int8, name: "dynamic")
        #expect(throws: TFLiteError.self) { try dynamic.elementCount() }
        #expect(try Tensor(shape: [Int(Int32.max)], type: .int8).elementCount() == Int(Int32.max))
        #expect(try Tensor(shape: [3, 0, 5], type: .int8).elementCount() == 0)
    }
}
