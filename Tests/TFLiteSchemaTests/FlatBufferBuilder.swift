/// A small FlatBuffers writer for tests: builds buffers with chosen fields in chosen slots, so
/// that tests can assert exact decoded values and damage known places.
///
/// It lays objects out front to back (root table first, then its children breadth first), which
/// the format allows: every `uoffset` points forward to a later object. Vtables sit right
/// before their table (positive `soffset`); scalars are aligned to their size, vectors so that
/// their elements are.
struct FlatBufferBuilder {
    /// A value in a table field.
    indirect enum Field {
        case int8(Int8), uint8(UInt8), bool(Bool), int16(Int16), int32(Int32), uint32(UInt32)
        case int64(Int64), uint64(UInt64), float(Float)
        case table(Table)
        case string(String)
        case int32s([Int32]), floats([Float]), int64s([Int64]), bytes([UInt8])
        case tables([Table]), strings([String])
        /// A vector of `count` offsets that all point to one table (shared objects).
        case sharedTables(count: Int, Table)
    }

    /// A table: field values by slot (schema declaration index).
    struct Table {
        var fields: [Int: Field] = [:]

        init(_ fields: [Int: Field] = [:]) { self.fields = fields }

        subscript(slot: Int) -> Field? {
            get { fields[slot] }
            set { fields[slot] = newValue }
        }
    }

    /// Where the builder put things, for tests that damage a known place.
    struct Layout {
        /// Byte offset of each table, in the order written (the root is first).
        var tables: [Int] = []
        /// Byte offset of each vector's (and string's) count field, in the order written.
        var vectors: [Int] = []
    }

    private enum Object {
        case table(Table)
        case string(String)
        case scalars([UInt8], elementSize: Int, count: Int)
        case offsets([Object])
        case shared(count: Int, Table)
    }

    private var out: [UInt8] = []
    private var pending: [(patch: [Int], object: Object)] = []
    private(set) var layout = Layout()

    /// The buffer for `root`, with `identifier` at bytes 4..<8 (TFLite's "TFL3" by default).
    static func build(_ root: Table, identifier: [UInt8]? = Array("TFL3".utf8)) -> [UInt8] {
        buildWithLayout(root, identifier: identifier).bytes
    }

    static func buildWithLayout(_ root: Table, identifier: [UInt8]? = Array("TFL3".utf8)) -> (bytes: [UInt8], layout: Layout) {
        var builder = FlatBufferBuilder()
        builder.out = [0, 0, 0, 0] + (identifier ?? [])
        builder.pending = [([0], .table(root))]
        var next = 0
        while next < builder.pending.count {
            let (patch, object) = builder.pending[next]
            next += 1
            let position = builder.write(object)
            for site in patch { builder.put(UInt32(position - site), at: site) }
        }
        return (builder.out, builder.layout)
    }

    private mutating func align(_ alignment: Int) {
        while out.count % alignment != 0 { out.append(0) }
    }

    private mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    private mutating func put<T: FixedWidthInteger>(_ value: T, at position: Int) {
        withUnsafeBytes(of: value.littleEndian) { raw in
            for (i, byte) in raw.enumerated() { out[position + i] = byte }
        }
    }

    private static func object(for field: Field) -> Object? {
        switch field {
        case let .table(table): .table(table)
        case let .string(string): .string(string)
        case let .int32s(values): scalars(values)
        case let .floats(values): scalars(values.map(\.bitPattern))
        case let .int64s(values): scalars(values)
        case let .bytes(values): scalars(values)
        case let .tables(tables): .offsets(tables.map { .table($0) })
        case let .strings(strings): .offsets(strings.map { .string($0) })
        case let .sharedTables(count, table): .shared(count: count, table)
        default: nil
        }
    }

    private static func scalars<T: FixedWidthInteger>(_ values: [T]) -> Object {
        var bytes: [UInt8] = []
        for value in values { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        return .scalars(bytes, elementSize: MemoryLayout<T>.size, count: values.count)
    }

    private static func inlineSize(_ field: Field) -> Int {
        switch field {
        case .int8, .uint8, .bool: 1
        case .int16: 2
        case .int32, .uint32, .float: 4
        case .int64, .uint64: 8
        default: 4 // a uoffset
        }
    }

    /// Writes `object` at the end of the buffer; returns the position a `uoffset` should point to.
    private mutating func write(_ object: Object) -> Int {
        switch object {
        case let .table(table):
            return writeTable(table)
        case let .string(string):
            align(4)
            let position = out.count
            layout.vectors.append(position)
            let utf8 = Array(string.utf8)
            append(UInt32(utf8.count))
            out.append(contentsOf: utf8)
            out.append(0)
            return position
        case let .scalars(bytes, elementSize, count):
            let alignment = max(4, elementSize)
            while (out.count + 4) % alignment != 0 { out.append(0) }
            let position = out.count
            layout.vectors.append(position)
            append(UInt32(count))
            out.append(contentsOf: bytes)
            return position
        case let .offsets(objects):
            align(4)
            let position = out.count
            layout.vectors.append(position)
            append(UInt32(objects.count))
            for object in objects {
                pending.append(([out.count], object))
                append(UInt32(0))
            }
            return position
        case let .shared(count, table):
            align(4)
            let position = out.count
            layout.vectors.append(position)
            append(UInt32(count))
            var sites: [Int] = []
            for _ in 0..<count {
                sites.append(out.count)
                append(UInt32(0))
            }
            pending.append((sites, .table(table)))
            return position
        }
    }

    private mutating func writeTable(_ table: Table) -> Int {
        let slots = table.fields.keys.sorted()
        let vtableSize = 4 + 2 * ((slots.last ?? -1) + 1)
        align(2)
        let vtable = out.count
        out.append(contentsOf: repeatElement(0, count: vtableSize))
        align(8)
        let start = out.count
        layout.tables.append(start)
        append(Int32(0)) // soffset, written below
        var entries = [UInt16](repeating: 0, count: vtableSize / 2 - 2)
        for slot in slots {
            let field = table.fields[slot]!
            align(Self.inlineSize(field))
            entries[slot] = UInt16(out.count - start)
            switch field {
            case let .int8(v): append(v)
            case let .uint8(v): append(v)
            case let .bool(v): append(UInt8(v ? 1 : 0))
            case let .int16(v): append(v)
            case let .int32(v): append(v)
            case let .uint32(v): append(v)
            case let .int64(v): append(v)
            case let .uint64(v): append(v)
            case let .float(v): append(v.bitPattern)
            default:
                pending.append(([out.count], Self.object(for: field)!))
                append(UInt32(0))
            }
        }
        let inline = out.count - start
        put(UInt16(vtableSize), at: vtable)
        put(UInt16(inline), at: vtable + 2)
        for (slot, entry) in entries.enumerated() { put(entry, at: vtable + 4 + 2 * slot) }
        put(Int32(start - vtable), at: start)
        return start
    }
}
