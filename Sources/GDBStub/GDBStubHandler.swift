import Emulator
import GDBRemote

/// How a GDB session ended.
public enum GDBSessionEnd: Sendable, Equatable {
    /// GDB sent `k`.
    case killed
    /// GDB sent `D`.
    case detached
    /// The connection closed (or failed) without `k` or `D`.
    case disconnected
    /// The firmware exited (after the `W` reply).
    case exited(status: Int32)
}

/// Answers GDB's packets from a `DebugSession` (GDB manual, "Remote Protocol", "Packets").
/// Knows nothing about sockets: `GDBServer` feeds it parsed commands and sends its replies.
public final class GDBStubHandler {
    public let session: DebugSession
    /// Set once the session is over; the server sends the last replies and closes.
    public private(set) var end: GDBSessionEnd?
    /// Largest packet GDB may send (advertised as `PacketSize`).
    public static let packetSize = 16_384

    public init(session: DebugSession) {
        self.session = session
    }

    /// The replies to `command`, in order (payloads, not yet framed). `interruptRequested`
    /// is polled while `c`, `s` or `vCont` run the firmware.
    public func replies(to command: GDBCommand, interruptRequested: @escaping () -> Bool = { false }) -> [String] {
        switch command {
        case .querySupported:
            // vContSupported+: without it GDB assumes the stub cannot single-step and steps with
            // temporary breakpoints instead (GDB manual, "General Query Packets", qSupported).
            return ["PacketSize=\(String(Self.packetSize, radix: 16));qXfer:features:read+;vContSupported+;QStartNoAckMode+"]
        case let .readFeatures(annex, offset, length):
            guard annex == "target.xml" else { return ["E00"] }
            let xml = Array(StubRegisters.targetXML.utf8)
            guard offset <= xml.count else { return ["E01"] }
            let chunk = xml[offset..<min(xml.count, offset + max(0, min(length, Self.packetSize / 2)))]
            return [(offset + chunk.count >= xml.count ? "l" : "m") + String(decoding: chunk, as: UTF8.self)]
        case .haltReason:
            // Before the first resume the target sits at reset: report SIGTRAP, as after a step.
            return [stopReply(for: session.lastStop ?? .stepped).last ?? "S05"]
        case .readRegisters:
            var text = ""
            for number in 0..<StubRegisters.count {
                guard let (register, size) = StubRegisters.register(number: number) else { continue }
                text += registerHex(register, size: size)
            }
            return [text]
        case let .writeRegisters(bytes):
            var offset = 0
            for number in 0..<StubRegisters.count {
                guard let (register, size) = StubRegisters.register(number: number) else { continue }
                guard offset + size <= bytes.count else { break }
                let value = littleEndianValue(bytes[offset..<(offset + size)])
                guard (try? session.writeRegister(register, value)) != nil else { return ["E01"] }
                offset += size
            }
            return ["OK"]
        case let .readRegister(number):
            guard let (register, size) = StubRegisters.register(number: number) else { return ["E00"] }
            return [registerHex(register, size: size)]
        case let .writeRegister(number, bytes):
            guard let (register, size) = StubRegisters.register(number: number), bytes.count == size,
                  (try? session.writeRegister(register, littleEndianValue(bytes[...]))) != nil else { return ["E00"] }
            return ["OK"]
        case let .readMemory(address, length):
            guard let start = UInt32(exactly: address),
                  let bytes = try? session.readMemory(at: start, count: min(length, GDBCommand.maximumTransfer)) else {
                return ["E14"]  // EFAULT
            }
            return [GDBHex.encode(bytes)]
        case let .writeMemory(address, bytes):
            guard let start = UInt32(exactly: address), (try? session.writeMemory(bytes, at: start)) != nil else { return ["E14"] }
            return ["OK"]
        case .continue(let address), .step(let address):
            if let address, let pc = UInt32(exactly: address) { try? session.writeRegister(.core(15), UInt64(pc)) }
            if case .step = command { return stopReply(for: session.step()) }
            return stopReply(for: session.resume(interruptRequested: interruptRequested))
        case .resumeActionsQuery:
            return ["vCont;c;C;s;S"]
        case let .resume(action):
            switch action {
            case .continue, .continueWithSignal: return stopReply(for: session.resume(interruptRequested: interruptRequested))
            case .step, .stepWithSignal: return stopReply(for: session.step())
            case .stop: return stopReply(for: .interrupted)
            }
        case let .insertBreakpoint(kind, address, length):
            guard let at = UInt32(exactly: address) else { return ["E01"] }
            if let watchKind = Self.watchpointKind(kind) {
                return (try? session.insertWatchpoint(at: at, length: length, kind: watchKind)) != nil ? ["OK"] : ["E01"]
            }
            guard let breakpointKind = Self.breakpointKind(kind),
                  (try? session.insertBreakpoint(at: at, kind: breakpointKind)) != nil else { return ["E01"] }
            return ["OK"]
        case let .removeBreakpoint(kind, address, length):
            guard let at = UInt32(exactly: address) else { return ["E01"] }
            if let watchKind = Self.watchpointKind(kind) {
                session.removeWatchpoint(at: at, length: length, kind: watchKind)
            } else if let breakpointKind = Self.breakpointKind(kind) {
                session.removeBreakpoint(at: at, kind: breakpointKind)
            }
            return ["OK"]
        case .kill:
            end = .killed
            return []  // `k` has no reply (GDB manual, "Packets", `k`)
        case .detach:
            end = .detached
            return ["OK"]
        case .setThread, .threadAlive:
            return ["OK"]
        case .currentThread:
            return ["QC1"]
        case .attached:
            return ["1"]
        case .firstThreadInfo:
            return ["m1"]
        case .nextThreadInfo:
            return ["l"]
        case .offsets:
            return ["Text=0;Data=0;Bss=0"]
        case let .monitor(line):
            return [GDBHex.encode(Array(monitorOutput(line).utf8))]
        case .startNoAckMode:
            return ["OK"]
        case .unsupported:
            return [""]
        }
    }

