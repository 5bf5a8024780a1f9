import Diagnostics
import ArgumentParser
import Deployment
import Emulator
import Evaluation
import FirmwareBuild
import Foundation
import ModelImport
import Timing

/// `mixq eval`: Top-1/Top-5 of the integer-only network on a labelled dataset, checked on the target.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure Top-1 and Top-5 of a network (built-in, or --model FILE: ONNX, QONNX or TFLite), integer-only, on a labelled dataset.",
        discussion: """
            Plans and quantizes --model as `mixq deploy` does (a QONNX or TFLite file keeps its \
            trained bits and scales), runs every image of --dataset through the integer-only network on the \
            Swift host reference (bit-exact with the C kernels) and through the float network \
            (unquantized, or fake-quantized for a QONNX file), and prints Top-1 and Top-5 of both. \
            --target-images of the images also run on the emulated part (--part) and must match the \
            host reference byte for byte; a mismatch is an error. A dataset is a folder with \
            images.npy (uint8, N x H x W x C) and labels.npy (integers, N), or an image folder: \
            one subfolder of JPEG/PNG files per class (classes in sorted order, or as labels.txt \
            lists them), decoded one image at a time and resized (--resize) and centre-cropped to \
            the network's input. --shard i/n scores a 1/n share of the images; `mixq report` adds \
            up the shards' counts.
            """
    )

    @OptionGroup var target: NetworkOptions

    @OptionGroup var choice: StrategyOptions

    @Option(help: "Dataset folder holding images.npy and labels.npy, or one subfolder of JPEG/PNG files per class.")
    var dataset: String

    @OptionGroup var imageFolder: ImageFolderOptions

    @Option(help: "Evaluate only the first N images.")
    var limit: Int?

    @Option(help: "Images (of this shard) that also run on the emulated part (--part) and must be bit-exact (0 skips the target).")
    var targetImages: Int = 20

    @Option(help: "Score only shard i of n (i/n, 1-based): images i-1, i-1+n, i-1+2n, ...")
    var shard: String = "1/1"

    @Option(name: .customLong("jobs"), help: "Threads for the host evaluation (default: the number of cores).")
    var jobsOption: Int?

    /// `--jobs`, or the number of cores (an optional, so the help prints the default once, in words).
    var jobs: Int { jobsOption ?? ProcessInfo.processInfo.activeProcessorCount }

    @Option(help: "For a float model: images of the dataset its activation ranges are calibrated on (the first N).")
    var calibrationImages: Int = DeploymentRequest.defaultCalibrationImages

    @Option(name: .customLong("clock-mhz"), help: "\(SharedOption.clockHelp) Other parts: their maximum by default. For the target run.")
    var clockMHz: Int?

    @Option(help: "\(SharedOption.timingHelp) Default: pipeline, or off on a part MixQ has no cycle model for. For the target run.")
    var timing: TimingMode?

    @Flag(help: "Skip the float reference (faster; no float_top1).")
    var noFloat = false

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Option(help: "Write every scored input's output to this .npy file, N first: a TFLite file's output type (int8/uint8), float32 logits dequantized from the integer output for ONNX/QONNX and built-in models.")
    var outputs: String?

    @Option(help: "Results folder to write <model>__<scheme>.eval.json (and the target run's <model>__<scheme>.json) into, for `mixq report`.")
    var out: String?

    func validate() throws {
        guard targetImages >= 0 else { throw ValidationError("--target-images must be 0 or more") }
        try SharedOption.validateJobs(jobs)
        guard calibrationImages >= 1 else { throw ValidationError("--calibration-images must be at least 1") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        let part = try SharedOption.part(named: target.part)
        try SharedOption.validateClock(clockMHz ?? part.defaultClockMHz, on: part)
        do { _ = try DatasetShard(parsing: shard) } catch { throw ValidationError(String(describing: error)) }
    }

    func run() throws {
        let reference = try target.reference()
        let set = try EvaluationRun.dataset(dataset, images: imageFolder.preprocessing(for: reference.network.input))
        let collector = outputs == nil ? nil : OutputCollector()
        var request = try target.request(for: reference)
        if let clockMHz { request.clockMHz = clockMHz }
        if let timing { request.timing = timing }
        if let outputs {
            try OutputFiles.checkWritable(outputs, option: "--outputs",
                                      inputs: (FileManager.default.fileExists(atPath: target.model) ? [target.model] : [])
                                          + ["images.npy", "labels.npy", "inputs.npy"].map { (dataset as NSString).appendingPathComponent($0) })
        }
        if let out {
            let name = reference.network.name, scheme = request.schemeLabel
            try OutputFiles.checkFolder(out, names: [EvaluationResult.fileName(model: name, scheme: scheme, shard: try DatasetShard(parsing: shard)),
                                                     "\(name)__\(scheme).json"], option: "--out",
                                        inputs: (FileManager.default.fileExists(atPath: target.model) ? [target.model] : [])
                                            + ["images.npy", "labels.npy"].map { (dataset as NSString).appendingPathComponent($0) })
        }
        let result = try EvaluationRun.run(request, dataset: set, limit: limit, shard: try DatasetShard(parsing: shard),
                                           targetImages: targetImages, jobs: jobs, calibrationImages: calibrationImages,
                                           floatReference: !noFloat, quiet: json, strategy: choice, outputs: collector)
        if let out { try EvalOutput.write(result, to: URL(fileURLWithPath: out, isDirectory: true)) }
        if let outputs, let collector {
            do {
                try collector.npyFile().write(to: URL(fileURLWithPath: outputs))
            } catch {
                throw CommandFailure(message: "cannot write --outputs \(outputs): \(error.localizedDescription)")
            }
        }
        if json {
            FileHandle.standardOutput.write(try result.json() + Data("\n".utf8))
        } else {
            print(EvalOutput.render(result))
        }
    }
}

