import Foundation

/// ImageNet Top-1 figures joined to results on (model, scheme), each with where it comes from.
///
/// Two kinds of table share one CSV format (columns `model,scheme,top1` required; `source`,
/// `top5`, `device`, `flash_bytes`, `ram_bytes`, `note`, `dataset` (default ImageNet) optional;
/// `#` lines are comments):
/// - the published table the project ships (Sources/Reports/Resources/published_top1.csv), where every row
///   must name its source;
/// - a user's table (`mixq report --accuracy FILE.csv`), which overrides the published one.
///
/// A published row with an empty `model` and a `device` is a figure for a device budget, not
/// for one model (the paper's 68.0% is the best MobilenetV1 its planner found for 2 MB FLASH /
/// 512 kB RAM; the source does not say which model). Such rows are never joined to a result;
/// the report quotes them as context.
public struct AccuracyTable: Sendable, Equatable {
    /// Where a figure comes from.
    public enum Origin: String, Sendable, Codable {
        /// The project's shipped table of published figures.
        case published
        /// The user's `--accuracy` table.
        case user
        /// Measured by MixQ itself (`mixq eval --out`): the integer-only network's Top-1.
        case measured
    }

    /// One Top-1 figure for one (model, scheme).
    public struct Figure: Sendable, Equatable {
        /// Top-1 in percent.
        public var top1: Double
        /// The citation or the user's description of the measurement.
        public var source: String
        public var origin: Origin
        /// What the Top-1 was measured on: figures on different datasets are never compared
        /// (each dataset gets its own Pareto front and plot).
        public var dataset: String = AccuracyTable.imageNet
    }

    /// The dataset of published figures, and of a table's rows that name none.
    public static let imageNet = "ImageNet"

    /// A published figure for a device budget rather than a model.
    public struct BudgetFigure: Sendable, Equatable {
        public var device: String
        public var scheme: String
        public var flashBytes: Int?
        public var ramBytes: Int?
        public var top1: Double
        public var note: String
        public var source: String
    }

    struct Key: Hashable, Sendable {
        var model: String
        var scheme: String
    }

    var figures: [Key: Figure]
    /// Published figures for device budgets, in file order.
    public private(set) var budgetFigures: [BudgetFigure]

    /// A table with no figures: every row then says it has no accuracy.
    public static let empty = AccuracyTable(figures: [:], budgetFigures: [])

    init(figures: [Key: Figure], budgetFigures: [BudgetFigure]) {
        self.figures = figures
        self.budgetFigures = budgetFigures
    }

    /// The published table MixQ ships, a resource of this module
    /// (Sources/Reports/Resources/published_top1.csv), found wherever `mixq` is installed.
    /// - Throws: `ReportsError` when the resource is missing beside the binary or malformed.
    public static func shipped() throws(ReportsError) -> AccuracyTable {
        guard let url = Bundle.module.url(forResource: "published_top1", withExtension: "csv") else {
            throw .unreadable(path: "published_top1.csv", reason: "the resource bundle is not installed beside mixq")
        }
        return try AccuracyTable(contentsOf: url, origin: .published)
    }

    /// Reads a table of `origin` from `url`.
    /// - Throws: `ReportsError` naming the file and line of a missing column, a Top-1 that is
    ///   not a percentage, a duplicate (model, scheme), or a published row without a source.
    public init(contentsOf url: URL, origin: Origin) throws(ReportsError) {
        try self.init(table: CSVTable(contentsOf: url), path: url.path, origin: origin)
    }

    /// Parses CSV `text` as a table of `origin`; `path` names it in errors.
    public init(parsing text: String, path: String, origin: Origin) throws(ReportsError) {
        try self.init(table: CSVTable(parsing: text, path: path), path: path, origin: origin)
    }

    init(table: CSVTable, path: String, origin: Origin) throws(ReportsError) {
        guard let modelColumn = table.column("model"), let schemeColumn = table.column("scheme"),
              let top1Column = table.column("top1") else {
            throw .malformedTable(path: path, line: 1, problem: "the header must name the columns model, scheme and top1 "
                                  + "(it has \(table.header.joined(separator: ",")))")
        }
        let sourceColumn = table.column("source")
        if origin == .published && sourceColumn == nil {
            throw .malformedTable(path: path, line: 1, problem: "a published table needs a source column")
        }
        let fileName = URL(fileURLWithPath: path).lastPathComponent
        var figures: [Key: Figure] = [:]
        var firstLine: [Key: Int] = [:]
        var budgetFigures: [BudgetFigure] = []
        for row in table.rows {
            func field(_ column: Int?) -> String {
                guard let column else { return "" }
                return row.fields[column].trimmingCharacters(in: .whitespaces)
            }
            func count(_ name: String) throws(ReportsError) -> Int? {
                let text = field(table.column(name))
                if text.isEmpty { return nil }
                guard let value = Int(text), value >= 0 else {
                    throw .malformedTable(path: path, line: row.line, problem: "\(name) '\(text)' is not a byte count")
                }
                return value
            }
            let model = field(modelColumn), scheme = field(schemeColumn), top1Text = field(top1Column)
            guard let top1 = Double(top1Text), top1 >= 0, top1 <= 100 else {
                throw .malformedTable(path: path, line: row.line, problem: "top1 '\(top1Text)' is not a percentage in 0...100")
            }
            if scheme.isEmpty {
                throw .malformedTable(path: path, line: row.line, problem: "scheme is empty")
            }
            var source = field(sourceColumn)
            if source.isEmpty {
                if origin == .published {
                    throw .malformedTable(path: path, line: row.line, problem: "a published figure needs a source")
                }
                source = "user table \(fileName)"
            }
            if model.isEmpty {
                let device = field(table.column("device"))
                guard !device.isEmpty else {
                    throw .malformedTable(path: path, line: row.line, problem: "model is empty (only a device-budget row may omit it, and it needs a device)")
                }
                budgetFigures.append(BudgetFigure(device: device, scheme: scheme, flashBytes: try count("flash_bytes"),
                                                  ramBytes: try count("ram_bytes"), top1: top1,
                                                  note: field(table.column("note")), source: source))
                continue
            }
            let key = Key(model: model, scheme: scheme)
            if let earlier = firstLine[key] {
                throw .malformedTable(path: path, line: row.line, problem: "\(model) under \(scheme) already has a figure on line \(earlier)")
            }
            firstLine[key] = row.line
            let dataset = field(table.column("dataset"))
            figures[key] = Figure(top1: top1, source: source, origin: origin, dataset: dataset.isEmpty ? Self.imageNet : dataset)
        }
        self.init(figures: figures, budgetFigures: budgetFigures)
    }

    /// This table with every figure of `other` replacing ours for the same (model, scheme).
    public func overridden(by other: AccuracyTable) -> AccuracyTable {
        AccuracyTable(figures: figures.merging(other.figures) { _, theirs in theirs },
                      budgetFigures: budgetFigures + other.budgetFigures)
    }

    /// The figure for `model` under `scheme`, if any table has one.
    public func figure(model: String, scheme: String) -> Figure? {
        figures[Key(model: model, scheme: scheme)]
    }

    /// Every (model, scheme) the table has a figure for, sorted.
    public var pairs: [(model: String, scheme: String)] {
        figures.keys.map { ($0.model, $0.scheme) }.sorted { $0.model != $1.model ? $0.model < $1.model : $0.scheme < $1.scheme }
    }

    /// Number of (model, scheme) figures.
    public var count: Int { figures.count }
}
