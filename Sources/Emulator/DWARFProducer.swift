/// The compiler that built an ELF, as its DWARF debug information records it: the
/// `DW_AT_producer` attribute of the first compile unit (DWARF 5 standard, section 3.1.1), e.g.
/// `GNU C11 12.2.1 20221205 -mcpu=cortex-m7 -mthumb -O3 -g`.
///
/// Reads `.debug_info` unit headers of DWARF 2 to 5 (section 7.5.1), the abbreviation table of
/// the unit's first entry from `.debug_abbrev` (section 7.5.3) and the string forms
/// `DW_FORM_string`, `strp` (`.debug_str`), `line_strp` (`.debug_line_str`) and `strx`,
/// `strx1`...`strx4` (`.debug_str_offsets`, section 7.26). Every other attribute before the
/// producer is skipped by its form's size (section 7.5.6). Damaged input throws a `DWARFError`;
/// nothing traps.
public enum DWARFProducer {
    /// The producer of the first compile unit that records one; nil when there is no
    /// `.debug_info` (a stripped ELF) or no compile unit has a `DW_AT_producer`.
    ///
    /// - Parameter sections: DWARF section contents by name, as `ELFImage.debugSections`.
    /// - Throws: `DWARFError` when a section the answer depends on is truncated or uses a
    ///   format this reader does not know (64-bit DWARF, an unknown form or version).
    public static func producer(in sections: [String: [UInt8]]) throws(DWARFError) -> String? {
        guard let info = sections[".debug_info"], !info.isEmpty else { return nil }
        var units = DWARFCursor(info, section: ".debug_info")
        while !units.isAtEnd {
            let length = try units.unitLength()
            let unitEnd = units.offset + length
            guard unitEnd <= info.count else { throw .truncated(section: ".debug_info", offset: units.offset) }
            let unit = DWARFCursor(Array(info[units.offset..<unitEnd]), section: ".debug_info")
            if let producer = try producer(ofUnit: unit, startingAt: units.offset, sections: sections) {
                return producer
            }
            units.offset = unitEnd
        }
        return nil
    }

    // DWARF 5 standard, section 7.5.1 (unit types), 7.5.5 (tags, attributes), 7.5.6 (forms).
    private static let compileUnitType: UInt8 = 0x01           // DW_UT_compile
    private static let compileUnitTag: UInt64 = 0x11           // DW_TAG_compile_unit
    private static let producerAttribute: UInt64 = 0x25        // DW_AT_producer
    private static let stringOffsetsBaseAttribute: UInt64 = 0x72  // DW_AT_str_offsets_base

    /// The producer of one unit (its bytes after `unit_length`), or nil when the unit is not a
    /// compile unit or its compile-unit entry has no producer.
    private static func producer(ofUnit unit: DWARFCursor, startingAt base: Int,
                                 sections: [String: [UInt8]]) throws(DWARFError) -> String? {
        var cursor = unit
        let version = try cursor.u16()
        guard (2...5).contains(version) else {
            throw .unsupported(section: ".debug_info", what: "DWARF version \(version) (unit at offset \(base - 4))")
        }
        let abbreviationOffset: UInt64
        let addressSize: Int
        if version >= 5 {
            // DWARF 5 section 7.5.1.1: unit_type and address_size come before debug_abbrev_offset.
            let unitType = try cursor.u8()
            guard unitType == compileUnitType else { return nil }
            addressSize = Int(try cursor.u8())
            abbreviationOffset = UInt64(try cursor.u32())
        } else {
            // DWARF 2 to 4 (DWARF 4 section 7.5.1.1): debug_abbrev_offset, then address_size.
            abbreviationOffset = UInt64(try cursor.u32())
            addressSize = Int(try cursor.u8())
        }
        let code = try cursor.uleb128()
        guard code != 0 else { return nil }  // a unit with no entry
        guard let abbreviations = sections[".debug_abbrev"] else {
            throw .truncated(section: ".debug_abbrev", offset: 0)
        }
        let declaration = try Abbreviation.find(code: code, in: abbreviations, at: abbreviationOffset)
        guard declaration.tag == compileUnitTag else { return nil }

        let format = Format(version: version, addressSize: addressSize)
        var producerValue: StringValue?
        var stringOffsetsBase: UInt64?
        for attribute in declaration.attributes {
            var form = attribute.form
            var depth = 0
            while form == Form.indirect {
                // DW_FORM_indirect: the form itself is in the entry (section 7.5.3).
                depth += 1
                guard depth <= 8 else { throw .unsupported(section: ".debug_info", what: "a chain of DW_FORM_indirect") }
                form = try cursor.uleb128()
            }
            switch attribute.name {
            case producerAttribute:
                producerValue = try StringValue.read(form: form, from: &cursor, format: format)
            case stringOffsetsBaseAttribute where form == Form.secOffset:
                stringOffsetsBase = UInt64(try cursor.u32())
            default:
                try skip(form: form, in: &cursor, format: format)
            }
        }
        return producerValue.flatMap { $0.resolve(sections: sections, stringOffsetsBase: stringOffsetsBase) }
    }

