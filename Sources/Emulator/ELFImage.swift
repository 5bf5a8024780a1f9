import Diagnostics
import Foundation

/// Why an ELF file cannot be used as Cortex-M firmware.
public enum ELFError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    /// The path names a directory, a device, a FIFO or a socket, not a file with an image in it.
    case notRegularFile(path: String, kind: String)
    case tooLarge(path: String, bytes: UInt64, limit: UInt64)
    case tooSmall(bytes: Int)
    case notELF
    case notClass32(found: UInt8)
    case notLittleEndian
    case notARM(machine: UInt16)
    case notExecutable(type: UInt16)
    case truncated(what: String, offset: UInt64, length: UInt64, fileSize: Int)
    case malformed(String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "cannot read '\(path)': \(reason)"
        case let .notRegularFile(path, kind):
            return "'\(path)' is \(kind), not a regular file; pass the firmware .elf file the linker wrote"
        case let .tooLarge(path, bytes, limit):
            return "'\(path)' is \(bytes) bytes, more than any STM32H743 firmware ELF (limit \(limit) bytes); is it the right file?"
        case let .tooSmall(bytes):
            return "not an ELF file: only \(bytes) bytes (an ELF32 header alone is 52)"
        case .notELF:
            return "not an ELF file (no \\x7fELF magic at the start); pass the .elf the linker wrote, not a .bin or .hex"
        case let .notClass32(found):
            return "not a 32-bit ELF (EI_CLASS = \(found)); Cortex-M firmware is ELF32 - was this built for a 64-bit target?"
        case .notLittleEndian:
            return "big-endian ELF; the Cortex-M7 on STM32H7 runs little-endian code"
        case let .notARM(machine):
            return "ELF is for machine \(machine) (\(ELFImage.machineName(machine))), not ARM (40); build it with arm-none-eabi-gcc"
        case let .notExecutable(type):
            return "ELF type \(type) is not an executable (ET_EXEC = 2); link the objects into firmware first"
        case let .truncated(what, offset, length, fileSize):
            return "ELF is truncated or corrupt: \(what) at offset \(offset) (\(length) bytes) runs past the end of the \(fileSize)-byte file"
        case let .malformed(message):
            return "malformed ELF: \(message)"
        }
    }
}

/// A loadable segment (PT_LOAD program header).
public struct ELFSegment: Sendable, Hashable {
    /// Where the bytes live in the address space at reset (the load memory address).
    public var physicalAddress: UInt32
    /// Where the code expects them at run time (differs for .data copied at start-up).
    public var virtualAddress: UInt32
    /// Bytes taken from the file.
    public var fileBytes: [UInt8]
    /// Size in memory; the part past `fileBytes.count` is zero-filled.
    public var memorySize: UInt32
    /// PF_X / PF_W / PF_R bits.
    public var flags: UInt32
}

/// A section header with the fields the size report needs.
public struct ELFSection: Sendable, Hashable {
    /// The name from the section-name table, or "" when that table is missing or damaged.
    public var name: String
    /// Position in the section header table (what `readelf -S` prints in brackets).
    public var index: Int = 0
    public var address: UInt32
    public var size: UInt32
    /// Where the section's initial bytes are stored at reset (equal to `address` unless the
    /// start-up code copies it, like .data).
    public var loadAddress: UInt32
    /// Occupies memory at run time (SHF_ALLOC).
    public var isAllocated: Bool
    /// Has bytes in the file (not SHT_NOBITS such as .bss or a NOLOAD stack).
    public var hasContents: Bool

    /// The name, or "#index" when the section-name table gives none.
    public var displayName: String { name.isEmpty ? "#\(index)" : name }
}

/// A named function or object from the symbol table.
public struct ELFSymbol: Sendable, Hashable {
    public var name: String
    /// Address with the Thumb bit cleared.
    public var address: UInt32
    public var size: UInt32
    public var isFunction: Bool
}

