import Diagnostics
import Foundation

/// Top-1 figures MixQ measured itself: the `<model>__<scheme>.eval.json` files `mixq eval --out`
/// writes (`.eval-<i>-of-<n>.json` for shard i of n), read into an `AccuracyTable` of origin
/// `measured`. Shards of one (model, scheme, dataset) are added up: their images partition the
/// dataset, so the counts sum. A shard found twice: the later file wins.
public enum MeasuredAccuracy {
    /// The part of an evaluation file a report needs (the full format: docs/results-format.md).
    struct Record: Decodable {
        struct Counts: Decodable {
            var top1: Int
            var top5: Int
        }
        struct Shard: Decodable {
            var index: Int
            var count: Int
        }
        var model: String
        var scheme: String
        var dataset: String
        var shard: Shard
        var images: Int
        var integer: Counts
        var float: Counts?
        var floatReference: String
        var targetImages: Int
        var targetBitExact: Bool?
    }

    /// Whether `name` is an evaluation file's name.
    public static func isEvaluationFileName(_ name: String) -> Bool {
        guard name.hasSuffix(".json"), !name.hasPrefix("."), name.contains(ResultsFolder.separator) else { return false }
        let stem = name.dropLast(".json".count)
        if stem.hasSuffix(".eval") { return true }
        guard let range = stem.range(of: ".eval-", options: .backwards) else { return false }
        let parts = stem[range.upperBound...].split(separator: "-")
        return parts.count == 3 && parts[1] == "of" && Int(parts[0]) != nil && Int(parts[2]) != nil
    }

    /// Reads every evaluation file in `folders`.
    /// - Throws: `ReportsError` for a folder that cannot be listed or a malformed file.
    public static func load(folders: [URL]) throws(ReportsError) -> AccuracyTable {
        var records: [String: [Int: Record]] = [:]  // key -> shard index -> record
        var order: [String] = []
        for folder in folders {
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            } catch {
                throw .unreadable(path: folder.path, reason: SystemErrorText.reason(error))
            }
            for name in names.filter(isEvaluationFileName).sorted() {
                let url = folder.appendingPathComponent(name)
                let record = try read(url)
                let key = "\(record.model)\u{0}\(record.scheme)\u{0}\(record.dataset)\u{0}\(record.shard.count)"
                if records[key] == nil { order.append(key) }
                records[key, default: [:]][record.shard.index] = record
            }
        }
        var figures: [AccuracyTable.Key: AccuracyTable.Figure] = [:]
        var imagesBehind: [AccuracyTable.Key: Int] = [:]
        for key in order {
            guard let shards = records[key], let first = shards.values.first else { continue }
            let all = shards.keys.sorted().compactMap { shards[$0] }
            let images = all.reduce(0) { $0 + $1.images }
            guard images > 0 else { continue }
            let top1 = all.reduce(0) { $0 + $1.integer.top1 }
            let floatTop1 = all.allSatisfy { $0.float != nil } ? all.reduce(0) { $0 + ($1.float?.top1 ?? 0) } : nil
            let onTarget = all.reduce(0) { $0 + $1.targetImages }
            let exact = all.allSatisfy { $0.targetImages == 0 || $0.targetBitExact == true }
            var source = "measured by MixQ on \(first.dataset): integer-only Top-1 over \(images) images"
            if first.shard.count > 1 {
                source += " (shards \(shards.keys.sorted().map(String.init).joined(separator: ",")) of \(first.shard.count))"
            }
            source += ", \(onTarget) of them on the emulated STM32H743" + (onTarget > 0 ? (exact ? ", bit-exact" : ", NOT bit-exact") : "")
            if let floatTop1 {
                source += String(format: "; %@ Top-1 %.2f%%", first.floatReference.components(separatedBy: " (").first ?? "float",
                                 Double(floatTop1) * 100 / Double(images))
            }
            let figure = AccuracyTable.Figure(top1: Double(top1) * 100 / Double(images), source: source, origin: .measured,
                                              dataset: first.dataset)
            // Several datasets for one pair: the one with the most images wins.
            let tableKey = AccuracyTable.Key(model: first.model, scheme: first.scheme)
            if let earlier = imagesBehind[tableKey], earlier >= images { continue }
            figures[tableKey] = figure
            imagesBehind[tableKey] = images
        }
        return AccuracyTable(figures: figures, budgetFigures: [])
    }

    static func read(_ url: URL) throws(ReportsError) -> Record {
        do {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            let record = try decoder.decode(Record.self, from: Data(contentsOf: url))
            guard record.images >= 0, record.integer.top1 <= record.images, record.integer.top5 <= record.images,
                  (1...record.shard.count).contains(record.shard.index) else {
                throw ReportsError.malformedResult(path: url.path, problem: "counts or shard out of range")
            }
            return record
        } catch let error as ReportsError {
            throw error
        } catch {
            throw .malformedResult(path: url.path, problem: "not an evaluation result (\(error))")
        }
    }
}
