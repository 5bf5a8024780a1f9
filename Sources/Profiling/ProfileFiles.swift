import Foundation

/// The files `mixq run --profile OUT` writes, as text. Every file carries the run's conditions.
extension ProfileReport {
    /// Names of the files in the profile folder.
    public enum FileName {
        public static let table = "profile.txt"
        public static let folded = "profile.folded"
        public static let trace = "trace.json"
        public static let json = "profile.json"
        public static let pprof = "profile.pb"
        public static let all = [table, folded, trace, json, pprof]
    }

    /// `profile.txt`: the top `limit` functions (self cycles, %, inclusive, instructions, CPI,
    /// stalls, calls; I-/D-cache misses under `full`), the top source lines and the memory
    /// regions, under a header naming the firmware and the conditions.
    ///
    /// Source paths under `sourceRoot` (the current directory, say) are shown relative to it.
    public func table(firmware: String, conditions: String, limit: Int = 20, showsCacheMisses: Bool,
                      sourceRoot: String? = nil) -> String {
        func shown(_ location: SourceLocation) -> String {
            guard let root = sourceRoot.map({ $0.hasSuffix("/") ? $0 : $0 + "/" }), location.file.hasPrefix(root) else {
                return location.description
            }
            return String(location.file.dropFirst(root.count)) + ":\(location.line)"
        }
        var out = "MixQ profile of \(firmware)\n"
        out += "conditions: \(conditions)\n"
        let attributed = functions.reduce(UInt64(0)) { $0 &+ $1.selfCycles }
        out += "total: \(cycles) cycles, \(instructions) instructions; functions account for \(attributed) cycles"
            + " (\(Self.percent(attributed, of: cycles)))\n\n"

        out += "Functions by self cycles (top \(min(limit, functions.count)) of \(functions.count))\n"
        var header = ["self cycles", "%", "inclusive", "%", "instructions", "CPI", "stalls", "calls"]
        if showsCacheMisses { header += ["I-miss", "D-miss"] }
        header.append("function")
        var rows: [[String]] = [header]
        for function in functions.prefix(limit) {
            var row = [String(function.selfCycles), Self.percent(function.selfCycles, of: cycles),
                       String(function.inclusiveCycles), Self.percent(function.inclusiveCycles, of: cycles),
                       String(function.instructions), String(format: "%.2f", function.cyclesPerInstruction),
                       String(function.stallCycles), String(function.calls)]
            if showsCacheMisses { row += [String(function.instructionCacheMisses), String(function.dataCacheMisses)] }
            row.append(function.name + (function.location.map { "  (\(shown($0)))" } ?? ""))
            rows.append(row)
        }
        out += Self.align(rows)

        out += "\nSource lines by cycles"
        if hasLineInformation {
            out += " (top \(min(limit, lines.count)) of \(lines.count); a block's cycles are shared among its"
                + " instructions by their static issue cycles)\n"
            var lineRows: [[String]] = [["cycles", "%", "instructions", "line", "function"]]
            for line in lines.prefix(limit) {
                lineRows.append([String(line.cycles), Self.percent(line.cycles, of: cycles), String(line.instructions),
                                 shown(line.location), line.function])
            }
            out += Self.align(lineRows)
        } else {
            out += ": the ELF has no DWARF line information (build with -g for per-line figures)\n"
        }

        out += "\nMemory regions\n"
        var regionHeader = ["region", "code instructions", "code cycles"]
        if dataAccessesCounted { regionHeader += ["data reads", "data writes", "bytes read", "bytes written", "data stall cycles"] }
        var regionRows: [[String]] = [regionHeader]
        for region in regions {
            var row = [region.region, String(region.instructions), String(region.cycles)]
            if dataAccessesCounted {
                row += [region.reads, region.writes, region.bytesRead, region.bytesWritten, region.dataStallCycles]
                    .map { $0.map(String.init) ?? "-" }
            }
            regionRows.append(row)
        }
        out += Self.align(regionRows)
        if !dataAccessesCounted {
            out += "(data accesses per region are counted under --timing full, or with --profile-memory)\n"
        }
        if traceEventsDropped > 0 {
            out += "\ntrace.json holds the first \(spans.count) function spans; \(traceEventsDropped) later entries/exits"
                + " were not kept (the tables above are complete)\n"
        }
        return out
    }

    /// `profile.folded`: one line per calling context, `outer;inner;innermost cycles`, the
    /// format flamegraph.pl and speedscope read, and nothing else (flamegraph.pl warns about
    /// any other line); the conditions are in profile.txt and profile.json.
    public func folded() -> String {
        var out = ""
        for stack in stacks.sorted(by: { $0.functions.lexicographicallyPrecedes($1.functions) }) {
            out += stack.functions.map { $0.replacingOccurrences(of: ";", with: ":").replacingOccurrences(of: " ", with: "_") }
                .joined(separator: ";")
            out += " \(stack.cycles)\n"
        }
        return out
    }

