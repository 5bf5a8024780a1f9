import ArgumentParser
import Emulator
import Foundation
import GDBStub

/// `mixq run FILE --gdb PORT`: the firmware under GDB's control (docs/debugging.md).
extension Run {
    func validateGDB(port: Int, profiling: Bool) throws {
        guard (1...65535).contains(port) else {
            throw ValidationError("--gdb port \(port) is out of range: use 1...65535")
        }
        if profiling {
            throw ValidationError("--gdb and --profile cannot be combined: profile a run without GDB")
        }
    }

    /// Listens on 127.0.0.1 only, serves one GDB connection, then prints the usual summary.
    /// Exit status: the firmware's when it exited, 1 after a fault (with the fault's `error:`
    /// line), 0 when GDB killed, detached or disconnected first.
    func runUnderGDB(port: Int) throws {
        let handler: GDBStubHandler
        let listener: GDBListener
        do {
            let image = try ELFImage(contentsOf: URL(fileURLWithPath: file))
            let session = try DebugSession(machine: Machine(part: emulatedPart), image: image,
                                           options: RunOptions(maxInstructions: maxInstructions, clockMHz: clock,
                                                               echoOutput: true, timing: timing,
                                                               maxOutputBytes: maxOutput, outputTailBytes: 0))
            handler = GDBStubHandler(session: session)
            listener = try GDBListener(port: port)
        } catch {
            throw CommandFailure(error)
        }
        ConsoleEcho.printLine("mixq: waiting for GDB on 127.0.0.1:\(port) (target remote :\(port))")
        let connection: GDBConnection
        do {
            connection = try listener.accept()
        } catch {
            throw CommandFailure(error)
        }
        let server = GDBServer(handler: handler, connection: connection) { ConsoleEcho.printLine("mixq: gdb: \($0)") }
        let end = server.run()
        let result = handler.session.progress
        if !quiet { ConsoleEcho.printLine(result.summaryLine) }
        if let stats {
            let waitStates = emulatedPart.flashWaitStates[clock] ?? 0
            var data = try JSONOutput.encode(RunStatistics(result: result, waitStates: waitStates))
            data.append(0x0A)
            try OutputFiles.write(data, to: stats, option: "--stats")
        }
        switch end {
        case let .exited(status):
            if let note = FirmwareExitStatus.note(for: status) { ConsoleEcho.printLine(note) }
            if status != 0 { throw ExitCode(FirmwareExitStatus.processCode(for: status)) }
        case .killed, .detached, .disconnected:
            if case let .fault(fault)? = handler.session.lastStop {
                throw CommandFailure(EmulatorError.fault(fault))
            }
        }
    }
}
