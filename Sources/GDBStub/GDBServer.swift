#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Emulator
import GDBRemote

/// Why the GDB server could not start.
public enum GDBServerError: Error, Equatable, CustomStringConvertible {
    case portOutOfRange(Int)
    case portInUse(UInt16)
    case socket(operation: String, errno: Int32)

    public var description: String {
        switch self {
        case let .portOutOfRange(port):
            return "--gdb port \(port) is out of range: use 1...65535 (ports below 1024 usually need root)"
        case let .portInUse(port):
            return "port \(port) on 127.0.0.1 is already in use: choose another with --gdb PORT"
        case let .socket(operation, code):
            return "cannot \(operation) for the GDB server: \(String(cString: strerror(code)))"
        }
    }
}

/// A listening socket on 127.0.0.1 (never another interface: the stub can read and write all
/// of the target's memory and has no authentication).
public final class GDBListener {
    public let port: UInt16
    private var descriptor: Int32

    /// Binds 127.0.0.1:`port` and listens.
    public init(port: Int) throws(GDBServerError) {
        guard (1...65535).contains(port) else { throw .portOutOfRange(port) }
        self.port = UInt16(port)
        #if os(Linux)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw .socket(operation: "create a socket", errno: errno) }
        var yes: Int32 = 1
        _ = setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian  // 127.0.0.1
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if bound != 0 {
            let code = errno
            close(descriptor)
            if code == EADDRINUSE { throw .portInUse(UInt16(port)) }
            throw .socket(operation: "bind 127.0.0.1:\(port)", errno: code)
        }
        guard listen(descriptor, 1) == 0 else {
            let code = errno
            close(descriptor)
            throw .socket(operation: "listen on 127.0.0.1:\(port)", errno: code)
        }
        self.descriptor = descriptor
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    /// Waits for one connection, then stops listening.
    public func accept() throws(GDBServerError) -> GDBConnection {
        while true {
            #if os(Linux)
            let connection = Glibc.accept(descriptor, nil, nil)
            #else
            let connection = Darwin.accept(descriptor, nil, nil)
            #endif
            if connection >= 0 {
                close(descriptor)
                descriptor = -1
                var yes: Int32 = 1
                _ = setsockopt(connection, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
                return GDBConnection(descriptor: connection)
            }
            if errno != EINTR { throw .socket(operation: "accept a connection", errno: errno) }
        }
    }
}

/// One TCP connection to GDB.
public final class GDBConnection {
    private let descriptor: Int32
    public private(set) var isClosed = false

    init(descriptor: Int32) {
        self.descriptor = descriptor
        #if canImport(Darwin)
        var yes: Int32 = 1
        _ = setsockopt(descriptor, SOL_SOCKET, SO_NOSIGPIPE, &yes, socklen_t(MemoryLayout<Int32>.size))
        #endif
    }

    deinit { close(descriptor) }

    /// Bytes that arrived, waiting at most `timeoutMilliseconds` (-1: forever). Empty on a
    /// timeout; nil once the peer closed or the connection failed.
    public func receive(timeoutMilliseconds: Int32 = -1) -> [UInt8]? {
        guard !isClosed else { return nil }
        var request = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let ready = poll(&request, 1, timeoutMilliseconds)
        if ready == 0 { return [] }
        if ready < 0 { return errno == EINTR ? [] : closed() }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        if count > 0 { return Array(buffer.prefix(count)) }
        if count < 0 && errno == EINTR { return [] }
        return closed()
    }

    /// Sends all of `bytes`; false once the connection is gone.
    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count && !isClosed {
            #if os(Linux)
            let flags = Int32(MSG_NOSIGNAL)
            #else
            let flags: Int32 = 0
            #endif
            let count = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return systemSend(descriptor, base + sent, raw.count - sent, flags)
            }
            if count > 0 {
                sent += count
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                _ = closed()
            }
        }
        return !isClosed
    }

    private func closed() -> [UInt8]? {
        isClosed = true
        return nil
    }
}

