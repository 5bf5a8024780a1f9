import Emulator
import FirmwareBuild
import Foundation
import Quantization
import Testing

/// `DWARFProducer` / `ELFImage.producer()`: the compiler an ELF names in DW_AT_producer
/// (DWARF 5 standard, sections 3.1.1, 7.5). Real firmware is checked against what binutils'
/// readelf prints for the same file; hand-built units cover the forms GCC does not emit for
/// firmware (strx with DW_AT_str_offsets_base, implicit_const, indirect, DWARF 2's ref_addr);
/// damaged sections must end in nil or a `DWARFError`, never a trap.
@Suite struct DWARFProducerTests {
    // MARK: - Real firmware against readelf

    /// firmware/tests/hello.c with MixQ's flags (`-g`: DWARF 5 on GCC 12) plus `flag`.
    static func helloELF(_ flag: String?) throws -> URL {
        let spec = FirmwareSpec(name: "hello", sources: ["tests/hello.c"], extraFlags: flag.map { [$0] } ?? [])
        return try Toolchain.locate().build(spec).elf
    }

    /// stdout of `arm-none-eabi-<tool>` with `arguments`.
    static func binutils(_ tool: String, _ arguments: [String]) throws -> String {
        let output = try runHostCommand("arm-none-eabi-\(tool)", arguments)
        #expect(output.status == 0, "arm-none-eabi-\(tool) \(arguments) failed")
        return output.standardOutput
    }

    /// The first compile unit's DWARF version and DW_AT_producer as readelf prints them
    /// (`DW_AT_producer : (indirect string, offset: 0x230): GNU C11 ...` for strp and
    /// line_strp, `DW_AT_producer : GNU C11 ...` for an inline string).
    static func readelfFirstUnit(_ elf: URL) throws -> (version: Int?, producer: String?) {
        let dump = try binutils("readelf", ["--debug-dump=info", "--dwarf-depth=1", elf.path])
        let lines = dump.split(separator: "\n", omittingEmptySubsequences: false)
        let version = lines.first { $0.contains("Version:") }
            .flatMap { Int($0.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "") }
        guard let line = lines.first(where: { $0.contains("DW_AT_producer") }),
              let colon = line.range(of: ": ") else { return (version, nil) }
        var value = line[colon.upperBound...]
        if value.hasPrefix("(indirect"), let end = value.range(of: "): ") { value = value[end.upperBound...] }
        return (version, String(value))
    }

