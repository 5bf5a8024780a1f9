import Emulator
import FirmwareBuild
import Foundation
import Profiling
import Timing
import XCTest

/// `RunProfile` and `ProfileReport` on firmware/tests/profile_calls.c, whose calls are known
/// from its source: the counts, contexts and totals asserted here come from that file.
final class ProfileTests: XCTestCase {
    static let firmware = "profile_calls"

    private func image() throws -> ELFImage {
        let built = try Toolchain.locate().build(.testProgram(Self.firmware))
        return try ELFImage(contentsOf: built.elf)
    }

    private func profiled(_ timing: TimingMode, dataAccesses: Bool = false) throws -> (RunResult, ProfileReport) {
        let image = try image()
        let result = try Machine(part: .stm32h743).run(
            image, options: RunOptions(timing: timing, profile: ProfileOptions(dataAccesses: dataAccesses)))
        XCTAssertEqual(result.exitStatus, 0, "profile_calls.c checks its own results")
        let profile = try XCTUnwrap(result.profile)
        return (result, ProfileReport(profile, image: image, part: .stm32h743, timing: timing))
    }

    private func function(_ name: String, in report: ProfileReport) throws -> ProfileReport.FunctionCost {
        try XCTUnwrap(report.functions.first { $0.name == name }, "\(name) not in the profile")
    }

    func testProfilingChangesNoCycleCount() throws {
        let image = try image()
        for timing in [TimingMode.off, .pipeline, .full] {
            let plain = try Machine(part: .stm32h743).run(image, options: RunOptions(timing: timing))
            let (profiled, _) = try profiled(timing)
            XCTAssertEqual(profiled.cycles, plain.cycles, "\(timing)")
            XCTAssertEqual(profiled.instructions, plain.instructions, "\(timing)")
            let (withMemory, _) = try self.profiled(timing, dataAccesses: true)
            XCTAssertEqual(withMemory.cycles, plain.cycles, "\(timing) with data accesses")
        }
    }

    func testCyclesAddUpExactly() throws {
        for timing in [TimingMode.off, .pipeline, .full] {
            let (result, report) = try profiled(timing)
            let profile = try XCTUnwrap(result.profile)
            XCTAssertEqual(report.functions.reduce(0) { $0 + $1.selfCycles }, result.cycles, "functions, \(timing)")
            XCTAssertEqual(profile.blocks.reduce(0) { $0 + $1.cycles }, result.cycles, "blocks, \(timing)")
            XCTAssertEqual(profile.nodes.reduce(0) { $0 + $1.cycles }, result.cycles, "contexts, \(timing)")
            XCTAssertEqual(report.stacks.reduce(0) { $0 + $1.cycles }, result.cycles, "folded stacks, \(timing)")
            XCTAssertEqual(report.lines.reduce(0) { $0 + $1.cycles }, result.cycles, "lines, \(timing)")
            XCTAssertEqual(report.functions.reduce(0) { $0 + $1.instructions }, result.instructions, "instructions, \(timing)")
            XCTAssertEqual(report.stacks.reduce(0) { $0 + $1.instructions }, result.instructions, "context instructions, \(timing)")
            XCTAssertEqual(report.regions.reduce(0) { $0 + $1.cycles }, result.cycles, "code regions, \(timing)")
            // The reset handler is entered once and everything runs under it.
            XCTAssertEqual(try function("Reset_Handler", in: report).inclusiveCycles, result.cycles, "\(timing)")
        }
        // Under `off` a cycle is an instruction.
        let (result, report) = try profiled(.off)
        XCTAssertEqual(result.cycles, result.instructions)
        for function in report.functions { XCTAssertEqual(function.selfCycles, function.instructions, function.name) }
    }

