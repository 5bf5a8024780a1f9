import Deployment
import Foundation
import ModelImport
import Planning
import Testing
@testable import Evaluation

/// Image folders in ImageNet's layout: listing, classes (sorted or `labels.txt`), the same
/// Top-1 and outputs as the same pixels in `images.npy`, one decode at a time, and damaged
/// files named.
@Suite(.serialized) struct ImageFolderTests {
    static let fixtures = ImageDecoderTests.fixtures
    static let digitInput = TensorShape(height: 32, width: 32, channels: 1)

    static func folder(_ url: URL = fixtures.appendingPathComponent("image-folder")) throws -> ImageFolder {
        try ImageFolder(contentsOf: url, preprocessing: ImagePreprocessing(input: digitInput))
    }

    /// A copy of the fixture folder in a fresh temporary folder.
    static func copy() throws -> URL {
        let target = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-image-folder-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: fixtures.appendingPathComponent("image-folder"), to: target)
        return target
    }

    @Test func classesAreTheSortedSubfoldersAndOtherFilesAreSkipped() throws {
        let folder = try Self.folder()
        #expect(folder.classes == (0...9).map(String.init))
        #expect(folder.files.count == 60 && folder.labels == (0...9).flatMap { Array(repeating: $0, count: 6) })
        #expect(folder.files.prefix(3) == ["0/test_0000.png", "0/test_0001.jpg", "0/test_0002.png"])
        // 3/README.txt and 3/.DS_Store.
        #expect(folder.skippedFiles == 2)
    }

    @Test func labelsTextGivesTheClassOrder() throws {
        let root = try Self.copy()
        defer { try? FileManager.default.removeItem(at: root) }
        let listed = (0...9).reversed().map { "\($0) the digit \($0)" }.joined(separator: "\n")
        try Data(("\n" + listed + "\n\n").utf8).write(to: root.appendingPathComponent("labels.txt"))
        let folder = try Self.folder(root)
        #expect(folder.classes == (0...9).reversed().map(String.init))
        #expect(folder.files.first == "9/test_0900.png" && folder.labels.first == 0 && folder.labels.last == 9)

        try Data("0\n1\n2\n3\n4\n5\n6\n7\n8\n".utf8).write(to: root.appendingPathComponent("labels.txt"))
        #expect(throws: DatasetError.badArray(path: root.appendingPathComponent("labels.txt").path,
                                              reason: "the subfolder 9 is not named in it (one line per class: the subfolder's name first)")) {
            try Self.folder(root)
        }
        try Data("0\n1\n0\n".utf8).write(to: root.appendingPathComponent("labels.txt"))
        #expect(throws: DatasetError.self) { try Self.folder(root) }
    }

    @Test func aFolderWithoutImagesIsNamed() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("cat"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        try Data("text".utf8).write(to: root.appendingPathComponent("cat/notes.txt"))
        #expect(throws: DatasetError.unreadable(path: root.path, reason: "no images.npy, and its 1 subfolder(s) hold no .jpg, .jpeg or .png file; "
                                                + "a dataset is a folder with images.npy and labels.npy, or one subfolder of JPEG/PNG files per class")) {
            try LabelledDataset(contentsOf: root, images: ImagePreprocessing(input: Self.digitInput))
        }
        // Without the network's input an image folder cannot be preprocessed.
        #expect(throws: DatasetError.self) { try LabelledDataset(contentsOf: Self.fixtures.appendingPathComponent("image-folder")) }
    }

    /// The committed int8 digit model: the folder and `images.npy` (Pillow's decode of the same
    /// files) give the same Top-1 and the same output for every image.
    @Test func folderScoresAsTheSamePixelsInImagesNpy() throws {
        let root = TrainedExampleTests.root
        let reference = try ModelReference(root.appendingPathComponent("data/models/mnist_mobilenet_v1_0.25_32__int8__240k_8k.onnx").path)
        let prepared = try Deployer.prepare(DeploymentRequest(network: reference.network, scheme: reference.defaultScheme,
                                                              budget: MemoryBudget(flash: 240_000, ram: 8_000), model: reference.model))
        let folder = try LabelledDataset(contentsOf: Self.fixtures.appendingPathComponent("image-folder"),
                                         images: ImagePreprocessing(input: reference.network.input))
        let arrays = try LabelledDataset(contentsOf: Self.fixtures.appendingPathComponent("image-folder-arrays"))
        var results: [EvaluationResult] = [], outputs: [[(index: Int, codes: [UInt8])]] = []
        for dataset in [folder, arrays] {
            var request = EvaluationRequest(prepared: prepared, dataset: dataset, targetImages: 0, jobs: 2, floatReference: true)
            let collector = OutputCollector()
            request.outputs = collector
            results.append(try Evaluator.evaluate(request, toolchain: nil))
            outputs.append(collector.outputs)
        }
        print("image folder: integer Top-1 \(results[0].integer.top1)/60, images.npy \(results[1].integer.top1)/60")
        #expect(results[0].images == 60 && results[0].integer == results[1].integer && results[0].float == results[1].float)
        #expect(results[0].integer.top1 >= 50, "the trained model reads the digits")
        #expect(outputs[0].map(\.index) == outputs[1].map(\.index) && outputs[0].map(\.codes) == outputs[1].map(\.codes))
        #expect(results[0].inputPreprocessing.hasPrefix("shorter side to 32 (antialiased bilinear), centre crop 32x32, grey; "))

        // Shards split the folder: image k to shard (k mod n) + 1; the counts add up.
        let shards = try (1...3).map { index in
            try Evaluator.evaluate(EvaluationRequest(prepared: prepared, dataset: folder, shard: DatasetShard(index: index, count: 3),
                                                     targetImages: 0, jobs: 1, floatReference: false), toolchain: nil)
        }
        #expect(shards.map(\.images) == [20, 20, 20])
        #expect(shards.map(\.integer.top1).reduce(0, +) == results[0].integer.top1)
    }

    /// The reader keeps no image: reading every image while the caller keeps them all, at most
    /// one decode is ever in progress; an evaluation on `jobs` threads holds at most `jobs`.
    @Test func theReaderHoldsOneDecodedImageAtATime() throws {
        let dataset = try LabelledDataset(contentsOf: Self.fixtures.appendingPathComponent("image-folder"),
                                          images: ImagePreprocessing(input: Self.digitInput))
        let folder = try #require(dataset.imageFolder)
        var kept: [[UInt8]] = []
        for index in 0..<dataset.count { kept.append(try dataset.image(index)) }
        #expect(kept.count == 60 && kept.allSatisfy { $0.count == 1024 })
        let counts = folder.decodes.counts
        #expect(counts.live == 0 && counts.peak == 1 && counts.total == 60)

        let prepared = try EvaluatorTests.prepared(.int8)
        let threaded = try LabelledDataset(contentsOf: Self.fixtures.appendingPathComponent("image-folder"),
                                           images: ImagePreprocessing(input: Self.digitInput))
        _ = try Evaluator.evaluate(EvaluationRequest(prepared: prepared, dataset: threaded, targetImages: 0, jobs: 2, floatReference: false),
                                   toolchain: nil)
        let evaluated = try #require(threaded.imageFolder).decodes.counts
        #expect(evaluated.live == 0 && evaluated.peak <= 2 && evaluated.total == 60)
    }

    @Test func aDamagedFileStopsTheEvaluationWithItsPath() throws {
        let root = try Self.copy()
        defer { try? FileManager.default.removeItem(at: root) }
        let damaged = root.appendingPathComponent("4/test_0403.png")
        let bytes = try Data(contentsOf: damaged)
        try bytes.prefix(bytes.count / 2).write(to: damaged)
        let dataset = try LabelledDataset(contentsOf: root, images: ImagePreprocessing(input: Self.digitInput))
        let prepared = try EvaluatorTests.prepared(.int8)
        do {
            _ = try Evaluator.evaluate(EvaluationRequest(prepared: prepared, dataset: dataset, targetImages: 0, jobs: 2, floatReference: false),
                                       toolchain: nil)
            Issue.record("a truncated file was scored")
        } catch let error as DatasetError {
            #expect(error.description.hasPrefix("cannot decode \(damaged.path): PNG: "), "\(error)")
        }
    }
}
