import Emulator
import FirmwareBuild
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `mixq run --gdb PORT` end to end: the real `gdb-multiarch` against the stub, and raw TCP
/// clients for what GDB never sends (docs/debugging.md). Every process runs under a deadline,
/// so a hang fails the test instead of CI.
@Suite(.serialized) struct GDBCLITests {
    /// Collects a pipe's output from a background reader.
    final class Output: @unchecked Sendable {
        private let lock = NSLock()
        private var data = Data()
        private var ended = false
        /// An empty read is the end of the pipe.
        func append(_ more: Data) { lock.lock(); if more.isEmpty { ended = true } else { data.append(more) }; lock.unlock() }
        var isEnded: Bool { lock.lock(); defer { lock.unlock() }; return ended }
        var text: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }
    }

    /// A started process whose stdout and stderr are collected as they arrive.
    final class Running: @unchecked Sendable {
        let process = Process()
        let stdout = Output()
        let stderr = Output()

        init(_ executable: URL, _ arguments: [String]) throws {
            process.executableURL = executable
            process.arguments = arguments
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            process.standardInput = FileHandle.nullDevice
            out.fileHandleForReading.readabilityHandler = { [stdout] in stdout.append($0.availableData) }
            err.fileHandleForReading.readabilityHandler = { [stderr] in stderr.append($0.availableData) }
            try process.run()
        }

        /// Waits for exit; kills the process and returns nil past `seconds`.
        func wait(seconds: Double) -> Int32? {
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning {
                // SIGKILL: processes started from the test runner inherit SIGINT (and, as
                // observed, SIGTERM) as ignored, and a hang must not outlive the deadline.
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                return nil
            }
            // Let the readers drain the pipes to their end (bounded).
            let drained = Date().addingTimeInterval(5)
            while !(stdout.isEnded && stderr.isEnded) && Date() < drained { usleep(10_000) }
            return process.terminationStatus
        }

        /// Waits until stderr contains `text`.
        func waitFor(_ text: String, seconds: Double) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if stderr.text.contains(text) { return true }
                if !process.isRunning { return stderr.text.contains(text) }
                usleep(20_000)
            }
            return false
        }
    }

    static var gdbPath: String? {
        ["/usr/bin/gdb-multiarch", "/usr/local/bin/gdb-multiarch"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// A TCP port nothing listens on now (the kernel's choice for port 0).
    static func freePort() throws -> Int {
        let listener = try TestSocket.listen(port: 0)
        return listener.port
    }

    /// Starts `mixq run ELF --gdb PORT` and waits for its "waiting for GDB" line.
    static func startStub(_ elf: String, extra: [String] = []) throws -> (Running, Int) {
        let port = try freePort()
        let stub = try Running(CLITests.executable, ["run", elf, "--gdb", String(port)] + extra)
        guard stub.waitFor("waiting for GDB on 127.0.0.1:\(port)", seconds: 20) else {
            _ = stub.wait(seconds: 1)
            throw TestFailure("mixq did not start listening: \(stub.stderr.text)")
        }
        return (stub, port)
    }

    /// Runs gdb-multiarch in batch mode with `commands` against the stub on `port`.
    static func gdb(_ elf: String, port: Int, _ commands: [String]) throws -> String {
        guard let path = gdbPath else { throw TestFailure("gdb-multiarch missing") }
        var arguments = ["-batch", "-nx", "-ex", "set confirm off", "-ex", "set pagination off",
                         "-ex", "file \(elf)", "-ex", "target remote :\(port)"]
        for command in commands { arguments += ["-ex", command] }
        let gdb = try Running(URL(fileURLWithPath: path), arguments)
        guard gdb.wait(seconds: 90) != nil else { throw TestFailure("gdb timed out:\n\(gdb.stdout.text)\n\(gdb.stderr.text)") }
        return gdb.stdout.text + gdb.stderr.text
    }

    static func symbol(_ name: String, in elf: String) throws -> UInt32 {
        let image = try ELFImage(contentsOf: URL(fileURLWithPath: elf))
        let symbol = try #require(image.symbol(named: name))
        return symbol.address & ~1
    }

    /// The first number after `prefix` in `text`.
    static func number(after prefix: String, in text: String) -> UInt64? {
        guard let range = text.range(of: prefix) else { return nil }
        return UInt64(text[range.upperBound...].prefix { $0.isNumber })
    }

    // MARK: Driven by gdb-multiarch

    @Test func breakpointsRegistersVariablesCyclesAndExitStatus() throws {
        guard Self.gdbPath != nil else {
            print("GDBCLITests: gdb-multiarch is not installed (toolchain/setup.sh installs it); skipping the GDB-driven test")
            return
        }
        let elf = try CLITests.elf("gdb_target")
        let addNumbers = try Self.symbol("add_numbers", in: elf)
        let (stub, port) = try Self.startStub(elf)
        let transcript = try Self.gdb(elf, port: port, [
            "break add_numbers", "continue",
            "info registers r0 r1 pc",
            "p counter",
            "monitor cycles",
            "stepi",
            "monitor cycles",
            "hbreak scale_float", "continue",
            "p counter", "p x",
            "delete",
            // The firmware returns exit_status (7); the debugger changes it.
            "set var exit_status = 3",
            "continue",
        ])
        let status = stub.wait(seconds: 30)
        // gdb_target.c calls add_numbers(20, 22): AAPCS passes them in r0 and r1.
        #expect(transcript.contains("Breakpoint 1, add_numbers (a=20, b=22)"), "\(transcript)")
        #expect(transcript.range(of: #"r0\s+0x14\s+20"#, options: .regularExpression) != nil, "\(transcript)")
        #expect(transcript.range(of: #"r1\s+0x16\s+22"#, options: .regularExpression) != nil, "\(transcript)")
        #expect(transcript.range(of: "pc\\s+0x0*\(String(addNumbers, radix: 16))\\s", options: .regularExpression) != nil,
                "the breakpoint stops at add_numbers' address 0x\(String(addNumbers, radix: 16)):\n\(transcript)")
        #expect(transcript.contains("$1 = 0"), "counter before the loop")
        #expect(transcript.contains("$2 = 10"), "counter after ten bump() calls")
        #expect(transcript.contains("$3 = 1.5"), "scale_float's argument")
        #expect(transcript.contains("conditions: core clock 400 MHz, FLASH 2 wait states"), "\(transcript)")
        // `monitor cycles` before and after one stepi: non-zero and growing by one instruction.
        let cycleLines = transcript.components(separatedBy: "\n").filter { $0.hasPrefix("cycles ") }
        #expect(cycleLines.count == 2, "\(transcript)")
        if cycleLines.count == 2 {
            let before = try #require(Self.number(after: "cycles ", in: cycleLines[0]))
            let after = try #require(Self.number(after: "cycles ", in: cycleLines[1]))
            let instructionsBefore = try #require(Self.number(after: "instructions ", in: cycleLines[0]))
            let instructionsAfter = try #require(Self.number(after: "instructions ", in: cycleLines[1]))
            #expect(before > 100 && after > before)
            #expect(instructionsAfter == instructionsBefore + 1)
        }
        #expect(transcript.contains("exited with code 03"), "\(transcript)")
        #expect(status == 3, "mixq exits with the status the debugger set")
        #expect(stub.stdout.text == "sum 42 counter 10 float 3.75\n", "semihosting output still reaches stdout")
        #expect(stub.stderr.text.contains("mixq: exit status 3,"), "the usual summary line")
    }

    @Test func countsUnderGDBEqualAFreeRun() throws {
        guard Self.gdbPath != nil else {
            print("GDBCLITests: gdb-multiarch is not installed; skipping")
            return
        }
        let elf = try CLITests.elf("gdb_target")
        let free = try Running(CLITests.executable, ["run", elf])
        #expect(free.wait(seconds: 60) == 7)
        let freeInstructions = try #require(Self.number(after: "exit status 7, ", in: free.stderr.text))
        let (stub, port) = try Self.startStub(elf)
        _ = try Self.gdb(elf, port: port, ["break bump", "continue", "continue", "delete", "stepi", "stepi", "continue"])
        #expect(stub.wait(seconds: 30) == 7)
        // Breakpoints stop before their block's counting (docs/debugging.md): same instructions.
        #expect(Self.number(after: "exit status 7, ", in: stub.stderr.text) == freeInstructions, "\(stub.stderr.text)\n\(free.stderr.text)")
    }

    @Test func faultingFirmwareStopsWithSIGSEGV() throws {
        guard Self.gdbPath != nil else {
            print("GDBCLITests: gdb-multiarch is not installed; skipping")
            return
        }
        let elf = try CLITests.elf("fault_unmapped_read")
        let (stub, port) = try Self.startStub(elf)
        let faultingLoad = try Self.symbol("faulting_load", in: elf)
        let transcript = try Self.gdb(elf, port: port, ["continue", "info registers pc", "bt", "kill"])
        let status = stub.wait(seconds: 30)
        #expect(transcript.contains("SIGSEGV"), "\(transcript)")
        #expect(transcript.range(of: "pc\\s+0x0*\(String(faultingLoad, radix: 16))\\s", options: .regularExpression) != nil,
                "GDB stops on the faulting load itself:\n\(transcript)")
        #expect(transcript.contains("0x60000000") && transcript.contains("read_external_bus"), "the O packet shows MixQ's fault message")
        #expect(status == 1, "a fault is an error, as in mixq run")
        #expect(stub.stderr.text.contains("error: firmware fault"), "\(stub.stderr.text)")
        #expect(stub.stdout.text == "before\n")
    }

    @Test func ctrlCInGDBStopsAnEndlessLoop() throws {
        guard let path = Self.gdbPath, FileManager.default.isExecutableFile(atPath: "/usr/bin/env") else {
            print("GDBCLITests: gdb-multiarch is not installed; skipping")
            return
        }
        let elf = try CLITests.elf("never_ends")
        let (stub, port) = try Self.startStub(elf)
        // The test runner's children may inherit SIGINT as ignored; env restores the default
        // so GDB installs its Ctrl-C handler.
        let gdb = try Running(URL(fileURLWithPath: "/usr/bin/env"), [
            "--default-signal=INT", path, "-batch", "-nx", "-ex", "file \(elf)", "-ex", "target remote :\(port)",
            "-ex", "continue", "-ex", "info registers pc", "-ex", "monitor cycles", "-ex", "kill",
        ])
        usleep(1_500_000)  // let the firmware spin
        kill(gdb.process.processIdentifier, SIGINT)  // what Ctrl-C does: GDB sends 0x03
        let finished = gdb.wait(seconds: 30)
        let transcript = gdb.stdout.text + gdb.stderr.text
        #expect(finished != nil, "GDB did not stop the target: \(transcript)")
        #expect(transcript.contains("Program received signal SIGINT"), "\(transcript)")
        #expect(transcript.contains("spin_forever"), "\(transcript)")
        #expect((Self.number(after: "cycles ", in: transcript) ?? 0) > 1000, "the loop ran before the interrupt")
        #expect(stub.wait(seconds: 30) == 0)
    }

    // MARK: Raw TCP clients

    @Test func malformedPacketsGetANackAndTheServerGoesOn() throws {
        let (stub, port) = try Self.startStub(try CLITests.elf("gdb_target"))
        let client = try TestSocket.connect(port: port)
        client.send(Array("$g#00".utf8))  // wrong checksum
        #expect(client.receive(until: { $0.contains(UInt8(ascii: "-")) }) == Array("-".utf8))
        // Longer than the advertised PacketSize (16384): refused, not buffered.
        client.send(Array(("$" + String(repeating: "m", count: 40_000) + "#00").utf8))
        #expect(client.receive(until: { $0.contains(UInt8(ascii: "-")) }) == Array("-".utf8))
        client.send(Array("garbage\u{7f}}}**".utf8))
        client.send(TestSocket.frame("?"))
        let reply = String(decoding: client.receive(until: { $0.contains(UInt8(ascii: "#")) && $0.count > 4 }), as: UTF8.self)
        #expect(reply.hasPrefix("+$T05"), "\(reply)")
        client.send(TestSocket.frame("k"))
        let status = stub.wait(seconds: 20)
        #expect(status == 0, "k ends the session cleanly; stderr: \(stub.stderr.text)")
        #expect(stub.stderr.text.contains("malformed packet"))
        #expect(stub.stderr.text.contains("mixq: exit status 0,"))
    }

    /// While the firmware runs, bytes other than Ctrl-C are kept up to one packet and the rest
    /// dropped (before, a client could grow the stub's memory without bound); a stream of
    /// malformed packets logs 20 lines and one saying the rest are not logged.
    @Test func bytesWhileRunningAreBoundedAndProblemsAreLoggedWithALimit() throws {
        let (stub, port) = try Self.startStub(try CLITests.elf("never_ends"), extra: ["--timing", "off"])
        let client = try TestSocket.connect(port: port)
        client.send(TestSocket.frame("c"))
        client.send([UInt8](repeating: UInt8(ascii: "A"), count: 1 << 18))
        usleep(300_000)
        client.send([0x03])
        let reply = String(decoding: client.receive(until: { String(decoding: $0, as: UTF8.self).contains("T02") }), as: UTF8.self)
        #expect(reply.contains("$T02"), "\(reply)")
        for _ in 0..<100 { client.send(Array("$g#00".utf8)) }
        let nacks = client.receive(until: { $0.filter { $0 == UInt8(ascii: "-") }.count >= 100 })
        #expect(nacks.filter { $0 == UInt8(ascii: "-") }.count == 100)
        client.send(TestSocket.frame("k"))
        #expect(stub.wait(seconds: 20) == 0, "\(stub.stderr.text)")
        let log = stub.stderr.text
        #expect(log.contains("while the target ran (more than a packet); they were dropped"), "\(log)")
        let dropped = Self.number(after: "GDB sent ", in: log) ?? 0
        #expect(dropped >= UInt64(1 << 18) - 16_388 - 4096 && dropped < UInt64(1 << 18), "\(dropped)")
        #expect(log.components(separatedBy: "malformed packet").count - 1 <= 20)
        #expect(log.contains("further ones are not logged"))
    }

    @Test func interruptAndDisconnectWhileRunning() throws {
        let (stub, port) = try Self.startStub(try CLITests.elf("never_ends"))
        let client = try TestSocket.connect(port: port)
        client.send(TestSocket.frame("c"))
        usleep(300_000)
        client.send([0x03])
        let reply = String(decoding: client.receive(until: { String(decoding: $0, as: UTF8.self).contains("T02") }), as: UTF8.self)
        #expect(reply.contains("$T02"), "Ctrl-C stops an endless loop with SIGINT: \(reply)")
        client.send(TestSocket.frame("c"))
        usleep(300_000)
        client.disconnect()  // mid-run
        let status = stub.wait(seconds: 20)
        #expect(status == 0, "\(stub.stderr.text)")
        #expect(stub.stderr.text.contains("mixq: exit status 0,"))
    }

    @Test func portProblemsAreOneErrorLine() throws {
        let taken = try TestSocket.listen(port: 0)
        let inUse = try Running(CLITests.executable, ["run", try CLITests.elf("hello"), "--gdb", String(taken.port)])
        let inUseStatus = inUse.wait(seconds: 30)
        #expect(inUseStatus != nil && inUseStatus != 0)
        #expect(inUse.stderr.text.hasPrefix("error: ") && inUse.stderr.text.contains("already in use"), "\(inUse.stderr.text)")
        #expect(inUse.stderr.text.split(separator: "\n").count == 1, "\(inUse.stderr.text)")

        let outOfRange = try Running(CLITests.executable, ["run", try CLITests.elf("hello"), "--gdb", "70000"])
        let outOfRangeStatus = outOfRange.wait(seconds: 30)
        #expect(outOfRangeStatus != nil && outOfRangeStatus != 0)
        #expect(outOfRange.stderr.text.hasPrefix("error: ") && outOfRange.stderr.text.contains("out of range"),
                "\(outOfRange.stderr.text)")
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Minimal blocking TCP sockets on 127.0.0.1 for the tests.
final class TestSocket {
    let descriptor: Int32
    let port: Int

