import Foundation

/// One deployment of one (model, scheme) pair on one device as a results folder stores it: the JSON of
/// `mixq deploy --json`, which `mixq sweep` writes one file per pair (docs/results-format.md).
/// Reports reads this JSON only; it does not link the Deployment module that writes it.
///
/// The plan half (the keys of `mixq plan --json`) is always present: `model`, `scheme`,
/// `flash_budget`, `ram_budget`, `weight_bytes`, `param_bytes`, `flash_bytes`,
/// `peak_activation_bytes`, `fits`, `layers` (and `cuts`, kept as read). The run half is
/// optional, because a model that does not fit is never built or run: `total_cycles`,
/// `latency_ms`, `clock_mhz`, `flash_used`, `ram_used`, `bit_exact`, `macs`, `conditions`,
/// `note` and per-layer `macs` and `cycles`. Unknown fields (`images_checked`,
/// `conversion_loss`, per-layer shapes) are ignored.
public struct DeploymentRecord: Codable, Sendable, Equatable {
    /// One layer in network order.
    public struct Layer: Codable, Sendable, Equatable {
        public var name: String
        /// `conv`, `depthwise`, `pointwise`, `fc`, or `pool` (global average pooling).
        public var kind: String
        public var inputBits: Int
        /// Absent for layers without weights (global average pooling, kind `pool`).
        public var weightBits: Int?
        public var outputBits: Int
        public var weightBytes: Int
        /// Input plus output activation bytes (the planner's memory model).
        public var activationBytes: Int
        public var macs: Int?
        /// Cycles the layer took on the emulated device (absent when it did not run).
        public var cycles: Int?

        public init(name: String, kind: String, inputBits: Int, weightBits: Int?, outputBits: Int,
                    weightBytes: Int, activationBytes: Int, macs: Int? = nil, cycles: Int? = nil) {
            self.name = name
            self.kind = kind
            self.inputBits = inputBits
            self.weightBits = weightBits
            self.outputBits = outputBits
            self.weightBytes = weightBytes
            self.activationBytes = activationBytes
            self.macs = macs
            self.cycles = cycles
        }

        enum CodingKeys: String, CodingKey {
            case name, kind, macs, cycles
            case inputBits = "input_bits"
            case weightBits = "weight_bits"
            case outputBits = "output_bits"
            case weightBytes = "weight_bytes"
            case activationBytes = "activation_bytes"
        }
    }

    /// Bytes a memory region holds, measured from the ELF, with the region's capacity when the
    /// writer knows it. Stored either as a plain number or as `{"used": N, "capacity": M}`.
    public struct RegionUsage: Codable, Sendable, Equatable {
        public var used: Int
        public var capacity: Int?

        public init(used: Int, capacity: Int? = nil) {
            self.used = used
            self.capacity = capacity
        }

        enum CodingKeys: String, CodingKey { case used, capacity }

        public init(from decoder: Decoder) throws {
            if let single = try? decoder.singleValueContainer(), let used = try? single.decode(Int.self) {
                self.init(used: used)
                return
            }
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.init(used: try container.decode(Int.self, forKey: .used),
                      capacity: try container.decodeIfPresent(Int.self, forKey: .capacity))
        }

        public func encode(to encoder: Encoder) throws {
            if let capacity {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(used, forKey: .used)
                try container.encode(capacity, forKey: .capacity)
            } else {
                var container = encoder.singleValueContainer()
                try container.encode(used)
            }
        }
    }

    public var model: String
    public var scheme: String
    public var flashBudget: Int
    public var ramBudget: Int
    public var weightBytes: Int
    public var paramBytes: Int
    /// Weights plus quantization parameters: the planner's FLASH accounting.
    public var flashBytes: Int
    public var peakActivationBytes: Int
    /// Whether the plan fits the budgets (and, after a deploy, the device).
    public var fits: Bool
    /// The planner's cuts in order, kept as read (see `mixq plan --json`).
    public var cuts: [JSONValue]?
    public var layers: [Layer]
    public var totalCycles: Int?
    public var latencyMs: Double?
    public var clockMHz: Double?
    /// Region name ("FLASH") -> bytes, measured from the ELF.
    public var flashUsed: [String: RegionUsage]?
    /// Region name ("DTCM", "AXI SRAM", ...) -> bytes, measured from the ELF.
    public var ramUsed: [String: RegionUsage]?
    /// Whether the on-target output equals the host reference bit for bit.
    public var bitExact: Bool?
    public var macs: Int?
    /// Run conditions: `clock_mhz`, `flash_wait_states`, `caches`, `timing_model`,
    /// `compiler`, `flags` (any JSON value each; other keys are kept too).
    public var conditions: [String: JSONValue]?
    /// Why the pair was not built or run ("does not fit: ...", "failed: ..."), when it was not.
    public var note: String?
    /// The device the result is for: `conditions.part` when the result ran, else the part its
    /// file name names (`ResultsFolder.read`), else the STM32H743 (results from before parts
    /// were data). Not a JSON field of its own (docs/results-format.md, "File names").
    public var device: String = DeviceCapacity.stm32h743.name

