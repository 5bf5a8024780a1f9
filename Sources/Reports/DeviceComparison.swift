import Foundation

/// One (model, scheme) pair across the devices of a report: the row of each device.
public struct DeviceComparison: Sendable, Equatable {
    public var model: String
    public var scheme: String
    /// Index into `Report.rows` of the pair's result on each of `Report.devices` (same order);
    /// nil where the pair has no result on that device.
    public var rows: [Int?]
}

extension Report {
    /// One entry per (model, scheme) pair, in row order, with its row on every device.
    public var deviceComparison: [DeviceComparison] {
        var comparisons: [DeviceComparison] = []
        for (index, row) in rows.enumerated() {
            guard let slot = devices.firstIndex(where: { $0.name == row.device }) else { continue }
            if let last = comparisons.last, last.model == row.model, last.scheme == row.scheme {
                comparisons[comparisons.count - 1].rows[slot] = index
            } else {
                var entry = DeviceComparison(model: row.model, scheme: row.scheme, rows: Array(repeating: nil, count: devices.count))
                entry.rows[slot] = index
                comparisons.append(entry)
            }
        }
        return comparisons
    }

    /// The published device-budget figures that belong to `device`: the same part, else the
    /// same family (`STM32F7` for the STM32F746 and the paper's STM32F765), since the paper's
    /// budgets are per device class (docs/results-format.md, "Accuracy").
    public func budgetFigures(for device: DeviceCapacity) -> [AccuracyTable.BudgetFigure] {
        let exact = budgetFigures.filter { $0.device.caseInsensitiveCompare(device.name) == .orderedSame }
        if !exact.isEmpty { return exact }
        return budgetFigures.filter {
            DeviceCapacity(name: $0.device, flash: 0, ram: 0, ramRegion: "").family == device.family
        }
    }

    /// The rows of the device-comparison table in `report.md`, one per (pair, device).
    public func deviceComparisonTable() -> [String] {
        let header = ["model", "scheme", "device", "fits", "bits (planner's choice)", "latency ms", "cycles", "clock MHz",
                      "FLASH B (%)", "RAM B (%)", "planner budgets FLASH / RAM B"]
        var lines = ["| " + header.joined(separator: " | ") + " |",
                     "|---|---|---|---|---|---:|---:|---:|---:|---:|---:|"]
        for comparison in deviceComparison {
            for (slot, index) in comparison.rows.enumerated() {
                let device = devices[slot]
                guard let index else {
                    lines.append("| \(comparison.model) | \(comparison.scheme) | \(device.name) | no result | - | - | - | - | - | - | - |")
                    continue
                }
                let row = rows[index], result = results[index]
                // No layers and no fit: the planner found no bit assignment for these budgets.
                let planned = row.fits || !result.layers.isEmpty
                let flash = !planned ? "no plan" : "\(row.flashBytes) (\(Format.fixed(row.flashPercent, 1))%)" + (row.flashBasis == .plan ? " (plan)" : "")
                let ram = !planned ? "no plan" : "\(row.ramBytes) (\(Format.fixed(row.ramPercent, 1))%)" + (row.ramBasis == .plan ? " (plan)" : "")
                let cells = [row.model, row.scheme, row.device, row.fits ? "yes" : "no", planned ? row.bitsSummary : "-",
                             Format.optional(row.latencyMs, 3, none: "-"),
                             Format.optional(row.cycles, none: "-"), row.clockMHz.map(Self.clockText) ?? "-", flash, ram,
                             "\(result.flashBudget) / \(result.ramBudget)"]
                lines.append("| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |")
            }
        }
        return lines
    }

    /// The `report.md` section comparing devices: the devices with their capacities and the
    /// paper's figure for a matching budget, then the table.
    func deviceComparisonSection() -> [String] {
        var lines = ["## Device comparison", ""]
        lines.append("The same model under the same scheme on each device, planned with that device's budgets. "
                     + "Latencies are compared across devices here only, never on one Pareto front.")
        lines.append("")
        for capacity in devices {
            var line = "- \(capacity.name): FLASH \(capacity.flash) B, RAM (\(capacity.ramRegion)) \(capacity.ram) B"
            let figures = budgetFigures(for: capacity)
            if !figures.isEmpty {
                line += "; the paper's best MobilenetV1 for a "
                    + figures.map { figure in
                        let budget = [figure.flashBytes.map { "FLASH \($0) B" }, figure.ramBytes.map { "RAM \($0) B" }]
                            .compactMap { $0 }.joined(separator: ", ")
                        return "\(figure.device) budget (\(budget)): \(Format.fixed(figure.top1, 1))% Top-1"
                    }.joined(separator: "; ")
            }
            lines.append(line + ".")
        }
        lines.append("")
        lines += deviceComparisonTable()
        lines.append("")
        return lines
    }

