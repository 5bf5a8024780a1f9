import ArgumentParser
import Deployment
import Emulator
import FirmwareBuild
import Foundation
import Timing

/// `mixq bench kernels`: MACs per cycle of every kernel family, bit combination and flavour on
/// the emulated Cortex-M7 (pipeline timing), weights in FLASH, activations in AXI SRAM, scratch
/// in DTCM.
struct BenchKernels: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "MAC/cycle of each kernel and bit combination on the emulated Cortex-M7 (JSON)."
    )

    @Option(help: "Cycle model: pipeline or full (not off: cycles are what this benchmark measures).")
    var timing: TimingMode = .pipeline

    @Option(help: ArgumentHelp(SharedOption.partHelp + " The kernels are built with its flags and linker script.",
                               valueName: "part"))
    var part: String = "stm32h743"

    @Option(name: .customLong("clock-mhz"), help: ArgumentHelp(SharedOption.clockHelp + " Other parts: their maximum by default."))
    var clockMHz: Int?

    private var emulatedPart: Part { Part.named(part) ?? .stm32h743 }
    private var clock: Int { clockMHz ?? emulatedPart.defaultClockMHz }

    @Option(help: "Also write the results as a Markdown table to this file.")
    var markdown: String?

    @Flag(help: "Print JSON (the only format on stdout; accepted for symmetry).")
    var json = false

    func validate() throws {
        guard timing != .off else { throw ValidationError("--timing must be pipeline or full: cycles are the point") }
        let part = try SharedOption.part(named: self.part)
        try SharedOption.validateClock(clock, on: part)
    }

    func run() throws {
        if let markdown { try OutputFiles.checkWritable(markdown, option: "--markdown") }
        let part = emulatedPart
        let toolchain = try Toolchain.locate(flagsFile: part.flagsFile)
        let folder = toolchain.cacheDirectory.appendingPathComponent("bench", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let source = folder.appendingPathComponent("kernel_bench.c")
        try Data(KernelBenchmark.source().utf8).write(to: source, options: .atomic)
        let kernels = ["conv", "depthwise", "pointwise", "fc", "pool"].map { "kernels/\($0).c" }
        let built = try toolchain.build(FirmwareSpec(name: "kernel_bench", sources: [source.path] + kernels,
                                                     includeDirectories: ["kernels"], linkerScript: part.linkerScript))
        let image = try ELFImage(contentsOf: built.elf)
        let result = try Machine(part: part).run(image, options: RunOptions(clockMHz: clock, timing: timing))
        guard result.exitStatus == 0 else {
            throw CommandFailure(message: "the kernel benchmark firmware failed (status \(result.exitStatus)): \(result.stdout)")
        }
        let measurements = KernelBenchmark.parse(result.stdout)
        let compiler = FirmwareCompiler(builtBy: toolchain)
        let report = KernelBenchReport(
            conditions: .init(part: part.name, clockMHz: clock, timingModel: timing.summary(core: part.core),
                              placement: part == .stm32h743 ? "weights FLASH, activations AXI SRAM, scratch DTCM"
                                  : "weights FLASH, activations and scratch as \(part.linkerScript) places .axisram and .dtcm_data",
                              caches: "off (the benchmark does not enable them)", compiler: compiler.compiler,
                              flags: compiler.flags),
            results: measurements, targets: KernelTargets(measurements))
        try JSONOutput.print(report)
        if let markdown {
            try OutputFiles.write(Data(report.markdown().utf8), to: markdown, option: "--markdown")
        }
    }
}

struct KernelBenchReport: Encodable {
    struct Conditions: Encodable {
        var part: String
        var clockMHz: Int
        var timingModel: String
        var placement: String
        var caches: String
        var compiler: String
        var flags: String
        enum CodingKeys: String, CodingKey {
            case part, clockMHz = "clock_mhz", timingModel = "timing_model", placement, caches, compiler, flags
        }
    }
    var conditions: Conditions
    var results: [KernelBenchmark.Measurement]
    var targets: KernelTargets

