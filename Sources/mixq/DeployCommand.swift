import ArgumentParser
import Deployment
import Emulator
import FirmwareBuild
import Evaluation
import Foundation
import ModelImport
import Planning
import Timing

/// `mixq deploy`: plan, generate C, build, run on the emulated part, check bit-exactness.
struct Deploy: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Deploy a quantized network (built-in, or --model FILE: ONNX, QONNX or TFLite) on an emulated part and profile it per layer.",
        discussion: """
            Plans the bit-widths (as `mixq plan`), quantizes the network (a model file's trained \
            weights with --model FILE; seeded synthetic weights with realistic statistics for the \
            built-in names), generates one C source with the weights in FLASH and the activation \
            arena in SRAM, builds it with arm-none-eabi-gcc, measures FLASH and RAM from the ELF, \
            runs it on the emulated part (--part, default STM32H743) and prints the cycles of every \
            layer. The on-target output is compared byte for byte with the Swift host reference. \
            The layer total leaves out the firmware's start-up (copying .data, zeroing .bss, the \
            clock and cache set-up) that `mixq run` counts in its total for the same ELF.
            """
    )

    @OptionGroup var target: NetworkOptions

    @OptionGroup var choice: StrategyOptions

    @Option(help: "Folder for the generated C source and the ELF (default: build/<model>-<scheme>).")
    var out: String?

    @Option(name: .customLong("clock-mhz"), help: ArgumentHelp(SharedOption.clockHelp + " Other parts: their maximum by default."))
    var clockMHz: Int?

    @Option(help: "Seed of the synthetic weights and images.")
    var seed: UInt64 = 1

    @Option(help: "Images (1...100, default 1) that run on the emulated part and must match the host reference byte for byte: seeded synthetic ones, or with --dataset the dataset's.")
    var targetImages: Int?

    /// `--images`, the spelling README.md showed before `--target-images` (the name `eval` and
    /// `sweep` use); still accepted, not listed.
    @Option(name: .customLong("images"), help: .hidden)
    var imagesAlias: Int?

    /// `--target-images` (or its old spelling `--images`), default 1.
    var images: Int { targetImages ?? imagesAlias ?? 1 }

    @Option(help: "Images for the conversion-loss measurement against the fake-quantized float network (0 skips it).")
    var conversionImages: Int = 1

    @Option(help: ArgumentHelp(SharedOption.timingHelp + " Default: pipeline, or off on a part MixQ has no cycle model for."))
    var timing: TimingMode?

    @Flag(help: "Use the kernels' plain C paths instead of the optimized ones.")
    var plainKernels = false

    @Flag(help: "Print JSON instead of tables.")
    var json = false

    @OptionGroup var imageFolder: ImageFolderOptions

    @Option(help: "Dataset folder (images.npy, labels.npy, or one subfolder of JPEG/PNG files per class): also measure Top-1/Top-5 on it, as `mixq eval`; --target-images of its images run on the target; --json then prints the evaluation, whose deployment field is the usual object.")
    var dataset: String?

    func validate() throws {
        let part = try SharedOption.part(named: target.part)
        try SharedOption.validateClock(clockMHz ?? part.defaultClockMHz, on: part)
        if let targetImages, let imagesAlias, targetImages != imagesAlias {
            throw ValidationError("--images is the old spelling of --target-images; give one of them (got \(imagesAlias) and \(targetImages))")
        }
        guard (1...100).contains(images) else { throw ValidationError("--target-images must be 1...100") }
        guard (0...100).contains(conversionImages) else { throw ValidationError("--conversion-images must be 0...100") }
    }

    func run() throws {
        let reference = try target.reference()
        var request = try target.request(for: reference)
        let directory = URL(fileURLWithPath: out ?? "build/\(reference.network.name)-\(request.scheme.rawValue)", isDirectory: true)
        // Every file deploy writes into the folder, against every file it reads.
        let name = reference.network.name, scheme = request.schemeLabel
        var inputs = FileManager.default.fileExists(atPath: target.model) ? [target.model] : []
        if let dataset { inputs += ["images.npy", "labels.npy"].map { (dataset as NSString).appendingPathComponent($0) } }
        try OutputFiles.checkFolder(directory.path, names: ["\(name).c", "\(name).elf", "deploy.json", "\(name)__\(scheme).json",
                                                            EvaluationResult.fileName(model: name, scheme: scheme)],
                                    option: "--out", inputs: inputs)
        if let clockMHz { request.clockMHz = clockMHz }
        request.outputDirectory = directory
        request.seed = seed
        request.plainKernels = plainKernels
        request.imagesChecked = images
        request.conversionImages = conversionImages
        if let timing { request.timing = timing }
        let result: DeploymentResult
        var evaluation: EvaluationResult?
        if let dataset {
            // The same request: --plain-kernels, --seed and --conversion-images hold here too.
            let measured = try EvaluationRun.run(request, dataset: EvaluationRun.dataset(dataset, images: imageFolder.preprocessing(for: reference.network.input)), limit: nil, shard: .whole,
                                                 targetImages: images, jobs: ProcessInfo.processInfo.activeProcessorCount,
                                                 calibrationImages: DeploymentRequest.defaultCalibrationImages,
                                                 floatReference: true, quiet: json, strategy: choice)
            guard let deployment = measured.deployment else { throw CommandFailure(message: "the evaluation ran nothing on the target") }
            result = deployment
            evaluation = measured
            try EvalOutput.write(measured, to: directory)
        } else {
            _ = try choice.apply(to: &request, dataset: nil)
            result = try Deployer.deploy(request, toolchain: Toolchain.locate()) { message in
                if !json { FileHandle.standardError.write(Data("mixq: \(message)\n".utf8)) }
            }
        }
        let data = try result.json()
        try OutputFiles.write(data, to: directory.appendingPathComponent("deploy.json").path, option: "--out")
        if json {
            FileHandle.standardOutput.write((try evaluation?.json() ?? data) + Data("\n".utf8))
        } else {
            print(DeploymentTable.render(result))
            if let evaluation { print("\n" + EvalOutput.render(evaluation)) }
        }
        if !result.fits { throw CommandFailure(message: "\(result.model) under \(result.scheme) \(result.note ?? "does not fit")") }
        if result.bitExact == false {
            throw CommandFailure(message: "the on-target output differs from the host reference")
        }
    }
}

