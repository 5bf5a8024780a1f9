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
            folder wins with a warning), joins Top-1 on (model, scheme): measured by MixQ (the \
            <model>__<scheme>.eval*.json files `mixq eval --out` writes, shards added up) beats the \
            shipped table of published figures, and --accuracy overrides both; then writes \
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

    @Option(help: "The published-accuracy table (default: the one shipped with mixq).")
    var published: String?

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
        if let published {
            table = try AccuracyTable(contentsOf: URL(fileURLWithPath: published), origin: .published)
        } else {
            do {
                table = try AccuracyTable.shipped()
            } catch {
                warn("\(error); rows get no published figure (pass --published FILE)")
            }
        }
        // Measured beats published; the user's --accuracy beats both.
        table = table.overridden(by: try MeasuredAccuracy.load(folders: folderURLs))
        if let accuracy {
            let user = try AccuracyTable(contentsOf: URL(fileURLWithPath: accuracy), origin: .user)
            let models = Set(collection.entries.map(\.result.model))
            let unknown = Set(user.pairs.map(\.model).filter { !models.contains($0) }).sorted()
            if !unknown.isEmpty {
                warn("--accuracy \(accuracy) has rows for models with no result, ignored: \(unknown.joined(separator: ", "))")
            }
            table = table.overridden(by: user)
        }
        let report = Reports.Report(collection: collection, accuracy: table)
        // Every file given as an input stays as it is: results, evaluations and both accuracy tables.
        let evaluations = folderURLs.flatMap { folder in
            ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
                .filter(MeasuredAccuracy.isEvaluationFileName).map { folder.appendingPathComponent($0) }
        }
        let tables = [accuracy, published].compactMap { $0 }.map { URL(fileURLWithPath: $0) }
        let written = try report.write(to: output, protecting: collection.inputFiles + evaluations + tables)
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
