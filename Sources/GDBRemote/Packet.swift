/// Framing of packets MixQ sends, and decoding of the payload encodings GDB may use (GDB
/// manual, "Remote Protocol", sections "Overview" and "Binary Data").
public enum GDBPacket {
    /// The modulo-256 sum of `payload`'s bytes, the packet checksum.
    public static func checksum<Bytes: Sequence>(_ payload: Bytes) -> UInt8 where Bytes.Element == UInt8 {
        payload.reduce(0) { $0 &+ $1 }
    }

    /// `$payload#cs`, with `$`, `#`, `}` and `*` in `payload` escaped (`}` then the byte XOR
    /// 0x20), so binary replies (`qXfer`) and text replies alike arrive intact.
    public static func frame<Bytes: Sequence>(_ payload: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var body: [UInt8] = []
        body.reserveCapacity(payload.underestimatedCount + 8)
        for byte in payload {
            switch byte {
            case UInt8(ascii: "$"), UInt8(ascii: "#"), UInt8(ascii: "}"), UInt8(ascii: "*"):
                body.append(UInt8(ascii: "}"))
                body.append(byte ^ 0x20)
            default:
                body.append(byte)
            }
        }
        let sum = checksum(body)
        return [UInt8(ascii: "$")] + body + [UInt8(ascii: "#")] + Array(hexByte(sum).utf8)
    }

    /// `frame(_:)` of a string payload.
    public static func frame(_ payload: String) -> [UInt8] { frame(Array(payload.utf8)) }

    /// Undoes escaping (`}` + byte XOR 0x20) and run-length encoding (`*` + a count character
    /// `n`: the previous byte repeated `n - 29` more times, GDB manual "Run-Length Encoding")
    /// of a received payload. Returns nil for a dangling `}`, a `*` with nothing before it, or
    /// a count character outside the range the manual allows.
    public static func decodePayload(_ raw: [UInt8]) -> [UInt8]? {
        var decoded: [UInt8] = []
        decoded.reserveCapacity(raw.count)
        var index = 0
        while index < raw.count {
            let byte = raw[index]
            if byte == UInt8(ascii: "}") {
                guard index + 1 < raw.count else { return nil }
                decoded.append(raw[index + 1] ^ 0x20)
                index += 2
            } else if byte == UInt8(ascii: "*") {
                guard index + 1 < raw.count, let previous = decoded.last else { return nil }
                let countCharacter = raw[index + 1]
                // Printable counts only: '#' and '$' are excluded by the manual, '}' and '*'
                // are not legal either; anything from ' ' (29 + 3) to '~' otherwise.
                guard countCharacter >= 32, countCharacter <= 126 else { return nil }
                decoded.append(contentsOf: repeatElement(previous, count: Int(countCharacter) - 29))
                index += 2
            } else {
                decoded.append(byte)
                index += 1
            }
        }
        return decoded
    }
}

/// Hex text as the protocol uses it for register and memory contents: two lowercase digits per
/// byte, bytes in memory order (so a 32-bit register reads little-endian on ARM).
public enum GDBHex {
    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var text = ""
        for byte in bytes { text += hexByte(byte) }
        return text
    }

    /// The bytes of an even-length hex string, or nil.
    public static func decode<Text: StringProtocol>(_ text: Text) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = hexValue(utf8[index]), let low = hexValue(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    /// A 32-bit value as 8 hex digits in little-endian byte order (register payloads).
    public static func littleEndian(_ value: UInt32) -> String {
        encode([UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24)])
    }

    /// A 64-bit value as 16 hex digits in little-endian byte order.
    public static func littleEndian(_ value: UInt64) -> String {
        encode((0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) })
    }

    /// A big-endian hex number as used in packet arguments (`m20000000,4`), or nil. At most 16
    /// digits, so it fits in 64 bits.
    public static func number<Text: StringProtocol>(_ text: Text) -> UInt64? {
        let utf8 = Array(text.utf8)
        guard !utf8.isEmpty, utf8.count <= 16 else { return nil }
        var value: UInt64 = 0
        for byte in utf8 {
            guard let digit = hexValue(byte) else { return nil }
            value = value << 4 | UInt64(digit)
        }
        return value
    }
}
