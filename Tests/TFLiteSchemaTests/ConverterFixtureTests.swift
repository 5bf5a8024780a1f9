import Foundation
import Testing
import TFLiteSchema

/// Files made by TensorFlow's converter (Fixtures/make_reader_fixtures.py, TensorFlow 2.21.0),
/// decoded by MixQ and compared with what LiteRT's interpreter and TensorFlow's generated
/// FlatBuffers reader said about them (the JSON files beside them).
///
/// Other converter-made files can be checked the same way by hand: write their JSON with
/// `make_reader_fixtures.py DIR/*.tflite`, then run these tests with
/// `MIXQ_TFLITE_READER_FIXTURES=DIR` (every `DIR/X.tflite` with a `DIR/X.json` is added).
@Suite struct ConverterFixtureTests {
    /// The committed fixtures, by name in Fixtures/.
    static let committed = ["reader_convnet", "reader_residual"]

    /// The committed fixtures, then any files from MIXQ_TFLITE_READER_FIXTURES (paths).
    static let fixtures: [String] = {
        var names = committed
        if let folder = ProcessInfo.processInfo.environment["MIXQ_TFLITE_READER_FIXTURES"],
           let files = try? FileManager.default.contentsOfDirectory(atPath: folder) {
            for file in files.sorted() where file.hasSuffix(".tflite") {
                let path = folder + "/" + file
                if FileManager.default.fileExists(atPath: String(path.dropLast(".tflite".count)) + ".json") {
                    names.append(String(path.dropLast(".tflite".count)))
                }
            }
        }
        return names
    }()

