import Emulator
import FirmwareBuild
import Foundation
import Planning
import Timing

/// Whole-network speed: deploys built-in networks under each scheme and cycle model and sums
/// their cycles per layer kind (`mixq bench network`). Every run is a full deployment
/// (`Deployer`): planned, quantized with seeded synthetic weights, generated, built, run on the
/// emulated part with the caches the generated firmware enables, and checked byte for byte
/// against the host reference.
public enum NetworkBenchmark {
    /// The networks of the benchmark: the MLPerf Tiny visual-wake-words class (0.25 at 96x96),
    /// two narrow ImageNet models and the full-size one.
    public static let defaultModels = ["mobilenet_v1_0.25_96", "mobilenet_v1_0.25_128", "mobilenet_v1_0.5_160",
                                       "mobilenet_v1_1.0_224"]

    /// Layer kinds the subtotals are grouped by, in this order.
    public static let kinds = ["conv", "depthwise", "pointwise", "fc", "pool"]

    /// Peak activation RAM published for X-CUBE-AI on MobilenetV1 0.25 at 96x96 int8: 66.96 KiB
    /// (STMicroelectronics stm32ai-modelzoo, image_classification, MobilenetV1 README, "Reference
    /// MCU memory footprint" table, column "Activation RAM").
    public static let publishedPeakActivationBytes = 68_567   // 66.96 KiB = 68,567 B

    /// The cycles and MACs of one layer kind in one run.
    public struct KindTotal: Sendable, Codable, Equatable {
        public var kind: String
        public var layers: Int
        public var macs: Int
        public var cycles: UInt64
        /// MACs per cycle (0 for pooling, which counts no MACs).
        public var macPerCycle: Double
        /// Fraction of the network's cycles.
        public var share: Double
    }

    /// One network under one scheme and one cycle model.
    public struct Entry: Sendable, Codable {
        public var model: String
        public var scheme: String
        public var timing: String
        public var fits: Bool
        public var macs: Int
        public var cycles: UInt64?
        public var macPerCycle: Double?
        public var latencyMs: Double?
        public var bitExact: Bool?
        /// The planner's peak of input plus output bytes over the layers.
        public var peakActivationBytes: Int
        /// Bytes of the activation arena the generated firmware reserves (AXI SRAM, from the ELF).
        public var arenaBytes: UInt64?
        public var kinds: [KindTotal]
        /// The five layers with the most cycles: name, kind, MACs, cycles, MAC/cycle.
        public var costliestLayers: [Layer]
        /// Why the network was not run (it does not fit), when it was not.
        public var note: String?

        public struct Layer: Sendable, Codable {
            public var name: String
            public var kind: String
            public var bits: String
            public var macs: Int
            public var cycles: UInt64
            public var macPerCycle: Double
        }
    }

    /// The conditions every figure was measured under.
    public struct Conditions: Sendable, Codable {
        public var part: String
        public var clockMhz: Int
        public var flashWaitStates: Int
        public var caches: String
        public var cycleModels: [String: String]
        public var compiler: String
        public var flags: String
        public var weights: String
        public var placement: String
    }

    /// The goals, measured (H743, `full`, caches on).
    public struct Targets: Sendable, Codable {
        public struct Goal: Sendable, Codable {
            public var goal: String
            public var measured: Double?
            public var target: Double
            public var met: Bool
        }
        public var goals: [Goal]
        /// Runs where mixpl or mixpc is slower than int8 on the same network and cycle model.
        public var mixedSlowerThanInt8: [String]
        /// Peak activation RAM of mobilenet_v1_0.25_96 int8 (the planner's), and X-CUBE-AI's.
        public var peakActivationBytes096: Int?
        public var publishedPeakActivationBytes: Int
    }

    public struct Report: Sendable, Codable {
        public var conditions: Conditions
        public var entries: [Entry]
        public var targets: Targets
    }

    /// Deploys every model under every scheme and timing; the plan, weights and firmware are
    /// shared by the timings of one (model, scheme).
    /// - Throws: what `Deployer` throws; a deployment that is not bit-exact is reported, not thrown.
    public static func run(models: [String] = defaultModels, schemes: [QuantizationScheme] = QuantizationScheme.allCases,
                           timings: [TimingMode] = [.pipeline, .full], part: Part = .stm32h743, clockMHz: Int? = nil,
                           toolchain: Toolchain, progress: (String) -> Void = { _ in }) throws -> Report {
        let clock = clockMHz ?? part.defaultClockMHz
        var entries: [Entry] = []
        var conditions: DeploymentResult.Conditions?
        for model in models {
            let network = try BuiltInModels.network(named: model)
            for scheme in schemes {
                var request = DeploymentRequest(network: network, scheme: scheme,
                                                budget: try MemoryBudget(flash: part.flashBudget, ram: part.ramBudget), clockMHz: clock)
                request.part = part
                progress("planning \(model) under \(scheme)")
                var prepared = try Deployer.prepare(request)
                for timing in timings {
                    prepared.request.timing = timing
                    progress("\(model) \(scheme) \(timing.rawValue)")
                    let result = try Deployer.run(prepared, toolchain: toolchain)
                    if let measured = result.conditions { conditions = measured }
                    entries.append(entry(result, timing: timing))
                }
            }
        }
        let first = conditions
        return Report(
            conditions: Conditions(
                part: part.name, clockMhz: clock, flashWaitStates: part.flashWaitStates[clock] ?? 0,
                caches: first?.caches ?? "as the generated firmware sets them",
                cycleModels: Dictionary(uniqueKeysWithValues: timings.map { ($0.rawValue, $0.summary(core: part.core)) }),
                compiler: first?.compiler ?? toolchain.compilerVersion,
                flags: first?.flags ?? toolchain.compileFlags.joined(separator: " "),
                weights: first?.weights ?? "synthetic, seed 1",
                placement: "weights and parameters FLASH, activation arena AXI SRAM (.axisram), stack and kernel scratch DTCM"),
            entries: entries, targets: targets(entries))
    }

