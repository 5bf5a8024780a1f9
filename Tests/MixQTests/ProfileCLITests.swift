import FirmwareBuild
import Foundation
import Testing

/// `mixq run --profile FOLDER`: the files it writes, their agreement with the run's summary,
/// and its errors.
@Suite struct ProfileCLITests {
    private static func folder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("mixq-profile-\(UUID().uuidString)", isDirectory: true)
    }

    /// The cycle count of the summary line ("..., N cycles = ...").
    private static func summaryCycles(_ stderr: String) -> UInt64? {
        guard let range = stderr.range(of: #"instructions, (\d+) cycles"#, options: .regularExpression) else { return nil }
        return UInt64(stderr[range].split(separator: " ")[1])
    }

    @Test(arguments: ["off", "pipeline", "full"])
    func profileFilesAddUpToTheRun(timing: String) throws {
        let out = Self.folder()
        defer { try? FileManager.default.removeItem(at: out) }
        let elf = try CLITests.elf("profile_calls")
        let plain = try CLITests.mixq("run", elf, "--timing", timing)
        let run = try CLITests.mixq("run", elf, "--timing", timing, "--profile", out.path, "--profile-top", "5")
        #expect(run.status == 0, "\(run.stderr)")
        let cycles = try #require(Self.summaryCycles(run.stderr))
        #expect(Self.summaryCycles(plain.stderr) == cycles, "profiling changes no cycle count")
        #expect(run.stderr.contains("profile written to"))

        let table = try String(contentsOf: out.appendingPathComponent("profile.txt"), encoding: .utf8)
        #expect(table.contains("conditions: core clock 400 MHz, FLASH 2 wait states"))
        #expect(table.contains("timing model"))
        #expect(table.contains("total: \(cycles) cycles"))
        #expect(table.contains("Functions by self cycles (top 5 of"))
        #expect(table.contains("profile_calls.c:"), "source lines with -g")
        #expect(table.contains(timing == "full" ? "I-miss" : "calls"))

        // Folded stacks: every line is "a;b;c N" (flamegraph.pl warns about any other line,
        // a comment included); the cycles add up to the run.
        let folded = try String(contentsOf: out.appendingPathComponent("profile.folded"), encoding: .utf8)
        var total: UInt64 = 0
        for line in folded.split(separator: "\n") {
            let parts = line.split(separator: " ")
            #expect(parts.count == 2 && UInt64(parts[1]) != nil && !line.hasPrefix("#"), "\(line)")
            total += UInt64(parts.last ?? "") ?? 0
        }
        #expect(total == cycles)
        #expect(folded.contains("Reset_Handler;main;work;leaf "))

        // The trace is JSON with complete events on the cycle axis.
        let trace = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("trace.json")))
            as? [String: Any])
        let events = try #require(trace["traceEvents"] as? [[String: Any]])
        #expect(events.filter { $0["name"] as? String == "leaf" && $0["ph"] as? String == "X" }.count == 12)
        let reset = try #require(events.first { $0["name"] as? String == "Reset_Handler" })
        #expect((reset["dur"] as? NSNumber)?.uint64Value == cycles)

        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("profile.json")))
            as? [String: Any])
        #expect((json["cycles"] as? NSNumber)?.uint64Value == cycles)
        let pprof = try Data(contentsOf: out.appendingPathComponent("profile.pb"))
        #expect(pprof.count > 100, "profile.pb is written (its contents are checked in PprofTests)")
        let functions = try #require(json["functions"] as? [[String: Any]])
        #expect(functions.reduce(UInt64(0)) { $0 + (($1["self_cycles"] as? NSNumber)?.uint64Value ?? 0) } == cycles)
    }

    @Test func aRunThatNeverEndsIsProfiledUpToTheStop() throws {
        let out = Self.folder()
        defer { try? FileManager.default.removeItem(at: out) }
        let run = try CLITests.mixq("run", CLITests.elf("never_ends"), "--max-instructions", "100000", "--profile", out.path)
        #expect(run.status != 0)
        #expect(run.stderr.contains("profile up to the stop written to"))
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.last?.hasPrefix("error: firmware did not finish within 100000 instructions") ?? false, "\(run.stderr)")
        let table = try String(contentsOf: out.appendingPathComponent("profile.txt"), encoding: .utf8)
        #expect(table.contains("profiled up to the stop: firmware did not finish within 100000 instructions"))
        #expect(table.contains("spin_forever"))
    }

    @Test func profileErrorsAreOneLine() throws {
        let elf = try CLITests.elf("profile_calls")
        // A file where the folder should be, and the ELF itself, are refused before the run.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-profile-file-\(UUID().uuidString)")
        try Data("keep me".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let onFile = try CLITests.mixq("run", elf, "--profile", file.path)
        #expect(onFile.status != 0)
        #expect(onFile.stderr.hasPrefix("error: ") && onFile.stderr.contains("--profile"))
        #expect(try String(contentsOf: file, encoding: .utf8) == "keep me")

        // A stripped ELF has nothing to name functions by.
        let stripped = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-stripped-\(UUID().uuidString).elf")
        defer { try? FileManager.default.removeItem(at: stripped) }
        let strip = Process()
        strip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        strip.arguments = ["arm-none-eabi-objcopy", "--strip-all", elf, stripped.path]
        try strip.run()
        strip.waitUntilExit()
        let out = Self.folder()
        defer { try? FileManager.default.removeItem(at: out) }
        let noSymbols = try CLITests.mixq("run", stripped.path, "--profile", out.path)
        #expect(noSymbols.status != 0)
        #expect(noSymbols.stderr.hasPrefix("error: ") && noSymbols.stderr.contains("no function symbols"))
        #expect(noSymbols.stderr.split(separator: "\n").count == 1)

        let orphan = try CLITests.mixq("run", elf, "--profile-memory")
        #expect(orphan.status != 0)
        #expect(orphan.stderr.hasPrefix("error: ") && orphan.stderr.contains("--profile"))
    }
}
