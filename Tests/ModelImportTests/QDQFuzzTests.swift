import Foundation
import ONNXSchema
import Quantization
import Testing
@testable import ModelImport

/// Malformed QDQ files (onnxruntime's exports, damaged on purpose): each gives one error line
/// naming the node or tensor, never a trap. Seeded, so a failure reproduces.
@Suite struct QDQFuzzTests {
    static func model(_ name: String) throws -> Onnx_ModelProto {
        try Onnx_ModelProto(serializedBytes: Data(contentsOf: QDQImportTests.directory.appendingPathComponent("\(name).onnx")))
    }

    /// The import's error message, or "accepted".
    static func outcome(_ model: Onnx_ModelProto) -> String {
        do {
            let imported = try ONNXImporter.load(data: try model.serializedData(), path: "x.onnx", name: "x")
            try ONNXFuzzTests.exercise(imported)
            return "accepted"
        } catch {
            return String(describing: error)
        }
    }

    static func expectOneLine(_ message: String, containing part: String) {
        #expect(message.contains(part), "\(message)")
        #expect(!message.contains("\n") && !message.isEmpty)
    }

    /// The first DequantizeLinear of a constant weight with per-axis scales, by node index.
    static func perAxisWeight(_ model: Onnx_ModelProto) throws -> Int {
        let constants = Set(model.graph.initializer.map(\.name))
        return try #require(model.graph.node.firstIndex { node in
            node.opType == "DequantizeLinear" && constants.contains(node.input[0])
                && node.attribute.contains { $0.name == "axis" }
        })
    }

    @Test func aMissingScaleIsRefused() throws {
        var model = try Self.model("small_cnn_qdq_s8s8_per_channel")
        let index = try Self.perAxisWeight(model)
        model.graph.node[index].input = [model.graph.node[index].input[0]]
        Self.expectOneLine(Self.outcome(model), containing: "it has no scale input")
        // A scale named but not in the file.
        var named = try Self.model("small_cnn_qdq_s8s8_per_channel")
        named.graph.node[index].input[1] = "nowhere"
        Self.expectOneLine(Self.outcome(named), containing: "must be a constant initializer")
    }

    @Test func aScaleWithNoElementIsRefused() throws {
        var model = try Self.model("small_cnn_qdq_u8s8_per_tensor")
        let quantize = try #require(model.graph.node.first { $0.opType == "QuantizeLinear" })
        let scale = try #require(model.graph.initializer.firstIndex { $0.name == quantize.input[1] })
        model.graph.initializer[scale].dims = [0]
        model.graph.initializer[scale].floatData = []
        model.graph.initializer[scale].rawData = Data()
        Self.expectOneLine(Self.outcome(model), containing: "holds no value")
    }

    @Test func aScaleAlongTheWrongAxisIsRefused() throws {
        var model = try Self.model("small_cnn_qdq_s8s8_per_channel")
        let index = try Self.perAxisWeight(model)
        for axis in [1, 7, -9] {
            var damaged = model
            damaged.graph.node[index].attribute = [{
                var attribute = Onnx_AttributeProto()
                attribute.name = "axis"
                attribute.type = .int
                attribute.i = Int64(axis)
                return attribute
            }()]
            Self.expectOneLine(Self.outcome(damaged), containing: "axis \(axis) does not match")
        }
        model.graph.node[index].attribute = []  // ONNX's default axis 1
        Self.expectOneLine(Self.outcome(model), containing: "axis 1 does not match")
    }

    @Test func int4DataTooShortIsRefused() throws {
        var model = try Self.model("small_cnn_qdq_int4w_per_channel")
        let index = try #require(model.graph.initializer.firstIndex {
            $0.dataType == Int32(Onnx_TensorProto.DataType.int4.rawValue) && !$0.rawData.isEmpty
        })
        model.graph.initializer[index].rawData = model.graph.initializer[index].rawData.dropLast(1)
        Self.expectOneLine(Self.outcome(model), containing: "bytes of packed 4-bit values")
    }

    /// ONNX INT4 and UINT4: two values a byte, the first in the low nibble (onnx.proto), worked by hand.
    @Test func fourBitValuesUnpackLowNibbleFirst() throws {
        // 0x8F: low nibble 15 (int4 -1), high nibble 8 (int4 -8); 0x07: 7, then the unused high nibble.
        #expect(try ONNXTensor.unpackFourBit([0x8F, 0x07], signed: true, count: 3, name: "w") == [-1, -8, 7])
        #expect(try ONNXTensor.unpackFourBit([0x8F, 0x07], signed: false, count: 4, name: "w") == [15, 8, 7, 0])
    }

    /// Random byte damage to the int4 and QOperator files: an import or one error line, never a trap.
    @Test(arguments: ["small_cnn_qdq_int4w_per_channel", "small_cnn_qoperator_u8s8_per_channel"])
    func mutatedFilesNeverTrap(file: String) throws {
        let original = [UInt8](try Data(contentsOf: QDQImportTests.directory.appendingPathComponent("\(file).onnx")))
        var random = SeededRandom(seed: 0x0_D0_D0)
        for round in 0..<150 {
            var bytes = original
            for _ in 0..<(1 + round % 6) {
                let position = Int(random.unit() * Double(bytes.count)) % bytes.count
                bytes[position] = round % 2 == 0 ? UInt8(truncatingIfNeeded: Int(random.unit() * 256)) : bytes[position] ^ 0x80
            }
            do {
                let imported = try ONNXImporter.load(data: Data(bytes), path: "fuzzed.onnx", name: "fuzzed")
                guard imported.network.multiplyAccumulates < 5_000_000 else { continue }
                try ONNXFuzzTests.exercise(imported)
            } catch {
                #expect(!"\(error)".isEmpty && !"\(error)".contains("\n"))
            }
        }
    }
}
