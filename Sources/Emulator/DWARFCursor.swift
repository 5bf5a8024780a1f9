import Diagnostics
/// Why a DWARF section could not be read. Debug information is optional: callers that meet one
/// of these fall back to what the symbol table gives and say so.
public enum DWARFError: Error, Equatable, CustomStringConvertible {
    /// A read ran past the end of the section.
    case truncated(section: String, offset: Int)
    /// A version or form MixQ does not read.
    case unsupported(section: String, what: String)

    public var description: String {
        switch self {
        case let .truncated(section, offset):
            return "\(section) ends inside an entry at offset \(offset)"
        case let .unsupported(section, what):
            return "\(section): \(what) is not supported"
        }
    }
}

/// A bounds-checked reader over one DWARF section (DWARF 5 standard, section 7: little-endian
/// here, 32-bit DWARF format only; every read past the end throws instead of trapping).
public struct DWARFCursor {
    public let bytes: [UInt8]
    /// The section's name, for error messages.
    public let section: String
    /// Where the next read starts.
    public var offset: Int

    public init(_ bytes: [UInt8], section: String, offset: Int = 0) {
        self.bytes = bytes
        self.section = section
        self.offset = offset
    }

    public var isAtEnd: Bool { offset >= bytes.count }

    private mutating func take(_ count: Int) throws(DWARFError) -> Int {
        guard count >= 0, offset >= 0, offset <= bytes.count, count <= bytes.count - offset else {
            throw .truncated(section: section, offset: offset)
        }
        defer { offset += count }
        return offset
    }

    public mutating func u8() throws(DWARFError) -> UInt8 { bytes[try take(1)] }

    public mutating func u16() throws(DWARFError) -> UInt16 {
        let at = try take(2)
        return UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8
    }

    public mutating func u32() throws(DWARFError) -> UInt32 {
        let at = try take(4)
        return UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
    }

    public mutating func u64() throws(DWARFError) -> UInt64 {
        let low = UInt64(try u32())
        return low | UInt64(try u32()) << 32
    }

    /// An unsigned integer of `size` bytes (1, 2, 4 or 8).
    public mutating func unsigned(size: Int) throws(DWARFError) -> UInt64 {
        switch size {
        case 1: return UInt64(try u8())
        case 2: return UInt64(try u16())
        case 4: return UInt64(try u32())
        case 8: return try u64()
        default: throw .unsupported(section: section, what: "a \(size)-byte field")
        }
    }

    /// Unsigned LEB128 (DWARF 5 section 7.6). Bits past 64 are dropped.
    public mutating func uleb128() throws(DWARFError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try u8()
            if shift < 64 { result |= UInt64(byte & 0x7F) << shift }
            shift += 7
            if byte & 0x80 == 0 { return result }
        }
    }

    /// Signed LEB128 (DWARF 5 section 7.6).
    public mutating func sleb128() throws(DWARFError) -> Int64 {
        var result: Int64 = 0
        var shift: Int64 = 0
        var byte: UInt8
        repeat {
            byte = try u8()
            if shift < 64 { result |= Int64(byte & 0x7F) << shift }
            shift += 7
        } while byte & 0x80 != 0
        // Sign extension: all bits from `shift` up. ~0 << shift, not -(1 << shift), which
        // overflows (traps) for a 9-byte value, where shift is 63.
        if shift < 64 && byte & 0x40 != 0 { result |= Int64(bitPattern: ~UInt64(0) << UInt64(shift)) }
        return result
    }

    /// A NUL-terminated string; the terminator is consumed.
    public mutating func cString() throws(DWARFError) -> String {
        guard let end = bytes[min(offset, bytes.count)...].firstIndex(of: 0) else {
            throw .truncated(section: section, offset: offset)
        }
        defer { offset = end + 1 }
        // Escaped: file and producer names reach fault messages and profiles (see ELFImage).
        return ErrorText.escaped(String(decoding: bytes[offset..<end], as: UTF8.self))
    }

    /// The unit length that starts every DWARF unit header; 64-bit DWARF (0xffffffff) is
    /// refused, as no 32-bit ARM toolchain emits it.
    public mutating func unitLength() throws(DWARFError) -> Int {
        let length = try u32()
        guard length < 0xFFFF_FFF0 else { throw .unsupported(section: section, what: "64-bit DWARF") }
        return Int(length)
    }

    /// The NUL-terminated string at `offset` of a string section (`.debug_str`,
    /// `.debug_line_str`), or nil when the offset lies outside it.
    public static func string(in section: [UInt8]?, at offset: UInt64) -> String? {
        guard let section, offset < UInt64(section.count) else { return nil }
        var cursor = DWARFCursor(section, section: "", offset: Int(offset))
        return try? cursor.cString()
    }
}