    @Test(arguments: [(nil, 5), ("-gdwarf-4", 4), ("-gdwarf-2", 2)] as [(String?, Int)])
    func producerOfBuiltFirmwareIsWhatReadelfPrints(flag: String?, dwarfVersion: Int) throws {
        let elf = try Self.helloELF(flag)
        let expected = try Self.readelfFirstUnit(elf)
        #expect(expected.version == dwarfVersion, "the build emits the DWARF version under test")
        let producer = try #require(expected.producer, "readelf finds a producer")
        #expect(producer.hasPrefix("GNU C"))
        let image = try ELFImage(contentsOf: elf)
        #expect(try DWARFProducer.producer(in: image.debugSections) == producer)
        #expect(image.producer() == producer)
        if let flag { #expect(producer.contains(flag), "GCC records its flags in the producer") }
    }

    @Test func strippedFirmwareHasNoProducer() throws {
        let elf = try Self.helloELF(nil)
        let stripped = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-stripped-\(UUID().uuidString).elf")
        defer { try? FileManager.default.removeItem(at: stripped) }
        _ = try Self.binutils("strip", ["--strip-debug", "-o", stripped.path, elf.path])
        #expect(try Self.readelfFirstUnit(stripped).producer == nil, "readelf agrees there is none")
        let image = try ELFImage(contentsOf: stripped)
        #expect(image.debugSections[".debug_info"] == nil)
        #expect(try DWARFProducer.producer(in: image.debugSections) == nil)
        #expect(image.producer() == nil)
    }

    // MARK: - Hand-built units

    /// Little-endian DWARF bytes, written the way section 7 lays them out.
    struct Bytes {
        var data: [UInt8] = []
        mutating func u8(_ value: UInt8) { data.append(value) }
        mutating func u16(_ value: UInt16) { for i in 0..<2 { data.append(UInt8(truncatingIfNeeded: value >> (8 * i))) } }
        mutating func u32(_ value: UInt32) { for i in 0..<4 { data.append(UInt8(truncatingIfNeeded: value >> (8 * i))) } }
        mutating func u64(_ value: UInt64) { for i in 0..<8 { data.append(UInt8(truncatingIfNeeded: value >> (8 * i))) } }
        mutating func uleb(_ value: UInt64) {
            var value = value
            repeat {
                let byte = UInt8(value & 0x7F)
                value >>= 7
                data.append(value == 0 ? byte : byte | 0x80)
            } while value != 0
        }
        mutating func sleb(_ value: Int64) {
            var value = value
            while true {
                let byte = UInt8(value & 0x7F)
                value >>= 7
                if (value == 0 && byte & 0x40 == 0) || (value == -1 && byte & 0x40 != 0) {
                    data.append(byte)
                    return
                }
                data.append(byte | 0x80)
            }
        }
        mutating func string(_ text: String) { data += Array(text.utf8) + [0] }
        mutating func bytes(_ values: [UInt8]) { data += values }
        /// An abbreviation declaration: code, tag, children flag, (attribute, form[, implicit value]) pairs.
        mutating func abbreviation(_ code: UInt64, tag: UInt64, _ specs: [(UInt64, UInt64, Int64?)]) {
            uleb(code); uleb(tag); u8(1)
            for (name, form, implicit) in specs {
                uleb(name); uleb(form)
                if let implicit { sleb(implicit) }
            }
            uleb(0); uleb(0)
        }
        /// `body` prefixed with its 32-bit unit_length.
        static func unit(_ body: Bytes) -> [UInt8] {
            var header = Bytes()
            header.u32(UInt32(body.data.count))
            return header.data + body.data
        }
    }

    static let producer = "MixQ test producer 1.0 -O2"

    /// A DWARF 5 type unit (skipped), then a compile unit whose producer is `DW_FORM_strx1`
    /// resolved through a DW_AT_str_offsets_base that follows it; before the producer: an
    /// implicit_const (negative), an inline string, flag_present, an address, a strp and a
    /// block1. The abbreviation the unit uses is the second in the table.
    static func dwarf5Sections() -> [String: [UInt8]] {
        var strings = Bytes()
        strings.string("/tmp")                       // offset 0
        strings.string(producer)                     // offset 5
        var offsets = Bytes()
        offsets.u32(4 + 4 * 4); offsets.u16(5); offsets.u16(0)   // header: length, version, padding
        offsets.u32(0); offsets.u32(0)              // a contribution DW_AT_str_offsets_base skips
        offsets.u32(0); offsets.u32(5)              // base = 16: index 0 -> "/tmp", index 1 -> producer

        var abbrev = Bytes()
        abbrev.abbreviation(2, tag: 0x24, [(0x0b, 0x0b, nil), (0x03, 0x08, nil)])      // base_type: byte_size data1, name string
        abbrev.abbreviation(1, tag: 0x11, [(0x13, 0x21, 29), (0x3e, 0x21, -200),       // language, encoding: implicit_const
                                           (0x03, 0x08, nil), (0x3f, 0x19, nil),       // name string, external flag_present
                                           (0x11, 0x01, nil), (0x1b, 0x0e, nil),       // low_pc addr, comp_dir strp
                                           (0x25, 0x25, nil), (0x02, 0x0a, nil),       // producer strx1, location block1
                                           (0x72, 0x17, nil)])                         // str_offsets_base sec_offset
        abbrev.uleb(0)

        var typeUnit = Bytes()
        typeUnit.u16(5); typeUnit.u8(0x02); typeUnit.u8(4); typeUnit.u32(0)   // DW_UT_type
        typeUnit.u64(0x1122_3344_5566_7788); typeUnit.u32(0)                 // type_signature, type_offset
        typeUnit.uleb(2); typeUnit.u8(4); typeUnit.string("int"); typeUnit.u8(0)

        var compileUnit = Bytes()
        compileUnit.u16(5); compileUnit.u8(0x01); compileUnit.u8(4); compileUnit.u32(0)  // DW_UT_compile
        compileUnit.uleb(1)
        compileUnit.string("t.c")
        compileUnit.u32(0x0800_0000)
        compileUnit.u32(0)                           // comp_dir -> "/tmp"
        compileUnit.u8(1)                            // producer: string index 1
        compileUnit.u8(3); compileUnit.bytes([0x91, 0x7F, 0x00])
        compileUnit.u32(16)                          // str_offsets_base
        compileUnit.u8(0)

        return [".debug_info": Bytes.unit(typeUnit) + Bytes.unit(compileUnit), ".debug_abbrev": abbrev.data,
                ".debug_str": strings.data, ".debug_str_offsets": offsets.data]
    }

    @Test func dwarf5StrxThroughStringOffsetsBase() throws {
        let sections = Self.dwarf5Sections()
        #expect(try DWARFProducer.producer(in: sections) == Self.producer)
        var withoutOffsets = sections
        withoutOffsets[".debug_str_offsets"] = nil
        #expect(try DWARFProducer.producer(in: withoutOffsets) == nil, "an index with no offsets table names nothing")
    }

    /// A compile unit of `version` (2, 3 or 4 header layout) whose producer is an inline string
    /// behind every fixed-size and LEB128 form, DW_FORM_ref_addr (an address in DWARF 2, an
    /// offset later) and DW_FORM_indirect.
    static func legacySections(version: UInt16, addressSize: UInt8) -> [String: [UInt8]] {
        var abbrev = Bytes()
        abbrev.abbreviation(7, tag: 0x11, [(0x11, 0x01, nil), (0x10, 0x06, nil), (0x01, 0x10, nil),  // addr, data4, ref_addr
                                           (0x40, 0x0d, nil), (0x41, 0x0f, nil), (0x42, 0x07, nil),  // sdata, udata, data8
                                           (0x43, 0x05, nil), (0x44, 0x09, nil), (0x45, 0x04, nil),  // data2, block, block4
                                           (0x25, 0x16, nil)])                                        // producer: indirect
        abbrev.uleb(0)
        var unit = Bytes()
        unit.u16(version); unit.u32(0); unit.u8(addressSize)
        unit.uleb(7)
        for _ in 0..<Int(addressSize) { unit.u8(0xAA) }                 // addr
        unit.u32(0x1234)                                                 // data4
        let refAddrSize = version == 2 ? Int(addressSize) : 4
        for _ in 0..<refAddrSize { unit.u8(0xBB) }                       // ref_addr
        unit.sleb(-123_456); unit.uleb(987_654_321); unit.u64(7)         // sdata, udata, data8
        unit.u16(2)                                                      // data2
        unit.uleb(2); unit.bytes([1, 2])                                 // block
        unit.u32(3); unit.bytes([3, 4, 5])                               // block4
        unit.uleb(0x08); unit.string(Self.producer)                      // indirect -> DW_FORM_string
        unit.u8(0)
        return [".debug_info": Bytes.unit(unit), ".debug_abbrev": abbrev.data]
    }

    @Test(arguments: [(2, 8), (2, 4), (3, 4), (4, 4)] as [(UInt16, UInt8)])
    func legacyHeadersAndFormSizes(version: UInt16, addressSize: UInt8) throws {
        #expect(try DWARFProducer.producer(in: Self.legacySections(version: version, addressSize: addressSize)) == Self.producer)
    }

    @Test func lineStringProducer() throws {
        var abbrev = Bytes()
        abbrev.abbreviation(1, tag: 0x11, [(0x25, 0x1f, nil)])
        abbrev.uleb(0)
        var unit = Bytes()
        unit.u16(5); unit.u8(1); unit.u8(4); unit.u32(0); unit.uleb(1); unit.u32(4); unit.u8(0)
        var lineStrings = Bytes()
        lineStrings.string("abc")
        lineStrings.string(Self.producer)
        let sections = [".debug_info": Bytes.unit(unit), ".debug_abbrev": abbrev.data, ".debug_line_str": lineStrings.data]
        #expect(try DWARFProducer.producer(in: sections) == Self.producer)
    }

    @Test func unknownVersionAndFormAreTypedErrors() throws {
        var sections = Self.legacySections(version: 4, addressSize: 4)
        sections[".debug_info"]?[4] = 9  // version 9
        #expect(throws: DWARFError.self) { try DWARFProducer.producer(in: sections) }
        var abbrev = Bytes()
        abbrev.abbreviation(1, tag: 0x11, [(0x10, 0x7f, nil), (0x25, 0x08, nil)])  // form 0x7f does not exist
        abbrev.uleb(0)
        var unit = Bytes()
        unit.u16(4); unit.u32(0); unit.u8(4); unit.uleb(1); unit.u8(0); unit.string("x")
        #expect(throws: DWARFError.unsupported(section: ".debug_info", what: "attribute form 0x7f")) {
            try DWARFProducer.producer(in: [".debug_info": Bytes.unit(unit), ".debug_abbrev": abbrev.data])
        }
    }

