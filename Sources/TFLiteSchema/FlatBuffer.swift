/// A bounds-checked reader of the FlatBuffers binary format, enough for TFLite's schema.
///
/// The format (FlatBuffers documentation, "FlatBuffer Internals",
/// https://flatbuffers.dev/internals/, and "Format components" there), all little-endian:
/// - the buffer starts with a `uoffset` (UInt32) to the root table; a file identifier, if the
///   schema declares one, is the 4 bytes after it (bytes 4..<8);
/// - a `uoffset` stored at byte `p` points forward to byte `p + value`;
/// - a table starts with an `soffset` (Int32) to its vtable, which is at `table - soffset`;
/// - a vtable is UInt16s: its own size in bytes, the table's inline size in bytes, then one
///   entry per field in schema order: the field's byte offset from the table start, 0 when the
///   field is absent (the reader then uses the schema default). Field `i` (its "slot", the
///   index in declaration order counting a union as two fields, type then value) has its
///   entry at vtable byte `4 + 2 * i`; a vtable shorter than that means the field is absent;
/// - scalars are stored inline in the table, tables, strings and vectors through a `uoffset`;
/// - a vector is a UInt32 element count followed by the elements (scalars inline, tables and
///   strings as `uoffset`s relative to each element's own position); a string is a vector of
///   bytes followed by a zero byte that the count does not include;
/// - a union is two fields: a UInt8 type (0 = NONE) and a `uoffset` to a table of that type.
///
/// Everything read from the buffer is checked before use: every offset must land inside the
/// buffer, every vtable and table must fit, every field must lie within its table's inline
/// size, and a vector's `count * elementSize` must fit in the bytes after its header, so a
/// hostile count can never ask for more memory than the file holds. Arithmetic on values read
/// from the buffer is overflow-checked. The reader follows a schema of fixed depth and never
/// recurses on the data, and `uoffset`s only point forward, so cycles cannot loop it.
public struct FlatBuffer: Sendable {
    /// The whole buffer (the file).
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// The root table: the `uoffset` at byte 0.
    public func rootTable(path: String) throws(TFLiteError) -> FlatTable {
        try table(referencedAt: 0, path: path)
    }

    // MARK: Checked access

    /// Throws unless `length` bytes at `offset` lie inside the buffer.
    public func checkRange(_ offset: Int, _ length: Int, path: @autoclosure () -> String) throws(TFLiteError) {
        guard offset >= 0, length >= 0, offset <= bytes.count, length <= bytes.count - offset else {
            throw .outOfBounds(path: path(), offset: offset, length: length, fileSize: bytes.count)
        }
    }

    /// A little-endian integer at `offset`, bounds-checked.
    public func integer<T: FixedWidthInteger>(_ type: T.Type, at offset: Int, path: @autoclosure () -> String) throws(TFLiteError) -> T {
        try checkRange(offset, MemoryLayout<T>.size, path: path())
        return load(type, at: offset)
    }

    /// A little-endian integer at an offset already checked to be in bounds.
    func load<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T {
        bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }

    /// Where the `uoffset` stored at `position` points to (checked to lie inside the buffer).
    public func target(ofOffsetAt position: Int, path: @autoclosure () -> String) throws(TFLiteError) -> Int {
        let value = try integer(UInt32.self, at: position, path: path())
        let (target, overflow) = position.addingReportingOverflow(Int(value))
        guard !overflow, target < bytes.count else {
            throw .outOfBounds(path: path(), offset: overflow ? Int.max : target, length: 1, fileSize: bytes.count)
        }
        return target
    }

    /// The table that the `uoffset` at `position` points to.
    public func table(referencedAt position: Int, path: String) throws(TFLiteError) -> FlatTable {
        try FlatTable(buffer: self, offset: target(ofOffsetAt: position, path: path), path: path)
    }

