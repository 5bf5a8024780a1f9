import Foundation

/// Published figures copied into `Resources/` (each file names its source in its `#` lines).
enum ReferenceData {
    struct ReferenceFileMissing: Error, CustomStringConvertible {
        var name: String
        var description: String { "test resource \(name) is missing from the PlanningTests bundle" }
    }

    /// The rows of a CSV resource as dictionaries keyed by the header, skipping `#` comment lines.
    static func rows(_ name: String) throws -> [[String: String]] {
        guard let url = Bundle.module.url(forResource: name, withExtension: "csv", subdirectory: "Resources") else {
            throw ReferenceFileMissing(name: name)
        }
        let lines = try String(contentsOf: url, encoding: .utf8)
            .split(separator: "\n")
            .filter { !$0.hasPrefix("#") && !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        guard let header = lines.first?.split(separator: ",").map(String.init) else { return [] }
        return lines.dropFirst().map { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return Dictionary(uniqueKeysWithValues: zip(header, fields))
        }
    }

    /// One published MobilenetV1 model zoo row (research/slim/nets/mobilenet_v1.md).
    struct ZooEntry {
        var model: String
        var mmacs: Double
        var mparams: Double
        var int8Top1: Double
    }

    static func modelZoo() throws -> [ZooEntry] {
        try rows("mobilenet_v1_imagenet").map { row in
            ZooEntry(model: row["model"] ?? "", mmacs: Double(row["mmacs"] ?? "") ?? .nan,
                     mparams: Double(row["mparams"] ?? "") ?? .nan, int8Top1: Double(row["int8_top1"] ?? "") ?? .nan)
        }
    }
}
