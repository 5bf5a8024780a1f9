import Foundation
import Testing

/// `mixq eval` on TFLite files with the model's own input tensors (`inputs.npy`, no labels) and
/// `--outputs`: the written outputs equal LiteRT's reference-kernel outputs stored with the
/// fixtures, byte for byte, for int8 inputs and outputs and for float ones (QUANTIZE first,
/// DEQUANTIZE last).
@Suite struct TFLiteCLITests {
    static let fixtures = EvalCLITests.root.appendingPathComponent("Tests/ModelImportTests/Fixtures/tflite")

    /// The `.npy` payload after its header (NumPy format 1.0: length at bytes 8-9).
    static func payload(_ data: Data) -> [UInt8] {
        let bytes = [UInt8](data)
        guard bytes.count >= 10 else { return [] }
        let header = Int(bytes[8]) | Int(bytes[9]) << 8
        return Array(bytes.dropFirst(10 + header))
    }

    @Test(arguments: ["ds_cnn_int8", "ds_cnn_f32io"])
    func evalOutputsEqualLiteRT(model name: String) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-tflite-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("\(name).inputs.npy"),
                                         to: folder.appendingPathComponent("inputs.npy"))
        let outputs = folder.appendingPathComponent("outputs.npy")
        let outcome = try CLITests.mixq("eval", "--model", Self.fixtures.appendingPathComponent("\(name).tflite").path,
                                        "--dataset", folder.path, "--target-images", "2", "--outputs", outputs.path)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.contains("16 input(s) run, no labels"))
        #expect(outcome.stdout.contains("bit-exact with the host reference"))
        let mine = try Data(contentsOf: outputs), litert = try Data(contentsOf: Self.fixtures.appendingPathComponent("\(name).outputs.npy"))
        #expect(String(decoding: mine.prefix(64), as: UTF8.self).contains(name.hasSuffix("f32io") ? "<f4" : "|i1"))
        #expect(Self.payload(mine) == Self.payload(litert), "\(name): outputs differ from LiteRT's")
    }

    /// `--scheme mixpc` on a TFLite file: MixQ's planner and arithmetic on the file's graph under
    /// budgets its int8 form exceeds, and the comparison with the file's own network on the same inputs.
    @Test func mixedPrecisionOfATFLiteGraphIsComparedWithTheFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-tflite-mixpc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("resnet8_int8.inputs.npy"),
                                         to: folder.appendingPathComponent("inputs.npy"))
        let outcome = try CLITests.mixq("eval", "--model", Self.fixtures.appendingPathComponent("resnet8_int8.tflite").path,
                                        "--scheme", "mixpc", "--flash", "48000", "--ram", "29000", "--dataset", folder.path,
                                        "--target-images", "0")
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.contains("under mixpc (pc_icn)"), "\(outcome.stdout)")
        #expect(outcome.stdout.contains("the file's own integer network on the same inputs: mixpc's Top-1 class equals the file's on"),
                "\(outcome.stdout)")
    }
}
