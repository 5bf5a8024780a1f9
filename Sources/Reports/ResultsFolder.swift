import Diagnostics
import Foundation

/// A results folder: one JSON file per (model, scheme, device), named
/// `<model>__<scheme>.json` (for example `mobilenet_v1_0.25_128__mixpc.json`) on the STM32H743
/// and `<model>__<scheme>@<device>.json` on other devices, each holding one
/// `DeploymentRecord`. Other files (the report's own outputs, logs, `profiles/`) are ignored.
/// The full format is in docs/results-format.md.
///
/// `mixq sweep` writes with `write(_:to:)`; `mixq report` reads with `load(folders:)`, which
/// merges any number of folders (shards of one sweep).
///
/// Merging rule for a pair found in more than one file: files are taken in the order the
/// folders were given, and by file name within a folder. Copies that decode to equal results
/// are one result, silently. Copies that differ: the later one wins and a warning names both
/// files and the fields that differ. (A later folder is usually a re-run; a shard layout
/// never produces a conflict on its own.)
public enum ResultsFolder {
    /// Between model and scheme in a result's file name.
    public static let separator = "__"

    /// Between scheme and device in the file name of a result of a device other than the
    /// STM32H743: `<model>__<scheme>@<device>.json`.
    public static let deviceMark = "@"

    /// The file name of the result of `model` under `scheme` on `device`:
    /// `<model>__<scheme>.json` on the STM32H743 (and for results that name no device),
    /// `<model>__<scheme>@<device in lower case>.json` on any other, e.g.
    /// `mobilenet_v1_0.25_128__mixpc@stm32f412.json` (docs/results-format.md, "File names").
    public static func fileName(model: String, scheme: String, device: String = DeviceCapacity.stm32h743.name) -> String {
        let suffix = device.caseInsensitiveCompare(DeviceCapacity.stm32h743.name) == .orderedSame ? "" : deviceMark + device.lowercased()
        return "\(model)\(separator)\(scheme)\(suffix).json"
    }

    /// The device a result file's name names (`@<device>`, canonical spelling for known parts),
    /// or nil when it names none (the STM32H743's files).
    public static func device(inFileName name: String) -> String? {
        guard isResultFileName(name) else { return nil }
        let stem = name.dropLast(".json".count)
        guard let separatorRange = stem.range(of: separator),
              let mark = stem[separatorRange.upperBound...].range(of: deviceMark, options: .backwards) else { return nil }
        let device = String(stem[mark.upperBound...])
        return DeviceCapacity.named(device)?.name ?? device.uppercased()
    }

    /// Whether `name` is a result file's name: `<model>__<scheme>.json` or
    /// `<model>__<scheme>@<device>.json`, not hidden, and not a trace the report writes
    /// (`.trace.json`).
    public static func isResultFileName(_ name: String) -> Bool {
        guard name.hasSuffix(".json"), !name.hasSuffix(".trace.json"), !name.hasPrefix("."),
              !MeasuredAccuracy.isEvaluationFileName(name) else { return false }
        let stem = name.dropLast(".json".count)
        guard let range = stem.range(of: separator) else { return false }
        guard range.lowerBound != stem.startIndex && range.upperBound != stem.endIndex else { return false }
        let rest = stem[range.upperBound...]
        if let mark = rest.range(of: deviceMark) {
            // One `@`, with a scheme before it and a device after it.
            return mark.lowerBound != rest.startIndex && mark.upperBound != rest.endIndex
                && !rest[mark.upperBound...].contains(Character(deviceMark))
        }
        return true
    }

    /// Decodes and checks one result. `path` names the file in errors.
    public static func decode(_ data: Data, path: String) throws(ReportsError) -> DeploymentRecord {
        let result: DeploymentRecord
        do {
            result = try JSONDecoder().decode(DeploymentRecord.self, from: data)
        } catch let error as DecodingError {
            throw .malformedResult(path: path, problem: describe(error))
        } catch {
            throw .malformedResult(path: path, problem: "not valid JSON (\(SystemErrorText.reason(error)))")
        }
        if let problem = result.problem() {
            throw .malformedResult(path: path, problem: problem)
        }
        var canonical = result
        if let part = result.conditions?["part"]?.text {
            canonical.device = DeviceCapacity.named(part)?.name ?? part
        }
        return canonical
    }

