import Foundation

/// Why a results folder, an accuracy table or the report's output could not be used.
///
/// Every case names the file and the problem, so a user can fix the input and run again.
public enum ReportsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A folder given on the command line does not exist or is not a folder.
    case notAFolder(path: String)
    /// None of the folders holds a `<model>__<scheme>.json` result.
    case noResults(folders: [String])
    /// A file could not be read at all.
    case unreadable(path: String, reason: String)
    /// A result file is not a deployment result: invalid JSON, a missing field, a wrong type
    /// or a value out of range. `problem` says which.
    case malformedResult(path: String, problem: String)
    /// A CSV table (shipped or `--accuracy`) has a problem on a given line (1-based).
    case malformedTable(path: String, line: Int, problem: String)
    /// Writing the report would replace a result file given as input.
    case wouldOverwriteInput(path: String)
    /// An output file could not be written.
    case unwritable(path: String, reason: String)

    public var description: String {
        switch self {
        case .notAFolder(let path):
            return "\(path): not a folder of results"
        case .noResults(let folders):
            return "no result files (<model>__<scheme>.json) in " + folders.joined(separator: ", ")
        case .unreadable(let path, let reason):
            return "\(path): cannot read: \(reason)"
        case .malformedResult(let path, let problem):
            return "\(path): not a valid deployment result: \(problem)"
        case .malformedTable(let path, let line, let problem):
            return "\(path):\(line): \(problem)"
        case .wouldOverwriteInput(let path):
            return "\(path): is an input result file; refusing to overwrite it (choose another --out)"
        case .unwritable(let path, let reason):
            return "\(path): cannot write: \(reason)"
        }
    }
}