    /// `trace.json`: the Chrome trace event format (complete events, `ph: "X"`) that
    /// Perfetto and chrome://tracing open. `ts` and `dur` are core cycles, not microseconds:
    /// the viewer's "µs" reads as cycles.
    public func chromeTrace(conditions: String) -> String {
        var out = "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"time_unit\":\"core cycles\",\"conditions\":"
        out += Self.jsonString(conditions)
        out += ",\"events_dropped\":\(traceEventsDropped)},\"traceEvents\":[\n"
        out += "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":1,\"args\":{\"name\":\"firmware (1 unit = 1 core cycle)\"}}"
        for span in spans {
            out += ",\n{\"name\":\(Self.jsonString(span.function)),\"ph\":\"X\",\"pid\":1,\"tid\":1,\"ts\":\(span.start),\"dur\":\(span.cycles)}"
        }
        out += "\n]}\n"
        return out
    }

    /// Writes the five files into `folder` (created if needed), replacing earlier profiles.
    public func write(to folder: URL, firmware: String, conditions: String, clockMHz: Int, limit: Int,
                      showsCacheMisses: Bool, sourceRoot: String? = nil) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let files: [(String, String)] = [
            (FileName.table, table(firmware: firmware, conditions: conditions, limit: limit, showsCacheMisses: showsCacheMisses,
                                   sourceRoot: sourceRoot)),
            (FileName.folded, folded()),
            (FileName.trace, chromeTrace(conditions: conditions)),
            (FileName.json, try json(firmware: firmware, conditions: conditions)),
        ]
        for (name, text) in files {
            try Data(text.utf8).write(to: folder.appendingPathComponent(name), options: .atomic)
        }
        try Data(pprof(conditions: conditions, clockMHz: clockMHz))
            .write(to: folder.appendingPathComponent(FileName.pprof), options: .atomic)
    }

    /// `profile.json`: every function, line and region with its figures, for scripts.
    public func json(firmware: String, conditions: String) throws -> String {
        let document = ProfileDocument(report: self, firmware: firmware, conditions: conditions)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(document), as: UTF8.self) + "\n"
    }

    // MARK: Formatting

    static func percent(_ part: UInt64, of total: UInt64) -> String {
        total > 0 ? String(format: "%.2f%%", Double(part) * 100 / Double(total)) : "-"
    }

    /// Columns right-aligned but the last, which is left as is (names).
    static func align(_ rows: [[String]]) -> String {
        guard let columns = rows.map(\.count).max() else { return "" }
        var widths = [Int](repeating: 0, count: columns)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : String(repeating: " ", count: widths[index] - cell.count) + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}

/// The layout of `profile.json`.
private struct ProfileDocument: Encodable {
    struct Function: Encodable {
        var name: String
        var address: UInt32
        var selfCycles, inclusiveCycles, instructions, calls, stallCycles: UInt64
        var instructionCacheMisses, dataCacheMisses: UInt64
        var file: String?
        var line: Int?
        enum CodingKeys: String, CodingKey {
            case name, address, instructions, calls, file, line
            case selfCycles = "self_cycles", inclusiveCycles = "inclusive_cycles", stallCycles = "stall_cycles"
            case instructionCacheMisses = "instruction_cache_misses", dataCacheMisses = "data_cache_misses"
        }
    }
    struct Line: Encodable { var file: String; var line: Int; var function: String; var cycles, instructions: UInt64 }
    struct Region: Encodable {
        var region: String
        var codeInstructions, codeCycles: UInt64
        var reads, writes, bytesRead, bytesWritten, dataStallCycles: UInt64?
        enum CodingKeys: String, CodingKey {
            case region, reads, writes
            case codeInstructions = "code_instructions", codeCycles = "code_cycles", bytesRead = "bytes_read"
            case bytesWritten = "bytes_written", dataStallCycles = "data_stall_cycles"
        }
    }
    struct Stack: Encodable { var functions: [String]; var cycles: UInt64 }

    var firmware: String
    var conditions: String
    var cycles: UInt64
    var instructions: UInt64
    var functions: [Function]
    var lines: [Line]
    var regions: [Region]
    var stacks: [Stack]
    var traceEventsDropped: UInt64

    enum CodingKeys: String, CodingKey {
        case firmware, conditions, cycles, instructions, functions, lines, regions, stacks
        case traceEventsDropped = "trace_events_dropped"
    }

    init(report: ProfileReport, firmware: String, conditions: String) {
        self.firmware = firmware
        self.conditions = conditions
        cycles = report.cycles
        instructions = report.instructions
        functions = report.functions.map {
            Function(name: $0.name, address: $0.address, selfCycles: $0.selfCycles, inclusiveCycles: $0.inclusiveCycles,
                     instructions: $0.instructions, calls: $0.calls, stallCycles: $0.stallCycles,
                     instructionCacheMisses: $0.instructionCacheMisses, dataCacheMisses: $0.dataCacheMisses,
                     file: $0.location?.file, line: $0.location?.line)
        }
        lines = report.lines.map {
            Line(file: $0.location.file, line: $0.location.line, function: $0.function, cycles: $0.cycles, instructions: $0.instructions)
        }
        regions = report.regions.map {
            Region(region: $0.region, codeInstructions: $0.instructions, codeCycles: $0.cycles, reads: $0.reads,
                   writes: $0.writes, bytesRead: $0.bytesRead, bytesWritten: $0.bytesWritten, dataStallCycles: $0.dataStallCycles)
        }
        stacks = report.stacks.map { Stack(functions: $0.functions, cycles: $0.cycles) }
        traceEventsDropped = report.traceEventsDropped
    }
}
