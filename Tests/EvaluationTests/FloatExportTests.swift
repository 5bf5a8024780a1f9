import Deployment
import Foundation
import ModelImport
import Planning
import Testing
@testable import Evaluation

/// The float digit network as PyTorch's ONNX exporter writes it (data/models/..._float.onnx,
/// from training/mixq_training/float_export.py): MixQ's float run of the imported file gives the
/// logits onnxruntime 1.32 computed for the same images, and MixQ's own post-training
/// quantization keeps most of its accuracy.
struct FloatExportTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let file = root.appendingPathComponent("data/models/mnist_mobilenet_v1_0.25_32__float.onnx").path

    /// onnxruntime's logits for the first two test images (input `pixel / 255`, NCHW), rounded to 4 decimals.
    static let onnxruntimeLogits: [[Float]] = [
        [8.4207, -5.172, -0.9682, -4.156, -5.6356, -2.3765, -2.5302, -2.9267, -2.5316, -1.9104],
        [8.3543, -4.8322, -3.044, -4.7589, -5.9846, -0.3891, 1.9292, -7.3541, -1.0251, -3.3107],
    ]

    @Test func floatRunMatchesOnnxruntime() throws {
        let reference = try ModelReference(Self.file)
        #expect(reference.imported?.format == "ONNX" && reference.model?.quantization == nil)
        let model = try #require(reference.model)
        let data = try LabelledDataset(contentsOf: Self.root.appendingPathComponent("data/mnist/test"))
        for (index, expected) in Self.onnxruntimeLogits.enumerated() {
            let logits = FloatReference.run(model, image: model.input.real(try data.image(index))).logits
            #expect(zip(logits, expected).allSatisfy { abs($0 - $1) < 2e-3 }, "image \(index): \(logits)")
        }
    }

    @Test func posttrainingQuantizationKeepsMostOfTheAccuracy() throws {
        let reference = try ModelReference(Self.file)
        let data = try LabelledDataset(contentsOf: Self.root.appendingPathComponent("data/mnist/test"))
        var request = DeploymentRequest(network: reference.network, scheme: .int8, budget: .stm32h743, model: reference.model)
        request.calibration = try (0..<32).map { try data.image($0) }
        let prepared = try Deployer.prepare(request)
        let result = try Evaluator.evaluate(EvaluationRequest(prepared: prepared, dataset: data, limit: 400, targetImages: 0,
                                                              floatReference: false), toolchain: nil)
        // 8-bit post-training quantization of a 97.5% float network: within 2 points, above chance.
        #expect(result.top1 > 0.93 && result.top1 <= 1, "\(result.top1)")
    }
}
