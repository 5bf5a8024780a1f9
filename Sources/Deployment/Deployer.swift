import Diagnostics
import Emulator
import FirmwareBuild
import Foundation
import Planning
import Quantization
import Timing

/// What to deploy and how.
public struct DeploymentRequest: Sendable {
    public var network: Network
    public var scheme: QuantizationScheme
    public var budget: MemoryBudget
    public var clockMHz: Int
    /// Where the generated C source and the ELF are written (created if missing; only
    /// MixQ's own files in it are replaced).
    public var outputDirectory: URL?
    /// Seed of the synthetic weights (used when `model` is nil).
    public var seed: UInt64
    /// Float weights to deploy; synthetic ones from `seed` when nil.
    public var model: FloatModel?
    /// Call the kernels' plain C paths instead of the optimized ones.
    public var plainKernels: Bool
    /// Seeded images run on the target and compared with the host reference (when `images` is nil).
    public var imagesChecked: Int
    /// Images (bytes, HWC, encoded by the model's `InputEncoding`) to run on the target instead
    /// of seeded synthetic ones, e.g. from a labelled dataset.
    public var images: [[UInt8]]?
    /// Images to calibrate activation ranges on when the model states none (a float model);
    /// nil for seeded synthetic ones.
    public var calibration: [[UInt8]]?
    /// One requantization flavour for every layer instead of the scheme's choice.
    public var flavour: RequantizationFlavour?
    /// Where the model came from, for the results' conditions (e.g. the file it was imported
    /// from); nil for the seeded synthetic weights.
    public var modelSource: String?
    /// Images for the conversion-loss measurement (0 skips it).
    public var conversionImages: Int
    /// The cycle model the run is timed with.
    public var timing: TimingMode
    /// The microcontroller the firmware is built for and run on: its flags, linker script,
    /// core and memory map.
    public var part: Part = .stm32h743
    /// How the bits were chosen; results name the scheme after it (`PlanningStrategy.label`).
    public var strategy: PlanningStrategy = .paper
    /// The plan to deploy instead of the planner's (e.g. `Evaluation.SensitivitySearch`'s).
    public var chosenPlan: BitWidthPlan?
    /// How ranges the model does not state are chosen.
    public var calibrationMethod: CalibrationMethod = .minMax
    /// Float statistics measured beforehand on `calibration` (so a searched plan is quantized
    /// exactly as it was measured); computed from `calibration` when nil.
    public var calibrationStatistics: CalibrationStatistics?

    public init(network: Network, scheme: QuantizationScheme, budget: MemoryBudget = .stm32h743, clockMHz: Int = 400,
                outputDirectory: URL? = nil, seed: UInt64 = 1, model: FloatModel? = nil, plainKernels: Bool = false,
                imagesChecked: Int = 1, conversionImages: Int = 0, timing: TimingMode = .pipeline) {
        self.network = network
        self.scheme = scheme
        self.budget = budget
        self.clockMHz = clockMHz
        self.outputDirectory = outputDirectory
        self.seed = seed
        self.model = model
        self.plainKernels = plainKernels
        self.imagesChecked = imagesChecked
        self.conversionImages = conversionImages
        self.timing = timing
    }
}

extension DeploymentRequest {
    /// How results name the quantization: the one flavour every layer was given (`pl_fb`,
    /// `pl_icn`, `pc_icn`), else the scheme (`int8`, `mixpl`, `mixpc`).
    public var schemeLabel: String { strategy.label(scheme: flavour?.rawValue ?? scheme.rawValue) }
}

/// A deployment planned and quantized, before code generation: what `mixq eval` runs on the
/// host and `Deployer.run` builds for the target.
public struct PreparedDeployment: Sendable {
    public var request: DeploymentRequest
    public var plan: BitWidthPlan
    /// The float model (synthetic when the request supplies none); nil when the plan does not fit.
    public var model: FloatModel?
    /// The integer-only network; nil when the plan does not fit.
    public var quantized: QuantizedNetwork?
    /// When MixQ re-quantized a TFLite file under its own arithmetic (`mixpl`, `mixpc`, or a
    /// flavour): the file's own integer network exactly as written, the baseline `eval` measures
    /// the loss against. Nil otherwise.
    public var fileNetwork: QuantizedNetwork?
}

