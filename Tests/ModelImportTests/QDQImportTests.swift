import Deployment
import Evaluation
import FirmwareBuild
import Foundation
import Planning
import Quantization
import Testing
@testable import ModelImport

/// ONNX files quantized by onnxruntime's `quantize_static` (QDQ and QOperator, int8 and int4
/// weights) and by `tf2onnx --tflite`, imported with no manual step (Fixtures/onnx-exports,
/// made by make_onnx_exports.py). QDQ's semantics are float (dequantize, compute, quantize), so
/// MixQ's integer-only result is compared with onnxruntime's by top class, not bit for bit.
@Suite(.serialized) struct QDQImportTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/onnx-exports")

    /// One fixture: its file, its inputs, onnxruntime's outputs (default session options).
    struct Fixture: CustomStringConvertible, Sendable {
        var name: String
        var inputs: String
        /// The weight bits each layer must keep (the file's).
        var weightBits: [Int]
        var description: String { name }
    }

    static let fixtures = [
        Fixture(name: "small_cnn_qdq_u8s8_per_tensor", inputs: "small_cnn.inputs.npy", weightBits: [8, 8, 8, 8, 8]),
        Fixture(name: "small_cnn_qdq_s8s8_per_channel", inputs: "small_cnn.inputs.npy", weightBits: [8, 8, 8, 8, 8]),
        Fixture(name: "small_cnn_qdq_int4w_per_channel", inputs: "small_cnn.inputs.npy", weightBits: [8, 4, 4, 4, 8]),
        Fixture(name: "small_cnn_qoperator_u8s8_per_channel", inputs: "small_cnn.inputs.npy", weightBits: [8, 8, 8, 8, 8]),
        Fixture(name: "mobilenet_v1_025_96_int8_from_tflite", inputs: "../tflite/mobilenet_v1_025_96_int8.inputs.npy",
                weightBits: [Int](repeating: 8, count: 28)),
    ]

    static func imported(_ fixture: Fixture) throws -> ImportedModel {
        try ONNXImporter.load(contentsOf: directory.appendingPathComponent("\(fixture.name).onnx"))
    }

    /// The network quantized as the file says (its natural scheme, budgets far above its size).
    static func quantized(_ imported: ImportedModel) throws -> QuantizedNetwork {
        let reference = imported.model.quantization?.naturalScheme ?? .mixpc
        let plan = try Deployer.plan(imported.network, model: imported.model, budget: MemoryBudget(flash: 1 << 30, ram: 1 << 30),
                                     scheme: reference, flavour: nil)
        return try QuantizedNetwork.quantize(imported.model, plan: plan)
    }

    /// The input codes of one sample: int8 data as `q + 128`; float data quantized as the file's
    /// QuantizeLinear does it (round half to even, saturate), which the imported input states.
    static func pixels(_ array: NumPyArray, sample: Int, input: TensorQuantization) -> [UInt8] {
        let per = array.count / array.shape[0]
        let range = (sample * per)..<((sample + 1) * per)
        if array.isOneByte { return array.signedByteCodes(in: range) }
        return array.floats(in: range).map { x in
            let code = (Double(x) / input.scale).rounded(.toNearestOrEven) + Double(input.zeroPoint)
            return UInt8(min(max(code, 0), Double(input.bits.maxUnsigned)))
        }
    }

    static func argmax(_ values: [Double]) -> Int {
        values.indices.max { values[$0] < values[$1] || (values[$0] == values[$1] && $0 > $1) } ?? -1
    }

    /// How MixQ's integer-only outputs compare with onnxruntime's on every stored input.
    struct Agreement {
        var agreeing = 0
        var samples = 0
        /// The largest difference in output steps (the file's output quantization).
        var maximumSteps = 0
    }

    static func agreement(_ fixture: Fixture) throws -> Agreement {
        let imported = try imported(fixture)
        let network = try quantized(imported)
        let inputs = try NumPyArray(contentsOf: directory.appendingPathComponent(fixture.inputs))
        let outputs = try NumPyArray(contentsOf: directory.appendingPathComponent("\(fixture.name).outputs.npy"))
        let per = outputs.count / outputs.shape[0]
        var result = Agreement()
        for sample in 0..<outputs.shape[0] {
            let codes = try HostReference.run(network, pixels: pixels(inputs, sample: sample, input: network.input)).last ?? []
            let logits = codes.map { network.logits.real($0) }
            let range = (sample * per)..<((sample + 1) * per)
            let steps: [Int]
            let reference: [Double]
            if outputs.isOneByte {
                // The int8 softmax output (tf2onnx --tflite, scale 1/256, zero point -128): MixQ's
                // logits through softmax, quantized the same way.
                reference = outputs.signedByteCodes(in: range).map(Double.init)
                let exponentials = logits.map { exp($0 - (logits.max() ?? 0)) }
                let total = exponentials.reduce(0, +)
                let mixq = exponentials.map { min(max(($0 / total * 256).rounded(.toNearestOrEven), 0), 255) }
                steps = zip(mixq, reference).map { Int(abs($0 - $1)) }
            } else {
                // Float logits that onnxruntime dequantized from the file's output codes.
                reference = outputs.floats(in: range).map(Double.init)
                steps = zip(logits, reference).map { Int((abs($0 - $1) / network.logits.scale).rounded()) }
            }
            result.samples += 1
            if argmax(logits) == argmax(reference) { result.agreeing += 1 }
            result.maximumSteps = max(result.maximumSteps, steps.max() ?? 0)
        }
        return result
    }

    @Test(arguments: fixtures)
    func importsWithTheFilesBitsAndAgreesWithOnnxruntime(fixture: Fixture) throws {
        let imported = try Self.imported(fixture)
        #expect(imported.format == "ONNX QDQ")
        #expect(imported.summary.contains("agrees with onnxruntime's by top class"), "plan says it is an agreement comparison")
        let reference = try ModelReference(Self.directory.appendingPathComponent("\(fixture.name).onnx").path)
        #expect(reference.source?.contains("agrees with onnxruntime's by top class") == true, "so do deploy's and eval's weights line")
        #expect(imported.folded.contains { $0.contains("QuantizeLinear/DequantizeLinear pair") })
        let trained = try #require(imported.model.quantization)
        #expect(trained.layers.map(\.weightBits.bits) == fixture.weightBits)
        let plan = try Deployer.plan(imported.network, model: imported.model, budget: MemoryBudget(flash: 1 << 30, ram: 1 << 30),
                                     scheme: trained.naturalScheme, flavour: nil)
        #expect(plan.layers.map(\.weightBits.bits) == fixture.weightBits, "the plan shows the file's bits")
        let agreement = try Self.agreement(fixture)
        print("\(fixture.name): top class agrees with onnxruntime on \(agreement.agreeing)/\(agreement.samples), "
              + "largest output difference \(agreement.maximumSteps) steps")
        #expect(agreement.samples == 16)
        #expect(Double(agreement.agreeing) >= 0.95 * Double(agreement.samples),
                "\(fixture.name): \(agreement.agreeing) of \(agreement.samples) top classes agree")
    }

    /// The file's weight codes are MixQ's: each 4-bit weight code of the int4 file, dequantized
    /// by the imported quantization, is the file's DequantizeLinear value.
    @Test func int4WeightsKeepTheFilesCodes() throws {
        let imported = try Self.imported(Self.fixtures[2])
        let network = try Self.quantized(imported)
        for layer in network.layers where layer.plan.weightBits == .four {
            #expect(layer.weightQuantization.allSatisfy { $0.bits == .four && $0.zeroPoint == 8 })
            #expect(layer.weights.allSatisfy { (0...15).contains($0) })
        }
        #expect(network.layers.filter { $0.plan.weightBits == .four }.count == 3)
    }

    /// Each file deployed once on the emulated STM32H743: the target's output equals the host
    /// reference's on three of the stored inputs.
    @Test(arguments: fixtures)
    func deploysBitExactOnTheTarget(fixture: Fixture) throws {
        let imported = try Self.imported(fixture)
        let network = try Self.quantized(imported)
        let inputs = try NumPyArray(contentsOf: Self.directory.appendingPathComponent(fixture.inputs))
        var request = DeploymentRequest(network: imported.network, scheme: imported.model.quantization?.naturalScheme ?? .mixpc,
                                        budget: try MemoryBudget(flash: 2_000_000, ram: 500_000), model: imported.model, timing: .off)
        request.images = (0..<3).map { Self.pixels(inputs, sample: $0, input: network.input) }
        request.modelSource = imported.summary
        let result = try Deployer.deploy(request, toolchain: Toolchain.locate())
        #expect(result.fits && result.bitExact == true && result.imagesChecked == 3, "\(fixture.name)")
    }
}
