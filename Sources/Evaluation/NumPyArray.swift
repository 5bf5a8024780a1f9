import Deployment
import Diagnostics
import Foundation

/// An array read from a NumPy `.npy` file (format versions 1.0-3.0, NumPy's
/// `numpy.lib.format`): a magic string, a little header dictionary naming the dtype, the memory
/// order and the shape, then the raw elements.
///
/// Supported dtypes are the integer ones labelled datasets use (`u1`, `i1`, `u2`, `i2`, `u4`, `i4`,
/// `u8`, `i8`, either byte order) in C order. The elements stay in the file's bytes (mapped, when
/// read from a file): reading element `i` or a range of bytes touches only those, so a dataset
/// much larger than the images asked for costs no memory.
public struct NumPyArray: Sendable {
    /// The element type as NumPy writes it, e.g. `|u1` or `<i8`.
    public var dtype: String
    public var shape: [Int]
    /// Number of elements (the product of `shape`, checked when the file was read).
    public let count: Int
    /// The file's bytes and where the elements start in them.
    private let storage: Data
    private let payload: Int
    private let elementSize: Int
    private let signed: Bool
    private let bigEndian: Bool

    /// Elements larger than this are refused (2^40: a terabyte of `u1`), so that every offset
    /// and byte count computed from the header fits an `Int` with room to spare.
    public static let maximumElements = 1 << 40

    /// Reads `url` (mapped, not copied).
    /// - Throws: `DatasetError.unreadable` when it is not a readable regular file,
    ///   `DatasetError.badArray` saying what is wrong with its contents.
    public init(contentsOf url: URL) throws(DatasetError) {
        let data: Data
        do {
            data = try InputFile.map(url.path)
        } catch {
            throw .unreadable(path: url.path, reason: error.reason)
        }
        try self.init(data: data, path: url.path)
    }

