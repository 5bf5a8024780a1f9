import Emulator

/// A place in the source: file path and line (1-based).
public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var file: String
    public var line: Int

    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    public var description: String { "\(file):\(line)" }

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool { (a.file, a.line) < (b.file, b.line) }
}

/// Address to source line, from an ELF's DWARF line table (`.debug_line`, DWARF 2 to 5; the
/// line-number program of DWARF 5 section 6.2). Built with `-g`, arm-none-eabi-gcc 12 emits
/// version 5; older toolchains 2 to 4.
public struct SourceLineTable: Sendable {
    /// One row of the decoded matrix: from `address` up to the next row's address (or the end
    /// of its sequence) the code belongs to `location`.
    struct Row: Sendable {
        var address: UInt32
        var location: SourceLocation?
    }

    /// Rows of every sequence, sorted by address; a sequence's end is a row with no location.
    private(set) var rows: [Row] = []

    private init(rows: [Row]) { self.rows = rows }

    /// Reads the line table of `image`; empty when it has no `.debug_line`.
    public init(image: ELFImage) throws(DWARFError) {
        guard let section = image.debugSections[".debug_line"] else {
            self.init(rows: [])
            return
        }
        // Keep only sequences that start in the image's code, not those of code the linker dropped.
        let code = image.sections.filter { $0.isAllocated && $0.hasContents && $0.size > 0 }
        try self.init(lineSection: section, lineStrings: image.debugSections[".debug_line_str"],
                      strings: image.debugSections[".debug_str"]) { address in
            code.contains { address >= $0.address && UInt64(address) < UInt64($0.address) + UInt64($0.size) }
        }
    }

    init(lineSection: [UInt8], lineStrings: [UInt8]?, strings: [UInt8]?,
         keeping keeps: (UInt32) -> Bool = { _ in true }) throws(DWARFError) {
        var cursor = DWARFCursor(lineSection, section: ".debug_line")
        var rows: [Row] = []
        while !cursor.isAtEnd {
            let unitStart = cursor.offset
            let length = try cursor.unitLength()
            let unitEnd = cursor.offset + length
            guard unitEnd <= lineSection.count else { throw .truncated(section: ".debug_line", offset: unitStart) }
            var unit = DWARFCursor(Array(lineSection[cursor.offset..<unitEnd]), section: ".debug_line")
            try Self.readUnit(&unit, into: &rows, lineStrings: lineStrings, strings: strings)
            cursor.offset = unitEnd
        }
        // Sequences do not overlap; sort them by address, keeping each one's rows in order.
        self.rows = Self.sortedBySequence(rows, keeping: keeps)
    }

    /// Whether the image had line information.
    public var isEmpty: Bool { rows.isEmpty }

    /// The source line of the instruction at `address`, if the table covers it.
    public func location(of address: UInt32) -> SourceLocation? {
        var low = 0, high = rows.count
        while low < high {
            let middle = (low + high) / 2
            if rows[middle].address <= address { low = middle + 1 } else { high = middle }
        }
        guard low > 0 else { return nil }
        return rows[low - 1].location
    }

    // MARK: Reading

    private struct Header {
        var version: UInt16
        var addressSize: Int
        var minimumInstructionLength: UInt32
        var defaultIsStatement: Bool
        var lineBase: Int8
        var lineRange: UInt8
        var opcodeBase: UInt8
        var standardOpcodeLengths: [UInt8]
        var files: [String]
    }

