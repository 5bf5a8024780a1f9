import Foundation

/// The latency-accuracy report of a set of deployment results: rows, conditions, the Pareto
/// front, and every rendering (`markdown()`, `csv()`, `json()`, the two SVG plots, per-layer
/// profiles). Pure: nothing here touches the file system except `write(to:)`.
public struct Report: Sendable {
    /// The run conditions shared by a group of results.
    public struct ConditionSet: Sendable, Equatable {
        /// (label, value) pairs in a fixed order: clock, FLASH wait states, caches, timing
        /// model, compiler, flags, then any other key alphabetically.
        public var items: [(label: String, value: String)]
        /// `model/scheme` of every result run under these conditions.
        public var pairs: [String]

        public static func == (a: ConditionSet, b: ConditionSet) -> Bool {
            a.pairs == b.pairs && a.items.map(\.label) == b.items.map(\.label) && a.items.map(\.value) == b.items.map(\.value)
        }
    }

    /// One row per (model, scheme, device), sorted by model, scheme, then device.
    public private(set) var rows: [ReportRow]
    /// The results behind `rows`, index for index.
    public private(set) var results: [DeploymentRecord]
    /// Distinct run conditions of the results that ran; more than one means they disagree.
    public private(set) var conditionSets: [ConditionSet]
    /// Merge conflicts and inconsistencies found in the results.
    public private(set) var warnings: [String]
    /// Published figures for device budgets, quoted beside the tables.
    public private(set) var budgetFigures: [AccuracyTable.BudgetFigure]
    /// The report's first device (the STM32H743 when any result is for it): the one the
    /// latency-accuracy and memory plots show. Each row is measured against its own device.
    public private(set) var device: DeviceCapacity
    /// Every device the results are for, in `DeviceCapacity.known` order, then by name.
    public private(set) var devices: [DeviceCapacity]
    /// Indices into `rows` of the Pareto fronts of every dataset (`datasets` order) and, within
    /// a dataset, every device (`devices` order), each by increasing latency. Latencies of
    /// different devices are never compared.
    public private(set) var paretoFront: [Int]
    /// The datasets the rows' Top-1 figures were measured on: ImageNet (the published figures)
    /// first, then the others by name. Top-1 on different datasets is never compared: each
    /// has its own Pareto front (`paretoFront(of:)`) and plot.
    public private(set) var datasets: [String]

    /// Builds the report of `collection` with Top-1 figures from `accuracy`. Each result is
    /// measured against its device's capacities (`DeviceCapacity.named`); `device`, when given,
    /// replaces the capacities of the device of that name.
    public init(collection: ResultCollection, accuracy: AccuracyTable, device: DeviceCapacity? = nil) {
        results = collection.entries.map(\.result)
        var capacities: [String: DeviceCapacity] = [:]
        for result in results where capacities[result.device] == nil {
            capacities[result.device] = device.flatMap { $0.name == result.device ? $0 : nil }
                ?? DeviceCapacity.of(result.device, flashBudget: result.flashBudget, ramBudget: result.ramBudget)
        }
        devices = capacities.keys.sorted(by: DeviceCapacity.precedes).compactMap { capacities[$0] }
        self.device = devices.first ?? device ?? .stm32h743
        rows = collection.entries.map { ReportRow(result: $0.result, sourceFile: $0.source.relativePath,
                                                  accuracy: accuracy, device: capacities[$0.result.device]) }
        budgetFigures = accuracy.budgetFigures
        var warnings = collection.warnings
        for (row, result) in zip(rows, results) {
            if let stated = result.latencyMs, let cycles = result.effectiveTotalCycles, let clock = result.effectiveClockMHz,
               clock > 0, cycles > 0 {
                let computed = Double(cycles) / (clock * 1000)
                if abs(stated - computed) > 0.005 * computed {
                    warnings.append("\(row.model) under \(row.scheme): latency_ms \(Format.fixed(stated, 3)) disagrees with "
                                    + "\(cycles) cycles at \(Self.clockText(clock)) MHz = \(Format.fixed(computed, 3)) ms")
                }
            }
            if let total = result.totalCycles, result.layers.allSatisfy({ $0.cycles != nil }), !result.layers.isEmpty {
                let sum = result.layers.compactMap(\.cycles).reduce(0, +)
                if sum > total {
                    warnings.append("\(row.model) under \(row.scheme): layer cycles add up to \(sum), more than total_cycles \(total)")
                }
            }
        }
        self.warnings = warnings
        conditionSets = Self.groupConditions(results)
        let built = rows
        datasets = Set(built.compactMap(\.top1Dataset)).sorted {
            ($0 == AccuracyTable.imageNet ? 0 : 1, $0) < ($1 == AccuracyTable.imageNet ? 0 : 1, $1)
        }
        let deviceNames = devices.map(\.name)
        paretoFront = datasets.flatMap { dataset in
            deviceNames.flatMap { device in
                ParetoFront.front(of: built.indices.compactMap { index -> ParetoFront.Point? in
                    let row = built[index]
                    guard row.top1Dataset == dataset, row.device == device, row.isParetoCandidate, let latency = row.latencyMs,
                          let top1 = row.top1 else { return nil }
                    return ParetoFront.Point(id: index, latencyMs: latency, top1: top1)
                }).map(\.id)
            }
        }
        for index in paretoFront { rows[index].onParetoFront = true }
    }

