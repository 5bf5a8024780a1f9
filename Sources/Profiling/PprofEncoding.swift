/// `profile.pb`: the profile in pprof's protobuf format (the `Profile` message of
/// github.com/google/pprof, proto/profile.proto), which `go tool pprof`, Speedscope and many
/// other viewers read. Written uncompressed: pprof gunzips only when the gzip magic is present.
///
/// One sample per calling context with the cycles and instructions of its own code; one
/// location per function (its first line when the ELF has line information). The message is
/// small and fixed, so it is encoded by hand with the protobuf wire format (varints and
/// length-delimited fields, protobuf.dev "Encoding") rather than through generated types.
/// Checked in Tests/ProfilingTests against `protoc --decode_raw`; `go tool pprof -top` reads it.
extension ProfileReport {
    public func pprof(conditions: String, clockMHz: Int) -> [UInt8] {
        var strings = StringTable()
        var profile = ProtobufWriter()
        for (type, unit) in [("cycles", "count"), ("instructions", "count")] {
            var valueType = ProtobufWriter()
            valueType.field(1, varint: UInt64(strings[type]))
            valueType.field(2, varint: UInt64(strings[unit]))
            profile.field(1, message: valueType)
        }
        // Functions and locations: ids from 1, in the order the contexts name them.
        var functionIDs: [String: UInt64] = [:]
        var locations = ProtobufWriter(), functionTable = ProtobufWriter()
        let byName = Dictionary(functions.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        func locationID(of name: String) -> UInt64 {
            if let id = functionIDs[name] { return id }
            let id = UInt64(functionIDs.count + 1)
            functionIDs[name] = id
            let known = byName[name]
            var function = ProtobufWriter()
            function.field(1, varint: id)
            function.field(2, varint: UInt64(strings[name]))
            function.field(3, varint: UInt64(strings[name]))
            if let location = known?.location {
                function.field(4, varint: UInt64(strings[location.file]))
                function.field(5, varint: UInt64(location.line))
            }
            functionTable.field(5, message: function)
            var location = ProtobufWriter()
            location.field(1, varint: id)
            location.field(3, varint: UInt64(known?.address ?? 0))
            var line = ProtobufWriter()
            line.field(1, varint: id)
            if let start = known?.location?.line { line.field(2, varint: UInt64(start)) }
            location.field(4, message: line)
            locations.field(4, message: location)
            return id
        }
        for stack in stacks.sorted(by: { $0.functions.lexicographicallyPrecedes($1.functions) }) {
            var sample = ProtobufWriter()
            // Leaf first, as pprof expects.
            // Repeated scalars unpacked: every protobuf parser must accept both encodings, and
            // unpacked values stay readable in `protoc --decode_raw`.
            for id in stack.functions.reversed().map(locationID(of:)) { sample.field(1, varint: id) }
            sample.field(2, varint: stack.cycles)
            sample.field(2, varint: stack.instructions)
            profile.field(2, message: sample)
        }
        profile.append(locations)
        profile.append(functionTable)
        let comment = strings["MixQ profile; " + conditions]
        var periodType = ProtobufWriter()
        periodType.field(1, varint: UInt64(strings["cycles"]))
        periodType.field(2, varint: UInt64(strings["count"]))
        _ = strings["cycles"]
        // The string table must be complete before it is written: every string above is in it.
        for string in strings.strings { profile.field(6, string: string) }
        profile.field(10, varint: clockMHz > 0 ? cycles * 1000 / UInt64(clockMHz) : 0)  // duration_nanos
        profile.field(11, message: periodType)
        profile.field(12, varint: 1)  // period: every cycle is counted
        profile.field(13, varint: UInt64(comment))
        profile.field(14, varint: UInt64(strings["cycles"]))  // default_sample_type
        return profile.bytes
    }
}

/// pprof's string table: index 0 is the empty string.
private struct StringTable {
    private(set) var strings: [String] = [""]
    private var indices: [String: Int] = ["": 0]

    subscript(string: String) -> Int {
        mutating get {
            if let index = indices[string] { return index }
            indices[string] = strings.count
            strings.append(string)
            return strings.count - 1
        }
    }
}

/// The protobuf wire format's writer side: varint (wire type 0) and length-delimited (wire
/// type 2) fields.
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func field(_ number: Int, varint value: UInt64) {
        varint(UInt64(number) << 3)
        varint(value)
    }

    mutating func field(_ number: Int, bytes payload: [UInt8]) {
        varint(UInt64(number) << 3 | 2)
        varint(UInt64(payload.count))
        bytes += payload
    }

    mutating func field(_ number: Int, string: String) { field(number, bytes: Array(string.utf8)) }

    mutating func field(_ number: Int, message: ProtobufWriter) { field(number, bytes: message.bytes) }

    /// Appends fields already encoded (repeated messages written elsewhere).
    mutating func append(_ other: ProtobufWriter) { bytes += other.bytes }
}
