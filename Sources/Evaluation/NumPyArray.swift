import Foundation

/// An array read from a NumPy `.npy` file (format versions 1.0-3.0, NumPy's
/// `numpy.lib.format`): a magic string, a little header dictionary naming the dtype, the memory
/// order and the shape, then the raw elements.
///
/// Supported dtypes are the integer ones labelled datasets use (`u1`, `i1`, `u2`, `i2`, `u4`, `i4`,
/// `u8`, `i8`, either byte order) in C order.
public struct NumPyArray: Sendable {
    /// The element type as NumPy writes it, e.g. `|u1` or `<i8`.
    public var dtype: String
    public var shape: [Int]
    /// The elements in C order, widened to `Int`.
    public var values: [Int]
    /// The elements as bytes, when the dtype is `u1` (images), without widening.
    public var bytes: [UInt8]?

    public var count: Int { shape.reduce(1, *) }

    /// Reads `url`.
    /// - Throws: `DatasetError.badArray` saying what is wrong with the file.
    public init(contentsOf url: URL) throws(DatasetError) {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw .unreadable(path: url.path, reason: error.localizedDescription)
        }
        try self.init(data: data, path: url.path)
    }

    public init(data: Data, path: String) throws(DatasetError) {
        let bytes = [UInt8](data)
        let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw .badArray(path: path, reason: "not a NumPy .npy file (no \\x93NUMPY magic)")
        }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw .badArray(path: path, reason: "truncated header") }
            headerLength = (8..<12).reduce(0) { $0 | Int(bytes[$1]) << (8 * ($1 - 8)) }
            headerStart = 12
        default:
            throw .badArray(path: path, reason: "format version \(major) is not supported (1, 2 or 3)")
        }
        guard headerStart + headerLength <= bytes.count else { throw .badArray(path: path, reason: "truncated header") }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        guard let descr = Self.field("descr", in: header), let order = Self.field("fortran_order", in: header),
              let shapeText = Self.field("shape", in: header) else {
            throw .badArray(path: path, reason: "the header \(header.trimmingCharacters(in: .whitespacesAndNewlines)) lacks descr, fortran_order or shape")
        }
        guard order == "False" else {
            throw .badArray(path: path, reason: "Fortran-ordered arrays are not supported; save with np.ascontiguousarray")
        }
        dtype = descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
        let dimensions = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "()")).split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var shape: [Int] = []
        for dimension in dimensions {
            guard let value = Int(dimension), value >= 0 else { throw .badArray(path: path, reason: "shape \(shapeText) is not valid") }
            shape.append(value)
        }
        self.shape = shape
        guard let (size, signed, bigEndian) = Self.integerType(dtype) else {
            throw .badArray(path: path, reason: "dtype \(dtype) is not supported (integer dtypes: u1, i1, u2, i2, u4, i4, u8, i8)")
        }
        let (count, overflow) = shape.reduce((1, false)) { partial, d in
            let (product, o) = partial.0.multipliedReportingOverflow(by: d)
            return (product, partial.1 || o)
        }
        let payload = headerStart + headerLength
        guard !overflow, count <= (bytes.count - payload) / size, bytes.count - payload == count * size else {
            throw .badArray(path: path, reason: "holds \(bytes.count - payload) data bytes, shape \(shape) of \(dtype) needs "
                            + "\(overflow ? "too many" : String(count * size))")
        }
        if size == 1 && !signed {
            let raw = Array(bytes[payload...])
            self.bytes = raw
            values = raw.map(Int.init)
        } else {
            self.bytes = nil
            values = (0..<count).map { index in
                let offset = payload + index * size
                var value: UInt64 = 0
                for k in 0..<size {
                    let byte = UInt64(bytes[offset + (bigEndian ? size - 1 - k : k)])
                    value |= byte << (8 * UInt64(k))
                }
                guard signed, size < 8 else { return signed ? Int(Int64(bitPattern: value)) : Int(truncatingIfNeeded: value) }
                let shift = UInt64(64 - 8 * size)
                return Int(Int64(bitPattern: value << shift) >> Int64(shift))
            }
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
