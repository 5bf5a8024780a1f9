import Deployment
import Evaluation
import FirmwareBuild
import Foundation
import ModelImport
import Planning
import Quantization
import Testing

/// TFLite files made by TensorFlow's converter (Fixtures/tflite/make_tflite_fixtures.py), run by
/// MixQ's host reference and compared byte for byte with LiteRT's reference kernels' outputs
/// stored beside them (`OpResolverType.BUILTIN_REF`, 16 inputs each).
@Suite struct TFLiteImporterTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tflite")

    /// Every fixture with integer input and output.
    static let integerModels = [
        "conv_10x4_s2_same_int8", "conv_10x4_s2_valid_int8", "dwconv_mult8_int8", "dwconv_mult1_s2_int8",
        "fc_chain_int8", "avgpool_3x3_s2_same_int8", "avgpool_2x2_s2_valid_int8", "maxpool_3x3_s2_same_int8",
        "maxpool_2x2_s2_valid_int8", "add_two_scales_int8", "reshape_squeeze_int8", "pad_valid_conv_int8",
        "fused_relu_int8", "fused_relu6_int8", "softmax_end_int8", "ds_cnn_int8", "resnet8_int8",
        "mobilenet_v1_025_96_int8", "fc_autoencoder_int8", "mobilenet_like_uint8_qat",
    ]

    /// The fixture's network quantized as the file says (scheme int8, budgets far above its size).
    static func quantized(_ name: String) throws -> (ImportedModel, QuantizedNetwork) {
        let imported = try TFLiteImporter.load(contentsOf: directory.appendingPathComponent("\(name).tflite"))
        let plan = try Deployer.plan(imported.network, model: imported.model, budget: MemoryBudget(flash: 1 << 30, ram: 1 << 30),
                                     scheme: .int8, flavour: nil)
        return (imported, try QuantizedNetwork.quantize(imported.model, plan: plan))
    }

    /// Input or output codes of one sample: int8 values become `q + 128`.
    static func codes(_ array: NumPyArray, sample: Int) -> [Int] {
        let per = array.count / array.shape[0]
        let offset = array.dtype.hasSuffix("i1") ? 128 : 0
        return array.values[(sample * per)..<((sample + 1) * per)].map { $0 + offset }
    }

    @Test(arguments: integerModels)
    func hostReferenceEqualsLiteRT(model name: String) throws {
        let path = Self.directory.appendingPathComponent("\(name).tflite").path
        try #require(FileManager.default.fileExists(atPath: path), "fixture \(name) missing")
        let (_, network) = try Self.quantized(name)
        let inputs = try NumPyArray(contentsOf: Self.directory.appendingPathComponent("\(name).inputs.npy"))
        let outputs = try NumPyArray(contentsOf: Self.directory.appendingPathComponent("\(name).outputs.npy"))
        #expect(inputs.shape[0] >= 16)
        var differing = 0
        for sample in 0..<inputs.shape[0] {
            let pixels = Self.codes(inputs, sample: sample).map { UInt8($0) }
            let mixq = try HostReference.run(network, pixels: pixels).last ?? []
            let litert = Self.codes(outputs, sample: sample)
            if mixq != litert { differing += 1 }
            if differing == 1 && mixq != litert {
                let first = zip(mixq, litert).enumerated().first { $0.element.0 != $0.element.1 }
                Issue.record("\(name) sample \(sample): first difference at \(first?.offset ?? -1): MixQ \(first?.element.0 ?? -1), LiteRT \(first?.element.1 ?? -1); counts \(mixq.count) vs \(litert.count)")
            }
        }
        #expect(differing == 0, "\(name): \(differing) of \(inputs.shape[0]) outputs differ from LiteRT's")
    }

    /// Each fixture deployed on the emulated STM32H743 with the optimised and the plain C TFLite
    /// kernels: the target's output equals the host reference's (and so LiteRT's, by the test
    /// above) on three of LiteRT's inputs.
    @Test(arguments: integerModels)
    func deploysBitExactOnTheTarget(model name: String) throws {
        let (imported, _) = try Self.quantized(name)
        let inputs = try NumPyArray(contentsOf: Self.directory.appendingPathComponent("\(name).inputs.npy"))
        for plain in [false, true] {
            var request = DeploymentRequest(network: imported.network, scheme: .int8,
                                            budget: try MemoryBudget(flash: 2_000_000, ram: 500_000), model: imported.model,
                                            plainKernels: plain, timing: .off)
            request.images = (0..<3).map { Self.codes(inputs, sample: $0).map { UInt8($0) } }
            request.modelSource = imported.summary
            let result = try Deployer.deploy(request, toolchain: Toolchain.locate())
            #expect(result.fits && result.bitExact == true && result.imagesChecked == 3, "\(name), plain kernels \(plain)")
        }
    }
}

/// Model files are told apart by content, not name.
@Suite struct ModelFileFormatTests {
    @Test func aTFLiteFileGivenAsONNXIsNamedAndAnONNXFileNamedTFLiteIsReadAsONNX() throws {
        let tflite = try Data(contentsOf: TFLiteImporterTests.directory.appendingPathComponent("fc_chain_int8.tflite"))
        do {
            _ = try ONNXImporter.load(data: tflite, path: "model.onnx", name: "model")
            Issue.record("a TFLite flatbuffer imported as ONNX")
        } catch {
            #expect("\(error)".contains("TFLite flatbuffer"))
        }
        let onnx = TFLiteImporterTests.directory.deletingLastPathComponent()
            .appendingPathComponent("onnx-exports/small_cnn_float.onnx")
        let renamed = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-renamed-\(UUID().uuidString).tflite")
        try FileManager.default.copyItem(at: onnx, to: renamed)
        defer { try? FileManager.default.removeItem(at: renamed) }
        do {
            let imported = try ModelFile.load(renamed)
            #expect(imported.format == "ONNX" || imported.format == "QONNX")
        } catch {
            // tf2onnx's graph may use operators MixQ's ONNX importer refuses; it must be read as ONNX all the same.
            #expect(!"\(error)".contains("TFLite"), "\(error)")
        }
        let asTFLite = try ModelFile.load(TFLiteImporterTests.directory.appendingPathComponent("fc_chain_int8.tflite"))
        #expect(asTFLite.format == "TFLite")
    }
}