    /// Reads one result file and checks that its name matches its model, scheme and device (a
    /// result that never ran records no part: the device is then the one its name names).
    public static func read(_ url: URL) throws(ReportsError) -> DeploymentRecord {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw .unreadable(path: url.path, reason: SystemErrorText.reason(error))
        }
        var result = try decode(data, path: url.path)
        if result.conditions?["part"] == nil, let named = device(inFileName: url.lastPathComponent) {
            result.device = named
        }
        let expected = fileName(model: result.model, scheme: result.scheme, device: result.device)
        if url.lastPathComponent != expected {
            throw .malformedResult(path: url.path, problem: "holds model '\(result.model)' under scheme "
                                   + "'\(result.scheme)' on \(result.device), so it must be named \(expected)")
        }
        return result
    }

    /// Writes `result` into `folder` under its file name, atomically (a sweep interrupted
    /// mid-write leaves no half file), as pretty, key-sorted JSON. Returns the file's URL.
    @discardableResult
    public static func write(_ result: DeploymentRecord, to folder: URL) throws(ReportsError) -> URL {
        let url = folder.appendingPathComponent(fileName(model: result.model, scheme: result.scheme, device: result.device))
        if let problem = result.problem() {
            throw .malformedResult(path: url.path, problem: problem)
        }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try OutputFile.json(result).write(to: url, options: .atomic)
        } catch {
            throw .unwritable(path: url.path, reason: SystemErrorText.reason(error))
        }
        return url
    }

    /// The result files directly inside `folder`, sorted by name.
    public static func resultFiles(in folder: URL) throws(ReportsError) -> [URL] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .notAFolder(path: folder.path)
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        } catch {
            throw .unreadable(path: folder.path, reason: SystemErrorText.reason(error))
        }
        return names.filter(isResultFileName).sorted().map { folder.appendingPathComponent($0) }
    }

    /// Reads and merges the results of every folder (see the merging rule above).
    /// - Throws: `ReportsError` for a missing folder, a malformed file, or no results at all.
    public static func load(folders: [URL]) throws(ReportsError) -> ResultCollection {
        var collection = ResultCollection()
        for folder in folders {
            for url in try resultFiles(in: folder) {
                collection.add(try read(url), from: url)
            }
        }
        if collection.entries.isEmpty {
            throw .noResults(folders: folders.map(\.path))
        }
        return collection
    }

    private static func describe(_ error: DecodingError) -> String {
        func place(_ path: [CodingKey]) -> String {
            var text = ""
            for key in path {
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    text += (text.isEmpty ? "" : ".") + key.stringValue
                }
            }
            return text
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = place(context.codingPath)
            return "missing field '\(key.stringValue)'" + (parent.isEmpty ? "" : " in \(parent)")
        case .typeMismatch(let type, let context):
            let field = place(context.codingPath)
            return field.isEmpty ? "the file should hold one JSON object" : "field '\(field)' should be \(typeName(type))"
        case .valueNotFound(let type, let context):
            return "field '\(place(context.codingPath))' is null but should be \(typeName(type))"
        case .dataCorrupted(let context):
            let where_ = place(context.codingPath)
            if where_.isEmpty {
                return "not valid JSON (\(context.underlyingError.map { "\($0.localizedDescription)" } ?? context.debugDescription))"
            }
            return "field '\(where_)': \(context.debugDescription)"
        @unknown default:
            return String(describing: error)
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type: return "an integer"
        case is Double.Type: return "a number"
        case is Bool.Type: return "true or false"
        case is String.Type: return "a string"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return name
        }
    }
}

/// The merged results of one or more folders, one entry per (model, scheme, device), sorted by
/// model, then scheme (`int8`, `mixpl`, `mixpc`, then others alphabetically), then device.
public struct ResultCollection: Sendable {
    /// One result and the file it came from.
    public struct Entry: Sendable {
        public var result: DeploymentRecord
        public var source: URL
    }

    public private(set) var entries: [Entry] = []
    /// Conflicts found while merging, one line each.
    public private(set) var warnings: [String] = []
    /// Every file read, in reading order (the report never writes over these).
    public private(set) var inputFiles: [URL] = []

    public init() {}

    /// Adds `result`, read from `source`, applying the merging rule of `ResultsFolder`. The key
    /// of a result is (model, scheme, device).
    public mutating func add(_ result: DeploymentRecord, from source: URL) {
        inputFiles.append(source)
        if let index = entries.firstIndex(where: { $0.result.model == result.model && $0.result.scheme == result.scheme
                                                   && $0.result.device == result.device }) {
            let earlier = entries[index]
            if earlier.result != result {
                let fields = Self.differingFields(earlier.result, result)
                let on = result.device == DeviceCapacity.stm32h743.name ? "" : " on \(result.device)"
                warnings.append("\(result.model) under \(result.scheme)\(on): \(source.path) differs from \(earlier.source.path) "
                                + "in \(fields.joined(separator: ", ")); using \(source.path) (the later one)")
                entries[index] = Entry(result: result, source: source)
            }
            return
        }
        entries.append(Entry(result: result, source: source))
        entries.sort { Self.precedes($0.result, $1.result) }
    }

    /// Row order of every table: model name, then scheme, then device (`DeviceCapacity.known`
    /// order, then others by name).
    public static func precedes(_ a: DeploymentRecord, _ b: DeploymentRecord) -> Bool {
        if a.model != b.model { return a.model < b.model }
        if a.scheme != b.scheme { return SchemeOrder.precedes(a.scheme, b.scheme) }
        return DeviceCapacity.precedes(a.device, b.device)
    }

    static func differingFields(_ a: DeploymentRecord, _ b: DeploymentRecord) -> [String] {
        guard case .object(let left)? = try? JSONDecoder().decode(JSONValue.self, from: OutputFile.json(a)),
              case .object(let right)? = try? JSONDecoder().decode(JSONValue.self, from: OutputFile.json(b)) else {
            return ["content"]
        }
        let fields = Set(left.keys).union(right.keys).filter { left[$0] != right[$0] }.sorted()
        return fields.isEmpty ? ["content"] : fields
    }
}

/// The order schemes appear in: the three MixQ schemes first, from plain to most refined.
enum SchemeOrder {
    public static let known = ["float", "int8", "mixpl", "mixpc"]

    public static func precedes(_ a: String, _ b: String) -> Bool {
        switch (known.firstIndex(of: a), known.firstIndex(of: b)) {
        case let (left?, right?): return left < right
        case (.some, nil): return true
        case (nil, .some): return false
        case (nil, nil): return a < b
        }
    }
}