    private static func readUnit(_ unit: inout DWARFCursor, into rows: inout [Row],
                                 lineStrings: [UInt8]?, strings: [UInt8]?) throws(DWARFError) {
        let version = try unit.u16()
        guard (2...5).contains(version) else {
            throw .unsupported(section: ".debug_line", what: "line table version \(version)")
        }
        var addressSize = 4
        if version >= 5 {
            addressSize = Int(try unit.u8())
            _ = try unit.u8()  // segment_selector_size
        }
        let headerLength = Int(try unit.u32())
        let programStart = unit.offset + headerLength
        let minimumInstructionLength = UInt32(try unit.u8())
        if version >= 4 { _ = try unit.u8() }  // maximum_operations_per_instruction (VLIW only)
        let defaultIsStatement = try unit.u8() != 0
        let lineBase = Int8(bitPattern: try unit.u8())
        let lineRange = try unit.u8()
        let opcodeBase = try unit.u8()
        guard lineRange > 0 else { throw .unsupported(section: ".debug_line", what: "line_range 0") }
        var lengths: [UInt8] = []
        for _ in 1..<max(1, Int(opcodeBase)) { lengths.append(try unit.u8()) }
        let files: [String]
        if version >= 5 {
            let directories = try readEntries(&unit, lineStrings: lineStrings, strings: strings).map { $0.path }
            files = try readEntries(&unit, lineStrings: lineStrings, strings: strings).map { entry in
                join(directory: entry.directory < directories.count ? directories[entry.directory] : "", entry.path)
            }
        } else {
            var directories = [""]  // index 0: the compilation directory
            while true {
                let directory = try unit.cString()
                if directory.isEmpty { break }
                directories.append(directory)
            }
            var names = [""]  // file numbers start at 1 before DWARF 5
            while true {
                let name = try unit.cString()
                if name.isEmpty { break }
                let directory = Int(clamping: try unit.uleb128())
                _ = try unit.uleb128()  // modification time
                _ = try unit.uleb128()  // length
                names.append(join(directory: directory < directories.count ? directories[directory] : "", name))
            }
            files = names
        }
        let header = Header(version: version, addressSize: addressSize, minimumInstructionLength: minimumInstructionLength,
                            defaultIsStatement: defaultIsStatement, lineBase: lineBase, lineRange: lineRange,
                            opcodeBase: opcodeBase, standardOpcodeLengths: lengths, files: files)
        unit.offset = programStart
        try runProgram(&unit, header: header, into: &rows)
    }

    /// A directory or file entry of a DWARF 5 header: path and directory index.
    private struct Entry { var path = ""; var directory = 0 }

    /// The directory or file-name table of a DWARF 5 line header (section 6.2.4.1): a list of
    /// (content type, form) pairs, then that many entries.
    private static func readEntries(_ unit: inout DWARFCursor, lineStrings: [UInt8]?, strings: [UInt8]?) throws(DWARFError) -> [Entry] {
        let formatCount = Int(try unit.u8())
        var format: [(type: UInt64, form: UInt64)] = []
        for _ in 0..<formatCount { format.append((try unit.uleb128(), try unit.uleb128())) }
        let count = try unit.uleb128()
        guard count <= UInt64(unit.bytes.count) else { throw .truncated(section: ".debug_line", offset: unit.offset) }
        var entries: [Entry] = []
        for _ in 0..<count {
            var entry = Entry()
            for (type, form) in format {
                let value = try readForm(&unit, form: form, lineStrings: lineStrings, strings: strings)
                switch type {
                case 1: entry.path = value.string ?? ""           // DW_LNCT_path
                case 2: entry.directory = Int(clamping: value.number)  // DW_LNCT_directory_index
                default: break                                     // timestamp, size, MD5
                }
            }
            entries.append(entry)
        }
        return entries
    }

    /// One attribute value of the forms a line header may use (DWARF 5 section 7.5.6).
    private static func readForm(_ unit: inout DWARFCursor, form: UInt64, lineStrings: [UInt8]?,
                                 strings: [UInt8]?) throws(DWARFError) -> (string: String?, number: UInt64) {
        switch form {
        case 0x08: return (try unit.cString(), 0)                                          // string
        case 0x1F: return (DWARFCursor.string(in: lineStrings, at: UInt64(try unit.u32())), 0)  // line_strp
        case 0x0E: return (DWARFCursor.string(in: strings, at: UInt64(try unit.u32())), 0)     // strp
        case 0x0B: return (nil, UInt64(try unit.u8()))                                      // data1
        case 0x05: return (nil, UInt64(try unit.u16()))                                     // data2
        case 0x06: return (nil, UInt64(try unit.u32()))                                     // data4
        case 0x07: return (nil, try unit.u64())                                             // data8
        case 0x0F: return (nil, try unit.uleb128())                                         // udata
        case 0x1E: unit.offset += 16; return (nil, 0)                                       // data16 (MD5)
        case 0x09:                                                                          // block
            let length = try unit.uleb128()
            guard length <= UInt64(unit.bytes.count) else { throw .truncated(section: ".debug_line", offset: unit.offset) }
            unit.offset += Int(length)
            return (nil, 0)
        default:
            throw .unsupported(section: ".debug_line", what: "form 0x\(String(form, radix: 16)) in a line header")
        }
    }