enum EvaluationRun {
    /// The dataset folder `path`, read once; it keeps the path as the user wrote it, so results
    /// stay readable on another machine. An image folder is preprocessed as `images` says.
    static func dataset(_ path: String, images: ImagePreprocessing? = nil) throws -> LabelledDataset {
        do {
            var set = try LabelledDataset(contentsOf: URL(fileURLWithPath: path, isDirectory: true), images: images)
            set.path = path
            return set
        } catch {
            throw CommandFailure(error)
        }
    }

    /// The evaluation `eval`, `deploy --dataset` and `sweep --dataset` share.
    static func run(_ request: DeploymentRequest, dataset: LabelledDataset, limit: Int?, shard: DatasetShard,
                    targetImages: Int, jobs: Int, calibrationImages: Int, floatReference: Bool,
                    quiet: Bool, strategy: StrategyOptions? = nil, outputs: OutputCollector? = nil) throws -> EvaluationResult {
        var request = request
        var held: [Int] = []
        if let strategy {
            let searchLine = ProgressLine(enabled: !quiet)
            _ = try strategy.apply(to: &request, dataset: dataset, jobs: jobs) { searchLine.update(String($0.prefix(100))) }
            searchLine.finish()
            held = strategy.searchIndices(of: dataset)
        }
        if request.chosenPlan == nil { try request.calibrate(on: dataset, images: calibrationImages) }
        let prepared = try Deployer.prepare(request)
        guard prepared.plan.fits else {
            throw CommandFailure(message: "\(request.network.name) does not fit: " + prepared.plan.budgetProblems.joined(separator: "; "))
        }
        let line = ProgressLine(enabled: !quiet)
        var evaluation = EvaluationRequest(prepared: prepared, dataset: dataset, limit: limit, shard: shard,
                                           targetImages: targetImages, jobs: jobs, floatReference: floatReference)
        evaluation.outputs = outputs
        // The search's images are not scored.
        evaluation.excluded = Set(held)
        let toolchain = targetImages > 0 ? try Toolchain.locate() : nil
        let result = try Evaluator.evaluate(evaluation, toolchain: toolchain,
                                            progress: { done, total in line.update("eval: \(done)/\(total) images on the host") },
                                            deploymentProgress: { line.update("eval: \($0)") })
        line.finish()
        var scored = result
        scored.searchImages = held.isEmpty ? nil : held.count
        return scored
    }
}

/// A one-line progress display on an interactive stderr; silent otherwise.
final class ProgressLine: @unchecked Sendable {
    private let lock = NSLock()
    private let enabled: Bool
    private var shown = false

    init(enabled: Bool) { self.enabled = enabled && isatty(STDERR_FILENO) != 0 }

    func update(_ text: String) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
        shown = true
    }

    func finish() {
        guard enabled, shown else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}

