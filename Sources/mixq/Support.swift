import ArgumentParser
import Emulator
import Foundation

/// A library error turned into the CLI's contract: one `error:` line on stderr, exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let message: String

    init(_ error: Error) {
        message = String(describing: error)
    }

    init(message: String) {
        self.message = message
    }

    var description: String { message }
}

/// The conditions every printed figure carries.
enum RunConditions {
    /// The cycle model in use. Until the Timing module is attached, one instruction counts as
    /// one cycle, and this says so.
    static let timingModel = "instruction-count (1 cycle per instruction; no cycle model yet)"

    static func describe(clockMHz: Int, waitStates: Int) -> String {
        "core clock \(clockMHz) MHz, FLASH \(waitStates) wait states, caches as the firmware sets them, timing model \(timingModel)"
    }
}

extension RunConditions {
    /// One line: exit status, instructions, cycles, time, the conditions, emulation speed.
    static func summary(of result: RunResult) -> String {
        let waitStates = Part.stm32h743.flashWaitStates[result.clockMHz] ?? 0
        return String(format: "mixq: exit status %d, %llu instructions, %llu cycles = %.3f ms at %d MHz; ",
                      result.exitStatus, result.instructions, result.cycles, result.milliseconds, result.clockMHz)
            + "conditions: \(describe(clockMHz: result.clockMHz, waitStates: waitStates)); "
            + String(format: "%.1f emulated MIPS", result.emulatedMIPS)
    }
}

enum JSONOutput {
    /// Pretty, key-sorted JSON, so output is stable from run to run.
    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    static func print<T: Encodable>(_ value: T) throws {
        var data = try encode(value)
        data.append(0x0A)
        FileHandle.standardOutput.write(data)
    }

    static func write<T: Encodable>(_ value: T, to path: String) throws {
        var data = try encode(value)
        data.append(0x0A)
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