    /// One run's entry: totals, per-kind subtotals and the costliest layers.
    static func entry(_ result: DeploymentResult, timing: TimingMode) -> Entry {
        var kinds: [KindTotal] = []
        let total = result.totalCycles ?? 0
        let others = result.layers.map(\.kind).filter { !Self.kinds.contains($0) }
        for kind in Self.kinds + others.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } } {
            let layers = result.layers.filter { $0.kind == kind }
            guard !layers.isEmpty else { continue }
            let macs = layers.reduce(0) { $0 + $1.macs }
            let cycles = layers.reduce(UInt64(0)) { $0 + ($1.cycles ?? 0) }
            kinds.append(KindTotal(kind: kind, layers: layers.count, macs: macs, cycles: cycles,
                                   macPerCycle: rounded(cycles > 0 ? Double(macs) / Double(cycles) : 0),
                                   share: rounded(total > 0 ? Double(cycles) / Double(total) : 0)))
        }
        let costliest = result.layers.filter { $0.cycles != nil }.sorted { ($0.cycles ?? 0) > ($1.cycles ?? 0) }.prefix(5).map {
            Entry.Layer(name: $0.name, kind: $0.kind, bits: "\($0.inputBits)/\($0.weightBits.map(String.init) ?? "-")/\($0.outputBits)",
                        macs: $0.macs, cycles: $0.cycles ?? 0,
                        macPerCycle: rounded(($0.cycles ?? 0) > 0 ? Double($0.macs) / Double($0.cycles ?? 1) : 0))
        }
        return Entry(model: result.model, scheme: result.scheme, timing: timing.rawValue, fits: result.fits, macs: result.macs,
                     cycles: result.totalCycles,
                     macPerCycle: result.totalCycles.map { rounded($0 > 0 ? Double(result.macs) / Double($0) : 0) },
                     latencyMs: result.latencyMs.map { ($0 * 1000).rounded() / 1000 }, bitExact: result.bitExact,
                     peakActivationBytes: result.peakActivationBytes,
                     arenaBytes: result.ramUsed?.first { $0.key.caseInsensitiveCompare("AXI SRAM") == .orderedSame }?.value,
                     kinds: kinds, costliestLayers: Array(costliest), note: result.note)
    }

    /// The goals of docs/kernels.md ("Whole networks"), measured under `full`.
    static func targets(_ entries: [Entry]) -> Targets {
        func figure(_ model: String, _ scheme: String) -> Double? {
            entries.first { $0.model == model && $0.scheme == scheme && $0.timing == TimingMode.full.rawValue }?.macPerCycle
        }
        let wanted: [(String, String, Double)] = [
            ("mobilenet_v1_0.25_96", "int8", 1.2), ("mobilenet_v1_0.25_128", "int8", 1.15), ("mobilenet_v1_1.0_224", "mixpc", 1.1),
        ]
        let goals = wanted.map { model, scheme, target in
            let measured = figure(model, scheme)
            return Targets.Goal(goal: "\(model) \(scheme) full >= \(target) MAC/cycle", measured: measured, target: target,
                                met: (measured ?? 0) >= target)
        }
        var slower: [String] = []
        for entry in entries where entry.scheme != "int8" {
            guard let mixed = entry.cycles,
                  let int8 = entries.first(where: { $0.model == entry.model && $0.scheme == "int8" && $0.timing == entry.timing })?.cycles,
                  mixed > int8 else { continue }
            slower.append("\(entry.model) \(entry.scheme) \(entry.timing): \(mixed) cycles vs int8 \(int8)")
        }
        let peak = entries.first { $0.model == "mobilenet_v1_0.25_96" && $0.scheme == "int8" }?.peakActivationBytes
        return Targets(goals: goals, mixedSlowerThanInt8: slower, peakActivationBytes096: peak,
                       publishedPeakActivationBytes: publishedPeakActivationBytes)
    }

    private static func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}