    /// The vector that the `uoffset` at `position` points to.
    public func vector(referencedAt position: Int, elementSize: Int, path: String) throws(TFLiteError) -> FlatVector {
        let start = try target(ofOffsetAt: position, path: path)
        let count = try integer(UInt32.self, at: start, path: path)
        let elements = start + 4
        try checkRange(elements, 0, path: path)
        let available = bytes.count - elements
        let (length, overflow) = Int(count).multipliedReportingOverflow(by: elementSize)
        guard !overflow, length <= available else {
            throw .vectorTooLong(path: path, offset: start, count: count, elementSize: elementSize, bytesAvailable: available)
        }
        return FlatVector(buffer: self, start: elements, count: Int(count), elementSize: elementSize, path: path)
    }

    /// The string that the `uoffset` at `position` points to, which must end in the zero byte
    /// the format requires. Invalid UTF-8 is replaced by U+FFFD rather than refused: names are
    /// for people, not for the arithmetic.
    public func string(referencedAt position: Int, path: String) throws(TFLiteError) -> String {
        let vector = try vector(referencedAt: position, elementSize: 1, path: path)
        let end = vector.byteRange.upperBound
        try checkRange(end, 1, path: path)
        guard bytes[end] == 0 else {
            throw .invalidValue(path: path, offset: end, reason: "the \(vector.count)-byte string does not end in a zero byte")
        }
        return String(decoding: bytes[vector.byteRange], as: UTF8.self)
    }
}

/// A table in a `FlatBuffer`, with its vtable checked.
public struct FlatTable: Sendable {
    public let buffer: FlatBuffer
    /// Byte offset of the table (its `soffset` to the vtable) in the buffer.
    public let offset: Int
    /// Where in the model this table is, for error messages (e.g. `subgraphs[0].tensors[3]`).
    public let path: String
    let vtable: Int
    let vtableSize: Int
    let inlineSize: Int

    init(buffer: FlatBuffer, offset: Int, path: String) throws(TFLiteError) {
        self.buffer = buffer
        self.offset = offset
        self.path = path
        let soffset = try buffer.integer(Int32.self, at: offset, path: path)
        let (vtable, overflow) = offset.subtractingReportingOverflow(Int(soffset))
        guard !overflow, vtable >= 0, vtable <= buffer.bytes.count - 4 else {
            throw .badVTable(path: path, tableOffset: offset, vtableOffset: overflow ? Int.min : vtable,
                             reason: "the vtable offset \(soffset) points outside the \(buffer.bytes.count)-byte file")
        }
        let vtableSize = Int(buffer.load(UInt16.self, at: vtable))
        let inlineSize = Int(buffer.load(UInt16.self, at: vtable + 2))
        guard vtableSize >= 4, vtableSize % 2 == 0 else {
            throw .badVTable(path: path, tableOffset: offset, vtableOffset: vtable,
                             reason: "its size \(vtableSize) is not an even number of at least 4 bytes")
        }
        guard vtableSize <= buffer.bytes.count - vtable else {
            throw .badVTable(path: path, tableOffset: offset, vtableOffset: vtable,
                             reason: "its \(vtableSize) bytes run past the end of the \(buffer.bytes.count)-byte file")
        }
        guard inlineSize >= 4, inlineSize <= buffer.bytes.count - offset else {
            throw .badVTable(path: path, tableOffset: offset, vtableOffset: vtable,
                             reason: "the table's inline size \(inlineSize) is under 4 bytes or runs past the end of the file")
        }
        self.vtable = vtable
        self.vtableSize = vtableSize
        self.inlineSize = inlineSize
    }

    /// The path of a field of this table, for error messages.
    public func path(_ field: String) -> String { path.isEmpty ? field : path + "." + field }

    /// The absolute byte offset of the field in `slot` (schema declaration index), or nil when
    /// the field is absent. A present field of `size` bytes must lie inside the table.
    public func fieldOffset(slot: Int, size: Int, name: String) throws(TFLiteError) -> Int? {
        let entry = 4 + 2 * slot
        guard entry + 2 <= vtableSize else { return nil }
        let relative = Int(buffer.load(UInt16.self, at: vtable + entry))
        if relative == 0 { return nil }
        guard relative >= 4, relative + size <= inlineSize else {
            throw .badVTable(path: path, tableOffset: offset, vtableOffset: vtable,
                             reason: "field '\(name)' (slot \(slot), \(size) bytes at +\(relative)) lies outside the table's \(inlineSize) bytes")
        }
        return offset + relative
    }