/// The human-readable deployment report.
enum DeploymentTable {
    static func render(_ result: DeploymentResult) -> String {
        let pad = SizeTable.pad, lpad = SizeTable.lpad
        var lines: [String] = []
        let part = result.conditions?.part.flatMap(Part.named) ?? .stm32h743
        lines.append("\(result.model) under \(result.scheme) on the emulated \(part.name) at \(result.clockMhz) MHz")
        if let conditions = result.conditions {
            lines.append("conditions: \(conditions.clockMhz) MHz, FLASH \(conditions.flashWaitStates) wait states, caches "
                         + "\(conditions.caches), timing model \(conditions.timingModel); \(conditions.compiler); "
                         + "\(conditions.flags); weights \(conditions.weights)")
        }
        lines.append("")
        lines.append(pad("layer", 22) + pad("shape", 25) + pad("bits i/w/o", 11) + lpad("MACs", 11) + lpad("cycles", 12)
                     + lpad("MAC/cyc", 8) + lpad("ms", 9) + lpad("share", 7))
        let total = Double(result.totalCycles ?? 0)
        for layer in result.layers {
            let bits = "\(layer.inputBits)/\(layer.weightBits.map(String.init) ?? "-")/\(layer.outputBits)"
            let cycles = layer.cycles.map { Double($0) }
            lines.append(pad(layer.name, 22) + pad("\(layer.inputShape)->\(layer.outputShape)", 25) + pad(bits, 11)
                         + lpad("\(layer.macs)", 11) + lpad(cycles.map { String(format: "%.0f", $0) } ?? "-", 12)
                         + lpad(cycles.map { $0 > 0 && layer.macs > 0 ? String(format: "%.3f", Double(layer.macs) / $0) : "-" } ?? "-", 8)
                         + lpad(cycles.map { String(format: "%.3f", $0 / Double(result.clockMhz) / 1000) } ?? "-", 9)
                         + lpad(cycles.map { total > 0 ? String(format: "%.1f%%", $0 * 100 / total) : "-" } ?? "-", 7))
        }
        lines.append("")
        if let cycles = result.totalCycles, let ms = result.latencyMs {
            lines.append(String(format: "total: %d MACs, %llu cycles, %.3f MAC/cycle, %.2f ms at %d MHz", result.macs, cycles,
                                Double(result.macs) / Double(max(cycles, 1)), ms, result.clockMhz))
        }
        lines.append("planner: weights \(result.weightBytes) B + parameters \(result.paramBytes) B = \(result.flashBytes) B "
                     + "of \(result.flashBudget) B; peak activations \(result.peakActivationBytes) B of \(result.ramBudget) B; "
                     + "\(result.cuts.count) cuts")
        if let flash = result.flashUsed, let ram = result.ramUsed {
            let regions = (flash.merging(ram) { a, _ in a }).sorted { $0.key < $1.key }
            let capacity = Dictionary(uniqueKeysWithValues: part.regions.map { ($0.name, UInt64($0.size)) })
            lines.append("memory from the ELF: " + regions.map { name, used in
                let size = capacity[name] ?? 0
                return String(format: "%@ %llu of %llu B (%.1f%%)", name, used, size, size > 0 ? Double(used) * 100 / Double(size) : 0)
            }.joined(separator: ", "))
        }
        if let exact = result.bitExact {
            lines.append("on-target output vs host reference: " + (exact ? "bit-exact" : "DIFFERENT")
                         + " on \(result.imagesChecked ?? 1) image(s)")
        }
        if let loss = result.conversionLoss {
            let worst = loss.steps.map(\.largestDifference).max() ?? 0
            lines.append("integer vs fake-quantized float (\(loss.images) image(s)): top-1 agreement \(loss.top1Agreements)/\(loss.images), "
                         + "largest logit difference \(loss.largestLogitDifference) LSB end to end, at most \(worst) LSB per layer in isolation")
            for entry in loss.byFlavour {
                lines.append(String(format: "  %@ layers in isolation: at most %d LSB, at most %.2f%% of a layer's codes differ",
                                    entry.flavour, entry.largestDifference, entry.differingFraction * 100))
            }
        }
        if let note = result.note { lines.append(note) }
        return lines.joined(separator: "\n")
    }
}
