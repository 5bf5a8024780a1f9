import Foundation

extension Report {
    /// The columns of `results.csv`, in order (docs/results-format.md describes each).
    public static let csvColumns = [
        "model", "scheme", "device", "weight_bits", "activation_bits", "weight_bytes", "param_bytes",
        "flash_bytes", "flash_capacity", "flash_percent", "flash_basis",
        "ram_bytes", "ram_capacity", "ram_percent", "ram_basis", "ram_total_bytes", "peak_activation_bytes",
        "fits", "bit_exact", "macs", "cycles", "clock_mhz", "latency_ms", "macs_per_cycle",
        "top1", "top1_source", "top1_origin", "top1_dataset", "on_pareto_front", "note", "result_file",
    ]

    /// The fields of one row as text, in `csvColumns` order. Empty text means "unknown".
    static func fields(of row: ReportRow) -> [String] {
        [
            row.model, row.scheme, row.device, row.weightBits, row.activationBits, String(row.weightBytes), String(row.paramBytes),
            String(row.flashBytes), String(row.flashCapacity), Format.fixed(row.flashPercent, 1), row.flashBasis.rawValue,
            String(row.ramBytes), String(row.ramCapacity), Format.fixed(row.ramPercent, 1), row.ramBasis.rawValue,
            Format.optional(row.ramTotalBytes), String(row.peakActivationBytes),
            String(row.fits), row.bitExact.map { String($0) } ?? "", Format.optional(row.macs), Format.optional(row.cycles),
            row.clockMHz.map(clockText) ?? "", Format.optional(row.latencyMs, 3), Format.optional(row.macsPerCycle, 3),
            Format.optional(row.top1, 1), row.top1Source, row.top1Origin?.rawValue ?? "none", row.top1Dataset ?? "",
            String(row.onParetoFront),
            row.note ?? "", row.sourceFile,
        ]
    }

    /// `results.csv`: one line per row, columns `csvColumns`.
    public func csv() -> String {
        CSVTable(header: Self.csvColumns, rows: rows.enumerated().map { CSVTable.Row(line: $0.offset + 2, fields: Self.fields(of: $0.element)) })
            .rendered()
    }

    /// `results.json`: the device, the condition sets, the warnings and the rows (the same
    /// fields as `results.csv`, typed: numbers as numbers, unknowns as null).
    public func json() throws -> Data {
        var rowValues: [JSONValue] = []
        for row in rows {
            func number(_ value: Double?) -> JSONValue { value.map(JSONValue.number) ?? .null }
            func count(_ value: Int?) -> JSONValue { value.map { .number(Double($0)) } ?? .null }
            func rounded(_ value: Double?, _ decimals: Int) -> JSONValue {
                value.flatMap { Double(Format.fixed($0, decimals)) }.map(JSONValue.number) ?? .null
            }
            let object: [String: JSONValue] = [
                "model": .string(row.model), "scheme": .string(row.scheme), "device": .string(row.device),
                "weight_bits": .string(row.weightBits), "activation_bits": .string(row.activationBits),
                "weight_bytes": count(row.weightBytes), "param_bytes": count(row.paramBytes),
                "flash_bytes": count(row.flashBytes), "flash_capacity": count(row.flashCapacity),
                "flash_percent": rounded(row.flashPercent, 1), "flash_basis": .string(row.flashBasis.rawValue),
                "ram_bytes": count(row.ramBytes), "ram_capacity": count(row.ramCapacity),
                "ram_percent": rounded(row.ramPercent, 1), "ram_basis": .string(row.ramBasis.rawValue),
                "ram_total_bytes": count(row.ramTotalBytes), "peak_activation_bytes": count(row.peakActivationBytes),
                "fits": .bool(row.fits), "bit_exact": row.bitExact.map(JSONValue.bool) ?? .null,
                "macs": count(row.macs), "cycles": count(row.cycles), "clock_mhz": number(row.clockMHz),
                "latency_ms": rounded(row.latencyMs, 3), "macs_per_cycle": rounded(row.macsPerCycle, 3),
                "top1": rounded(row.top1, 1), "top1_source": .string(row.top1Source),
                "top1_origin": .string(row.top1Origin?.rawValue ?? "none"),
                "top1_dataset": row.top1Dataset.map(JSONValue.string) ?? .null,
                "on_pareto_front": .bool(row.onParetoFront), "note": row.note.map(JSONValue.string) ?? .null,
                "result_file": .string(row.sourceFile),
            ]
            rowValues.append(.object(object))
        }
        let conditions: [JSONValue] = conditionSets.map { set in
            var object: [String: JSONValue] = [:]
            for item in set.items { object[item.label] = .string(item.value) }
            return .object(["conditions": .object(object), "results": .array(set.pairs.map(JSONValue.string))])
        }
        let document: JSONValue = .object([
            "device": .object(["name": .string(device.name), "flash_bytes": .number(Double(device.flash)),
                               "ram_region": .string(device.ramRegion), "ram_bytes": .number(Double(device.ram))]),
            "devices": .array(devices.map { capacity in
                .object(["name": .string(capacity.name), "flash_bytes": .number(Double(capacity.flash)),
                         "ram_region": .string(capacity.ramRegion), "ram_bytes": .number(Double(capacity.ram))])
            }),
            "conditions_agree": .bool(conditionsAgree),
            "condition_sets": .array(conditions),
            "warnings": .array(warnings.map(JSONValue.string)),
            "rows": .array(rowValues),
        ])
        return try OutputFile.json(document)
    }