    /// An integer field (or an enum's underlying integer), `defaultValue` when absent.
    public func integer<T: FixedWidthInteger>(slot: Int, name: String, default defaultValue: T) throws(TFLiteError) -> T {
        guard let at = try fieldOffset(slot: slot, size: MemoryLayout<T>.size, name: name) else { return defaultValue }
        return buffer.load(T.self, at: at)
    }

    /// A `float` field, `defaultValue` when absent.
    public func float(slot: Int, name: String, default defaultValue: Float) throws(TFLiteError) -> Float {
        Float(bitPattern: try integer(slot: slot, name: name, default: defaultValue.bitPattern))
    }

    /// A `bool` field (one byte, nonzero is true), `defaultValue` when absent.
    public func bool(slot: Int, name: String, default defaultValue: Bool) throws(TFLiteError) -> Bool {
        try integer(slot: slot, name: name, default: UInt8(defaultValue ? 1 : 0)) != 0
    }

    /// A table field, nil when absent.
    public func table(slot: Int, name: String) throws(TFLiteError) -> FlatTable? {
        guard let at = try fieldOffset(slot: slot, size: 4, name: name) else { return nil }
        return try buffer.table(referencedAt: at, path: path(name))
    }

    /// A string field, nil when absent.
    public func string(slot: Int, name: String) throws(TFLiteError) -> String? {
        guard let at = try fieldOffset(slot: slot, size: 4, name: name) else { return nil }
        return try buffer.string(referencedAt: at, path: path(name))
    }

    /// A vector field with elements of `elementSize` bytes (4 for vectors of tables or
    /// strings, which hold `uoffset`s), nil when absent.
    public func vector(slot: Int, name: String, elementSize: Int) throws(TFLiteError) -> FlatVector? {
        guard let at = try fieldOffset(slot: slot, size: 4, name: name) else { return nil }
        return try buffer.vector(referencedAt: at, elementSize: elementSize, path: path(name))
    }

    /// A union field: its type in `typeSlot` (0 = NONE) and its table in `typeSlot + 1`.
    /// A nonzero type without a table is an error.
    public func union(typeSlot: Int, name: String) throws(TFLiteError) -> (type: UInt8, table: FlatTable?) {
        let type = try integer(slot: typeSlot, name: name + "_type", default: UInt8(0))
        guard type != 0 else { return (0, nil) }
        guard let table = try table(slot: typeSlot + 1, name: name) else {
            throw .invalidValue(path: path(name), offset: offset,
                                reason: "the union's type is \(type) but its value (slot \(typeSlot + 1)) is absent")
        }
        return (type, table)
    }
}

/// A vector in a `FlatBuffer` whose `count * elementSize` bytes are checked to lie in the buffer.
public struct FlatVector: Sendable {
    public let buffer: FlatBuffer
    /// Byte offset of the first element.
    public let start: Int
    public let count: Int
    public let elementSize: Int
    public let path: String

    /// The bytes of the elements.
    public var byteRange: Range<Int> { start..<(start + count * elementSize) }

    /// The elements as little-endian integers of `T` (whose size must be `elementSize`).
    public func integers<T: FixedWidthInteger>(_ type: T.Type) -> [T] {
        precondition(MemoryLayout<T>.size == elementSize, "reading a vector of \(elementSize)-byte elements as \(T.self)")
        return (0..<count).map { buffer.load(T.self, at: start + $0 * elementSize) }
    }

    /// The elements as IEEE-754 binary32 values.
    public func floats() -> [Float] { integers(UInt32.self).map(Float.init(bitPattern:)) }

    /// The path of element `index`, for error messages.
    public func path(_ index: Int) -> String { "\(path)[\(index)]" }

    /// Element `index` of a vector of tables.
    public func table(at index: Int) throws(TFLiteError) -> FlatTable {
        try buffer.table(referencedAt: start + index * 4, path: path(index))
    }

    /// Element `index` of a vector of strings.
    public func string(at index: Int) throws(TFLiteError) -> String {
        try buffer.string(referencedAt: start + index * 4, path: path(index))
    }
}
