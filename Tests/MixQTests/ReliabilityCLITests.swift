import FirmwareBuild
import Foundation
import Testing

/// The CLI never lets firmware or a bad argument turn into a crash, a misleading exit status or
/// a raw Foundation message: output limits, exit statuses outside 1...125, MixQ's lines starting
/// a line, outputs checked before the work (and never replacing an input), device files,
/// negative numbers and damaged section-name tables. Firmware: firmware/tests/exit_status.c and
/// firmware/tests/output_flood.c.
@Suite struct ReliabilityCLITests {
    static func elf(_ program: String, defines: [String] = []) throws -> String {
        try Toolchain.locate().build(.testProgram(program, defines: defines)).elf.path
    }

    /// Runs mixq with stdout and stderr into one pipe, as a terminal shows them.
    static func mixqMerged(_ arguments: String...) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = CLITests.executable
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test(arguments: [(256, 125), (-1, 125), (1000, 125), (125, 125), (124, 124), (1, 1)])
    func exitStatusOutsideTheProcessRangeIsNotSuccess(status: Int, expected: Int32) throws {
        let outcome = try CLITests.mixq("run", Self.elf("exit_status", defines: ["EXIT_STATUS=\(status)"]))
        #expect(outcome.stdout == "exiting with \(status)\n")
        #expect(outcome.status == expected)
        #expect(outcome.stderr.contains("exit status \(status),"), "the summary prints the full status")
        if expected != Int32(status) {
            #expect(outcome.stderr.contains("status \(status), outside the 1...125"))
        }
    }

    @Test func errorLineStartsALineAfterUnterminatedFirmwareOutput() throws {
        let elf = try Self.elf("output_flood", defines: ["FLOOD_MODE=3"])
        let merged = try Self.mixqMerged("run", elf)
        #expect(merged.status == 1)
        #expect(merged.output.hasPrefix("partial text\nerror: "), "got: \(merged.output)")
        let separate = try CLITests.mixq("run", elf)
        #expect(separate.stdout == "partial text\n")
        #expect(separate.stderr.hasPrefix("error: firmware fault: read of unmapped address 0x60000000"))
    }

    @Test func maxOutputEndsAPrintLoop() throws {
        let outcome = try CLITests.mixq("run", Self.elf("output_flood", defines: ["FLOOD_MODE=0"]), "--max-output", "100000")
        #expect(outcome.status == 1)
        #expect(outcome.stdout.utf8.count == 100_000 + 1, "the limit's bytes plus the newline that ends the cut line")
        #expect(outcome.stderr.hasPrefix("error: firmware wrote more than 100000 bytes of output"))
        #expect(outcome.stderr.contains("--max-output"))
    }