    /// The Pareto front of the rows whose Top-1 was measured on `dataset` and that ran on
    /// `device` (nil: the report's first device, `device`).
    public func paretoFront(of dataset: String, device: String? = nil) -> [Int] {
        let device = device ?? self.device.name
        return paretoFront.filter { rows[$0].top1Dataset == dataset && rows[$0].device == device }
    }

    /// Whether the results are for more than one device (the report then compares devices).
    public var comparesDevices: Bool { devices.count > 1 }

    /// The schemes present, in `SchemeOrder`.
    public var schemes: [String] {
        Array(Set(rows.map(\.scheme))).sorted(by: SchemeOrder.precedes)
    }

    /// Whether all results share one set of conditions.
    public var conditionsAgree: Bool { conditionSets.count <= 1 }

    /// Whether the results on `device` share one set of conditions (results on different
    /// devices differ by nature: part, clock, wait states, caches, cycle model).
    public func conditionsAgree(on device: String) -> Bool {
        Self.groupConditions(results.filter { $0.device == device }).count <= 1
    }

    static let conditionLabels: [(key: String, label: String)] = [
        ("clock_mhz", "clock (MHz)"), ("flash_wait_states", "FLASH wait states"), ("caches", "caches"),
        ("timing_model", "timing model"), ("compiler", "compiler"), ("flags", "flags"),
    ]

    static func groupConditions(_ results: [DeploymentRecord]) -> [ConditionSet] {
        var sets: [ConditionSet] = []
        // Where the weights came from is each model's provenance, not a run condition: results
        // with different weights do not disagree. When they all share one source it is listed.
        let ran = results.filter { $0.conditions != nil || $0.effectiveLatencyMs != nil }
        let weightSources = Set(ran.map { $0.conditions?["weights"]?.text ?? "" })
        let sharedWeights = weightSources.count == 1 ? weightSources.first.flatMap { $0.isEmpty ? nil : $0 } : nil
        // A result that never ran (no conditions, no latency) has no run conditions to agree
        // or disagree with; a result that ran without recording them is a set of its own.
        for result in results where result.conditions != nil || result.effectiveLatencyMs != nil {
            var conditions = result.conditions ?? [:]
            if conditions["clock_mhz"] == nil, let clock = result.clockMHz {
                conditions["clock_mhz"] = .number(clock)
            }
            var items: [(label: String, value: String)] = []
            for (key, label) in conditionLabels {
                items.append((label, conditions[key]?.text ?? "not recorded"))
            }
            let known = Set(conditionLabels.map(\.key) + ["weights"])
            for key in conditions.keys.sorted() where !known.contains(key) {
                items.append((key, conditions[key]?.text ?? ""))
            }
            if let sharedWeights { items.append(("weights", sharedWeights)) }
            let pair = "\(result.model)/\(result.scheme)" + (result.device == DeviceCapacity.stm32h743.name ? "" : "@\(result.device)")
            if let index = sets.firstIndex(where: { $0.items.map(\.label) == items.map(\.label) && $0.items.map(\.value) == items.map(\.value) }) {
                sets[index].pairs.append(pair)
            } else {
                sets.append(ConditionSet(items: items, pairs: [pair]))
            }
        }
        return sets
    }

    static func clockText(_ clock: Double) -> String {
        clock.rounded() == clock ? String(Int(clock)) : Format.fixed(clock, 1)
    }
}
