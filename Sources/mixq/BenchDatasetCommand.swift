import ArgumentParser
import Deployment
import Dispatch
import Evaluation
import Foundation
import ModelImport
import Planning

/// `mixq bench dataset`: the memory an image-folder evaluation needs as the folder grows.
struct BenchDataset: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Peak memory and speed of evaluating image folders of growing size (JSON).",
        discussion: """
            Writes folders of --sizes generated JPEG photographs-like images (--width x --height, \
            10 classes, seeded) into a temporary folder, then evaluates --model (synthetic \
            weights, integer path only, no target run) on each, as `mixq eval --dataset FOLDER \
            --resize N` does, and reports the peak resident memory (Linux VmHWM, reset before \
            each folder through /proc/self/clear_refs) beside the resident memory before it. \
            MixQ's goal: the peak does not grow with the folder (images are decoded one at a \
            time per thread), where the same images as images.npy would be read by pages.
            """
    )

    @Option(help: "Folder sizes in images, comma-separated.")
    var sizes: String = "200,2000"

    @Option(help: "A built-in model name, a trained example's name or an ONNX / QONNX file; its input sets the crop.")
    var model: String = "mobilenet_v1_0.25_128"

    @Option(help: "Shorter side after resizing (default: the input's side / 0.875, the ImageNet convention).")
    var resize: Int?

    @Option(help: "Width of the generated images.")
    var width: Int = 500

    @Option(help: "Height of the generated images.")
    var height: Int = 375

    @Option(help: "The generated files' encoding: jpeg, png or mixed (every other image).")
    var encoding: String = "jpeg"

    @Option(name: .customLong("jobs"), help: "Threads (default: the number of cores).")
    var jobsOption: Int?

    var jobs: Int { jobsOption ?? ProcessInfo.processInfo.activeProcessorCount }

    @Option(help: "Keep the generated folders here instead of a temporary folder that is removed.")
    var keep: String?

    @Flag(help: "Print JSON (the only format; accepted for symmetry with other commands).")
    var json = false

    func validate() throws {
        let counts = sizes.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !counts.isEmpty, counts.allSatisfy({ ($0 ?? 0) >= 1 && ($0 ?? 0) <= 100_000 }) else {
            throw ValidationError("--sizes must be image counts 1...100000, comma-separated, got '\(sizes)'")
        }
        guard (8...4096).contains(width), (8...4096).contains(height) else { throw ValidationError("--width and --height must be 8...4096") }
        guard ["jpeg", "png", "mixed"].contains(encoding) else { throw ValidationError("--encoding must be jpeg, png or mixed") }
        try SharedOption.validateJobs(jobs)
    }

    struct Measurement: Encodable {
        var images: Int
        var folderBytes: Int
        var asImagesNpyBytes: Int
        var baselineRSSBytes: Int
        var peakRSSBytes: Int
        var peakAboveBaselineBytes: Int
        var mostDecodesAtOnce: Int
        var seconds: Double
        var imagesPerSecond: Double
        var top1: Int
        enum CodingKeys: String, CodingKey {
            case images, seconds, top1
            case folderBytes = "folder_bytes"
            case asImagesNpyBytes = "as_images_npy_bytes"
            case baselineRSSBytes = "baseline_rss_bytes"
            case peakRSSBytes = "peak_rss_bytes"
            case peakAboveBaselineBytes = "peak_above_baseline_bytes"
            case mostDecodesAtOnce = "most_decodes_at_once"
            case imagesPerSecond = "images_per_second"
        }
    }

    struct Report: Encodable {
        var benchmark = "dataset"
        var model: String
        var input: String
        var preprocessing: String
        var generated: String
        var threads: Int
        var peakResetPerFolder: Bool
        var folders: [Measurement]
        var peakGrowthBytes: Int
        var conditions: String
        enum CodingKeys: String, CodingKey {
            case benchmark, model, input, preprocessing, generated, threads, folders, conditions
            case peakResetPerFolder = "peak_reset_per_folder"
            case peakGrowthBytes = "peak_growth_bytes_smallest_to_largest"
        }
    }

    func run() throws {
        let reference: ModelReference
        do { reference = try ModelReference(model) } catch { throw CommandFailure(error) }
        let input = reference.network.input
        let preprocessing = try ImageFolderOptions.preprocessing(for: input, resize: resize ?? Int((Double(max(input.height, input.width)) / 0.875).rounded()))
        let prepared = try Deployer.prepare(DeploymentRequest(network: reference.network, scheme: reference.defaultScheme,
                                                              budget: .stm32h743, model: reference.model))
        guard prepared.plan.fits else { throw CommandFailure(message: "\(reference.network.name) does not fit the STM32H743 budgets") }
        let counts = sizes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let base = keep.map { URL(fileURLWithPath: $0, isDirectory: true) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("mixq-bench-dataset-\(ProcessInfo.processInfo.processIdentifier)")
        defer { if keep == nil { try? FileManager.default.removeItem(at: base) } }
        // Every folder is written before any is measured, so writing costs no measured memory.
        var folders: [(Int, URL, Int)] = []
        for count in counts {
            let folder = base.appendingPathComponent("\(count)")
            folders.append((count, folder, try generate(count, into: folder)))
        }
        var measurements: [Measurement] = []
        var resetWorks = true
        for (count, folder, bytes) in folders {
            resetWorks = ResidentMemory.resetPeak() && resetWorks
            let baseline = ResidentMemory.current()
            let dataset = try EvaluationRun.dataset(folder.path, images: preprocessing)
            let started = DispatchTime.now()
            let result = try Evaluator.evaluate(EvaluationRequest(prepared: prepared, dataset: dataset, targetImages: 0, jobs: jobs,
                                                                  floatReference: false), toolchain: nil)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
            let peak = ResidentMemory.peak()
            measurements.append(Measurement(
                images: count, folderBytes: bytes, asImagesNpyBytes: count * input.elementCount, baselineRSSBytes: baseline,
                peakRSSBytes: peak, peakAboveBaselineBytes: peak - baseline,
                mostDecodesAtOnce: dataset.imageFolder?.decodes.counts.peak ?? 0, seconds: seconds,
                imagesPerSecond: Double(count) / seconds, top1: result.integer.top1))
        }
        try JSONOutput.print(Report(
            model: reference.network.name, input: "\(input)", preprocessing: preprocessing.description,
            generated: "\(width)x\(height) RGB \(encoding), seeded smooth patterns with noise, 10 classes", threads: jobs,
            peakResetPerFolder: resetWorks, folders: measurements,
            peakGrowthBytes: (measurements.last?.peakRSSBytes ?? 0) - (measurements.first?.peakRSSBytes ?? 0),
            conditions: "host CPU; decode (libjpeg-turbo/libpng), resize and crop, integer-only host reference, \(jobs) threads; "
                + "peak RSS from /proc/self/status VmHWM" + (resetWorks ? ", reset per folder" : " since the process started (reset unavailable)")))
    }

    /// Writes `count` seeded images into `folder` (classes `class_0` ... `class_9`); returns the bytes written.
    func generate(_ count: Int, into folder: URL) throws -> Int {
        var total = 0
        do {
            for label in 0..<10 {
                try FileManager.default.createDirectory(at: folder.appendingPathComponent("class_\(label)"), withIntermediateDirectories: true)
            }
            for index in 0..<count {
                let image = Self.pattern(width: width, height: height, seed: UInt64(index))
                let png = encoding == "png" || (encoding == "mixed" && index % 2 == 1)
                let data = try ImageDecoder.encode(image, as: png ? .png : .jpeg, quality: 90)
                let name = String(format: "class_%d/image_%06d.%@", index % 10, index, png ? "png" : "jpg")
                try data.write(to: folder.appendingPathComponent(name))
                total += data.count
            }
        } catch {
            throw CommandFailure(error)
        }
        return total
    }

    /// A photograph-like RGB image: smooth gradients and waves whose phase the seed sets, plus noise.
    static func pattern(width: Int, height: Int, seed: UInt64) -> DecodedImage {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        let phase = Double(seed % 97) / 97 * 6.283
        for y in 0..<height {
            for x in 0..<width {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17
                let noise = Double(state % 24)
                let wave = 60 * sin(Double(x) / 23 + phase) * cos(Double(y) / 31 - phase)
                let values = [Double(x * 200 / width) + wave, Double(y * 200 / height) - wave, 128 + wave]
                for channel in 0..<3 {
                    pixels[(y * width + x) * 3 + channel] = UInt8(min(max(values[channel] + noise, 0), 255))
                }
            }
        }
        return DecodedImage(width: width, height: height, channels: 3, pixels: pixels)
    }
}

/// This process's resident memory on Linux (/proc/self/status; proc(5)).
enum ResidentMemory {
    /// Resets the peak (VmHWM) to the current resident size: writing 5 to /proc/self/clear_refs
    /// (Linux 4.0 and later, proc(5)). False where it cannot.
    static func resetPeak() -> Bool {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? handle.close() }
        do { try handle.write(contentsOf: Data("5".utf8)) } catch { return false }
        return true
    }

    static func current() -> Int { field("VmRSS") }

    static func peak() -> Int { field("VmHWM") }

    /// A `kB` line of /proc/self/status, in bytes (0 where there is none).
    static func field(_ name: String) -> Int {
        // /proc files report size 0, so they are read line by line rather than by size.
        guard let file = fopen("/proc/self/status", "r") else { return 0 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text.hasPrefix(name + ":") else { continue }
            let number = text.dropFirst(name.count + 1).split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 0
            return number * 1024
        }
        return 0
    }
}