    /// A committed fixture by name, or another file by path without its extension.
    static func load(_ name: String) throws -> (model: TFLiteModel, bytes: [UInt8], expected: [String: Any]) {
        let base = name.hasPrefix("/")
            ? URL(fileURLWithPath: name)
            : try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil)).appendingPathComponent(name)
        let bytes = [UInt8](try Data(contentsOf: base.appendingPathExtension("tflite")))
        let json = try Data(contentsOf: base.appendingPathExtension("json"))
        let expected = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        return (try TFLiteModel(bytes: bytes), bytes, expected)
    }

    static func number(_ value: Any?) -> Double? { (value as? NSNumber)?.doubleValue }
    static func numbers(_ value: Any?) -> [Double] { (value as? [Any])?.compactMap(number) ?? [] }
    static func ints(_ value: Any?) -> [Int] { numbers(value).map { Int($0) } }

    static let types: [String: TensorType] = ["int8": .int8, "uint8": .uint8, "int16": .int16, "int32": .int32,
                                              "int64": .int64, "float32": .float32]

    @Test(arguments: fixtures) func tensorsMatchLiteRT(_ name: String) throws {
        let (model, bytes, expected) = try Self.load(name)
        #expect(Self.number(expected["bytes"]) == Double(bytes.count))
        #expect(TFLiteModel.looksLikeTFLite(bytes))
        let subgraph = model.mainSubgraph
        let tensors = try #require(expected["tensors"] as? [[String: Any]])
        #expect(tensors.count == subgraph.tensors.count)
        var constants = 0
        for entry in tensors {
            let index = try #require(Self.number(entry["index"])).int
            try #require(subgraph.tensors.indices.contains(index))
            let tensor = subgraph.tensors[index]
            #expect(tensor.name == entry["name"] as? String)
            #expect(tensor.shape == Self.ints(entry["shape"]), "\(tensor.name)")
            #expect((tensor.shapeSignature ?? tensor.shape) == Self.ints(entry["shape_signature"]), "\(tensor.name)")
            #expect(tensor.type == Self.types[entry["type"] as? String ?? ""], "\(tensor.name)")
            let scales = (tensor.quantization?.scale ?? []).map { Double($0) }
            #expect(scales == Self.numbers(entry["scales"]).map { Double(Float($0)) }, "\(tensor.name)")
            #expect((tensor.quantization?.zeroPoint ?? []).map(Int.init) == Self.ints(entry["zero_points"]), "\(tensor.name)")
            #expect((tensor.quantization?.quantizedDimension ?? 0) == Self.number(entry["quantized_dimension"]).map { Int($0) })
            if entry["values"] != nil {
                constants += 1
                let values: [Double] = switch tensor.type {
                case .int8: try model.int8Values(of: tensor).map { Double($0) }
                case .int32: try model.int32Values(of: tensor).map { Double($0) }
                case .uint8: try model.uint8Values(of: tensor).map { Double($0) }
                case .float32: try model.float32Values(of: tensor).map { Double($0) }
                default: []
                }
                #expect(values == Self.numbers(entry["values"]), "\(tensor.name)")
            }
        }
        if Self.committed.contains(name) { #expect(constants >= 4) }
    }

    @Test(arguments: fixtures) func operatorsMatchLiteRT(_ name: String) throws {
        let (model, _, expected) = try Self.load(name)
        let subgraph = model.mainSubgraph
        let ops = try #require(expected["ops"] as? [[String: Any]])
        #expect(ops.count == subgraph.operators.count)
        for entry in ops {
            let index = try #require(Self.number(entry["index"])).int
            try #require(subgraph.operators.indices.contains(index))
            let op = subgraph.operators[index]
            #expect(model.operatorCodes[op.opcodeIndex].name == entry["op_name"] as? String)
            #expect(op.inputs == Self.ints(entry["inputs"]))
            #expect(op.outputs == Self.ints(entry["outputs"]))
        }
    }

    @Test(arguments: fixtures) func tablesMatchTensorFlowsFlatBufferReader(_ name: String) throws {
        let (model, _, expected) = try Self.load(name)
        let flat = try #require(expected["flatbuffer"] as? [String: Any])
        #expect(Self.number(flat["version"]) == Double(model.version))
        #expect(Self.number(flat["subgraph_count"]) == Double(model.subgraphs.count))
        #expect(model.description == flat["description"] as? String)
        #expect(model.mainSubgraph.inputs == Self.ints(flat["subgraph_inputs"]))
        #expect(model.mainSubgraph.outputs == Self.ints(flat["subgraph_outputs"]))
        #expect(model.mainSubgraph.tensors.map(\.buffer) == Self.ints(flat["tensor_buffers"]))

        let codes = try #require(flat["operator_codes"] as? [[String: Any]])
        #expect(codes.count == model.operatorCodes.count)
        for (code, entry) in zip(model.operatorCodes, codes) {
            #expect(Double(code.deprecatedBuiltinCode) == Self.number(entry["deprecated_builtin_code"]))
            #expect(Double(code.builtinCode) == Self.number(entry["builtin_code"]))
            #expect(Double(code.version) == Self.number(entry["version"]))
        }
        let buffers = try #require(flat["buffers"] as? [[String: Any]])
        #expect(buffers.count == model.buffers.count)
        for (buffer, entry) in zip(model.buffers, buffers) {
            #expect(Double(buffer.range.count) == Self.number(entry["data_length"]))
            #expect(!buffer.isExternal)
        }

        let operators = try #require(flat["operators"] as? [[String: Any]])
        #expect(operators.count == model.mainSubgraph.operators.count)
        for (op, entry) in zip(model.mainSubgraph.operators, operators) {
            #expect(Double(op.opcodeIndex) == Self.number(entry["opcode_index"]))
            let options = try #require(entry["options"] as? [String: Any])
            #expect(Double(op.builtinOptions.type) == Self.number(options["type"]))
            #expect(op.builtinOptions.name == options["name"] as? String)
            var fields = options
            fields["type"] = nil
            fields["name"] = nil
            if let shape = fields.removeValue(forKey: "NewShapeAsNumpy") {
                #expect(op.builtinOptions == .reshape(newShape: Self.ints(shape)))
            }
            let mine = Self.fields(of: op.builtinOptions)
            #expect(Set(mine.keys) == Set(fields.keys), "\(op.builtinOptions.name)")
            for (key, value) in fields {
                #expect(mine[key] == Self.number(value), "\(op.builtinOptions.name).\(key)")
            }
        }
    }

    @Test func fixturesCoverTheMicrocontrollerOps() throws {
        var names: Set<String> = []
        for name in Self.fixtures {
            let model = try Self.load(name).model
            for op in model.mainSubgraph.operators { names.insert(model.operatorCodes[op.opcodeIndex].name) }
        }
        #expect(names.isSuperset(of: ["CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "AVERAGE_POOL_2D", "FULLY_CONNECTED",
                                      "SOFTMAX", "RESHAPE", "PAD", "ADD", "MUL", "CONCATENATION", "MEAN"]), "\(names.sorted())")
    }

    /// The decoded options as the field names of TensorFlow's generated Python reader.
    static func fields(of options: BuiltinOptions) -> [String: Double] {
        func d(_ value: some BinaryInteger) -> Double { Double(value) }
        func b(_ value: Bool) -> Double { value ? 1 : 0 }
        switch options {
        case let .conv2D(o):
            return ["Padding": d(o.padding.rawValue), "StrideW": d(o.strideW), "StrideH": d(o.strideH),
                    "FusedActivationFunction": d(o.activation.rawValue), "DilationWFactor": d(o.dilationW), "DilationHFactor": d(o.dilationH)]
        case let .depthwiseConv2D(o):
            return ["Padding": d(o.padding.rawValue), "StrideW": d(o.strideW), "StrideH": d(o.strideH), "DepthMultiplier": d(o.depthMultiplier),
                    "FusedActivationFunction": d(o.activation.rawValue), "DilationWFactor": d(o.dilationW), "DilationHFactor": d(o.dilationH)]
        case let .pool2D(o):
            return ["Padding": d(o.padding.rawValue), "StrideW": d(o.strideW), "StrideH": d(o.strideH), "FilterWidth": d(o.filterWidth),
                    "FilterHeight": d(o.filterHeight), "FusedActivationFunction": d(o.activation.rawValue)]
        case let .fullyConnected(o):
            return ["FusedActivationFunction": d(o.activation.rawValue), "WeightsFormat": d(o.weightsFormat.rawValue),
                    "KeepNumDims": b(o.keepNumDims)]
        case let .softmax(beta): return ["Beta": Double(beta)]
        case let .concatenation(axis, activation): return ["Axis": d(axis), "FusedActivationFunction": d(activation.rawValue)]
        case let .add(activation), let .mul(activation): return ["FusedActivationFunction": d(activation.rawValue)]
        case let .reducer(keepDims): return ["KeepDims": b(keepDims)]
        case .none, .pad, .padV2, .reshape, .squeeze, .other: return [:]
        }
    }
}

private extension Double {
    var int: Int { Int(self) }
}