    private init(descriptor: Int32, port: Int) {
        self.descriptor = descriptor
        self.port = port
    }

    deinit { close(descriptor) }

    private static func address(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }

    private static func newSocket() -> Int32 {
        #if os(Linux)
        return socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        return socket(AF_INET, SOCK_STREAM, 0)
        #endif
    }

    static func listen(port: Int) throws -> TestSocket {
        let descriptor = newSocket()
        var address = address(port: port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, systemListen(descriptor, 1) == 0 else {
            close(descriptor)
            throw TestFailure("cannot listen on port \(port)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return TestSocket(descriptor: descriptor, port: Int(UInt16(bigEndian: address.sin_port)))
    }

    static func connect(port: Int) throws -> TestSocket {
        let descriptor = newSocket()
        var address = address(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { systemConnect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(descriptor)
            throw TestFailure("cannot connect to port \(port)")
        }
        return TestSocket(descriptor: descriptor, port: port)
    }

    static func frame(_ payload: String) -> [UInt8] {
        let sum = payload.utf8.reduce(UInt8(0)) { $0 &+ $1 }
        let checksum = String(sum, radix: 16)
        return Array(("$" + payload + "#" + (checksum.count == 1 ? "0" : "") + checksum).utf8)
    }

    func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { systemSend(descriptor, $0.baseAddress, $0.count) }
    }

    /// Reads until `done` holds for what arrived, for at most 10 seconds.
    func receive(until done: ([UInt8]) -> Bool) -> [UInt8] {
        var received: [UInt8] = []
        let deadline = Date().addingTimeInterval(10)
        while !done(received) && Date() < deadline {
            var request = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&request, 1, 100) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            received += buffer.prefix(count)
        }
        return received
    }

    /// Closes the connection from this side (the peer sees end of file).
    func disconnect() { shutdown(descriptor, Int32(SHUT_RDWR)) }
}

#if os(Linux)
private func systemListen(_ descriptor: Int32, _ backlog: Int32) -> Int32 { Glibc.listen(descriptor, backlog) }
private func systemConnect(_ descriptor: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
    Glibc.connect(descriptor, address, length)
}
private func systemSend(_ descriptor: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int {
    Glibc.send(descriptor, bytes, count, Int32(MSG_NOSIGNAL))
}
#else
private func systemListen(_ descriptor: Int32, _ backlog: Int32) -> Int32 { Darwin.listen(descriptor, backlog) }
private func systemConnect(_ descriptor: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
    Darwin.connect(descriptor, address, length)
}
private func systemSend(_ descriptor: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int {
    Darwin.send(descriptor, bytes, count, 0)
}
#endif
