import Foundation
import Testing

/// `mixq plan` on an ONNX graph as PyTorch exports it (torchvision's MobileNetV2, residual Adds,
/// weights in external data beside the model): the plan is printed with the live-tensor peak,
/// and a model whose external data is missing is one `error:` line.
@Suite struct ONNXGraphCLITests {
    static let fixtures = EvalCLITests.root.appendingPathComponent("Tests/ModelImportTests/Fixtures/onnx-exports")

    @Test func planPrintsTheGraphsPlan() throws {
        let model = Self.fixtures.appendingPathComponent("torchvision_mobilenet_v2_035_64.onnx").path
        let outcome = try CLITests.mixq("plan", "--model", model)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.contains("(opset 20): 53 layers, 64 steps"), "\(outcome.stdout)")
        // Worked out by hand in ONNXGraphExportTests: block 2's stride-2 depthwise, 32x32x48 in, 16x16x48 out.
        #expect(outcome.stdout.contains("peak activations 61440 B"), "\(outcome.stdout)")
        #expect(outcome.stdout.contains("fits: yes"))
    }

    @Test func aModelWithoutItsExternalDataIsOneErrorLine() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-no-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let copy = folder.appendingPathComponent("residual_cnn.onnx")
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("residual_cnn.onnx"), to: copy)
        let outcome = try CLITests.mixq("plan", "--model", copy.path)
        #expect(outcome.status != 0 && outcome.stdout.isEmpty)
        let lines = outcome.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines.first?.hasPrefix("error: ") == true, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("residual_cnn.onnx.data") && outcome.stderr.contains("keep the .data file"))
    }
}
