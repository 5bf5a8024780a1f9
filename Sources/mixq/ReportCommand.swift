import ArgumentParser
import Foundation
import Reports

/// `mixq report DIR...`: turn one or more results folders into tables, plots and profiles.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Merge results folders into a latency-accuracy report: tables, CSV/JSON, SVG plots, per-layer profiles.",
        discussion: """
            Reads every <model>__<scheme>.json in the folders (docs/results-format.md), merges \
            them (a pair found twice: equal copies are one result; differing copies, the later \
            folder wins with a warning), joins ImageNet Top-1 on (model, scheme) from the \
            shipped table of published figures and, overriding it, --accuracy, and writes \
            report.md, results.csv, results.json, latency_accuracy.svg, memory.svg and \
            profiles/<model>__<scheme>.csv/.trace.json (open traces in ui.perfetto.dev). \
            Never replaces a result file. Prints the combined table.
            """
    )

    @Argument(help: "Results folders (shards of one sweep, or several sweeps).")
    var folders: [String] = []

    @Option(help: "Your own Top-1 figures: CSV with columns model,scheme,top1[,source]; they override published ones.")
    var accuracy: String?

    @Option(help: "Where to write the report (default: the first folder).")
    var out: String?

    @Option(help: "The published-accuracy table (default: data/accuracy/published_top1.csv of this checkout).")
    var published: String?

    /// The shipped table, found from this source file's place in the checkout.
    static var shippedAccuracyTable: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("data/accuracy/published_top1.csv")
    }

    func validate() throws {
        if folders.isEmpty {
            throw ValidationError("give at least one results folder")
        }
    }

    func run() throws {
        let folderURLs = folders.map { URL(fileURLWithPath: $0) }
        let output = out.map { URL(fileURLWithPath: $0) } ?? folderURLs[0]
        // Library errors (ReportsError) reach MixQ.main, which prints them as one `error:` line.
        let collection = try ResultsFolder.load(folders: folderURLs)
        var table = AccuracyTable.empty
        let publishedURL = published.map { URL(fileURLWithPath: $0) } ?? Self.shippedAccuracyTable
        if published != nil || FileManager.default.fileExists(atPath: publishedURL.path) {
            table = try AccuracyTable(contentsOf: publishedURL, origin: .published)
        } else {
            warn("the shipped accuracy table is not at \(publishedURL.path); rows get no published figure (pass --published FILE)")
        }
        if let accuracy {
            table = table.overridden(by: try AccuracyTable(contentsOf: URL(fileURLWithPath: accuracy), origin: .user))
        }
        let report = Reports.Report(collection: collection, accuracy: table)
        let written = try report.write(to: output, protecting: collection.inputFiles)
        report.warnings.forEach(warn)
        print(report.markdownTable(), terminator: "")
        for (index, source) in report.top1Sources.enumerated() {
            print("[\(index + 1)] \(source)")
        }
        let profiles = written.filter { $0.deletingLastPathComponent().lastPathComponent == ReportFiles.profilesFolder }
        let models = Set(report.rows.map(\.model)).count
        print("mixq: report of \(report.rows.count) results (\(models) models; \(report.schemes.joined(separator: ", "))) "
              + "written to \(output.relativePath): " + written.filter { !profiles.contains($0) }.map(\.lastPathComponent).joined(separator: ", ")
              + ", \(ReportFiles.profilesFolder)/ (\(profiles.count) files)"
              + (report.conditionsAgree ? "" : "; the results disagree on conditions, see report.md"))
    }

    private func warn(_ message: String) {
        FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
    }
}
