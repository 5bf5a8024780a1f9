/// What one byte stream from GDB contains, item by item (GDB manual, "Remote Protocol",
/// sections "Overview" and "Interrupts").
public enum GDBInboundItem: Equatable, Sendable {
    /// `+`: the last packet sent arrived intact.
    case acknowledgement
    /// `-`: the last packet sent arrived damaged; send it again.
    case retransmissionRequest
    /// The byte 0x03 outside a packet: the user pressed Ctrl-C.
    case interrupt
    /// A complete packet whose checksum matched, with escapes and run-length encoding already
    /// decoded (`GDBPacket.decodePayload`).
    case packet([UInt8])
    /// A packet that cannot be used: wrong checksum, bad checksum digits, larger than the
    /// decoder's limit, or with a broken escape. Answer `-` so GDB sends it again.
    case malformedPacket(GDBPacketProblem)
}

/// Why a packet was refused.
public enum GDBPacketProblem: Equatable, Sendable, CustomStringConvertible {
    case checksumMismatch(expected: UInt8, received: UInt8)
    case badChecksumDigits
    case tooLarge(limit: Int)
    case badEncoding

    public var description: String {
        switch self {
        case let .checksumMismatch(expected, received):
            return "checksum mismatch (computed \(hexByte(expected)), packet says \(hexByte(received)))"
        case .badChecksumDigits: return "the checksum is not two hex digits"
        case let .tooLarge(limit): return "packet longer than \(limit) bytes"
        case .badEncoding: return "broken escape or run-length sequence"
        }
    }
}

/// Splits the bytes GDB sends into acknowledgements, interrupts and packets `$data#cs`.
///
/// Feed it whatever `recv` returned; it keeps partial packets between calls. It never traps
/// on any input: bytes outside a packet that mean nothing are skipped, and a packet longer
/// than `maximumPacketSize` is dropped (reported once as `.malformedPacket(.tooLarge)`) without
/// buffering more than the limit.
public struct GDBPacketDecoder: Sendable {
    private enum State: Sendable {
        case idle
        case data
        case checksumHigh
        case checksumLow(high: UInt8)
    }

    /// Largest raw payload (between `$` and `#`) accepted, in bytes.
    public let maximumPacketSize: Int
    private var state: State = .idle
    private var payload: [UInt8] = []
    private var sum: UInt8 = 0
    private var overflowed = false

    public init(maximumPacketSize: Int = 16_384) {
        self.maximumPacketSize = max(1, maximumPacketSize)
    }

    /// Consumes `bytes` and returns the complete items they finish, in order.
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) -> [GDBInboundItem] where Bytes.Element == UInt8 {
        var items: [GDBInboundItem] = []
        for byte in bytes {
            if let item = consume(byte) { items.append(item) }
        }
        return items
    }

    private mutating func consume(_ byte: UInt8) -> GDBInboundItem? {
        switch state {
        case .idle:
            switch byte {
            case UInt8(ascii: "$"):
                startPacket()
            case UInt8(ascii: "+"): return .acknowledgement
            case UInt8(ascii: "-"): return .retransmissionRequest
            case 0x03: return .interrupt
            default: break  // noise between packets carries no meaning
            }
            return nil
        case .data:
            if byte == UInt8(ascii: "#") {
                state = .checksumHigh
            } else if byte == UInt8(ascii: "$") {
                // A new packet start inside a packet: the previous one was cut off. Restart.
                startPacket()
            } else {
                sum &+= byte
                if payload.count < maximumPacketSize {
                    payload.append(byte)
                } else {
                    overflowed = true
                }
            }
            return nil
        case .checksumHigh:
            guard let high = hexValue(byte) else {
                state = .idle
                return .malformedPacket(.badChecksumDigits)
            }
            state = .checksumLow(high: high)
            return nil
        case let .checksumLow(high):
            state = .idle
            guard let low = hexValue(byte) else { return .malformedPacket(.badChecksumDigits) }
            if overflowed { return .malformedPacket(.tooLarge(limit: maximumPacketSize)) }
            let received = high << 4 | low
            guard received == sum else { return .malformedPacket(.checksumMismatch(expected: sum, received: received)) }
            guard let decoded = GDBPacket.decodePayload(payload) else { return .malformedPacket(.badEncoding) }
            return .packet(decoded)
        }
    }

    private mutating func startPacket() {
        state = .data
        payload.removeAll(keepingCapacity: true)
        sum = 0
        overflowed = false
    }
}

func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
    default: return nil
    }
}

func hexByte(_ value: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(value >> 4)], digits[Int(value & 0xF)]])
}