    @Test func statsMayNotReplaceTheInput() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-rel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let copy = directory.appendingPathComponent("fw.elf")
        try FileManager.default.copyItem(atPath: try Self.elf("hello"), toPath: copy.path)
        let original = try Data(contentsOf: copy)
        try FileManager.default.createSymbolicLink(atPath: directory.appendingPathComponent("link.json").path,
                                                   withDestinationPath: copy.path)
        for output in [copy.path, directory.path + "/./fw.elf", directory.appendingPathComponent("link.json").path] {
            let outcome = try CLITests.mixq("run", copy.path, "--stats", output)
            #expect(outcome.status == 1)
            #expect(outcome.stdout.isEmpty, "refused before the run")
            #expect(outcome.stderr.hasPrefix("error: cannot write --stats") && outcome.stderr.contains("input file"))
            #expect(try Data(contentsOf: copy) == original, "the ELF is untouched")
        }
    }

    @Test func unwritableStatsFailBeforeTheRunInWords() throws {
        for output in ["/proc/mixq-stats.json", "/nonexistent-mixq-dir/stats.json", "/tmp"] {
            let outcome = try CLITests.mixq("run", Self.elf("hello"), "--stats", output)
            #expect(outcome.status == 1)
            #expect(outcome.stdout.isEmpty, "\(output): checked before the run")
            #expect(outcome.stderr.hasPrefix("error: cannot write --stats '\(output)': "), "\(outcome.stderr)")
            #expect(!outcome.stderr.contains("NSCocoaErrorDomain") && !outcome.stderr.contains("Error Domain"))
        }
    }

    @Test func markdownOutputIsCheckedFirst() throws {
        let outcome = try CLITests.mixq("bench", "kernels", "--markdown", "/proc/mixq-kernels.md")
        #expect(outcome.status == 1)
        #expect(outcome.stdout.isEmpty, "checked before the benchmark runs")
        #expect(outcome.stderr.hasPrefix("error: cannot write --markdown"))
    }

    @Test func devicesDirectoriesAndFIFOsAreNotRegularFiles() throws {
        let fifo = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-fifo-\(UUID().uuidString)").path
        #expect(mkfifo(fifo, 0o600) == 0)
        defer { unlink(fifo) }
        for (path, kind) in [("/dev/null", "a character device"), ("/dev/zero", "a character device"),
                             ("/tmp", "a directory"), (fifo, "a FIFO")] {
            for command in ["run", "size"] {
                let outcome = try CLITests.mixq(command, path)
                #expect(outcome.status == 1)
                #expect(outcome.stderr.hasPrefix("error: '\(path)' is \(kind)"), "\(command) \(path): \(outcome.stderr)")
                #expect(!outcome.stderr.contains("permission"))
            }
        }
    }

    @Test(arguments: [["plan", "--flash", "-1"], ["plan", "--ram=-2k"], ["sweep", "--jobs", "-1"],
                      ["run", "x.elf", "--clock-mhz", "-5"], ["deploy", "--seed", "-1"], ["sweep", "--shard", "-1/2"],
                      ["run", "x.elf", "--max-instructions", "-1"], ["run", "x.elf", "--max-instructions=-1"],
                      ["run", "x.elf", "--max-output", "-100"]])
    func negativeNumbersAreOutOfRange(arguments: [String]) throws {
        let process = Process()
        process.executableURL = CLITests.executable
        process.arguments = arguments
        let err = Pipe()
        process.standardError = err
        process.standardOutput = Pipe()
        try process.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 64)
        #expect(stderr.hasPrefix("error: "), "\(stderr)")
        #expect(stderr.contains("out of range"), "\(stderr)")
        #expect(!stderr.contains("Missing value"))
        #expect(stderr.split(separator: "\n").count == 1, "one line")
    }

    @Test func usageErrorsStartWithAnErrorLine() throws {
        let outcome = try CLITests.mixq("run", "x.elf", "--no-such-option")
        #expect(outcome.status == 64)
        #expect(outcome.stderr.hasPrefix("error: "))
    }

    @Test func unnamedSectionsAreNamedByIndex() throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try Self.elf("hello"))))
        func word(_ offset: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) } }
        let sectionTable = Int(word(32))
        let count = Int(bytes[48]) | Int(bytes[49]) << 8
        // The first allocated section (SHF_ALLOC, flags at +8) moves out of every region, and
        // e_shstrndx points at section 0, which is no string table: no section has a name.
        let moved = try #require((1..<count).first { word(sectionTable + $0 * 40 + 8) & 2 != 0 })
        for i in 0..<4 { bytes[sectionTable + moved * 40 + 12 + i] = UInt8(truncatingIfNeeded: 0x775f_0504 >> (8 * i)) }
        bytes[50] = 0; bytes[51] = 0
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-noname-\(UUID().uuidString).elf")
        try Data(bytes).write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }
        let outcome = try CLITests.mixq("size", path.path)
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("section #\(moved) (no name: the ELF's section-name table is missing or damaged) at 0x775f0504"),
                "\(outcome.stderr)")
        #expect(!outcome.stdout.contains("section  ") && !outcome.stderr.contains("section  "))
    }
}