    /// What a unit header says about the size of address- and offset-sized forms.
    private struct Format {
        var version: UInt16
        var addressSize: Int
    }

    /// Form codes, DWARF 5 standard section 7.5.6, table 7.6 (and the GNU extensions
    /// DW_FORM_GNU_addr_index, str_index, ref_alt and strp_alt, which GCC emits for split DWARF
    /// and dwz).
    private enum Form {
        static let addr: UInt64 = 0x01, block2: UInt64 = 0x03, block4: UInt64 = 0x04
        static let data2: UInt64 = 0x05, data4: UInt64 = 0x06, data8: UInt64 = 0x07
        static let string: UInt64 = 0x08, block: UInt64 = 0x09, block1: UInt64 = 0x0a
        static let data1: UInt64 = 0x0b, flag: UInt64 = 0x0c, sdata: UInt64 = 0x0d
        static let strp: UInt64 = 0x0e, udata: UInt64 = 0x0f, refAddr: UInt64 = 0x10
        static let ref1: UInt64 = 0x11, ref2: UInt64 = 0x12, ref4: UInt64 = 0x13, ref8: UInt64 = 0x14
        static let refUdata: UInt64 = 0x15, indirect: UInt64 = 0x16, secOffset: UInt64 = 0x17
        static let exprloc: UInt64 = 0x18, flagPresent: UInt64 = 0x19, strx: UInt64 = 0x1a
        static let addrx: UInt64 = 0x1b, refSup4: UInt64 = 0x1c, strpSup: UInt64 = 0x1d
        static let data16: UInt64 = 0x1e, lineStrp: UInt64 = 0x1f, refSig8: UInt64 = 0x20
        static let implicitConst: UInt64 = 0x21, loclistx: UInt64 = 0x22, rnglistx: UInt64 = 0x23
        static let refSup8: UInt64 = 0x24, strx1: UInt64 = 0x25, strx2: UInt64 = 0x26
        static let strx3: UInt64 = 0x27, strx4: UInt64 = 0x28, addrx1: UInt64 = 0x29
        static let addrx2: UInt64 = 0x2a, addrx3: UInt64 = 0x2b, addrx4: UInt64 = 0x2c
        static let gnuAddrIndex: UInt64 = 0x1f01, gnuStrIndex: UInt64 = 0x1f02
        static let gnuRefAlt: UInt64 = 0x1f20, gnuStrpAlt: UInt64 = 0x1f21
    }

    /// Moves past one attribute value of `form` (32-bit DWARF: offsets are 4 bytes).
    private static func skip(form: UInt64, in cursor: inout DWARFCursor, format: Format) throws(DWARFError) {
        switch form {
        case Form.flagPresent, Form.implicitConst:
            return  // no bytes in the entry; implicit_const's value is in the abbreviation
        case Form.data1, Form.ref1, Form.flag, Form.strx1, Form.addrx1:
            try cursor.advance(by: 1)
        case Form.data2, Form.ref2, Form.strx2, Form.addrx2:
            try cursor.advance(by: 2)
        case Form.strx3, Form.addrx3:
            try cursor.advance(by: 3)
        case Form.data4, Form.ref4, Form.strx4, Form.addrx4, Form.strp, Form.lineStrp, Form.secOffset,
             Form.refSup4, Form.strpSup, Form.gnuRefAlt, Form.gnuStrpAlt:
            try cursor.advance(by: 4)
        case Form.data8, Form.ref8, Form.refSig8, Form.refSup8:
            try cursor.advance(by: 8)
        case Form.data16:
            try cursor.advance(by: 16)
        case Form.addr:
            try cursor.advance(by: UInt64(format.addressSize))
        case Form.refAddr:
            // DWARF 2: the size of an address; DWARF 3 and later: an offset (section 7.5.4).
            try cursor.advance(by: format.version == 2 ? UInt64(format.addressSize) : 4)
        case Form.sdata:
            _ = try cursor.sleb128()
        case Form.udata, Form.refUdata, Form.strx, Form.addrx, Form.loclistx, Form.rnglistx,
             Form.gnuAddrIndex, Form.gnuStrIndex:
            _ = try cursor.uleb128()
        case Form.string:
            _ = try cursor.cString()
        case Form.block1:
            try cursor.advance(by: UInt64(try cursor.u8()))
        case Form.block2:
            try cursor.advance(by: UInt64(try cursor.u16()))
        case Form.block4:
            try cursor.advance(by: UInt64(try cursor.u32()))
        case Form.block, Form.exprloc:
            try cursor.advance(by: try cursor.uleb128())
        default:
            throw .unsupported(section: ".debug_info", what: "attribute form 0x\(String(form, radix: 16))")
        }
    }