/// A parsed, validated ELF32 little-endian ARM executable.
public struct ELFImage: Sendable {
    public var entry: UInt32
    public var segments: [ELFSegment]
    public var sections: [ELFSection]
    /// Functions and objects, sorted by address.
    public var symbols: [ELFSymbol]
    private var symbolsByName: [String: Int]
    /// The contents of the DWARF sections (`.debug_line`, `.debug_info`, `.debug_str`, ...) by
    /// name, when the ELF was built with `-g`; empty for a stripped image.
    public var debugSections: [String: [UInt8]] = [:]

    /// Reads and validates the ELF file at `url`.
    public init(contentsOf url: URL) throws {
        try self.init(bytes: try Self.readFile(url.path))
    }

    /// The largest file `init(contentsOf:)` reads: far above any image the part can hold (2 MiB
    /// FLASH plus debug information), far below what would exhaust the host.
    public static let maximumFileBytes: UInt64 = 256 << 20

    /// Reads a regular file whole. Checks what the path is before opening it, so a directory,
    /// /dev/null, /dev/zero (which never ends) or a FIFO (which would block) is named as such
    /// instead of failing with an unrelated Foundation message; I/O errors carry strerror's words.
    static func readFile(_ path: String) throws -> [UInt8] {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw ELFError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw ELFError.notRegularFile(path: path, kind: "a directory")
        case S_IFCHR: throw ELFError.notRegularFile(path: path, kind: "a character device")
        case S_IFBLK: throw ELFError.notRegularFile(path: path, kind: "a block device")
        case S_IFIFO: throw ELFError.notRegularFile(path: path, kind: "a FIFO (named pipe)")
        case S_IFSOCK: throw ELFError.notRegularFile(path: path, kind: "a socket")
        default: throw ELFError.notRegularFile(path: path, kind: "not a file")
        }
        guard UInt64(info.st_size) <= maximumFileBytes else {
            throw ELFError.tooLarge(path: path, bytes: UInt64(info.st_size), limit: maximumFileBytes)
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            throw ELFError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        // Read at most one byte past the limit: a file that grows while it is read still ends.
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while UInt64(bytes.count) <= maximumFileBytes {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw ELFError.unreadable(path: path, reason: String(cString: strerror(errno)))
            }
            bytes.append(contentsOf: chunk[..<count])
        }
        guard UInt64(bytes.count) <= maximumFileBytes else {
            throw ELFError.tooLarge(path: path, bytes: UInt64(bytes.count), limit: maximumFileBytes)
        }
        return bytes
    }

    /// Parses and validates ELF bytes already in memory.
    public init(bytes: [UInt8]) throws {
        let reader = ByteReader(bytes: bytes)
        guard bytes.count >= 52 else {
            if bytes.count >= 4, bytes[0..<4] == [0x7F, 0x45, 0x4C, 0x46] { throw ELFError.tooSmall(bytes: bytes.count) }
            if bytes.count < 4 { throw ELFError.tooSmall(bytes: bytes.count) }
            throw ELFError.notELF
        }
        guard bytes[0..<4] == [0x7F, 0x45, 0x4C, 0x46] else { throw ELFError.notELF }
        guard bytes[4] == 1 else { throw ELFError.notClass32(found: bytes[4]) }
        guard bytes[5] == 1 else { throw ELFError.notLittleEndian }
        let type = try reader.u16(16)
        let machine = try reader.u16(18)
        guard machine == 40 else { throw ELFError.notARM(machine: machine) }
        guard type == 2 else { throw ELFError.notExecutable(type: type) }
        entry = try reader.u32(24)
        let programHeaderOffset = UInt64(try reader.u32(28))
        let sectionHeaderOffset = UInt64(try reader.u32(32))
        let programHeaderSize = UInt64(try reader.u16(42))
        let programHeaderCount = UInt64(try reader.u16(44))
        let sectionHeaderSize = UInt64(try reader.u16(46))
        let sectionHeaderCount = UInt64(try reader.u16(48))
        let sectionNameIndex = UInt64(try reader.u16(50))

        if programHeaderCount > 0 && programHeaderSize < 32 {
            throw ELFError.malformed("program header entries are \(programHeaderSize) bytes, ELF32 needs 32")
        }
        try reader.require(offset: programHeaderOffset, length: programHeaderSize * programHeaderCount,
                           what: "program header table")
        segments = []
        for index in 0..<programHeaderCount {
            let base = programHeaderOffset + index * programHeaderSize
            guard try reader.u32(base) == 1 else { continue }  // PT_LOAD only
            let offset = UInt64(try reader.u32(base + 4))
            let virtualAddress = try reader.u32(base + 8)
            let physicalAddress = try reader.u32(base + 12)
            let fileSize = UInt64(try reader.u32(base + 16))
            let memorySize = try reader.u32(base + 20)
            let flags = try reader.u32(base + 24)
            guard fileSize <= UInt64(memorySize) else {
                throw ELFError.malformed("segment \(index) has \(fileSize) file bytes but only \(memorySize) bytes in memory")
            }
            guard UInt64(physicalAddress) + UInt64(memorySize) <= 1 << 32,
                  UInt64(virtualAddress) + UInt64(memorySize) <= 1 << 32 else {
                throw ELFError.malformed("segment \(index) (\(memorySize) bytes at 0x\(hex(physicalAddress))) wraps past the 4 GiB address space")
            }
            try reader.require(offset: offset, length: fileSize, what: "segment \(index)")
            let fileBytes = Array(bytes[Int(offset)..<Int(offset + fileSize)])
            segments.append(ELFSegment(physicalAddress: physicalAddress, virtualAddress: virtualAddress,
                                       fileBytes: fileBytes, memorySize: memorySize, flags: flags))
        }
        guard !segments.isEmpty else {
            throw ELFError.malformed("no loadable (PT_LOAD) segments")
        }

        var sections: [ELFSection] = []
        var symbols: [ELFSymbol] = []
        if sectionHeaderCount > 0 {
            guard sectionHeaderSize >= 40 else {
                throw ELFError.malformed("section header entries are \(sectionHeaderSize) bytes, ELF32 needs 40")
            }
            try reader.require(offset: sectionHeaderOffset, length: sectionHeaderSize * sectionHeaderCount,
                               what: "section header table")
            struct RawSection { var name, type, flags, address, offset, size, link, entrySize: UInt32 }
            var raw: [RawSection] = []
            for index in 0..<sectionHeaderCount {
                let base = sectionHeaderOffset + index * sectionHeaderSize
                raw.append(RawSection(name: try reader.u32(base), type: try reader.u32(base + 4),
                                      flags: try reader.u32(base + 8), address: try reader.u32(base + 12),
                                      offset: try reader.u32(base + 16), size: try reader.u32(base + 20),
                                      link: try reader.u32(base + 24), entrySize: try reader.u32(base + 36)))
            }
            let names: RawSection? = sectionNameIndex < raw.count ? raw[Int(sectionNameIndex)] : nil
            func sectionName(_ section: RawSection) -> String {
                guard let names, names.type == 3 else { return "" }
                return reader.cString(at: UInt64(names.offset) + UInt64(section.name),
                                      limit: UInt64(names.offset) + UInt64(names.size)) ?? ""
            }
            let segments = self.segments
            for (index, section) in raw.enumerated() where section.type != 0 {
                let allocated = section.flags & 0x2 != 0
                let hasContents = section.type != 8  // SHT_NOBITS
                var loadAddress = section.address
                if allocated && hasContents,
                   let segment = segments.first(where: {
                       section.address >= $0.virtualAddress
                           && UInt64(section.address) < UInt64($0.virtualAddress) + UInt64($0.memorySize)
                   }) {
                    loadAddress = segment.physicalAddress &+ (section.address - segment.virtualAddress)
                }
                let name = sectionName(section)
                if !allocated && hasContents && name.hasPrefix(".debug_"),
                   UInt64(section.offset) + UInt64(section.size) <= UInt64(bytes.count) {
                    debugSections[name] = Array(bytes[Int(section.offset)..<Int(section.offset) + Int(section.size)])
                }
                sections.append(ELFSection(name: name, index: index, address: section.address,
                                           size: section.size, loadAddress: loadAddress, isAllocated: allocated,
                                           hasContents: hasContents))
            }
            // SHT_SYMTAB = 2; its sh_link names the string table.
            for table in raw where table.type == 2 {
                guard table.entrySize >= 16, Int(table.link) < raw.count else { continue }
                try reader.require(offset: UInt64(table.offset), length: UInt64(table.size), what: "symbol table")
                let strings = raw[Int(table.link)]
                let count = UInt64(table.size) / UInt64(table.entrySize)
                for index in 0..<count {
                    let base = UInt64(table.offset) + index * UInt64(table.entrySize)
                    let nameOffset = try reader.u32(base)
                    let value = try reader.u32(base + 4)
                    let size = try reader.u32(base + 8)
                    let info = bytes[Int(base + 12)]
                    let kind = info & 0xF  // STT_OBJECT = 1, STT_FUNC = 2, STT_NOTYPE = 0
                    guard kind <= 2,
                          let name = reader.cString(at: UInt64(strings.offset) + UInt64(nameOffset),
                                                    limit: UInt64(strings.offset) + UInt64(strings.size)),
                          !name.isEmpty, !name.hasPrefix("$") else { continue }
                    let isFunction = kind == 2
                    symbols.append(ELFSymbol(name: name, address: isFunction ? value & ~1 : value,
                                             size: size, isFunction: isFunction))
                }
            }
        }
        self.sections = sections
        self.symbols = symbols.sorted { ($0.address, $1.size) < ($1.address, $0.size) }
        var byName: [String: Int] = [:]
        for (index, symbol) in self.symbols.enumerated() where byName[symbol.name] == nil {
            byName[symbol.name] = index
        }
        self.symbolsByName = byName
    }

    /// The symbol called `name`, if the image has a symbol table that lists it.
    public func symbol(named name: String) -> ELFSymbol? {
        symbolsByName[name].map { symbols[$0] }
    }

    /// "function+0xoffset" for the function (or object) covering `address`, if known.
    public func describe(address: UInt32) -> String? {
        // Prefer the function whose [address, address + size) covers the address; fall back
        // to the nearest sized object, then to a label at exactly this address.
        let covering = symbols.filter { $0.size > 0 && $0.address <= address && address - $0.address < $0.size }
        if let symbol = covering.first(where: \.isFunction) ?? covering.first {
            let offset = address - symbol.address
            return offset == 0 ? symbol.name : "\(symbol.name)+0x\(String(offset, radix: 16))"
        }
        return symbols.first { $0.address == address }?.name
    }

    static func machineName(_ machine: UInt16) -> String {
        switch machine {
        case 3: return "x86"
        case 8: return "MIPS"
        case 20: return "PowerPC"
        case 62: return "x86-64"
        case 183: return "AArch64"
        case 243: return "RISC-V"
        default: return "unknown"
        }
    }
}