    public init(data: Data, path: String) throws(DatasetError) {
        let total = data.count
        func byte(_ offset: Int) -> Int { Int(data[data.startIndex + offset]) }
        let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
        guard total >= 10, (0..<6).allSatisfy({ byte($0) == Int(magic[$0]) }) else {
            throw .badArray(path: path, reason: "not a NumPy .npy file (no \\x93NUMPY magic)")
        }
        let major = byte(6)
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = byte(8) | byte(9) << 8
            headerStart = 10
        case 2, 3:
            guard total >= 12 else { throw .badArray(path: path, reason: "truncated header") }
            headerLength = (8..<12).reduce(0) { $0 | byte($1) << (8 * ($1 - 8)) }
            headerStart = 12
        default:
            throw .badArray(path: path, reason: "format version \(major) is not supported (1, 2 or 3)")
        }
        guard headerLength <= total - headerStart else { throw .badArray(path: path, reason: "truncated header") }
        let headerBytes = data.subdata(in: (data.startIndex + headerStart)..<(data.startIndex + headerStart + headerLength))
        let header = String(decoding: headerBytes, as: UTF8.self)
        guard let descr = Self.field("descr", in: header), let order = Self.field("fortran_order", in: header),
              let shapeText = Self.field("shape", in: header) else {
            throw .badArray(path: path, reason: "the header \(ErrorText.quoted(header.trimmingCharacters(in: .whitespacesAndNewlines))) "
                            + "lacks descr, fortran_order or shape")
        }
        guard order == "False" else {
            throw .badArray(path: path, reason: "Fortran-ordered arrays are not supported; save with np.ascontiguousarray")
        }
        dtype = descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
        let dimensions = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "()")).split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var shape: [Int] = []
        for dimension in dimensions {
            guard let value = Int(dimension), value >= 0 else {
                throw .badArray(path: path, reason: "shape \(ErrorText.quoted(shapeText)) is not valid")
            }
            shape.append(value)
        }
        self.shape = shape
        let float32 = dtype == "<f4" || dtype == "=f4"
        guard let (size, signed, bigEndian) = float32 ? (4, true, false) : Self.integerType(dtype) else {
            throw .badArray(path: path, reason: "dtype \(ErrorText.quoted(dtype)) is not supported "
                            + "(integer dtypes: u1, i1, u2, i2, u4, i4, u8, i8; float32 <f4 for a model's float inputs)")
        }
        isFloat32 = float32
        guard let count = Self.product(shape), count <= Self.maximumElements else {
            throw .badArray(path: path, reason: "shape \(ErrorText.quoted(shape.description)) has too many elements "
                            + "(at most \(Self.maximumElements))")
        }
        let payload = headerStart + headerLength
        guard total - payload == count * size else {
            throw .badArray(path: path, reason: "holds \(total - payload) data bytes, shape \(ErrorText.quoted(shape.description)) "
                            + "of \(dtype) needs \(count * size)")
        }
        self.count = count
        self.storage = data
        self.payload = payload
        self.elementSize = size
        self.signed = signed
        self.bigEndian = bigEndian
    }

    /// The product of `dimensions`, or nil when it overflows an `Int`. A zero dimension makes it
    /// 0 whatever the others are.
    public static func product(_ dimensions: [Int]) -> Int? {
        var result = 1
        for dimension in dimensions {
            let (next, overflow) = result.multipliedReportingOverflow(by: dimension)
            if overflow { return dimensions.contains(0) ? 0 : nil }
            result = next
        }
        return result
    }

    /// Element `index` (in C order), widened to `Int`. `index` must be below `count`.
    public func element(_ index: Int) -> Int {
        precondition(index >= 0 && index < count, "element \(index) of \(count)")
        return storage.withUnsafeBytes { raw in
            let offset = payload + index * elementSize
            var value: UInt64 = 0
            for k in 0..<elementSize {
                let byte = UInt64(raw[offset + (bigEndian ? elementSize - 1 - k : k)])
                value |= byte << (8 * UInt64(k))
            }
            guard signed, elementSize < 8 else { return signed ? Int(Int64(bitPattern: value)) : Int(truncatingIfNeeded: value) }
            let shift = UInt64(64 - 8 * elementSize)
            return Int(Int64(bitPattern: value << shift) >> Int64(shift))
        }
    }

    /// The elements in C order, widened to `Int` (for small arrays such as labels).
    public var values: [Int] { (0..<count).map(element) }

    /// A `.npy` file (format 1.0, C order) of `dtype` (`|i1`, `|u1`, `<f4`) and `shape`, holding
    /// `payload`, the elements' little-endian bytes.
    public static func file(dtype: String, shape: [Int], payload: [UInt8]) -> Data {
        let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        var header = "{'descr': '\(dtype)', 'fortran_order': False, 'shape': (\(dims)), }"
        // Magic (6) + version (2) + length (2) + header + newline, padded to a multiple of 64.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        data.append(contentsOf: [UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        data.append(contentsOf: Array(header.utf8))
        data.append(contentsOf: payload)
        return data
    }

    /// Whether the dtype is little-endian float32 (`<f4`): a float-input model's inputs.
    public private(set) var isFloat32 = false

    /// Elements `range` of a `<f4` array.
    public func floats(in range: Range<Int>) -> [Float] {
        precondition(isFloat32 && range.lowerBound >= 0 && range.upperBound <= count, "floats \(range) of \(count)")
        return storage.withUnsafeBytes { raw in
            range.map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: payload + 4 * $0, as: UInt32.self))) }
        }
    }

    /// Whether the dtype is `i1` or `u1` (one byte per element).
    public var isOneByte: Bool { elementSize == 1 }

    /// Whether the dtype is `u1` (unsigned bytes: images).
    public var isBytes: Bool { elementSize == 1 && !signed }

    /// The elements as bytes, when the dtype is `u1` (images), without widening.
    public var bytes: [UInt8]? { isBytes ? bytes(in: 0..<count) : nil }

    /// Elements `range` of an `i1` array as MixQ's codes `q + 128` (docs/design.md#network-graph).
    public func signedByteCodes(in range: Range<Int>) -> [UInt8] {
        precondition(elementSize == 1 && signed && range.lowerBound >= 0 && range.upperBound <= count, "bytes \(range) of \(count)")
        return storage.withUnsafeBytes { raw in
            UnsafeRawBufferPointer(rebasing: raw[(payload + range.lowerBound)..<(payload + range.upperBound)]).map { $0 ^ 0x80 }
        }
    }

    /// Elements `range` of a `u1` array, copied out of the file's bytes.
    public func bytes(in range: Range<Int>) -> [UInt8] {
        precondition(isBytes && range.lowerBound >= 0 && range.upperBound <= count, "bytes \(range) of \(count)")
        return storage.withUnsafeBytes { raw in
            Array(UnsafeRawBufferPointer(rebasing: raw[(payload + range.lowerBound)..<(payload + range.upperBound)]))
        }
    }

    /// The text after `'key':` up to the next top-level comma in the header dictionary.
    static func field(_ key: String, in header: String) -> String? {
        guard let range = header.range(of: "'\(key)':") ?? header.range(of: "\"\(key)\":") else { return nil }
        var depth = 0
        var value = ""
        for character in header[range.upperBound...] {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if depth == 0 && (character == "," || character == "}") { break }
            value.append(character)
        }
        if depth != 0 { return nil }
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        return trimmed.hasPrefix("(") ? trimmed + (trimmed.hasSuffix(")") ? "" : ")") : trimmed
    }

    /// Size in bytes, signedness and byte order of an integer dtype string.
    static func integerType(_ dtype: String) -> (Int, Bool, Bool)? {
        var text = Substring(dtype)
        var bigEndian = false
        if let first = text.first, "<>|=".contains(first) {
            bigEndian = first == ">"
            text = text.dropFirst()
        }
        guard let kind = text.first, kind == "u" || kind == "i", let size = Int(text.dropFirst()), [1, 2, 4, 8].contains(size) else {
            return nil
        }
        return (size, kind == "i", bigEndian)
    }
}
