import ArgumentParser
import Deployment
import Emulator
import FirmwareBuild
import Foundation
import Planning
import Reports
import Timing

/// `mixq bench network`: whole-network cycles and MAC/cycle of built-in MobilenetV1 variants
/// under each scheme and cycle model, with per-layer-kind subtotals (NetworkBenchmark).
struct BenchNetwork: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "network",
        abstract: "Whole-network cycles and MAC/cycle of MobilenetV1 variants under each scheme and cycle model (JSON).",
        discussion: """
            Deploys each network as `mixq deploy` does (seeded synthetic weights, the generated \
            firmware turns the L1 caches on), checks it bit-exact against the host reference and \
            prints totals, subtotals per layer kind (conv, depthwise, pointwise, fc, pool), the \
            costliest layers, the peak activation RAM and the goals of docs/kernels.md.
            """
    )

    @Option(help: "Built-in models, comma-separated.")
    var models: String = NetworkBenchmark.defaultModels.joined(separator: ",")

    @Option(help: "Schemes, comma-separated (int8, mixpl, mixpc).")
    var schemes: String = QuantizationScheme.allCases.map(\.rawValue).joined(separator: ",")

    @Option(help: "Cycle models, comma-separated (pipeline, full).")
    var timings: String = "pipeline,full"

    @Option(help: ArgumentHelp(SharedOption.partHelp, valueName: "part"))
    var part: String = "stm32h743"

    @Option(name: .customLong("clock-mhz"), help: ArgumentHelp(SharedOption.clockHelp + " Other parts: their maximum by default."))
    var clockMHz: Int?

    @Flag(help: "Print JSON (the only format; accepted for symmetry).")
    var json = false

    private func list(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func validate() throws {
        let part = try SharedOption.part(named: self.part)
        try SharedOption.validateClock(clockMHz ?? part.defaultClockMHz, on: part)
        guard !list(models).isEmpty else { throw ValidationError("--models names no model") }
        for model in list(models) where !BuiltInModels.names.contains(model) {
            throw ValidationError("--models: '\(model)' is not a built-in model; use one of \(MobilenetV1.namedVariants.map(\.name).joined(separator: ", "))")
        }
        for scheme in list(schemes) where QuantizationScheme(rawValue: scheme) == nil {
            throw ValidationError("--schemes: '\(scheme)' is not a scheme; use int8, mixpl or mixpc")
        }
        for timing in list(timings) where TimingMode(rawValue: timing) == nil || timing == "off" {
            throw ValidationError("--timings: '\(timing)' is not a cycle model; use pipeline or full")
        }
        guard !list(schemes).isEmpty, !list(timings).isEmpty else { throw ValidationError("--schemes and --timings must name at least one") }
    }

    func run() throws {
        let part = Part.named(self.part) ?? .stm32h743
        let report: NetworkBenchmark.Report
        do {
            report = try NetworkBenchmark.run(
                models: list(models), schemes: list(schemes).compactMap(QuantizationScheme.init(rawValue:)),
                timings: list(timings).compactMap(TimingMode.init(rawValue:)), part: part, clockMHz: clockMHz,
                toolchain: Toolchain.locate(flagsFile: part.flagsFile)) { message in
                    FileHandle.standardError.write(Data("mixq: \(message)\n".utf8))
                }
        } catch {
            throw CommandFailure(error)
        }
        let published: [PublishedLatency]
        do {
            published = try PublishedLatency.shipped().filter { $0.benchmark == "vww" }
        } catch {
            throw CommandFailure(error)
        }
        let output = BenchNetworkOutput(conditions: report.conditions, entries: report.entries, targets: report.targets,
                                        publishedVisualWakeWords: published.map(PublishedFigure.init))
        let encoder = DeploymentResult.contractEncoder()
        FileHandle.standardOutput.write(try encoder.encode(output) + Data("\n".utf8))
    }
}

/// The JSON of `mixq bench network`: the benchmark's report and, beside it, the published MLPerf
/// Tiny visual-wake-words figures (MobilenetV1 0.25 at 96x96, the class of mobilenet_v1_0.25_96)
/// as cycles and MAC/cycle on their boards (Sources/Reports/Resources/published_latency.csv).
struct BenchNetworkOutput: Encodable {
    var conditions: NetworkBenchmark.Conditions
    var entries: [NetworkBenchmark.Entry]
    var targets: NetworkBenchmark.Targets
    var publishedVisualWakeWords: [PublishedFigure]
}

struct PublishedFigure: Encodable {
    var board: String
    var core: String
    var clockMhz: Int
    var stack: String
    var round: String
    var latencyMs: Double
    var cycles: Int
    var macPerCycle: Double
    var source: String

    init(_ row: PublishedLatency) {
        board = row.board
        core = row.core
        clockMhz = row.clockMhz
        stack = row.stack
        round = row.round
        latencyMs = row.latencyMs
        cycles = Int(row.cycles.rounded())
        macPerCycle = (row.macPerCycle * 1000).rounded() / 1000
        source = row.source
    }
}
