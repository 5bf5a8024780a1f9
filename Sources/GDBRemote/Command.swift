/// Breakpoint and watchpoint kinds of the `Z`/`z` packets (GDB manual, "Packets", `Z type`).
public enum GDBBreakpointKind: Int, Sendable, Equatable {
    case software = 0
    case hardware = 1
    case writeWatchpoint = 2
    case readWatchpoint = 3
    case accessWatchpoint = 4
}

/// One action of a `vCont` packet (GDB manual, "Packets", `vCont[;action[:thread-id]]...`).
public enum GDBResumeAction: Sendable, Equatable {
    case `continue`
    case step
    /// `C sig` / `S sig`: continue or step delivering a signal; MixQ ignores the signal.
    case continueWithSignal(UInt8)
    case stepWithSignal(UInt8)
    /// `t`: stop the thread (only meaningful in non-stop mode).
    case stop
}

/// A packet GDB sent, parsed. Packets MixQ does not know become `.unsupported`, which gets the
/// empty reply the manual prescribes for them ("Packets": "an empty response ... indicates the
/// command is not supported").
public enum GDBCommand: Sendable, Equatable {
    /// `qSupported[:features]`.
    case querySupported([String])
    /// `qXfer:features:read:ANNEX:OFFSET,LENGTH`.
    case readFeatures(annex: String, offset: Int, length: Int)
    /// `?`: why the target stopped.
    case haltReason
    /// `g`.
    case readRegisters
    /// `G XX...`.
    case writeRegisters([UInt8])
    /// `p n`.
    case readRegister(Int)
    /// `P n=r...`.
    case writeRegister(Int, [UInt8])
    /// `m addr,length`.
    case readMemory(address: UInt64, length: Int)
    /// `M addr,length:XX...` or `X addr,length:binary`.
    case writeMemory(address: UInt64, bytes: [UInt8])
    /// `c [addr]`.
    case `continue`(address: UInt64?)
    /// `s [addr]`.
    case step(address: UInt64?)
    /// `vCont?`.
    case resumeActionsQuery
    /// `vCont;action[:thread]...`: the first action (one thread only).
    case resume(GDBResumeAction)
    /// `Z type,addr,kind`.
    case insertBreakpoint(GDBBreakpointKind, address: UInt64, length: Int)
    /// `z type,addr,kind`.
    case removeBreakpoint(GDBBreakpointKind, address: UInt64, length: Int)
    /// `k`.
    case kill
    /// `D` or `D;pid`.
    case detach
    /// `H op thread-id`.
    case setThread
    /// `qC`.
    case currentThread
    /// `qAttached`.
    case attached
    /// `qfThreadInfo`.
    case firstThreadInfo
    /// `qsThreadInfo`.
    case nextThreadInfo
    /// `qOffsets`.
    case offsets
    /// `qRcmd,hex`: a `monitor` command line, decoded.
    case monitor(String)
    /// `QStartNoAckMode`.
    case startNoAckMode
    /// `T thread-id`: is the thread alive.
    case threadAlive
    /// Anything else: answered with an empty packet.
    case unsupported(String)
}

/// A packet whose command MixQ knows but whose arguments are unusable: answered `E01`.
public struct GDBCommandError: Error, Equatable, CustomStringConvertible {
    public var packet: String
    public var problem: String
    public var description: String { "malformed '\(packet)' packet: \(problem)" }
}

extension GDBCommand {
    /// Largest `m` length MixQ serves in one reply (the reply is twice this in hex); GDB
    /// splits larger reads itself once `PacketSize` is known.
    public static let maximumTransfer = 4096

