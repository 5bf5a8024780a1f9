import Emulator
import FirmwareBuild
import Foundation

/// Builds firmware from `firmware/tests` (through the content-keyed cache, so each program is
/// compiled at most once per run) and runs it on a fresh STM32H743.
enum FirmwareFixtures {
    static func toolchain() throws -> Toolchain { try Toolchain.locate() }

    static func image(_ name: String, defines: [String] = []) throws -> ELFImage {
        let built = try toolchain().build(.testProgram(name, defines: defines))
        return try ELFImage(contentsOf: built.elf)
    }

    static func run(_ name: String, options: RunOptions = RunOptions()) throws -> RunResult {
        try Machine(part: .stm32h743).run(image(name), options: options)
    }

    /// Runs a program expected to fail and returns the emulator's error.
    static func runExpectingError(_ name: String, options: RunOptions = RunOptions()) throws -> EmulatorError {
        do {
            let result = try run(name, options: options)
            throw UnexpectedSuccess(status: result.exitStatus, stdout: result.stdout)
        } catch let error as EmulatorError {
            return error
        }
    }
}

struct UnexpectedSuccess: Error, CustomStringConvertible {
    var status: Int32
    var stdout: String
    var description: String { "firmware ran to completion (status \(status)) but an error was expected; output:\n\(stdout)" }
}