    // MARK: - Damaged sections

    /// A 9-byte SLEB128 whose last byte has the sign bit set: shift reaches 63, where negating
    /// 1 << 63 would overflow. Bits 56...62 come from 0x40 (bit 62), bit 63 from sign extension.
    @Test func longestSignedLEB128DoesNotOverflow() throws {
        var cursor = DWARFCursor([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40], section: "test")
        #expect(try cursor.sleb128() == Int64(bitPattern: 0xC000_0000_0000_0000))
        var minusOne = DWARFCursor([0x7F], section: "test")
        #expect(try minusOne.sleb128() == -1)
        var minus200 = DWARFCursor([0xB8, 0x7E], section: "test")  // -200 = 0b...1_0011_1000
        #expect(try minus200.sleb128() == -200)
    }

    /// Every prefix of the first unit is truncated: the unit_length promises more bytes than
    /// are left, which must be an error, never a producer read from the wrong bytes.
    @Test func everyTruncationOfTheFirstUnitThrows() throws {
        let sections = try ELFImage(contentsOf: Self.helloELF(nil)).debugSections
        let info = try #require(sections[".debug_info"])
        let firstUnitEnd = 4 + (0..<4).reduce(0) { $0 | Int(info[$1]) << (8 * $1) }
        #expect(try DWARFProducer.producer(in: sections.merging([".debug_info": []]) { $1 }) == nil)
        for length in 1..<min(firstUnitEnd, info.count) {
            var damaged = sections
            damaged[".debug_info"] = Array(info[0..<length])
            #expect(throws: DWARFError.self, "truncated to \(length) bytes") { try DWARFProducer.producer(in: damaged) }
        }
    }

