import FirmwareBuild
import Foundation
import Testing

/// The `mixq` CLI contract other tools rely on (README.md, "Usage"): firmware output on stdout, the
/// firmware's exit status, `error:` lines and non-zero exits for MixQ-side failures, `--stats`
/// and `size --json` keys.
@Suite struct CLITests {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The `mixq` executable SwiftPM built next to this test bundle.
    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mixq")
    }

    static func mixq(_ arguments: String...) throws -> Outcome { try mixq(arguments: arguments) }

    /// `mixq(_:)` with the arguments as an array.
    static func mixq(arguments: [String]) throws -> Outcome {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        let stderrData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                       stderr: String(decoding: stderrData, as: UTF8.self))
    }

    static func elf(_ program: String) throws -> String {
        try Toolchain.locate().build(.testProgram(program)).elf.path
    }

    @Test func runPrintsFirmwareOutputAndExitsWithItsStatus() throws {
        let hello = try Self.mixq("run", Self.elf("hello"))
        #expect(hello.status == 0)
        #expect(hello.stdout.hasPrefix("Hello from the emulated STM32H743!\n"))
        #expect(hello.stderr.contains("hello: a line on stderr"))
        #expect(hello.stderr.contains("400 MHz"), "the summary carries the conditions")

        let three = try Self.mixq("run", Self.elf("exit_status"), "--quiet")
        #expect(three.status == 3)
        #expect(three.stdout == "exiting with 3\n")
        #expect(three.stderr.isEmpty)
    }

    @Test func statsJSONHasTheContractKeys() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-stats-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: path) }
        let outcome = try Self.mixq("run", Self.elf("hello"), "--stats", path.path, "--clock-mhz", "480", "--quiet")
        #expect(outcome.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as? [String: Any])
        for key in ["instructions", "cycles", "clock_mhz", "exit_status", "wall_seconds", "emulated_mips"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        #expect(object["clock_mhz"] as? Int == 480)
        #expect(object["flash_wait_states"] as? Int == 4)
        #expect(object["exit_status"] as? Int == 0)
    }

    @Test func emulatorSideFailuresAreOneErrorLine() throws {
        let notELF = try Self.mixq("run", "/etc/hostname")
        #expect(notELF.status != 0)
        #expect(notELF.stderr.hasPrefix("error: "))

        let fault = try Self.mixq("run", Self.elf("fault_unmapped_write"))
        #expect(fault.status != 0)
        #expect(fault.stdout == "before\n", "output up to the fault is kept")
        #expect(fault.stderr.hasPrefix("error: "))
        #expect(fault.stderr.contains("0x90000010") && fault.stderr.contains("write_quadspi_window"))

        let budget = try Self.mixq("run", Self.elf("never_ends"), "--max-instructions", "100000")
        #expect(budget.status != 0)
        #expect(budget.stderr.hasPrefix("error: ") && budget.stderr.contains("100000 instructions"))

        let badClock = try Self.mixq("run", Self.elf("hello"), "--clock-mhz", "333")
        #expect(badClock.status != 0)
    }

    @Test func sizeJSONCountsFlashAndRAM() throws {
        let outcome = try Self.mixq("size", Self.elf("hello"), "--json")
        #expect(outcome.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        let regions = try #require(object["regions"] as? [[String: Any]])
        let flash = try #require(regions.first { $0["name"] as? String == "FLASH" })
        #expect((flash["used"] as? Int ?? 0) > 1000)
        #expect(flash["capacity"] as? Int == 2 * 1024 * 1024)
        let dtcm = try #require(regions.first { $0["name"] as? String == "DTCM" })
        #expect((dtcm["used"] as? Int ?? 0) >= 16384, "the 16 KiB stack lives in DTCM")
    }
}