    /// A string attribute's value as the entry stores it; strings in other sections are looked
    /// up once the whole entry has been read (DW_AT_str_offsets_base may follow the producer).
    private enum StringValue {
        case inline(String)
        case stringSection(offset: UInt64)
        case lineStringSection(offset: UInt64)
        case index(UInt64)
        /// A form that holds no string, or one in another file (DW_FORM_GNU_strp_alt, strp_sup).
        case unavailable

        static func read(form: UInt64, from cursor: inout DWARFCursor, format: Format) throws(DWARFError) -> StringValue {
            switch form {
            case Form.string: return .inline(try cursor.cString())
            case Form.strp: return .stringSection(offset: UInt64(try cursor.u32()))
            case Form.lineStrp: return .lineStringSection(offset: UInt64(try cursor.u32()))
            case Form.strx, Form.gnuStrIndex: return .index(try cursor.uleb128())
            case Form.strx1: return .index(UInt64(try cursor.u8()))
            case Form.strx2: return .index(UInt64(try cursor.u16()))
            case Form.strx3:
                let low = UInt64(try cursor.u16())
                return .index(low | UInt64(try cursor.u8()) << 16)
            case Form.strx4: return .index(UInt64(try cursor.u32()))
            default:
                try DWARFProducer.skip(form: form, in: &cursor, format: format)
                return .unavailable
            }
        }

        func resolve(sections: [String: [UInt8]], stringOffsetsBase: UInt64?) -> String? {
            switch self {
            case .inline(let string):
                return string
            case .stringSection(let offset):
                return DWARFCursor.string(in: sections[".debug_str"], at: offset)
            case .lineStringSection(let offset):
                return DWARFCursor.string(in: sections[".debug_line_str"], at: offset)
            case .index(let index):
                // DWARF 5 section 7.26: entries are 4-byte offsets into .debug_str, starting at
                // DW_AT_str_offsets_base; without one, right after the first contribution's
                // 8-byte header (unit_length, version, padding), as in a split unit.
                guard let table = sections[".debug_str_offsets"], index < UInt64(Int32.max) else { return nil }
                let (position, overflow) = (stringOffsetsBase ?? 8).addingReportingOverflow(index * 4)
                guard !overflow, position < UInt64(table.count) else { return nil }
                var cursor = DWARFCursor(table, section: ".debug_str_offsets", offset: Int(position))
                guard let offset = try? cursor.u32() else { return nil }
                return DWARFCursor.string(in: sections[".debug_str"], at: UInt64(offset))
            case .unavailable:
                return nil
            }
        }
    }

    /// One abbreviation declaration (section 7.5.3): the tag and the attribute specifications
    /// of the entries that use its code.
    private struct Abbreviation {
        struct Attribute {
            var name: UInt64
            var form: UInt64
        }
        var tag: UInt64
        var attributes: [Attribute]

        /// The declaration of `code` in the abbreviation table at `offset`.
        static func find(code: UInt64, in section: [UInt8], at offset: UInt64) throws(DWARFError) -> Abbreviation {
            guard offset < UInt64(section.count) else { throw .truncated(section: ".debug_abbrev", offset: section.count) }
            var cursor = DWARFCursor(section, section: ".debug_abbrev", offset: Int(offset))
            // Each declaration consumes at least one byte, so the loop ends at the section's end.
            while true {
                let entryCode = try cursor.uleb128()
                guard entryCode != 0 else {
                    throw .unsupported(section: ".debug_abbrev",
                                       what: "an entry whose abbreviation code \(code) is not in the table at offset \(offset)")
                }
                let tag = try cursor.uleb128()
                _ = try cursor.u8()  // DW_CHILDREN_yes / DW_CHILDREN_no
                var attributes: [Attribute] = []
                while true {
                    let name = try cursor.uleb128()
                    let form = try cursor.uleb128()
                    if name == 0 && form == 0 { break }
                    // DW_FORM_implicit_const keeps its value here, not in the entry.
                    if form == Form.implicitConst { _ = try cursor.sleb128() }
                    attributes.append(Attribute(name: name, form: form))
                }
                if entryCode == code { return Abbreviation(tag: tag, attributes: attributes) }
            }
        }
    }
}

extension DWARFCursor {
    /// Moves `count` bytes on; throws, without moving, when fewer are left.
    fileprivate mutating func advance(by count: UInt64) throws(DWARFError) {
        guard offset >= 0, offset <= bytes.count, count <= UInt64(bytes.count - offset) else {
            throw .truncated(section: section, offset: offset)
        }
        offset += Int(count)
    }
}

extension ELFImage {
    /// The compiler that built this image as its debug information names it (`DW_AT_producer`
    /// of the first compile unit, e.g. `GNU C11 12.2.1 20221205 -mcpu=cortex-m7 ... -O3 -g`),
    /// or nil when the image has no DWARF (stripped) or its DWARF is damaged. Use
    /// `DWARFProducer.producer(in:)` to learn why it is nil.
    public func producer() -> String? {
        try? DWARFProducer.producer(in: debugSections)
    }
}
