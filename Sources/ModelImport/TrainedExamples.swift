import Foundation

/// The trained example networks MixQ ships (QONNX files in `data/models`, made by `training/`;
/// see training/README.md), known by name like the built-in models: the file
/// `mnist_mobilenet_v1_0.25_32__mixpc__120k_4k.onnx` is `mnist_mobilenet_v1_0.25_32_mixpc_120k_4k`.
public enum TrainedExamples {
    /// `data/models` under the current folder, else in the checkout this binary was built from.
    public static var directory: URL? {
        let candidates = [
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("data/models"),
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("data/models"),
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0.path) }
    }

    /// The test split the examples were scored on (data/mnist/test beside data/models).
    public static var testSet: URL? {
        directory.map { $0.deletingLastPathComponent().appendingPathComponent("mnist/test") }
            .flatMap { FileManager.default.fileExists(atPath: $0.path) ? $0 : nil }
    }

    /// Every example: its name and file, sorted by name.
    public static var all: [(name: String, file: URL)] {
        guard let directory, let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [] }
        return names.filter { $0.hasSuffix(".onnx") }.sorted().map { file in
            (ONNXImporter.networkName(String(file.dropLast(".onnx".count))), directory.appendingPathComponent(file))
        }
    }

    /// The file of the example called `name`.
    public static func file(named name: String) -> URL? { all.first { $0.name == name }?.file }
}