    /// What `monitor LINE` prints.
    func monitorOutput(_ line: String) -> String {
        let words = line.split(separator: " ")
        switch words.first.map(String.init) {
        case "cycles"?:
            let progress = session.progress
            return "cycles \(progress.cycles), instructions \(progress.instructions), pc 0x\(String(session.programCounter, radix: 16))\n"
                + "conditions: \(progress.conditions)\n"
        case "help"?, nil:
            return """
                MixQ monitor commands:
                  monitor cycles   core cycles and instructions executed so far, with their conditions
                  monitor help     this list

                """
        default:
            return "unknown monitor command '\(line)'; try 'monitor help'\n"
        }
    }

    /// The stop reply for `reason`, after an `O` packet with MixQ's message when the stop is a
    /// fault or a limit, so the user sees PC, address and function.
    func stopReply(for reason: DebugStopReason) -> [String] {
        let pcAndSP: [(number: Int, value: String)] = [
            (15, GDBHex.littleEndian(UInt32(truncatingIfNeeded: session.readRegister(.core(15))))),
            (13, GDBHex.littleEndian(UInt32(truncatingIfNeeded: session.readRegister(.core(13))))),
        ]
        func signal(_ number: UInt8, message: String? = nil) -> [String] {
            let reply = GDBStopReply.signal(number, registers: pcAndSP).payload
            guard let message else { return [reply] }
            return [GDBHex.consoleOutput("mixq: " + message + "\n"), reply]
        }
        switch reason {
        case .breakpoint, .stepped:
            return signal(GDBStopReply.Signal.trap)
        case let .watchpoint(address, kind):
            // "Stop Reply Packets": watch/rwatch/awatch name the data address.
            let name = kind == .write ? "watch" : kind == .read ? "rwatch" : "awatch"
            let reply = GDBStopReply.signal(GDBStopReply.Signal.trap, registers: pcAndSP).payload
            return ["T05" + name + ":" + String(address, radix: 16) + ";" + reply.dropFirst(3)]
        case .interrupted:
            return signal(GDBStopReply.Signal.interrupt)
        case let .exited(status):
            end = .exited(status: status)
            return [GDBStopReply.exited(status).payload]
        case let .fault(fault):
            return signal(Self.signal(for: fault.kind), message: fault.description)
        case let .budgetExhausted(pc):
            return signal(24, message: "instruction budget of \(session.options.maxInstructions) exhausted at 0x\(String(pc, radix: 16))")
        case let .outputLimit(pc):
            return signal(25, message: "output limit of \(session.options.maxOutputBytes) bytes reached at 0x\(String(pc, radix: 16))")
        case let .stoppedWithoutExit(pc):
            return signal(GDBStopReply.Signal.trap, message: "the firmware stopped without exiting at 0x\(String(pc, radix: 16)) (WFI?)")
        }
    }

    /// SIGSEGV for memory faults, SIGILL for undefined instructions and invalid state, SIGBUS
    /// for unaligned accesses, SIGFPE for division by zero, SIGTRAP for a stray BKPT.
    static func signal(for kind: FaultKind) -> UInt8 {
        switch kind {
        case .unmappedRead, .unmappedWrite, .unmappedFetch, .flashWrite, .fetchFromNonExecutable, .stackOverflow:
            return GDBStopReply.Signal.segmentationFault
        case .undefinedInstruction: return GDBStopReply.Signal.illegalInstruction
        case let .usageFault(cause, _):
            switch cause {
            case .unaligned: return GDBStopReply.Signal.busError
            case .divideByZero: return 8
            default: return GDBStopReply.Signal.illegalInstruction
            }
        case .hardFault: return GDBStopReply.Signal.segmentationFault
        case .breakpoint: return GDBStopReply.Signal.trap
        }
    }

    private static func watchpointKind(_ kind: GDBBreakpointKind) -> WatchpointKind? {
        switch kind {
        case .writeWatchpoint: return .write
        case .readWatchpoint: return .read
        case .accessWatchpoint: return .access
        default: return nil
        }
    }

    private static func breakpointKind(_ kind: GDBBreakpointKind) -> BreakpointKind? {
        switch kind {
        case .software: return .software
        case .hardware: return .hardware
        default: return nil
        }
    }

    private func registerHex(_ register: DebugRegister, size: Int) -> String {
        let value = session.readRegister(register)
        return size == 8 ? GDBHex.littleEndian(value) : GDBHex.littleEndian(UInt32(truncatingIfNeeded: value))
    }

    private func littleEndianValue(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        var value: UInt64 = 0
        for (shift, byte) in bytes.prefix(8).enumerated() { value |= UInt64(byte) << (8 * UInt64(shift)) }
        return value
    }
}