    /// Parses one decoded packet payload.
    ///
    /// - Throws: `GDBCommandError` when a known command's arguments are malformed. Never traps,
    ///   whatever the bytes.
    public static func parse(_ payload: [UInt8]) throws(GDBCommandError) -> GDBCommand {
        guard let first = payload.first else { return .unsupported("") }
        // Text view of the payload; binary `X` data is taken from `payload` directly.
        let text = String(decoding: payload, as: UTF8.self)
        func fail(_ problem: String) -> GDBCommandError {
            GDBCommandError(packet: String(text.prefix(24)), problem: problem)
        }
        let rest = Substring(text.dropFirst())
        switch first {
        case UInt8(ascii: "?"): return .haltReason
        case UInt8(ascii: "g"): return .readRegisters
        case UInt8(ascii: "G"):
            guard let bytes = GDBHex.decode(rest) else { throw fail("register data is not hex") }
            return .writeRegisters(bytes)
        case UInt8(ascii: "p"):
            guard let number = GDBHex.number(rest), number <= 0xFFFF else { throw fail("bad register number") }
            return .readRegister(Int(number))
        case UInt8(ascii: "P"):
            let parts = rest.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, let number = GDBHex.number(parts[0]), number <= 0xFFFF,
                  let bytes = GDBHex.decode(parts[1]) else { throw fail("expected P n=value") }
            return .writeRegister(Int(number), bytes)
        case UInt8(ascii: "m"):
            let (address, length) = try addressAndLength(rest, fail: fail)
            return .readMemory(address: address, length: length)
        case UInt8(ascii: "M"):
            let parts = rest.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw fail("expected M addr,length:data") }
            let (address, length) = try addressAndLength(parts[0], fail: fail)
            guard let bytes = GDBHex.decode(parts[1]), bytes.count == length else { throw fail("data does not match the length") }
            return .writeMemory(address: address, bytes: bytes)
        case UInt8(ascii: "X"):
            // The header is text; the data after the first ':' is binary (already unescaped).
            guard let colon = payload.firstIndex(of: UInt8(ascii: ":")) else { throw fail("expected X addr,length:data") }
            let header = String(decoding: payload[1..<colon], as: UTF8.self)
            let (address, length) = try addressAndLength(Substring(header), fail: fail)
            let data = Array(payload[(colon + 1)...])
            guard data.count == length else { throw fail("\(data.count) data bytes for length \(length)") }
            return .writeMemory(address: address, bytes: data)
        case UInt8(ascii: "c"), UInt8(ascii: "s"):
            var address: UInt64?
            if !rest.isEmpty {
                guard let value = GDBHex.number(rest) else { throw fail("bad resume address") }
                address = value
            }
            return first == UInt8(ascii: "c") ? .continue(address: address) : .step(address: address)
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            let fields = rest.split(separator: ";", maxSplits: 1)  // conditions after ';' are ignored
            let parts = (fields.first ?? "").split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count == 3, let type = Int(parts[0]), let kind = GDBBreakpointKind(rawValue: type),
                  let address = GDBHex.number(parts[1]), let length = GDBHex.number(parts[2]), length <= 64 else {
                throw fail("expected Z type,addr,kind")
            }
            return first == UInt8(ascii: "Z") ? .insertBreakpoint(kind, address: address, length: Int(length))
                : .removeBreakpoint(kind, address: address, length: Int(length))
        case UInt8(ascii: "k"): return .kill
        case UInt8(ascii: "D"): return .detach
        case UInt8(ascii: "H"): return .setThread
        case UInt8(ascii: "T"): return .threadAlive
        case UInt8(ascii: "v"):
            if text == "vCont?" { return .resumeActionsQuery }
            if text.hasPrefix("vCont;") {
                let actions = text.dropFirst("vCont;".count).split(separator: ";")
                guard let action = actions.first, let parsed = resumeAction(action) else { throw fail("bad vCont action") }
                return .resume(parsed)
            }
            return .unsupported(text)
        case UInt8(ascii: "q"), UInt8(ascii: "Q"):
            return try query(text, fail: fail)
        default:
            return .unsupported(text)
        }
    }

    private static func query(_ text: String, fail: (String) -> GDBCommandError) throws(GDBCommandError) -> GDBCommand {
        if text == "qSupported" { return .querySupported([]) }
        if text.hasPrefix("qSupported:") {
            return .querySupported(text.dropFirst("qSupported:".count).split(separator: ";").map(String.init))
        }
        if text.hasPrefix("qXfer:features:read:") {
            let parts = text.dropFirst("qXfer:features:read:".count).split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw fail("expected qXfer:features:read:annex:offset,length") }
            let (offset, length) = try addressAndLength(parts[1], fail: fail)
            guard offset <= UInt64(Int32.max) else { throw fail("offset too large") }
            return .readFeatures(annex: String(parts[0]), offset: Int(offset), length: length)
        }
        if text.hasPrefix("qRcmd,") {
            guard let bytes = GDBHex.decode(text.dropFirst("qRcmd,".count)) else { throw fail("command is not hex") }
            return .monitor(String(decoding: bytes, as: UTF8.self))
        }
        switch text {
        case "qC": return .currentThread
        case "qAttached": return .attached
        case "qfThreadInfo": return .firstThreadInfo
        case "qsThreadInfo": return .nextThreadInfo
        case "qOffsets": return .offsets
        case "QStartNoAckMode": return .startNoAckMode
        default:
            if text.hasPrefix("qAttached:") { return .attached }
            return .unsupported(text)
        }
    }

    private static func resumeAction(_ text: Substring) -> GDBResumeAction? {
        let action = text.split(separator: ":", maxSplits: 1).first ?? ""
        guard let letter = action.first else { return nil }
        let signal = GDBHex.number(action.dropFirst()).flatMap { $0 <= 0xFF ? UInt8($0) : nil }
        switch letter {
        case "c": return .continue
        case "s": return .step
        case "C": return signal.map { .continueWithSignal($0) }
        case "S": return signal.map { .stepWithSignal($0) }
        case "t": return .stop
        default: return nil
        }
    }

    private static func addressAndLength(_ text: Substring, fail: (String) -> GDBCommandError) throws(GDBCommandError)
        -> (UInt64, Int) {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = GDBHex.number(parts[0]), let length = GDBHex.number(parts[1]) else {
            throw fail("expected addr,length in hex")
        }
        guard length <= UInt64(1 << 20) else { throw fail("length \(length) too large") }
        return (address, Int(length))
    }
}