    /// `report.md`: conditions, one combined table and one per scheme, the Pareto front, the
    /// published device-budget figures, the sources of every Top-1, warnings, and the plots.
    public func markdown() -> String {
        var lines: [String] = ["# MixQ latency-accuracy report", ""]
        let models = Set(rows.map(\.model)).count
        if comparesDevices {
            lines.append("\(rows.count) results: \(models) models under \(schemes.joined(separator: ", ")) on \(devices.count) devices: "
                         + devices.map { "\($0.name) (FLASH \($0.flash) B, RAM (\($0.ramRegion)) \($0.ram) B)" }.joined(separator: ", ") + ".")
        } else {
            lines.append("\(rows.count) results: \(models) models under \(schemes.joined(separator: ", ")). "
                         + "Device: \(device.name), FLASH \(device.flash) B, RAM (\(device.ramRegion)) \(device.ram) B.")
        }
        lines.append("")
        lines.append("## Conditions")
        lines.append("")
        if conditionSets.count == 1, let set = conditionSets.first {
            for item in set.items { lines.append("- \(item.label): \(item.value)") }
        } else {
            if comparesDevices {
                let disagreeing = devices.filter { !conditionsAgree(on: $0.name) }.map(\.name)
                lines.append("The results are for \(devices.count) devices, which run under different conditions by nature "
                             + "(\(conditionSets.count) sets); compare latencies only within one set. "
                             + (disagreeing.isEmpty ? "The results of each device agree."
                                : "**The results disagree on conditions** on \(disagreeing.joined(separator: ", ")).")
                             + " Results on a device other than the STM32H743 are named `model/scheme@device`.")
            } else {
                lines.append("**The results disagree on conditions** (\(conditionSets.count) different sets); "
                             + "compare latencies only within one set.")
            }
            for (index, set) in conditionSets.enumerated() {
                lines.append("")
                lines.append("Set \(index + 1), \(set.pairs.count) results (\(set.pairs.joined(separator: ", "))):")
                lines.append("")
                for item in set.items { lines.append("- \(item.label): \(item.value)") }
            }
        }
        lines.append("")

        let sources = top1Sources
        lines.append("## All results")
        lines.append("")
        lines += table(rows.indices.map { $0 }, sources: sources)
        lines.append("")
        lines.append("FLASH is measured from the ELF; RAM is the "
                     + (comparesDevices ? "region holding the activation arena on each device (" + devices.map { "\($0.name): \($0.ramRegion)" }.joined(separator: ", ") + ")" : "\(device.ramRegion) the ELF uses (the activation arena)") + ". "
                     + "\"(plan)\" marks the planner's accounting for a model that was not built. "
                     + "Latency is at the clock above. `*` marks the Pareto front.")
        lines.append("")
        if paretoFront.isEmpty {
            lines.append("Pareto front: empty (no fitting model has both a latency and a Top-1).")
        } else {
            // Top-1 on different datasets is not comparable: one front per dataset.
            // Latencies on different devices are not comparable either: one front per device.
            for dataset in datasets {
                for capacity in devices where !paretoFront(of: dataset, device: capacity.name).isEmpty {
                    lines.append("Pareto front on \(dataset)" + (comparesDevices ? ", \(capacity.name)" : "")
                                 + " (fitting models, lower latency and higher Top-1 better): "
                                 + paretoFront(of: dataset, device: capacity.name).map { "\(rows[$0].model)/\(rows[$0].scheme) (\(Format.optional(rows[$0].latencyMs, 3)) ms, \(Format.optional(rows[$0].top1, 1))%)" }
                                    .joined(separator: ", ") + ".")
                }
            }
        }
        lines.append("")
        let notRun = rows.filter { $0.latencyMs == nil }
        if !notRun.isEmpty {
            lines.append("Not run (no cycles): " + notRun.map { "\($0.model)/\($0.scheme)" + (comparesDevices ? " on \($0.device)" : "") + ($0.note.map { " (\($0))" } ?? "") }
                            .joined(separator: "; ") + ".")
            lines.append("")
        }
        if comparesDevices {
            lines += deviceComparisonSection()
        }
        for scheme in schemes {
            lines.append("## \(scheme)")
            lines.append("")
            lines += table(rows.indices.filter { rows[$0].scheme == scheme }, sources: sources)
            lines.append("")
        }
        lines.append("## Accuracy")
        lines.append("")
        lines.append(accuracyIntroduction)
        lines.append("")
        if !sources.isEmpty {
            for (index, source) in sources.enumerated() {
                let origin = rows.first { $0.top1Source == source }?.top1Origin?.rawValue ?? ""
                lines.append("\(index + 1). \(source) (\(origin))")
            }
            lines.append("")
        }
        if !budgetFigures.isEmpty {
            lines.append("Published figures for a device budget, not for one model (not joined to any row):")
            lines.append("")
            for figure in budgetFigures {
                let budget = [figure.flashBytes.map { "FLASH \($0) B" }, figure.ramBytes.map { "RAM \($0) B" }]
                    .compactMap { $0 }.joined(separator: ", ")
                lines.append("- \(figure.device) (\(budget)), \(figure.scheme): \(Format.fixed(figure.top1, 1))% Top-1"
                             + (figure.note.isEmpty ? "" : ", \(figure.note)") + ". Source: \(figure.source)")
            }
            lines.append("")
        }
        if !warnings.isEmpty {
            lines.append("## Warnings")
            lines.append("")
            for warning in warnings { lines.append("- \(warning)") }
            lines.append("")
        }
        lines.append("## Plots and profiles")
        lines.append("")
        for plot in latencyAccuracyPlots {
            lines.append("![\(plot.dataset ?? "Top-1") Top-1 against latency](\(plot.file))")
            lines.append("")
        }
        lines.append("![Weights against peak activations](\(ReportFiles.memoryPlot))")
        lines.append("")
        if comparesDevices {
            lines.append("![Latency per device](\(ReportFiles.devicesPlot))")
            lines.append("")
        }
        lines.append("Per-layer profiles (CSV, and Chrome trace-event JSON for ui.perfetto.dev) are in `\(ReportFiles.profilesFolder)/`; "
                     + "results that did not run have a CSV only.")
        return lines.joined(separator: "\n") + "\n"
    }