    /// Seeded random damage to .debug_info, .debug_abbrev and .debug_str of real firmware:
    /// each case ends in a string, nil or a DWARFError (a trap would end the test run).
    @Test func mutatedSectionsNeverTrap() throws {
        var sources = [try ELFImage(contentsOf: Self.helloELF(nil)).debugSections,
                       try ELFImage(contentsOf: Self.helloELF("-gdwarf-2")).debugSections, Self.dwarf5Sections()]
        sources.append(Self.legacySections(version: 2, addressSize: 8))
        var generator = SeededRandom(seed: 0x4D69_7851)
        var outcomes = [String: Int]()
        for round in 0..<600 {
            var sections = sources[round % sources.count]
            let others = sections.keys.filter { $0 != ".debug_info" && !(sections[$0]?.isEmpty ?? true) }.sorted()
            let name = generator.next() % 2 == 0 || others.isEmpty ? ".debug_info" : others[Int(generator.next() % UInt64(others.count))]
            var bytes = sections[name] ?? []
            guard !bytes.isEmpty else { Issue.record("\(name) is empty in source \(round % sources.count)"); continue }
            // Most damage lands in the first 64 bytes, where the header and the producer are.
            let window = Int(generator.next() % 4) == 0 ? bytes.count : min(64, bytes.count)
            switch generator.next() % 3 {
            case 0:
                for _ in 0..<(1 + Int(generator.next() % 8)) {
                    bytes[Int(generator.next() % UInt64(window))] = UInt8(truncatingIfNeeded: generator.next())
                }
            case 1:
                bytes = Array(bytes[0..<Int(generator.next() % UInt64(window))])
            default:
                let at = Int(generator.next() % UInt64(window))
                for index in at..<min(at + 4, bytes.count) { bytes[index] = 0xFF }
            }
            sections[name] = bytes
            do {
                let producer = try DWARFProducer.producer(in: sections)
                outcomes[producer == nil ? "nil" : "string", default: 0] += 1
            } catch {
                outcomes["error", default: 0] += 1
            }
        }
        #expect(outcomes.values.reduce(0, +) == 600)
        #expect((outcomes["error"] ?? 0) > 0, "the damage reaches the reader: \(outcomes)")
    }
}