    func testCallCountsAndContextsMatchTheSource() throws {
        let (_, report) = try profiled(.pipeline)
        let calls = ["main": 1, "work": 3, "leaf": 12, "recurse": 6, "leaf_b": 2, "tail_caller": 3, "tail_target": 3]
        for (name, count) in calls {
            XCTAssertEqual(try function(name, in: report).calls, UInt64(count), name)
        }
        let paths = Set(report.stacks.map { $0.functions.joined(separator: ";") })
        let main = "Reset_Handler;main"
        for expected in ["\(main);work", "\(main);work;leaf", "\(main);leaf_b", "\(main);tail_caller", "\(main);tail_target",
                         "\(main)" + String(repeating: ";recurse", count: 6)] {
            XCTAssertTrue(paths.contains(expected), "no context \(expected) in \(paths.sorted())")
        }
        XCTAssertFalse(paths.contains { $0.contains("tail_caller;tail_target") }, "a tail call is not a call")
        XCTAssertFalse(paths.contains { $0.hasPrefix("\(main)" + String(repeating: ";recurse", count: 7)) })

        // leaf is called only from work: work's inclusive cycles are both functions' own.
        let work = try function("work", in: report), leaf = try function("leaf", in: report)
        XCTAssertEqual(work.inclusiveCycles, work.selfCycles + leaf.selfCycles)
        XCTAssertEqual(leaf.inclusiveCycles, leaf.selfCycles)
        // Recursion is counted once in inclusive cycles.
        let recurse = try function("recurse", in: report)
        XCTAssertEqual(recurse.inclusiveCycles, recurse.selfCycles)
        // leaf's 12 calls x 50 iterations dominate the functions main calls.
        for other in ["work", "recurse", "leaf_b", "tail_caller", "tail_target"] {
            XCTAssertGreaterThan(leaf.selfCycles, try function(other, in: report).selfCycles * 10, other)
        }
    }

    func testTraceSpansNestAndCountCalls() throws {
        let (result, report) = try profiled(.pipeline)
        XCTAssertEqual(report.traceEventsDropped, 0)
        XCTAssertEqual(report.spans.filter { $0.function == "leaf" }.count, 12)
        XCTAssertEqual(report.spans.filter { $0.function == "recurse" }.count, 6)
        let works = report.spans.filter { $0.function == "work" }
        XCTAssertEqual(works.count, 3)
        for leafSpan in report.spans where leafSpan.function == "leaf" {
            XCTAssertTrue(works.contains { $0.start <= leafSpan.start && leafSpan.start + leafSpan.cycles <= $0.start + $0.cycles
                && $0.depth + 1 == leafSpan.depth }, "leaf span at \(leafSpan.start) is not inside a work span")
        }
        let reset = try XCTUnwrap(report.spans.first { $0.function == "Reset_Handler" })
        XCTAssertEqual(reset.start, 0)
        XCTAssertEqual(reset.cycles, result.cycles)
        // The spans of leaf add up to its inclusive cycles.
        XCTAssertEqual(report.spans.filter { $0.function == "leaf" }.reduce(0) { $0 + $1.cycles },
                       try function("leaf", in: report).inclusiveCycles)
    }

    func testTraceLimitKeepsTotals() throws {
        let image = try image()
        let result = try Machine(part: .stm32h743).run(
            image, options: RunOptions(timing: .pipeline, profile: ProfileOptions(maxTraceEvents: 10)))
        let report = ProfileReport(try XCTUnwrap(result.profile), image: image, part: .stm32h743, timing: .pipeline)
        XCTAssertGreaterThan(report.traceEventsDropped, 0)
        XCTAssertEqual(report.functions.reduce(0) { $0 + $1.selfCycles }, result.cycles)
        XCTAssertEqual(try function("leaf", in: report).calls, 12)
    }

    func testHotLineIsTheMarkedLine() throws {
        let (_, report) = try profiled(.pipeline)
        XCTAssertTrue(report.hasLineInformation)
        let source = try String(contentsOf: FirmwareSources.root.appendingPathComponent("tests/profile_calls.c"), encoding: .utf8)
        let marked = try XCTUnwrap(source.split(separator: "\n", omittingEmptySubsequences: false)
            .firstIndex { $0.contains("/* HOT LINE */") }) + 1
        let leafLines = report.lines.filter { $0.function == "leaf" }
        // GCC places the loop's counter update and branch on the `for` line above the body.
        let loop = leafLines.filter { $0.location.line == marked || $0.location.line == marked - 1 }
        XCTAssertEqual(loop.count, 2, "\(leafLines)")
        for line in loop { XCTAssertTrue(line.location.file.hasSuffix("tests/profile_calls.c"), line.location.file) }
        XCTAssertEqual(Set(leafLines.prefix(2).map(\.location.line)), [marked - 1, marked])
        XCTAssertGreaterThan(loop.reduce(0) { $0 + $1.cycles } * 10, try function("leaf", in: report).selfCycles * 8)
    }