    /// What the Top-1 column holds, said from the rows themselves: how many figures MixQ
    /// measured (on which datasets), how many come from the published or the user's table,
    /// and how many rows have none.
    var accuracyIntroduction: String {
        let origins = rows.map(\.top1Origin)
        let measured = origins.filter { $0 == .measured }.count
        let tabled = origins.filter { $0 == .published || $0 == .user }.count
        let none = rows.filter { $0.top1 == nil }.count
        var parts: [String] = []
        if measured > 0 {
            let datasets = Set(rows.filter { $0.top1Origin == .measured }.compactMap(\.top1Dataset)).sorted()
            parts.append("\(measured) of \(rows.count) Top-1 figures were measured by MixQ (`mixq eval`: the integer-only "
                         + "network on the host, bit-exact with the target)" + (datasets.isEmpty ? "" : " on " + datasets.joined(separator: ", ")))
        }
        if tabled > 0 {
            parts.append("\(tabled) are published or user-supplied figures of the same model under the same scheme, joined on "
                         + "(model, scheme); MixQ did not measure them (those rows run synthetic weights)")
        }
        if none > 0 {
            parts.append("\(none) rows have no figure (\"\(ReportRow.noFigure)\"): no evaluation result and no table entry")
        }
        return parts.isEmpty ? "No row has a Top-1 figure." : parts.joined(separator: "; ") + "."
    }