    /// `devices.svg` (written only when the results are for more than one device): latency of
    /// every (model, scheme) pair on each device, one column per pair, one colour and marker
    /// shape per device (`class="marker device-<name>"`). A result that does not fit is hollow
    /// and, having no latency, sits in the "no latency" strip at the bottom.
    public func devicesSVG() -> String {
        let comparisons = deviceComparison
        let latencies = rows.compactMap(\.latencyMs)
        let strip = 30.0
        let xAxis = PlotAxis(minimum: 0, maximum: Double(max(comparisons.count, 1)), pixels: (SVG.left, SVG.right))
        let yAxis = PlotAxis(minimum: 0, maximum: (latencies.max() ?? 1) * 1.05, pixels: (SVG.bottom - strip, SVG.top))
        var lines = SVG.frame(title: "Latency per device, one column per (model, scheme)", xAxis: xAxis, yAxis: yAxis,
                              xLabel: "", yLabel: "latency (ms) at each device's clock", xTicks: false)
        lines.append("<rect x=\"\(SVG.n(SVG.left))\" y=\"\(SVG.n(SVG.bottom - strip))\" width=\"\(SVG.n(SVG.right - SVG.left))\" height=\"\(SVG.n(strip))\" fill=\"#f2f2f2\" stroke=\"#999999\" stroke-dasharray=\"3,3\"/>")
        lines.append(SVG.text("no latency", x: SVG.left + 4, y: SVG.bottom - 4, size: 10, extra: "fill=\"#666666\""))
        let width = (SVG.right - SVG.left) / Double(max(comparisons.count, 1))
        for (column, comparison) in comparisons.enumerated() {
            let center = SVG.left + width * (Double(column) + 0.5)
            // Rotated, so that a full sweep's 48 columns stay readable.
            let labelY = SVG.bottom + 10
            lines.append(SVG.text("\(Self.shortName(comparison.model)) \(comparison.scheme)", x: center, y: labelY,
                                  anchor: "end", size: 9, extra: "transform=\"rotate(-60 \(SVG.n(center)) \(SVG.n(labelY)))\""))
            for (slot, index) in comparison.rows.enumerated() {
                guard let index else { continue }
                let row = rows[index]
                let offset = (Double(slot) - Double(devices.count - 1) / 2) * min(10, width / Double(devices.count + 1))
                let y = row.latencyMs.map { yAxis.pixel($0) } ?? (SVG.bottom - strip / 2)
                let title = "\(row.model) \(row.scheme) on \(row.device): "
                    + (row.latencyMs.map { Format.fixed($0, 3) + " ms" } ?? "no latency") + (row.fits ? "" : ", does not fit")
                lines.append(Self.deviceStyle(slot).element(x: center + offset, y: y, hollow: !row.fits,
                                                            cssClass: "marker device-\(row.device.lowercased())", title: title))
            }
        }
        var y = SVG.top + 10
        for (slot, capacity) in devices.enumerated() {
            lines.append(Self.deviceStyle(slot).element(x: SVG.right + 25, y: y, hollow: false, cssClass: "legend-marker"))
            lines.append(SVG.text(capacity.name, x: SVG.right + 40, y: y + 4, size: 11))
            y += 20
        }
        lines.append(MarkerStyle(shape: .circle, color: "#444444").element(x: SVG.right + 25, y: y, hollow: true, cssClass: "legend-marker"))
        lines.append(SVG.text("does not fit", x: SVG.right + 40, y: y + 4, size: 11))
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Marker of the device in `slot` of `devices`.
    static func deviceStyle(_ slot: Int) -> MarkerStyle {
        let styles: [MarkerStyle] = [MarkerStyle(shape: .circle, color: "#1f77b4"), MarkerStyle(shape: .square, color: "#d62728"),
                                     MarkerStyle(shape: .triangle, color: "#2ca02c"), MarkerStyle(shape: .diamond, color: "#9467bd")]
        return styles[slot % styles.count]
    }
}