    func testDataAccessesPerRegion() throws {
        // The same accesses are seen whether the full model's hook or the profile's counts them.
        let (_, full) = try profiled(.full)
        let (_, pipeline) = try profiled(.pipeline, dataAccesses: true)
        XCTAssertTrue(full.dataAccessesCounted)
        let (_, plain) = try profiled(.pipeline)
        XCTAssertFalse(plain.dataAccessesCounted)
        func accesses(_ report: ProfileReport) -> [String: UInt64] {
            Dictionary(uniqueKeysWithValues: report.regions.map { ($0.region, ($0.reads ?? 0) + ($0.writes ?? 0)) })
        }
        XCTAssertEqual(accesses(full), accesses(pipeline))
        // The stack lives in DTCM, where every call saves registers.
        let dtcm = try XCTUnwrap(full.regions.first { $0.region == "DTCM" })
        XCTAssertGreaterThan(dtcm.writes ?? 0, 12 * 1)
        XCTAssertEqual(full.regions.first { $0.region == "DTCM" }?.dataStallCycles, 0, "TCM is zero-wait")
        // Code runs from FLASH (and ITCM for start-up helpers placed there).
        XCTAssertGreaterThan(full.regions.first { $0.region.hasPrefix("FLASH") }?.instructions ?? 0, 0)
    }

    func testAFailedRunKeepsItsProfileUpToTheStop() throws {
        // firmware/tests/never_ends.c spins in spin_forever until the budget runs out.
        let image = try ELFImage(contentsOf: try Toolchain.locate().build(.testProgram("never_ends")).elf)
        let machine = try Machine(part: .stm32h743)
        XCTAssertThrowsError(try machine.run(image, options: RunOptions(maxInstructions: 200_000, timing: .pipeline,
                                                                        profile: ProfileOptions())))
        let profile = try XCTUnwrap(machine.profileOfFailedRun)
        let report = ProfileReport(profile, image: image, part: .stm32h743, timing: .pipeline)
        XCTAssertGreaterThan(profile.instructions, 200_000)
        XCTAssertEqual(report.functions.reduce(0) { $0 + $1.instructions }, profile.instructions)
        XCTAssertEqual(report.functions.reduce(0) { $0 + $1.selfCycles }, profile.cycles)
        XCTAssertTrue(report.functions.first?.name.hasPrefix("spin_forever") ?? false, "\(report.functions.prefix(3))")
        // A data-access fault keeps the first run's profile, not the fault-locating re-run's.
        let fault = try ELFImage(contentsOf: try Toolchain.locate().build(.testProgram("fault_unmapped_read")).elf)
        XCTAssertThrowsError(try machine.run(fault, options: RunOptions(timing: .pipeline, profile: ProfileOptions())))
        let faulted = try XCTUnwrap(machine.profileOfFailedRun)
        XCTAssertTrue(faulted.functions.contains { $0.name == "main" })
        XCTAssertGreaterThan(faulted.cycles, 0)
        // A run that exits clears it.
        _ = try machine.run(try self.image(), options: RunOptions(profile: ProfileOptions()))
        XCTAssertNil(machine.profileOfFailedRun)
    }

    func testStrippedImageIsRefused() throws {
        let built = try Toolchain.locate().build(.testProgram(Self.firmware))
        let stripped = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-stripped-\(getpid()).elf")
        defer { try? FileManager.default.removeItem(at: stripped) }
        _ = try runTool("arm-none-eabi-objcopy", ["--strip-all", built.elf.path, stripped.path])
        let image = try ELFImage(contentsOf: stripped)
        XCTAssertThrowsError(try Machine(part: .stm32h743).run(image, options: RunOptions(profile: ProfileOptions()))) {
            XCTAssertEqual($0 as? EmulatorError, .noSymbolsToProfile)
            XCTAssertTrue(String(describing: $0).contains("no function symbols"))
        }
        // Without a profile the stripped image still runs.
        XCTAssertEqual(try Machine(part: .stm32h743).run(image).exitStatus, 0)
    }
}

