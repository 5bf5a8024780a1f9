import Diagnostics
import Foundation

/// The files `Report.write(to:protecting:)` produces in the output folder. None of them is
/// named like a result (`<model>__<scheme>.json` directly in the folder), so an output folder
/// can be an input folder too.
public enum ReportFiles {
    public static let markdown = "report.md"
    public static let csv = "results.csv"
    public static let json = "results.json"
    /// The latency-accuracy plot of the first dataset (ImageNet when published figures are
    /// in the report); every further dataset gets `latencyAccuracyPlot(for:)`.
    public static let latencyAccuracyPlot = "latency_accuracy.svg"
    public static let memoryPlot = "memory.svg"
    /// Latency of every pair on each device; written only when the results are for more than
    /// one device.
    public static let devicesPlot = "devices.svg"
    /// Per-result `<model>__<scheme>.csv` and `<model>__<scheme>.trace.json`.
    public static let profilesFolder = "profiles"

    /// `latency_accuracy_<dataset>.svg`, the dataset's name reduced to letters, digits and `_`
    /// (`data/mnist/test` -> `latency_accuracy_data_mnist_test.svg`).
    public static func latencyAccuracyPlot(for dataset: String) -> String {
        var slug = ""
        for character in dataset.lowercased() {
            if character.isASCII && (character.isLetter || character.isNumber) {
                slug.append(character)
            } else if !slug.isEmpty && !slug.hasSuffix("_") {
                slug.append("_")
            }
        }
        while slug.hasSuffix("_") { slug.removeLast() }
        return "latency_accuracy_\(slug.isEmpty ? "dataset" : slug).svg"
    }
}

extension Report {
    /// The latency-accuracy plot file of each dataset, in `datasets` order (the first is
    /// always `latency_accuracy.svg`, also when no row has a Top-1).
    public var latencyAccuracyPlots: [(dataset: String?, file: String)] {
        guard let first = datasets.first else { return [(nil, ReportFiles.latencyAccuracyPlot)] }
        return [(first, ReportFiles.latencyAccuracyPlot)] + datasets.dropFirst().map { ($0, ReportFiles.latencyAccuracyPlot(for: $0)) }
    }
}

extension Report {
    /// Writes every output into `folder` (created if needed) and returns the files written, in
    /// order. Each file is written atomically.
    /// - Parameter inputs: result files that must not be replaced (normally
    ///   `ResultCollection.inputFiles`).
    /// - Throws: `ReportsError.wouldOverwriteInput` before writing anything if an output path
    ///   is an input; `ReportsError.unwritable` when a file cannot be written.
    @discardableResult
    public func write(to folder: URL, protecting inputs: [URL]) throws(ReportsError) -> [URL] {
        let profiles = folder.appendingPathComponent(ReportFiles.profilesFolder)
        var outputs: [(URL, () throws -> Data)] = [
            (folder.appendingPathComponent(ReportFiles.markdown), { Data(self.markdown().utf8) }),
            (folder.appendingPathComponent(ReportFiles.csv), { Data(self.csv().utf8) }),
            (folder.appendingPathComponent(ReportFiles.json), { try self.json() }),
            (folder.appendingPathComponent(ReportFiles.memoryPlot), { Data(self.memorySVG().utf8) }),
        ]
        if comparesDevices {
            outputs.append((folder.appendingPathComponent(ReportFiles.devicesPlot), { Data(self.devicesSVG().utf8) }))
        }
        // The latency-accuracy plots go between results.json and memory.svg, in dataset order.
        for (offset, plot) in latencyAccuracyPlots.enumerated() {
            outputs.insert((folder.appendingPathComponent(plot.file), { Data(self.latencyAccuracySVG(dataset: plot.dataset).utf8) }),
                           at: 3 + offset)
        }
        for result in results {
            let profile = LayerProfile(result: result)
            outputs.append((profiles.appendingPathComponent(profile.baseName + ".csv"), { Data(profile.csv().utf8) }))
            if profile.hasTimeline {
                outputs.append((profiles.appendingPathComponent(profile.baseName + ".trace.json"), { try profile.traceJSON() ?? Data() }))
            }
        }
        let protected = Set(inputs.map { $0.standardizedFileURL.resolvingSymlinksInPath().path })
        for (url, _) in outputs where protected.contains(url.standardizedFileURL.resolvingSymlinksInPath().path) {
            throw .wouldOverwriteInput(path: url.path)
        }
        do {
            try FileManager.default.createDirectory(at: profiles, withIntermediateDirectories: true)
        } catch {
            throw .unwritable(path: profiles.path, reason: SystemErrorText.reason(error))
        }
        for (url, contents) in outputs {
            do {
                try contents().write(to: url, options: .atomic)
            } catch {
                throw .unwritable(path: url.path, reason: SystemErrorText.reason(error))
            }
        }
        return outputs.map(\.0)
    }
}