#if os(Linux)
private func systemSend(_ fd: Int32, _ pointer: UnsafeRawPointer, _ count: Int, _ flags: Int32) -> Int {
    Glibc.send(fd, pointer, count, flags)
}
#else
private func systemSend(_ fd: Int32, _ pointer: UnsafeRawPointer, _ count: Int, _ flags: Int32) -> Int {
    Darwin.send(fd, pointer, count, flags)
}
#endif

/// Protocol problems for the log: the first `limit` in full, then one line saying the rest are
/// only counted, so a client sending garbage cannot fill the terminal or a log file.
struct ProblemLog {
    let log: (String) -> Void
    var limit = 20
    private(set) var count = 0

    init(log: @escaping (String) -> Void) { self.log = log }

    mutating func note(_ problem: String) {
        count += 1
        if count <= limit {
            log(problem)
        } else if count == limit + 1 {
            log("more than \(limit) protocol problems from GDB; further ones are not logged")
        }
    }
}

/// Serves one GDB connection: acknowledgements, retransmission, Ctrl-C while running, and
/// the handler's replies (GDB manual, "Remote Protocol", "Overview" and "Interrupts").
public struct GDBServer {
    public let handler: GDBStubHandler
    private let connection: GDBConnection
    /// Called with each protocol problem (malformed packet), for a log on stderr.
    public var log: (String) -> Void

    /// Bytes kept from what GDB sends while the target runs: one packet of the advertised size
    /// with its framing.
    public static let maximumPendingBytes = GDBStubHandler.packetSize + 4

    public init(handler: GDBStubHandler, connection: GDBConnection, log: @escaping (String) -> Void = { _ in }) {
        self.handler = handler
        self.connection = connection
        self.log = log
    }

    /// Serves packets until `k`, `D`, the firmware's exit or the end of the connection.
    public func run() -> GDBSessionEnd {
        var decoder = GDBPacketDecoder(maximumPacketSize: GDBStubHandler.packetSize)
        var lastSent: [UInt8] = []
        var acknowledging = true
        var pending: [UInt8] = []
        var dropped = 0
        var problems = ProblemLog(log: log)
        // Polled from the emulation loop: reads what arrived, notes a 0x03 and keeps the rest,
        // up to one packet's worth (GDB sends nothing but 0x03 while the target runs in
        // all-stop mode); more is dropped, as the stopped-state decoder drops oversize packets.
        let interruptRequested: () -> Bool = {
            guard let bytes = connection.receive(timeoutMilliseconds: 0) else { return true }  // closed: stop
            let interrupt = bytes.firstIndex(of: 0x03)
            var kept = bytes
            if let interrupt { kept.remove(at: interrupt) }
            let room = max(0, Self.maximumPendingBytes - pending.count)
            pending += kept.prefix(room)
            dropped += max(0, kept.count - room)
            return interrupt != nil
        }
        while true {
            var bytes: [UInt8]
            if dropped > 0 {
                problems.note("GDB sent \(dropped) bytes while the target ran (more than a packet); they were dropped")
                dropped = 0
            }
            if !pending.isEmpty {
                bytes = pending
                pending.removeAll()
            } else {
                guard let received = connection.receive() else { return handler.end ?? .disconnected }
                bytes = received
            }
            for item in decoder.feed(bytes) {
                switch item {
                case .acknowledgement, .interrupt:
                    continue  // a Ctrl-C while stopped has nothing to interrupt
                case .retransmissionRequest:
                    if !lastSent.isEmpty { connection.send(lastSent) }
                case let .malformedPacket(problem):
                    problems.note("malformed packet from GDB: \(problem); asked for it again")
                    connection.send([UInt8(ascii: "-")])
                case let .packet(payload):
                    if acknowledging { connection.send([UInt8(ascii: "+")]) }
                    let replies: [String]
                    do {
                        let command = try GDBCommand.parse(payload)
                        replies = handler.replies(to: command, interruptRequested: interruptRequested)
                        if command == .startNoAckMode { acknowledging = false }
                    } catch {
                        problems.note(error.description)
                        replies = ["E01"]
                    }
                    for reply in replies {
                        lastSent = GDBPacket.frame(reply)
                        connection.send(lastSent)
                    }
                    if connection.isClosed { return handler.end ?? .disconnected }
                    if let end = handler.end { return end }
                }
            }
        }
    }
}