/// Runs a tool from PATH and returns its standard output; fails the test on a non-zero exit.
func runTool(_ tool: String, _ arguments: [String]) throws -> String {
    let output = try runHostCommand(tool, arguments)
    guard output.status == 0 else {
        throw NSError(domain: "runTool", code: Int(output.status),
                      userInfo: [NSLocalizedDescriptionKey: "\(tool) \(arguments) exited \(output.status)"])
    }
    return output.standardOutput
}

/// profile.pb decoded by protoc (an independent protobuf implementation) into the same calling
/// contexts, values and names as the report.
final class PprofTests: XCTestCase {
    /// One message of `protoc --decode_raw` output: scalar fields as text, nested messages.
    final class RawMessage {
        var scalars: [Int: [String]] = [:]
        var messages: [Int: [RawMessage]] = [:]
    }

    static func decodeRaw(_ bytes: [UInt8]) throws -> RawMessage {
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-pprof-\(getpid()).pb")
        try Data(bytes).write(to: input)
        defer { try? FileManager.default.removeItem(at: input) }
        let text = try runTool("sh", ["-c", "protoc --decode_raw < '\(input.path)'"])
        var stack = [RawMessage()]
        for line in text.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if line == "}" { stack.removeLast(); continue }
            if line.hasSuffix(" {"), let number = Int(line.dropLast(2)) {
                let message = RawMessage()
                stack.last?.messages[number, default: []].append(message)
                stack.append(message)
                continue
            }
            guard let colon = line.firstIndex(of: ":"), let number = Int(line[..<colon]) else { continue }
            var value = line[line.index(colon, offsetBy: 2)...]
            if value.hasPrefix("\"") && value.hasSuffix("\"") { value = value.dropFirst().dropLast() }
            stack.last?.scalars[number, default: []].append(String(value))
        }
        return stack[0]
    }

    func testPprofHoldsTheSameStacks() throws {
        let built = try Toolchain.locate().build(.testProgram(ProfileTests.firmware))
        let image = try ELFImage(contentsOf: built.elf)
        let result = try Machine(part: .stm32h743).run(image, options: RunOptions(timing: .pipeline, profile: ProfileOptions()))
        let report = ProfileReport(try XCTUnwrap(result.profile), image: image, part: .stm32h743, timing: .pipeline)
        let profile = try Self.decodeRaw(report.pprof(conditions: "test conditions", clockMHz: 400))

        let strings = profile.scalars[6] ?? []
        XCTAssertEqual(strings.first, "", "string 0 is empty")
        func string(_ index: String?) -> String? { index.flatMap(Int.init).flatMap { $0 < strings.count ? strings[$0] : nil } }
        let sampleTypes = (profile.messages[1] ?? []).map { string($0.scalars[1]?.first) }
        XCTAssertEqual(sampleTypes, ["cycles", "instructions"])
        XCTAssertEqual(string(profile.scalars[14]?.first), "cycles", "default sample type")
        XCTAssertEqual(profile.scalars[10]?.first, String(result.cycles * 1000 / 400), "duration in ns at 400 MHz")
        XCTAssertTrue(string(profile.scalars[13]?.first)?.contains("test conditions") ?? false)

        var functionNames: [String: String] = [:]
        for function in profile.messages[5] ?? [] {
            functionNames[function.scalars[1]?.first ?? ""] = string(function.scalars[2]?.first)
        }
        var locationFunction: [String: String] = [:]
        for location in profile.messages[4] ?? [] {
            let line = try XCTUnwrap(location.messages[4]?.first)
            locationFunction[location.scalars[1]?.first ?? ""] = functionNames[line.scalars[1]?.first ?? ""]
        }
        var decoded: [String: [UInt64]] = [:]
        for sample in profile.messages[2] ?? [] {
            let names = (sample.scalars[1] ?? []).compactMap { locationFunction[$0] }
            decoded[names.reversed().joined(separator: ";")] = (sample.scalars[2] ?? []).compactMap { UInt64($0) }
        }
        let expected = Dictionary(uniqueKeysWithValues: report.stacks.map {
            ($0.functions.joined(separator: ";"), [$0.cycles, $0.instructions])
        })
        XCTAssertEqual(decoded, expected)
        XCTAssertEqual(decoded.values.reduce(0) { $0 + $1[0] }, result.cycles)
        XCTAssertEqual(decoded.values.reduce(0) { $0 + $1[1] }, result.instructions)
    }
}
