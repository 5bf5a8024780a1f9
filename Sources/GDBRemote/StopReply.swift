/// Replies to `?`, `c`, `s` and `vCont` (GDB manual, "Stop Reply Packets").
public enum GDBStopReply: Sendable, Equatable {
    /// `T AA n:r;...`: stopped with signal `signal`, with registers GDB needs first (the PC)
    /// and the single thread.
    case signal(UInt8, registers: [(number: Int, value: String)])
    /// `W AA`: the program exited with this status (the low 8 bits are sent).
    case exited(Int32)

    /// POSIX signal numbers GDB uses on the wire ("Signals" appendix of the GDB manual).
    public enum Signal {
        public static let interrupt: UInt8 = 2
        public static let illegalInstruction: UInt8 = 4
        public static let trap: UInt8 = 5
        public static let busError: UInt8 = 7
        public static let segmentationFault: UInt8 = 11
    }

    public var payload: String {
        switch self {
        case let .signal(signal, registers):
            var text = "T" + hexByte(signal)
            for register in registers { text += GDBHex.number(of: register.number) + ":" + register.value + ";" }
            return text + "thread:1;"
        case let .exited(status):
            return "W" + hexByte(UInt8(truncatingIfNeeded: status))
        }
    }

    public static func == (lhs: GDBStopReply, rhs: GDBStopReply) -> Bool { lhs.payload == rhs.payload }
}

extension GDBHex {
    /// A number as minimal big-endian hex digits (register numbers in stop replies).
    public static func number(of value: Int) -> String {
        String(value, radix: 16)
    }

    /// The `O` console-output packet carrying `text` (shown by GDB as is).
    public static func consoleOutput(_ text: String) -> String { "O" + encode(Array(text.utf8)) }
}