/// spec -> plan -> C -> ELF -> run -> result: the whole pipeline for one network.
public enum Deployer {
    /// Plans, quantizes, generates, builds and runs `request` on the emulated STM32H743 and
    /// checks the on-target output against the host reference.
    ///
    /// A plan that does not fit (possible only under `int8`) is returned with `fits == false`
    /// and a note, without building.
    /// - Throws: `PlanningError` when no bit assignment fits, `ToolchainError` when the
    ///   generated code does not compile or link (a region overflow names the region and
    ///   bytes), `EmulatorError` when the firmware faults, `DeploymentError` otherwise.
    public static func deploy(_ request: DeploymentRequest, toolchain: Toolchain,
                              progress: (String) -> Void = { _ in }) throws -> DeploymentResult {
        progress("planning \(request.network.name) (\(request.scheme))")
        return try run(prepare(request), toolchain: toolchain, progress: progress)
    }

    /// Plans and quantizes `request`. A model that states its own bits (trained quantization)
    /// is not planned but checked: its plan is the trained bits, and `plan.fits` says whether
    /// they meet the budget.
    /// - Throws: `PlanningError` when no bit assignment fits, `DeploymentError` when the model
    ///   does not match the network or cannot be quantized.
    public static func prepare(_ request: DeploymentRequest) throws -> PreparedDeployment {
        let network = request.network
        let plan = try request.chosenPlan ?? plan(network, model: request.model, budget: request.budget, scheme: request.scheme,
                                                  flavour: request.flavour)
        guard plan.fits else { return PreparedDeployment(request: request, plan: plan, model: nil, quantized: nil) }
        var model = try request.model ?? FloatModel.synthetic(network: network, seed: request.seed)
        var fileNetwork: QuantizedNetwork?
        if let trained = model.quantization, usesMixQArithmetic(trained, scheme: request.scheme, flavour: request.flavour) {
            // The file's network as written, then its dequantized weights re-quantized by MixQ
            // with activations calibrated on `request.calibration`.
            fileNetwork = try QuantizedNetwork.fileIntegers(
                model, trained: trained,
                plan: try trained.plan(for: network, input: model.input.quantization, budget: request.budget, scheme: .int8, flavour: nil))
            model.quantization = nil
        }
        let quantized = try QuantizedNetwork.quantize(model, plan: plan, calibration: request.calibration, seed: request.seed,
                                                      method: request.calibrationMethod, statistics: request.calibrationStatistics)
        var prepared = PreparedDeployment(request: request, plan: plan, model: model, quantized: quantized)
        prepared.fileNetwork = fileNetwork
        return prepared
    }

    /// Whether a file's stated quantization gives way to MixQ's own arithmetic: a TFLite file under
    /// `mixpl` or `mixpc`, or under `int8` with a flavour (MixQ's PL+FB, PL+ICN or PC+ICN asked
    /// for). Plain `int8` runs a TFLite file exactly as written; a QONNX file's trained bits are
    /// always kept.
    public static func usesMixQArithmetic(_ trained: TrainedQuantization, scheme: QuantizationScheme,
                                          flavour: RequantizationFlavour?) -> Bool {
        trained.arithmetic == .tflite && (scheme != .int8 || flavour != nil)
    }

    /// The plan of `network`: the planner's for built-in and float models; for a model that
    /// states its own bits (trained quantization), those bits, checked against `budget`.
    public static func plan(_ network: Network, model: FloatModel?, budget: MemoryBudget, scheme: QuantizationScheme,
                            flavour: RequantizationFlavour?) throws(PlanningError) -> BitWidthPlan {
        if let model, let trained = model.quantization, !usesMixQArithmetic(trained, scheme: scheme, flavour: flavour) {
            return try trained.plan(for: network, input: model.input.quantization, budget: budget, scheme: scheme, flavour: flavour)
        }
        // MixQ's arithmetic: a final softmax is left out of the integer network
        // (`QuantizedNetwork.omittedSteps`), so the planner sees the logits as the output.
        return try BitWidthPlanner.plan(network.withoutFinalSoftmax, budget: budget, scheme: scheme, flavour: flavour)
    }