/// Bounds-checked little-endian reads over a byte array; every read past the end throws.
private struct ByteReader {
    let bytes: [UInt8]

    func require(offset: UInt64, length: UInt64, what: String) throws {
        guard offset <= UInt64(bytes.count), length <= UInt64(bytes.count) - offset else {
            throw ELFError.truncated(what: what, offset: offset, length: length, fileSize: bytes.count)
        }
    }

    func u16(_ offset: UInt64) throws -> UInt16 {
        try require(offset: offset, length: 2, what: "field")
        let index = Int(offset)
        return UInt16(bytes[index]) | UInt16(bytes[index + 1]) << 8
    }

    func u32(_ offset: UInt64) throws -> UInt32 {
        try require(offset: offset, length: 4, what: "field")
        let index = Int(offset)
        return UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8
            | UInt32(bytes[index + 2]) << 16 | UInt32(bytes[index + 3]) << 24
    }

    /// The NUL-terminated string at `offset`, not reading at or past `limit`, with its
    /// non-printable characters escaped (`ErrorText.escaped`): symbol and section names reach
    /// fault messages, `size` tables and profiles, and a name holding `\n` or an escape
    /// sequence must not forge or erase a line on the user's terminal.
    func cString(at offset: UInt64, limit: UInt64) -> String? {
        let end = min(limit, UInt64(bytes.count))
        guard offset < end else { return nil }
        var index = Int(offset)
        while index < Int(end) && bytes[index] != 0 { index += 1 }
        return ErrorText.escaped(String(decoding: bytes[Int(offset)..<index], as: UTF8.self))
    }
}

/// Eight hex digits, as addresses are printed everywhere in MixQ.
func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}
