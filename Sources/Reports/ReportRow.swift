import Foundation

/// One line of every table: a deployment result, its memory against the device, its speed,
/// and its Top-1 with provenance.
public struct ReportRow: Sendable, Equatable {
    /// Where a memory figure comes from.
    public enum MemoryBasis: String, Sendable, Codable {
        /// Measured from the built ELF (`flash_used` / `ram_used`).
        case elf
        /// The planner's accounting (the model was not built, typically because it does not fit).
        case plan
    }

    public var model: String
    public var scheme: String
    /// The device the result is for (`DeploymentRecord.device`); capacities are this device's.
    public var device: String
    /// Weight tensors per bit-width, e.g. `8x20 4x7 2x1` (layers without weights not counted).
    public var weightBits: String
    /// Activation tensors (the network input and every layer's output) per bit-width.
    public var activationBits: String
    public var weightBytes: Int
    public var paramBytes: Int
    public var peakActivationBytes: Int
    /// FLASH bytes: measured from the ELF when built, else the plan's weights + parameters.
    public var flashBytes: Int
    public var flashCapacity: Int
    public var flashBasis: MemoryBasis
    /// Bytes of the device's RAM region (AXI SRAM) measured, else the plan's peak activations.
    public var ramBytes: Int
    public var ramCapacity: Int
    public var ramBasis: MemoryBasis
    /// All RAM regions measured from the ELF (DTCM, AXI SRAM, ...), when built.
    public var ramTotalBytes: Int?
    public var fits: Bool
    public var bitExact: Bool?
    public var macs: Int?
    public var cycles: Int?
    public var clockMHz: Double?
    public var latencyMs: Double?
    public var top1: Double?
    /// The figure's citation, or why there is none.
    public var top1Source: String
    /// `published`, `user`, or nil when there is no figure.
    public var top1Origin: AccuracyTable.Origin?
    /// The dataset `top1` was measured on (ImageNet for published figures).
    public var top1Dataset: String?
    /// Whether the row is on the latency-accuracy Pareto front (fitting rows with latency and Top-1 only).
    public var onParetoFront: Bool
    /// The result file the row comes from.
    public var sourceFile: String
    /// Why the pair was not built or run, as the result says.
    public var note: String?

    /// The text a row without a figure carries in its source column.
    public static let noFigure = "no published figure"

    /// Builds the row of `result` (read from `sourceFile`) with its figure from `accuracy`,
    /// measured against `device` (by default the capacities of the result's own device).
    public init(result: DeploymentRecord, sourceFile: String, accuracy: AccuracyTable,
                device: DeviceCapacity? = nil) {
        let device = device ?? DeviceCapacity.of(result.device, flashBudget: result.flashBudget, ramBudget: result.ramBudget)
        model = result.model
        scheme = result.scheme
        self.device = result.device
        weightBits = Self.histogram(result.layers.compactMap(\.weightBits))
        activationBits = Self.histogram((result.layers.first.map { [$0.inputBits] } ?? []) + result.layers.map(\.outputBits))
        weightBytes = result.weightBytes
        paramBytes = result.paramBytes
        peakActivationBytes = result.peakActivationBytes

        if let flash = result.flashUsed, !flash.isEmpty {
            flashBytes = flash.values.reduce(0) { $0 + $1.used }
            let capacities = flash.values.compactMap(\.capacity)
            flashCapacity = capacities.count == flash.count ? capacities.reduce(0, +) : device.flash
            flashBasis = .elf
        } else {
            flashBytes = result.flashBytes
            flashCapacity = device.flash
            flashBasis = .plan
        }
        let ramRegion = result.ramUsed?.first { $0.key.caseInsensitiveCompare(device.ramRegion) == .orderedSame }?.value
        if let ramRegion {
            ramBytes = ramRegion.used
            ramCapacity = ramRegion.capacity ?? device.ram
            ramBasis = .elf
        } else {
            ramBytes = result.peakActivationBytes
            ramCapacity = device.ram
            ramBasis = .plan
        }
        ramTotalBytes = result.ramUsed.flatMap { $0.isEmpty ? nil : $0.values.reduce(0) { $0 + $1.used } }
        fits = result.fits
        bitExact = result.bitExact
        macs = result.effectiveMACs
        cycles = result.effectiveTotalCycles
        clockMHz = result.effectiveClockMHz
        latencyMs = result.effectiveLatencyMs
        if let figure = accuracy.figure(model: result.model, scheme: result.scheme) {
            top1 = figure.top1
            top1Source = figure.source
            top1Origin = figure.origin
            top1Dataset = figure.dataset
        } else {
            top1 = nil
            top1Source = Self.noFigure
            top1Origin = nil
            top1Dataset = nil
        }
        onParetoFront = false
        self.sourceFile = sourceFile
        note = result.note
    }

    /// Weight and activation bits together, e.g. `w 8x20 4x7 2x1; a 8x25 4x3`.
    public var bitsSummary: String { "w \(weightBits); a \(activationBits)" }

    /// MACs per cycle, when both are known.
    public var macsPerCycle: Double? {
        guard let macs, let cycles, cycles > 0 else { return nil }
        return Double(macs) / Double(cycles)
    }

    public var flashPercent: Double { Double(flashBytes) * 100 / Double(max(flashCapacity, 1)) }
    public var ramPercent: Double { Double(ramBytes) * 100 / Double(max(ramCapacity, 1)) }

    /// Whether the row takes part in the Pareto front: it fits, ran, and has a Top-1.
    public var isParetoCandidate: Bool { fits && latencyMs != nil && top1 != nil }

    /// `8x20 4x7 2x1`: how many tensors have each bit-width, widest first.
    static func histogram(_ bits: [Int]) -> String {
        guard !bits.isEmpty else { return "-" }
        var counts: [Int: Int] = [:]
        for width in bits { counts[width, default: 0] += 1 }
        return counts.keys.sorted(by: >).map { "\($0)x\(counts[$0] ?? 0)" }.joined(separator: " ")
    }
}

/// Fixed number formats, so that every output is byte-for-byte the same from run to run.
enum Format {
    static func fixed(_ value: Double, _ decimals: Int) -> String {
        String(format: "%.\(decimals)f", value)
    }

    static func optional(_ value: Double?, _ decimals: Int, none: String = "") -> String {
        value.map { fixed($0, decimals) } ?? none
    }

    static func optional(_ value: Int?, none: String = "") -> String {
        value.map(String.init) ?? none
    }
}