    /// The line-number state machine (DWARF 5 section 6.2.5).
    private static func runProgram(_ unit: inout DWARFCursor, header: Header, into rows: inout [Row]) throws(DWARFError) {
        var address: UInt32 = 0
        var file = 1
        var line = 1
        func emit() {
            let path = file >= 0 && file < header.files.count ? header.files[file] : "?"
            rows.append(Row(address: address, location: SourceLocation(file: path, line: line)))
        }
        func reset() { address = 0; file = 1; line = 1 }
        while !unit.isAtEnd {
            let opcode = try unit.u8()
            if opcode >= header.opcodeBase {
                // Special opcode: advance address and line, then append a row.
                let adjusted = Int(opcode) - Int(header.opcodeBase)
                address &+= UInt32(adjusted / Int(header.lineRange)) &* header.minimumInstructionLength
                line += Int(header.lineBase) + adjusted % Int(header.lineRange)
                emit()
                continue
            }
            switch opcode {
            case 0:  // extended
                let length = Int(clamping: try unit.uleb128())
                let end = unit.offset + length
                guard length > 0, end <= unit.bytes.count else { throw .truncated(section: ".debug_line", offset: unit.offset) }
                let sub = try unit.u8()
                switch sub {
                case 1:  // DW_LNE_end_sequence
                    rows.append(Row(address: address, location: nil))
                    reset()
                case 2:  // DW_LNE_set_address
                    address = UInt32(truncatingIfNeeded: try unit.unsigned(size: length - 1))
                default: break  // define_file (DWARF 2-4), set_discriminator, vendor extensions
                }
                unit.offset = end
            case 1: emit()                                                              // copy
            case 2: address &+= UInt32(truncatingIfNeeded: try unit.uleb128()) &* header.minimumInstructionLength  // advance_pc
            case 3: line += Int(clamping: try unit.sleb128())                            // advance_line
            case 4: file = Int(clamping: try unit.uleb128())                             // set_file
            case 5: _ = try unit.uleb128()                                               // set_column
            case 6, 7, 10, 11: break                                                     // negate_stmt, basic_block, prologue_end, epilogue_begin
            case 8:                                                                      // const_add_pc
                let adjusted = 255 - Int(header.opcodeBase)
                address &+= UInt32(adjusted / Int(header.lineRange)) &* header.minimumInstructionLength
            case 9: address &+= UInt32(try unit.u16())                                   // fixed_advance_pc
            default:
                // Unknown standard opcode: skip its ULEB128 operands.
                let count = Int(opcode) - 1 < header.standardOpcodeLengths.count ? header.standardOpcodeLengths[Int(opcode) - 1] : 0
                for _ in 0..<count { _ = try unit.uleb128() }
            }
        }
    }

    private static func join(directory: String, _ path: String) -> String {
        if path.hasPrefix("/") || directory.isEmpty { return path }
        return directory.hasSuffix("/") ? directory + path : directory + "/" + path
    }

    /// Orders sequences by their first address; rows inside a sequence stay in program order.
    private static func sortedBySequence(_ rows: [Row], keeping keeps: (UInt32) -> Bool) -> [Row] {
        var sequences: [[Row]] = []
        var current: [Row] = []
        for row in rows {
            current.append(row)
            if row.location == nil { sequences.append(current); current = [] }
        }
        if !current.isEmpty { sequences.append(current) }
        // Code the linker dropped (--gc-sections) keeps its sequences, starting at address 0.
        sequences.removeAll { !keeps($0.first?.address ?? 0) }
        sequences.sort { ($0.first?.address ?? 0) < ($1.first?.address ?? 0) }
        return sequences.flatMap { $0 }
    }
}
