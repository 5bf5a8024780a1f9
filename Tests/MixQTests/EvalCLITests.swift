import Foundation
import Testing

/// `mixq eval` and model files on the command line: the JSON contract, the results files the
/// report reads, and one `error:` line for every bad input.
@Suite(.serialized) struct EvalCLITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let model = root.appendingPathComponent("data/models/mnist_mobilenet_v1_0.25_32__mixpc__120k_4k.onnx").path
    static let dataset = root.appendingPathComponent("data/mnist/test").path

    @Test func evalJSONHasTheContractKeysAndTheReportShowsIt() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-cli-eval-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let outcome = try CLITests.mixq("eval", "--model", Self.model, "--flash", "120k", "--ram", "4k", "--dataset", Self.dataset,
                                        "--limit", "40", "--target-images", "2", "--json", "--out", folder.path)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        for key in ["top1", "top5", "float_top1", "images", "target_images", "target_bit_exact", "input_preprocessing",
                    "deployment", "model_source", "dataset"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        #expect(object["images"] as? Int == 40 && object["target_images"] as? Int == 2)
        #expect(object["target_bit_exact"] as? Bool == true)
        let top1 = try #require(object["top1"] as? Double)
        #expect(top1 > 0.8 && top1 <= 1)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(files == ["mnist_mobilenet_v1_0.25_32_mixpc_120k_4k__mixpc.eval.json", "mnist_mobilenet_v1_0.25_32_mixpc_120k_4k__mixpc.json"])
        let report = try CLITests.mixq("report", folder.path)
        #expect(report.status == 0)
        #expect(report.stdout.contains("measured by MixQ on \(Self.dataset): integer-only Top-1 over 40 images, 2 of them on the emulated STM32H743, bit-exact"))
    }

    @Test func badModelFilesAreOneErrorLine() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-cli-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let garbage = folder.appendingPathComponent("garbage.onnx")
        try Data((0..<300).map { UInt8(($0 * 37 + 11) & 0xFF) }).write(to: garbage)
        let empty = folder.appendingPathComponent("empty.onnx")
        try Data().write(to: empty)
        let truncated = folder.appendingPathComponent("truncated.onnx")
        try Data(contentsOf: URL(fileURLWithPath: Self.model)).prefix(5000).write(to: truncated)
        for file in [garbage, empty, truncated, folder.appendingPathComponent("missing.onnx")] {
            for command in [["plan"], ["eval", "--dataset", Self.dataset]] {
                let outcome = try CLITests.mixq(arguments: command + ["--model", file.path])
                #expect(outcome.status == 1, "\(command) \(file.lastPathComponent)")
                let lines = outcome.stderr.split(separator: "\n")
                #expect(lines.count == 1 && lines.first?.hasPrefix("error: ") == true, "\(outcome.stderr)")
            }
        }
    }

    @Test func bitsThatDoNotFitSayByHowMuchAndWhere() throws {
        let outcome = try CLITests.mixq("plan", "--model", Self.model, "--flash", "100k", "--ram", "2k")
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("FLASH needs 116868 B, 16868 B over the budget of 100000 B"))
        #expect(outcome.stderr.contains("needs 3072 B of RAM, 1072 B over the budget of 2000 B"))
    }

    @Test func aDatasetThatIsNotOneIsOneErrorLine() throws {
        let outcome = try CLITests.mixq("eval", "--model", Self.model, "--dataset", Self.root.appendingPathComponent("docs").path)
        #expect(outcome.status == 1)
        #expect(outcome.stderr.hasPrefix("error: cannot read ") && outcome.stderr.contains("images.npy"))
    }
}

/// `--dataset` given an image folder (one subfolder of JPEG/PNG files per class).
@Suite(.serialized) struct ImageFolderCLITests {
    static let fixtures = EvalCLITests.root.appendingPathComponent("Tests/EvaluationTests/Fixtures")
    static let int8Model = EvalCLITests.root.appendingPathComponent("data/models/mnist_mobilenet_v1_0.25_32__int8__240k_8k.onnx").path

    static func top1(_ dataset: String, _ extra: [String] = []) throws -> [String: Any] {
        let outcome = try CLITests.mixq(arguments: ["eval", "--model", int8Model, "--flash", "240k", "--ram", "8k", "--dataset", dataset,
                                                    "--target-images", "0", "--no-float", "--json"] + extra)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
    }

    @Test func aFolderScoresAsItsImagesNpy() throws {
        let folder = try Self.top1(Self.fixtures.appendingPathComponent("image-folder").path, ["--resize", "32"])
        let arrays = try Self.top1(Self.fixtures.appendingPathComponent("image-folder-arrays").path)
        #expect(folder["images"] as? Int == 60 && folder["top1"] as? Double == arrays["top1"] as? Double)
        #expect((folder["input_preprocessing"] as? String)?.hasPrefix("shorter side to 32 (antialiased bilinear), centre crop 32x32") == true)
    }

    @Test func aDamagedImageAndABadResizeAreOneErrorLine() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-cli-folder-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("image-folder"), to: root)
        defer { try? FileManager.default.removeItem(at: root) }
        let damaged = root.appendingPathComponent("7/test_0704.jpg")
        try Data([0xFF, 0xD8, 0xFF, 0xE0, 0x00]).write(to: damaged)
        let outcome = try CLITests.mixq("eval", "--model", Self.int8Model, "--flash", "240k", "--ram", "8k", "--dataset", root.path,
                                        "--target-images", "0")
        #expect(outcome.status == 1)
        #expect(outcome.stderr.hasPrefix("error: cannot decode \(damaged.path): JPEG: ") && outcome.stderr.split(separator: "\n").count == 1,
                "\(outcome.stderr)")
        let small = try CLITests.mixq("eval", "--model", Self.int8Model, "--dataset", root.path, "--resize", "16")
        #expect(small.status != 0 && small.stderr.hasPrefix("error: --resize 16 must be between the input's larger side 32"), "\(small.stderr)")
    }
}