    public init(model: String, scheme: String, flashBudget: Int, ramBudget: Int, weightBytes: Int,
                paramBytes: Int, flashBytes: Int, peakActivationBytes: Int, fits: Bool,
                cuts: [JSONValue]? = nil, layers: [Layer], totalCycles: Int? = nil, latencyMs: Double? = nil,
                clockMHz: Double? = nil, flashUsed: [String: RegionUsage]? = nil,
                ramUsed: [String: RegionUsage]? = nil, bitExact: Bool? = nil, macs: Int? = nil,
                conditions: [String: JSONValue]? = nil, note: String? = nil) {
        self.model = model
        self.scheme = scheme
        self.flashBudget = flashBudget
        self.ramBudget = ramBudget
        self.weightBytes = weightBytes
        self.paramBytes = paramBytes
        self.flashBytes = flashBytes
        self.peakActivationBytes = peakActivationBytes
        self.fits = fits
        self.cuts = cuts
        self.layers = layers
        self.totalCycles = totalCycles
        self.latencyMs = latencyMs
        self.clockMHz = clockMHz
        self.flashUsed = flashUsed
        self.ramUsed = ramUsed
        self.bitExact = bitExact
        self.macs = macs
        self.conditions = conditions
        self.note = note
        device = conditions?["part"]?.text ?? DeviceCapacity.stm32h743.name
    }

    enum CodingKeys: String, CodingKey {
        case model, scheme, fits, cuts, layers, macs, conditions, note
        case flashBudget = "flash_budget"
        case ramBudget = "ram_budget"
        case weightBytes = "weight_bytes"
        case paramBytes = "param_bytes"
        case flashBytes = "flash_bytes"
        case peakActivationBytes = "peak_activation_bytes"
        case totalCycles = "total_cycles"
        case latencyMs = "latency_ms"
        case clockMHz = "clock_mhz"
        case flashUsed = "flash_used"
        case ramUsed = "ram_used"
        case bitExact = "bit_exact"
    }
}

extension DeploymentRecord {
    /// The core clock in MHz: `clock_mhz`, else the conditions' `clock_mhz`.
    public var effectiveClockMHz: Double? {
        clockMHz ?? conditions?["clock_mhz"]?.number
    }

    /// Total cycles: `total_cycles`, else the sum of per-layer cycles when every layer has them.
    public var effectiveTotalCycles: Int? {
        if let totalCycles { return totalCycles }
        let perLayer = layers.compactMap(\.cycles)
        return !layers.isEmpty && perLayer.count == layers.count ? perLayer.reduce(0, +) : nil
    }

    /// Latency in milliseconds: `latency_ms`, else cycles / clock.
    public var effectiveLatencyMs: Double? {
        if let latencyMs { return latencyMs }
        guard let cycles = effectiveTotalCycles, let clock = effectiveClockMHz, clock > 0 else { return nil }
        return Double(cycles) / (clock * 1000)
    }

    /// Multiply-accumulates: `macs`, else the sum of per-layer MACs when every layer has them.
    public var effectiveMACs: Int? {
        if let macs { return macs }
        let perLayer = layers.compactMap(\.macs)
        return !layers.isEmpty && perLayer.count == layers.count ? perLayer.reduce(0, +) : nil
    }

    /// The first problem that makes this result unusable, or nil. Checked after decoding, so a
    /// well-typed file with impossible values (negative bytes, 0-bit tensors) is rejected too.
    func problem() -> String? {
        if model.isEmpty { return "field 'model' is empty" }
        if scheme.isEmpty { return "field 'scheme' is empty" }
        for (field, text) in [("model", model), ("scheme", scheme)]
        where text.contains(ResultsFolder.separator) || text.contains("/") || text.contains(ResultsFolder.deviceMark) {
            return "field '\(field)' (\(text)) must not contain '\(ResultsFolder.separator)', '\(ResultsFolder.deviceMark)' or '/'"
        }
        let counts: [(String, Int?)] = [
            ("flash_budget", flashBudget), ("ram_budget", ramBudget), ("weight_bytes", weightBytes),
            ("param_bytes", paramBytes), ("flash_bytes", flashBytes),
            ("peak_activation_bytes", peakActivationBytes), ("total_cycles", totalCycles), ("macs", macs),
        ]
        for (field, value) in counts {
            if let value, value < 0 { return "field '\(field)' is negative (\(value))" }
        }
        if let clockMHz, !(clockMHz > 0) { return "field 'clock_mhz' must be positive (\(clockMHz))" }
        // A network that ran took time: 0 cycles or 0 ms would sit on the Pareto front for free.
        if let totalCycles, totalCycles == 0, (macs ?? 1) > 0 { return "field 'total_cycles' is 0 for a network that ran" }
        if let latencyMs, latencyMs == 0, (macs ?? 1) > 0 { return "field 'latency_ms' is 0 for a network that ran" }
        if let latencyMs, !(latencyMs >= 0) || !latencyMs.isFinite {
            return "field 'latency_ms' must be a non-negative number (\(latencyMs))"
        }
        for (index, layer) in layers.enumerated() {
            let place = "layers[\(index)] (\(layer.name))"
            for (field, bits) in [("input_bits", layer.inputBits), ("weight_bits", layer.weightBits),
                                  ("output_bits", layer.outputBits)] as [(String, Int?)] {
                if let bits, !(1...32).contains(bits) { return "\(place): '\(field)' must be 1...32 bits, not \(bits)" }
            }
            for (field, value) in [("weight_bytes", layer.weightBytes), ("activation_bytes", layer.activationBytes),
                                   ("macs", layer.macs), ("cycles", layer.cycles)] as [(String, Int?)] {
                if let value, value < 0 { return "\(place): '\(field)' is negative (\(value))" }
            }
        }
        for (field, regions) in [("flash_used", flashUsed), ("ram_used", ramUsed)] {
            for (name, usage) in regions ?? [:] where usage.used < 0 || (usage.capacity ?? 0) < 0 {
                return "field '\(field)': region \(name) has a negative byte count"
            }
        }
        return nil
    }
}