    /// Generates, builds and runs a prepared deployment on the emulated STM32H743 and checks the
    /// on-target output against the host reference (see `deploy`).
    public static func run(_ prepared: PreparedDeployment, toolchain: Toolchain,
                           progress: (String) -> Void = { _ in }) throws -> DeploymentResult {
        let request = prepared.request
        let network = request.network
        let plan = prepared.plan
        var result = DeploymentResult(plan: plan, network: network, clockMHz: request.clockMHz)
        result.scheme = request.schemeLabel
        result.strategy = request.strategy.rawValue
        result.calibration = request.calibrationMethod.rawValue
        guard plan.fits, let model = prepared.model, let quantized = prepared.quantized else {
            var reasons: [String] = []
            if !plan.fitsFlash {
                reasons.append("FLASH needs \(plan.flashBytes) B, \(plan.flashBytes - plan.budget.flash) B over the budget")
            }
            if !plan.fitsRAM {
                reasons.append("RAM needs \(plan.peakActivationBytes) B at \(plan.peakActivationLayer ?? "?"), "
                               + "\(plan.peakActivationBytes - plan.budget.ram) B over the budget")
            }
            result.note = "does not fit: " + reasons.joined(separator: "; ")
            return result
        }

        if !quantized.omittedSteps.isEmpty {
            result.note = "left out of the integer network: " + quantized.omittedSteps.joined(separator: ", ")
                + " (a final softmax keeps the order of the logits, so Top-1 and Top-5 do not need it)"
        }
        progress("generating C")
        let generated = try CodeGenerator.generate(quantized, plainKernels: request.plainKernels)
        let part = request.part
        let toolchain = try toolchain.withFlags(from: part.flagsFile)

        let sourceURL = try writeSource(generated.source, for: request)
        progress("building \(sourceURL.lastPathComponent)")
        let kernels = CodeGenerator.kernelFamilies.map { "kernels/\($0).c" }
        let built = try toolchain.build(FirmwareSpec(name: network.name, sources: [sourceURL.path] + kernels,
                                                     includeDirectories: ["kernels"], linkerScript: part.linkerScript))
        if let directory = request.outputDirectory {
            try replaceFile(directory.appendingPathComponent("\(network.name).elf"), with: built.elf)
        }
        let image = try ELFImage(contentsOf: built.elf)
        let size = SizeReport(image: image, part: part)
        result.flashUsed = Dictionary(uniqueKeysWithValues: size.regions.filter { $0.region.kind == .flash }
            .map { ($0.region.name, $0.usedBytes) })
        result.ramUsed = Dictionary(uniqueKeysWithValues: size.regions.filter { $0.region.kind != .flash && $0.usedBytes > 0 }
            .map { ($0.region.name, $0.usedBytes) })
        guard size.fits else {
            let over = size.regions.filter { $0.overflowBytes > 0 }.map { "\($0.region.name) by \($0.overflowBytes) bytes" }
            throw DeploymentError.doesNotFit("\(network.name) does not fit the \(part.name): " + over.joined(separator: ", "))
        }
        guard let arena = image.symbol(named: "mixq_arena") else {
            throw DeploymentError.unexpectedOutput("the ELF has no mixq_arena symbol")
        }

        let machine = try Machine(part: part)
        var bitExact = true
        var stepCycles: [UInt64] = []
        var run: RunResult?
        let images = request.images.map { $0.map(model.input.encode) }
            ?? (0..<max(request.imagesChecked, 1)).map {
                model.input.encode(SyntheticImage.bytes(shape: network.input, seed: request.seed &+ 500 &+ UInt64($0)))
            }
        guard !images.isEmpty else { throw DeploymentError.modelMismatch("no images to run on the target") }
        for (index, pixels) in images.enumerated() {
            guard pixels.count == network.input.elementCount else {
                throw DeploymentError.modelMismatch("image \(index) has \(pixels.count) bytes, the network input \(network.input) needs "
                                                    + "\(network.input.elementCount)")
            }
            progress("running image \(index + 1) of \(images.count) on the emulated \(part.name)")
            // Only the first image is timed; the others check bit-exactness, faster untimed.
            let timing = index == 0 ? request.timing : .off
            let outcome = try machine.run(image, options: RunOptions(clockMHz: request.clockMHz, timing: timing),
                                          inputs: [MemoryWrite(address: arena.address + UInt32(generated.inputOffset), bytes: pixels)])
            guard outcome.exitStatus == 0 else {
                throw DeploymentError.unexpectedOutput("exit status \(outcome.exitStatus): \(outcome.stdout)")
            }
            let last = generated.outputOffsets.count - 1
            let target = try machine.readMemory(at: arena.address + UInt32(generated.outputOffsets[last]),
                                                count: generated.outputBytes[last])
            progress("running the host reference")
            let reference = try HostReference.run(quantized, pixels: pixels)
            let expected = try BitPacking.pack(reference[last], bits: quantized.logits.bits)
            if target != expected { bitExact = false }
            if index == 0 {
                stepCycles = try parseStepCycles(outcome.stdout, steps: generated.stepNames)
                run = outcome
                let hash = String(format: "0x%08x", CodeGenerator.fnv1a(target))
                guard outcome.stdout.contains("fnv1a \(hash)") else {
                    throw DeploymentError.unexpectedOutput("the firmware's output checksum does not match the output in memory")
                }
            }
        }
        for index in result.layers.indices where index < stepCycles.count {
            result.layers[index].cycles = stepCycles[index]
        }
        let total = stepCycles.reduce(0, +)
        result.totalCycles = total
        result.latencyMs = Double(total) / Double(request.clockMHz) / 1000
        result.bitExact = bitExact
        result.imagesChecked = images.count
        if request.conversionImages > 0 {
            progress("measuring the conversion loss")
            result.conversionLoss = try ConversionLoss.measure(quantized, images: request.conversionImages, seed: request.seed &+ 500)
        }
        result.conditions = DeploymentResult.Conditions(
            clockMhz: request.clockMHz, flashWaitStates: part.flashWaitStates[request.clockMHz] ?? 0,
            caches: part.caches == .artAccelerator ? "ART accelerator on the FLASH interface, no L1 caches"
                : "L1 I- and D-cache enabled by the generated firmware (they matter under full timing)",
            timingModel: run.map { $0.timing.summary(core: part.core) } ?? "none",
            compiler: toolchain.compilerVersion, flags: toolchain.compileFlags.joined(separator: " "),
            weights: request.model == nil ? "synthetic, seed \(request.seed)" : (request.modelSource ?? "supplied"),
            part: part.name)
        return result
    }

