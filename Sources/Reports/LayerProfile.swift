import Foundation

/// The per-layer profile of one result: a CSV table and a Chrome trace-event JSON that
/// Perfetto (ui.perfetto.dev) and chrome://tracing open.
public struct LayerProfile: Sendable {
    public var result: DeploymentRecord

    public init(result: DeploymentRecord) {
        self.result = result
    }

    /// The base file name of this result's profile files: `<model>__<scheme>`, with `@<device>` for devices other than the STM32H743 (as the
    /// result file's name).
    public var baseName: String {
        String(ResultsFolder.fileName(model: result.model, scheme: result.scheme, device: result.device).dropLast(".json".count))
    }

    /// The columns of the profile CSV.
    public static let csvColumns = [
        "index", "layer", "kind", "input_bits", "weight_bits", "output_bits", "weight_bytes", "activation_bytes",
        "macs", "cycles", "macs_per_cycle", "start_us", "duration_us", "share_percent",
    ]

    /// One line per layer in network order. Timing columns are empty when the layer did not run
    /// (or the clock is unknown); `share_percent` is the layer's share of the summed layer cycles.
    public func csv() -> String {
        let clock = result.effectiveClockMHz
        let allCycles = result.layers.compactMap(\.cycles)
        let total = allCycles.count == result.layers.count ? allCycles.reduce(0, +) : 0
        var start = 0
        var rows: [CSVTable.Row] = []
        for (index, layer) in result.layers.enumerated() {
            var macsPerCycle = "", startText = "", duration = "", share = ""
            if let cycles = layer.cycles {
                if let macs = layer.macs, cycles > 0 { macsPerCycle = Format.fixed(Double(macs) / Double(cycles), 3) }
                if let clock, clock > 0, total > 0 {
                    startText = Format.fixed(Double(start) / clock, 3)
                    duration = Format.fixed(Double(cycles) / clock, 3)
                }
                if total > 0 { share = Format.fixed(Double(cycles) * 100 / Double(total), 2) }
                start += cycles
            }
            rows.append(CSVTable.Row(line: index + 2, fields: [
                String(index), layer.name, layer.kind, String(layer.inputBits), Format.optional(layer.weightBits),
                String(layer.outputBits), String(layer.weightBytes), String(layer.activationBytes),
                Format.optional(layer.macs), Format.optional(layer.cycles), macsPerCycle, startText, duration, share,
            ]))
        }
        return CSVTable(header: Self.csvColumns, rows: rows).rendered()
    }

    /// Whether a trace can be drawn: every layer has cycles and the clock is known.
    public var hasTimeline: Bool {
        guard let clock = result.effectiveClockMHz, clock > 0, !result.layers.isEmpty else { return false }
        return result.layers.allSatisfy { $0.cycles != nil }
    }

    /// Chrome trace-event JSON: one complete event (`ph: "X"`) per layer, back to back, `ts` and
    /// `dur` in microseconds at the result's clock (cycles / MHz), rounded to nanoseconds; the
    /// layer's bits, MACs and cycles in `args`. Nil when `hasTimeline` is false.
    public func traceJSON() throws -> Data? {
        guard hasTimeline, let clock = result.effectiveClockMHz else { return nil }
        // Whole nanoseconds from the start, so consecutive events tile exactly.
        func nanoseconds(_ cycles: Int) -> Double { (Double(cycles) / clock * 1000).rounded() }
        let label = "\(result.model) \(result.scheme) at \(Report.clockText(clock)) MHz"
        var events: [JSONValue] = [
            .object(["ph": .string("M"), "name": .string("process_name"), "pid": .number(1), "tid": .number(1),
                     "args": .object(["name": .string(label)])]),
            .object(["ph": .string("M"), "name": .string("thread_name"), "pid": .number(1), "tid": .number(1),
                     "args": .object(["name": .string("layers")])]),
        ]
        var start = 0
        for (index, layer) in result.layers.enumerated() {
            let cycles = layer.cycles ?? 0
            var args: [String: JSONValue] = [
                "index": .number(Double(index)), "cycles": .number(Double(cycles)),
                "bits": .string("\(layer.inputBits)/\(layer.weightBits.map(String.init) ?? "-")/\(layer.outputBits)"),
                "weight_bytes": .number(Double(layer.weightBytes)), "activation_bytes": .number(Double(layer.activationBytes)),
            ]
            if let macs = layer.macs {
                args["macs"] = .number(Double(macs))
                if cycles > 0 { args["macs_per_cycle"] = .number((Double(macs) / Double(cycles) * 1000).rounded() / 1000) }
            }
            events.append(.object([
                "name": .string(layer.name), "cat": .string(layer.kind), "ph": .string("X"),
                "ts": .number(nanoseconds(start) / 1000),
                "dur": .number((nanoseconds(start + cycles) - nanoseconds(start)) / 1000),
                "pid": .number(1), "tid": .number(1), "args": .object(args),
            ]))
            start += cycles
        }
        var other: [String: JSONValue] = [
            "model": .string(result.model), "scheme": .string(result.scheme), "clock_mhz": .number(clock),
            "layer_cycles": .number(Double(start)),
        ]
        if let total = result.effectiveTotalCycles { other["total_cycles"] = .number(Double(total)) }
        return try OutputFile.json(JSONValue.object([
            "traceEvents": .array(events), "displayTimeUnit": .string("ms"), "otherData": .object(other),
        ]))
    }
}