    /// The Markdown table of every row (or of one scheme's rows), as in `report.md`.
    public func markdownTable(scheme: String? = nil) -> String {
        table(rows.indices.filter { scheme == nil || rows[$0].scheme == scheme }, sources: top1Sources)
            .joined(separator: "\n") + "\n"
    }

    /// The distinct sources of the rows' Top-1 figures, sorted; the tables cite them as `[n]`
    /// (1-based index here).
    public var top1Sources: [String] {
        Array(Set(rows.filter { $0.top1Origin != nil }.map(\.top1Source))).sorted()
    }

    private func table(_ indices: [Int], sources: [String]) -> [String] {
        var header = ["model", "scheme", "bits", "FLASH B (%)", "RAM B (%)", "fits", "bit-exact", "MACs", "cycles",
                      "latency ms", "MAC/cycle", "Top-1 %", "Top-1 source"]
        var alignRight: Set<Int> = [3, 4, 7, 8, 9, 10, 11]
        if comparesDevices {
            header.insert("device", at: 2)
            alignRight = Set(alignRight.map { $0 + 1 })
        }
        // A strategy column when the accuracy-aware search's results sit beside the paper's rule's.
        let showsStrategy = rows.contains { $0.strategy != "paper" }
        if showsStrategy {
            header.insert("strategy", at: 2)
            alignRight = Set(alignRight.map { $0 + 1 })
        }
        var lines = ["| " + header.joined(separator: " | ") + " |",
                     "|" + header.indices.map { alignRight.contains($0) ? "---:" : "---" }.joined(separator: "|") + "|"]
        for index in indices {
            let row = rows[index]
            let flash = "\(row.flashBytes) (\(Format.fixed(row.flashPercent, 1))%)" + (row.flashBasis == .plan ? " (plan)" : "")
            let ram = "\(row.ramBytes) (\(Format.fixed(row.ramPercent, 1))%)" + (row.ramBasis == .plan ? " (plan)" : "")
            let source = sources.firstIndex(of: row.top1Source).map { "[\($0 + 1)] \(row.top1Origin?.rawValue ?? "")" } ?? row.top1Source
            var cells = [
                (row.onParetoFront ? "*" : "") + row.model, row.scheme, row.bitsSummary, flash, ram, row.fits ? "yes" : "no",
                row.bitExact.map { $0 ? "yes" : "NO" } ?? "-", Format.optional(row.macs, none: "-"),
                Format.optional(row.cycles, none: "-"), Format.optional(row.latencyMs, 3, none: "-"),
                Format.optional(row.macsPerCycle, 3, none: "-"), Format.optional(row.top1, 1, none: "-"), source,
            ]
            if comparesDevices { cells.insert(row.device, at: 2) }
            if showsStrategy { cells.insert(row.strategy, at: 2) }
            lines.append("| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |")
        }
        return lines
    }
}

/// JSON as every MixQ output file writes it: pretty, key-sorted, slashes unescaped, newline-terminated.
enum OutputFile {
    static func json<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(value)
        data.append(0x0A)
        return data
    }
}