    enum CodingKeys: String, CodingKey { case conditions, results, targets }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(conditions, forKey: .conditions)
        try container.encode(results.map(ResultRow.init), forKey: .results)
        try container.encode(targets, forKey: .targets)
    }

    struct ResultRow: Encodable {
        var layer: String
        var input_bits: Int
        var weight_bits: Int?
        var output_bits: Int
        var flavour: String?
        var macs: Int
        var cycles: UInt64
        var mac_per_cycle: Double
        init(_ m: KernelBenchmark.Measurement) {
            layer = m.layer; input_bits = m.inputBits; weight_bits = m.weightBits; output_bits = m.outputBits
            flavour = m.flavour; macs = m.macs; cycles = m.cycles; mac_per_cycle = (m.macPerCycle * 1000).rounded() / 1000
        }

        /// Every key always present (`null` where pooling has no weights or flavour).
        func encode(to encoder: Encoder) throws {
            enum Key: String, CodingKey { case layer, input_bits, weight_bits, output_bits, flavour, macs, cycles, mac_per_cycle }
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(layer, forKey: .layer)
            try c.encode(input_bits, forKey: .input_bits)
            try c.encode(weight_bits, forKey: .weight_bits)
            try c.encode(output_bits, forKey: .output_bits)
            try c.encode(flavour, forKey: .flavour)
            try c.encode(macs, forKey: .macs)
            try c.encode(cycles, forKey: .cycles)
            try c.encode(mac_per_cycle, forKey: .mac_per_cycle)
        }
    }

    func markdown() -> String {
        var lines = ["# Kernel benchmark (`mixq bench kernels`)", "",
                     "Conditions: \(conditions.part == Part.stm32h743.name ? "" : conditions.part + ", ")\(conditions.clockMHz) MHz, timing model \(conditions.timingModel); \(conditions.placement); "
                         + "caches \(conditions.caches); \(conditions.compiler); `\(conditions.flags)`.", "",
                     "Targets (docs/design.md#goals-and-how-they-are-measured): " + targets.summary, "",
                     "| layer | in | w | out | flavour | MACs | cycles | MAC/cycle |", "|---|---:|---:|---:|---|---:|---:|---:|"]
        for m in results {
            lines.append("| \(m.layer) | \(m.inputBits) | \(m.weightBits.map(String.init) ?? "-") | \(m.outputBits) | \(m.flavour ?? "-") | "
                         + "\(m.macs) | \(m.cycles) | \(String(format: "%.3f", m.macPerCycle)) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// MixQ's kernel targets (docs/design.md#goals-and-how-they-are-measured), measured: 8-bit
/// pointwise >= 0.8 MAC/cycle, 8-bit depthwise >= 0.25, and
/// every sub-byte combination within 15% of the 8-bit figure of its layer (same flavour).
struct KernelTargets: Encodable {
    var pointwise8bit: Double
    var depthwise8bit: Double
    var pointwiseMet: Bool
    var depthwiseMet: Bool
    /// Sub-byte combinations slower than 85% of their layer's 8/8/8 figure.
    var subByteBelow85Percent: [String]
    /// The narrow-network goals (docs/kernels.md, "Goals at the narrow end"), 8-bit, PC+ICN.
    var narrow: [NarrowGoal]
    /// Sub-byte combinations slower than their layer's 8/8/8 figure (same flavour).
    var subByteSlowerThan8Bit: [String]

    struct NarrowGoal: Encodable {
        var goal: String
        var measured: Double
        var target: Double
        var met: Bool
    }

    init(_ results: [KernelBenchmark.Measurement]) {
        func eightBit(_ layer: String, _ flavour: String?) -> Double {
            results.first { $0.layer == layer && $0.inputBits == 8 && ($0.weightBits ?? 8) == 8 && $0.outputBits == 8 && $0.flavour == flavour }?
                .macPerCycle ?? 0
        }
        pointwise8bit = eightBit("pointwise", "pc_icn")
        depthwise8bit = eightBit("depthwise", "pc_icn")
        pointwiseMet = pointwise8bit >= 0.8
        depthwiseMet = depthwise8bit >= 0.25
        subByteBelow85Percent = results.filter { m in
            m.layer != "pool" && (m.inputBits < 8 || (m.weightBits ?? 8) < 8 || m.outputBits < 8)
                && m.macPerCycle < 0.85 * eightBit(m.layer, m.flavour)
        }.map { "\($0.layer) \($0.inputBits)/\($0.weightBits ?? 0)/\($0.outputBits) \($0.flavour ?? "-") "
            + String(format: "%.3f", $0.macPerCycle) }
        let goals: [(String, String, Double)] = [
            ("conv", "first-layer 3-channel convolution", 0.7), ("pointwise", "pointwise 128 -> 128", 1.2),
            ("pointwise_16_32", "pointwise 16 -> 32", 1.0), ("depthwise", "depthwise 28x28x128", 0.6),
            ("depthwise_6x6x128", "depthwise 6x6x128", 0.6),
        ]
        narrow = goals.compactMap { layer, label, target in
            guard results.contains(where: { $0.layer == layer }) else { return nil }
            let measured = eightBit(layer, "pc_icn")
            return NarrowGoal(goal: "\(label) 8-bit >= \(target) MAC/cycle", measured: measured, target: target, met: measured >= target)
        }
        subByteSlowerThan8Bit = results.filter { m in
            m.layer != "pool" && (m.inputBits < 8 || (m.weightBits ?? 8) < 8 || m.outputBits < 8)
                && m.macPerCycle < eightBit(m.layer, m.flavour)
        }.map { "\($0.layer) \($0.inputBits)/\($0.weightBits ?? 0)/\($0.outputBits) \($0.flavour ?? "-") "
            + String(format: "%.3f", $0.macPerCycle) }
    }

    var summary: String {
        String(format: "8-bit pointwise %.3f MAC/cycle (target 0.8: %@), 8-bit depthwise %.3f (target 0.25: %@), "
               + "%d sub-byte combinations below 85%% of their 8-bit figure",
               pointwise8bit, pointwiseMet ? "met" : "not met", depthwise8bit, depthwiseMet ? "met" : "not met",
               subByteBelow85Percent.count)
            + "; narrow end: " + narrow.map { String(format: "%@ %.3f (%@)", $0.goal, $0.measured, $0.met ? "met" : "not met") }
                .joined(separator: ", ")
            + "; \(subByteSlowerThan8Bit.count) sub-byte combinations slower than 8-bit"
    }

    enum CodingKeys: String, CodingKey {
        case pointwise8bit = "pointwise_8bit_mac_per_cycle", depthwise8bit = "depthwise_8bit_mac_per_cycle"
        case pointwiseMet = "pointwise_target_met", depthwiseMet = "depthwise_target_met"
        case subByteBelow85Percent = "sub_byte_below_85_percent"
        case narrow = "narrow_goals", subByteSlowerThan8Bit = "sub_byte_slower_than_8bit"
    }
}