enum EvalOutput {
    static func percent(_ count: Int, _ images: Int) -> String {
        String(format: "%.2f%% (%d/%d)", images > 0 ? Double(count) * 100 / Double(images) : 0, count, images)
    }

    static func render(_ result: EvaluationResult) -> String {
        guard result.labelled else {
            return (["\(result.model) under \(result.scheme) (\(result.flavours.joined(separator: ", "))): \(result.images) "
                     + "input(s) run, no labels (Top-1 not measured; --outputs writes the outputs)"]
                    + render(result, skippingAccuracy: true)).joined(separator: "\n")
        }
        let lines = ["\(result.model) under \(result.scheme) (\(result.flavours.joined(separator: ", "))): "
                     + "integer-only Top-1 \(percent(result.integer.top1, result.images)), Top-5 \(percent(result.integer.top5, result.images))"]
        return (lines + render(result, skippingAccuracy: false)).joined(separator: "\n")
    }

    /// The lines after the accuracy: the float references (when measured), dataset, target, host speed.
    static func render(_ result: EvaluationResult, skippingAccuracy: Bool) -> [String] {
        var lines: [String] = []
        if !skippingAccuracy, let float = result.float {
            lines.append("\(result.floatReference): Top-1 \(percent(float.top1, result.images)), Top-5 \(percent(float.top5, result.images))")
        }
        if let file = result.fileInteger, let agreement = result.fileAgreement {
            let same = "\(result.scheme)'s Top-1 class equals the file's on \(percent(agreement, result.images))"
            if skippingAccuracy {
                lines.append("the file's own integer network on the same inputs: \(same)")
            } else {
                let loss = Double(file.top1 - result.integer.top1) * 100 / Double(max(result.images, 1))
                lines.append("the file's own integer network on the same images: Top-1 \(percent(file.top1, result.images)), "
                             + "Top-5 \(percent(file.top5, result.images)); \(result.scheme) loses "
                             + String(format: "%.2f", loss) + " Top-1 points against it; \(same)")
            }
        }
        if !skippingAccuracy, let fake = result.fakeQuantized, result.floatReference.hasPrefix("float") {
            lines.append("fake-quantized (MixQ's quantization in float): Top-1 \(percent(fake.top1, result.images))")
        }
        if let note = result.deployment?.note { lines.append(note) }
        lines.append("dataset: \(result.dataset), \(result.images) of \(result.datasetImages) images"
                     + (result.limit.map { " (first \($0))" } ?? "") + (result.shard.count > 1 ? ", shard \(result.shard)" : "")
                     + (result.searchImages.map { "; \($0) others, spread over the dataset, calibrated and searched the plan and are not scored" } ?? "")
                     + "; input \(result.inputPreprocessing); weights: \(result.modelSource)")
        if let deployment = result.deployment, let conditions = deployment.conditions {
            let part = conditions.part.flatMap(Part.named) ?? .stm32h743
            lines.append("target: \(result.targetImages) image(s) on the emulated \(part.name), "
                         + (result.targetBitExact == true ? "bit-exact with the host reference" : "DIFFERENT from the host reference")
                         + String(format: "; %llu cycles = %.3f ms per image", deployment.totalCycles ?? 0, deployment.latencyMs ?? 0)
                         + "; conditions: \(conditions.clockMhz) MHz, FLASH \(conditions.flashWaitStates) wait states, caches "
                         + "\(conditions.caches), timing model \(conditions.timingModel); \(conditions.compiler); \(conditions.flags)")
        } else {
            lines.append("target: not run (--target-images 0)")
        }
        lines.append(String(format: "host: %.1f images/s, %.2f G MAC/s (integer path with the float reference%@)",
                            result.hostImagesPerSecond, result.hostMacsPerSecond / 1e9, result.float == nil ? " skipped" : ""))
        return lines
    }

    /// Writes the evaluation (and, for the first shard, its target run) into a results folder.
    static func write(_ result: EvaluationResult, to folder: URL) throws {
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try result.json().write(to: folder.appendingPathComponent(result.fileName), options: .atomic)
            if result.shard.index == 1, let deployment = result.deployment {
                try deployment.json().write(to: folder.appendingPathComponent("\(deployment.model)__\(deployment.scheme).json"),
                                            options: .atomic)
            }
        } catch {
            throw CommandFailure(message: "cannot write the results into \(folder.path): \(SystemErrorText.reason(error))")
        }
    }
}