    /// `step <i> <name> cycles <n>` lines, one per step, in order.
    static func parseStepCycles(_ stdout: String, steps: [String]) throws(DeploymentError) -> [UInt64] {
        var cycles = [UInt64?](repeating: nil, count: steps.count)
        for line in stdout.split(separator: "\n") where line.hasPrefix("step ") {
            let fields = line.split(separator: " ")
            guard fields.count == 5, let index = Int(fields[1]), index < steps.count, fields[3] == "cycles",
                  let value = UInt64(fields[4]) else { continue }
            cycles[index] = value
        }
        guard cycles.allSatisfy({ $0 != nil }) else {
            throw .unexpectedOutput("the firmware did not report the cycles of every step:\n\(stdout)")
        }
        return cycles.compactMap { $0 }
    }

    /// Writes the generated source into the output folder, or a private temporary folder.
    private static func writeSource(_ source: String, for request: DeploymentRequest) throws(DeploymentError) -> URL {
        let directory = request.outputDirectory
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("mixq-deploy-\(request.network.name)-\(request.scheme)")
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw .cannotWrite(path: directory.path, reason: "it is a file, not a folder; choose another --out")
        }
        let url = directory.appendingPathComponent("\(request.network.name).c")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data(source.utf8).write(to: url, options: .atomic)
        } catch {
            throw .cannotWrite(path: url.path, reason: SystemErrorText.reason(error))
        }
        return url
    }

    /// Copies `source` over `destination` atomically (copy beside it, then rename(2)).
    private static func replaceFile(_ destination: URL, with source: URL) throws(DeploymentError) {
        let temporary = destination.deletingLastPathComponent().appendingPathComponent(".\(destination.lastPathComponent).tmp")
        try? FileManager.default.removeItem(at: temporary)
        do {
            try FileManager.default.copyItem(at: source, to: temporary)
        } catch {
            throw .cannotWrite(path: temporary.path, reason: SystemErrorText.reason(error))
        }
        guard rename(temporary.path, destination.path) == 0 else {
            throw .cannotWrite(path: destination.path, reason: String(cString: strerror(errno)))
        }
    }
}
