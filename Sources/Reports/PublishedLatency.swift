import Foundation

/// One published MLPerf Tiny latency (closed division): the engine, board and clock it was
/// measured on, and the reference model's MACs, so it converts to cycles and MAC/cycle for a
/// comparison with a MixQ figure on the same network class.
public struct PublishedLatency: Sendable, Codable, Equatable {
    public var benchmark: String
    public var referenceModel: String
    public var referenceMacs: Int
    public var round: String
    public var submitter: String
    public var board: String
    public var core: String
    public var clockMhz: Int
    public var stack: String
    public var latencyMs: Double
    public var accuracy: String
    public var source: String

    /// Core cycles of one inference: latency times clock.
    public var cycles: Double { latencyMs * Double(clockMhz) * 1000 }
    /// The reference model's MACs per core cycle.
    public var macPerCycle: Double { cycles > 0 ? Double(referenceMacs) / cycles : 0 }

    static let columns = ["benchmark", "reference_model", "reference_macs", "round", "submitter", "board", "core",
                          "clock_mhz", "stack", "latency_ms", "accuracy", "source"]

    /// The table MixQ ships (Sources/Reports/Resources/published_latency.csv, copied from
    /// MLCommons' tiny_results repositories; the file's header names the commits).
    /// - Throws: `ReportsError` when the resource is missing beside the binary or malformed.
    public static func shipped() throws(ReportsError) -> [PublishedLatency] {
        guard let url = Bundle.module.url(forResource: "published_latency", withExtension: "csv") else {
            throw .unreadable(path: "published_latency.csv", reason: "the resource bundle is not installed beside mixq")
        }
        return try parse(CSVTable(contentsOf: url), path: url.path)
    }

    /// Parses CSV `text` with the columns of the shipped table; `path` names it in errors.
    public static func parse(_ text: String, path: String) throws(ReportsError) -> [PublishedLatency] {
        try parse(CSVTable(parsing: text, path: path), path: path)
    }

    static func parse(_ table: CSVTable, path: String) throws(ReportsError) -> [PublishedLatency] {
        let indices = columns.map(table.column)
        guard indices.allSatisfy({ $0 != nil }) else {
            throw .malformedTable(path: path, line: 1, problem: "the header must name the columns "
                                  + columns.joined(separator: ",") + " (it has \(table.header.joined(separator: ",")))")
        }
        let at = indices.compactMap { $0 }
        return try table.rows.map { row throws(ReportsError) in
            func field(_ i: Int) -> String { at[i] < row.fields.count ? row.fields[at[i]] : "" }
            guard let macs = Int(field(2)), macs > 0 else {
                throw .malformedTable(path: path, line: row.line, problem: "reference_macs '\(field(2))' is not a positive integer")
            }
            guard let clock = Int(field(7)), clock > 0 else {
                throw .malformedTable(path: path, line: row.line, problem: "clock_mhz '\(field(7))' is not a positive integer")
            }
            guard let latency = Double(field(9)), latency > 0 else {
                throw .malformedTable(path: path, line: row.line, problem: "latency_ms '\(field(9))' is not a positive number")
            }
            guard !field(11).isEmpty else {
                throw .malformedTable(path: path, line: row.line, problem: "a published row needs a source")
            }
            return PublishedLatency(benchmark: field(0), referenceModel: field(1), referenceMacs: macs, round: field(3),
                                    submitter: field(4), board: field(5), core: field(6), clockMhz: clock, stack: field(8),
                                    latencyMs: latency, accuracy: field(10), source: field(11))
        }
    }
}
