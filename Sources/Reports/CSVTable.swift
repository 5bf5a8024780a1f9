import Diagnostics
import Foundation

/// A small RFC 4180 CSV reader and writer: comma-separated, fields with commas, quotes or line
/// breaks in double quotes (a quote doubled inside). Lines starting with `#` are comments, blank
/// lines are skipped; the first remaining line is the header.
struct CSVTable: Sendable, Equatable {
    /// One data row with the 1-based line it started on (for error messages).
    public struct Row: Sendable, Equatable {
        public var line: Int
        public var fields: [String]
    }

    public var header: [String]
    public var rows: [Row]

    public init(header: [String], rows: [Row]) {
        self.header = header
        self.rows = rows
    }

    /// Parses `text`; `path` names the file in errors.
    /// - Throws: `ReportsError.malformedTable` for an unterminated quote, a missing header, or a
    ///   row whose field count differs from the header's.
    public init(parsing text: String, path: String) throws(ReportsError) {
        var records: [Row] = []
        var fields: [String] = []
        var field = ""
        var quoted = false
        var fieldWasQuoted = false
        var line = 1
        var recordLine = 1
        var atRecordStart = true
        var skippingComment = false
        let characters = Array(text.replacingOccurrences(of: "\r\n", with: "\n"))
        var index = 0
        func endRecord() {
            fields.append(field)
            let blank = fields.count == 1 && fields[0].trimmingCharacters(in: .whitespaces).isEmpty && !fieldWasQuoted
            if !blank { records.append(Row(line: recordLine, fields: fields)) }
            fields = []
            field = ""
            fieldWasQuoted = false
            atRecordStart = true
        }
        while index < characters.count {
            let character = characters[index]
            index += 1
            if skippingComment {
                if character == "\n" { skippingComment = false; line += 1; atRecordStart = true }
                continue
            }
            if atRecordStart {
                recordLine = line
                atRecordStart = false
                if character == "#" { skippingComment = true; continue }
            }
            if quoted {
                if character == "\"" {
                    if index < characters.count && characters[index] == "\"" {
                        field.append("\"")
                        index += 1
                    } else {
                        quoted = false
                    }
                } else {
                    if character == "\n" { line += 1 }
                    field.append(character)
                }
                continue
            }
            switch character {
            case "\"" where field.isEmpty:
                quoted = true
                fieldWasQuoted = true
            case ",":
                fields.append(field)
                field = ""
                fieldWasQuoted = false
            case "\n":
                endRecord()
                line += 1
            default:
                field.append(character)
            }
        }
        if quoted {
            throw .malformedTable(path: path, line: recordLine, problem: "a quoted field is never closed")
        }
        if !atRecordStart { endRecord() }
        guard let first = records.first else {
            throw .malformedTable(path: path, line: line, problem: "no header line")
        }
        header = first.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        rows = Array(records.dropFirst())
        for row in rows where row.fields.count != header.count {
            throw .malformedTable(path: path, line: row.line,
                                  problem: "\(row.fields.count) fields, but the header has \(header.count) (\(header.joined(separator: ",")))")
        }
    }

    /// Reads and parses the file at `url`.
    public init(contentsOf url: URL) throws(ReportsError) {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw .unreadable(path: url.path, reason: SystemErrorText.reason(error))
        }
        try self.init(parsing: text, path: url.path)
    }

    /// The column index of `name` in the header, if present.
    public func column(_ name: String) -> Int? {
        header.firstIndex(of: name)
    }

    /// The table as CSV text, `\n` line ends, a field quoted only when it has to be.
    public func rendered() -> String {
        ([header] + rows.map(\.fields)).map { $0.map(Self.quote).joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    static func quote(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) || field.hasPrefix("#") else {
            return field
        }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
