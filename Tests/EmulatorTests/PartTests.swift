import Emulator
import FirmwareBuild
import Foundation
import Testing

/// The parts as data (`Part.all`): each linker script's MEMORY block against its `Part`, and the
/// same self-checking firmware running on every part with the part's own flags and script.
@Suite struct PartTests {
    /// `NAME (attributes) : ORIGIN = 0x..., LENGTH = nK` lines of a MEMORY block.
    static func memoryBlock(of script: String) throws -> [(name: String, base: UInt32, size: UInt32)] {
        let text = try String(contentsOf: FirmwareSources.root.appendingPathComponent(script), encoding: .utf8)
        guard let start = text.range(of: "MEMORY\n{"), let end = text[start.upperBound...].range(of: "}") else {
            throw PartTestError(message: "\(script) has no MEMORY block")
        }
        var regions: [(String, UInt32, UInt32)] = []
        for line in text[start.upperBound..<end.lowerBound].split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "=" }).map(String.init)
            guard let name = words.first, let origin = words.firstIndex(of: "ORIGIN"), let length = words.firstIndex(of: "LENGTH"),
                  origin + 1 < words.count, length + 1 < words.count,
                  let base = UInt32(words[origin + 1].dropFirst(2), radix: 16),
                  let kibibytes = UInt32(words[length + 1].dropLast()), words[length + 1].hasSuffix("K") else { continue }
            regions.append((name, base, kibibytes << 10))
        }
        return regions
    }

    @Test(arguments: Part.all)
    func linkerScriptMatchesThePart(part: Part) throws {
        let memory = try Self.memoryBlock(of: part.linkerScript)
        #expect(memory.count >= 2)
        for region in memory {
            let match = part.regions.first { $0.base == region.base }
            #expect(match?.size == region.size, "\(part.linkerScript): \(region.name) at 0x\(String(region.base, radix: 16))")
        }
        #expect(memory.contains { $0.base == part.bootAddress }, "FLASH, where \(part.name) boots, is in the script")
    }

    /// SCB->CPUID names the part's core: what CMSIS start-up code and system_control.c read.
    @Test func cpuidFollowsTheCore() throws {
        #expect(Part.stm32h743.cpuid & 0xFFF0 == 0xC270)
        #expect(Part.stm32f746.cpuid & 0xFFF0 == 0xC270)
        #expect(Part.stm32f412.cpuid & 0xFFF0 == 0xC240)
        for part in Part.all {
            let result = try Machine(part: part).run(Self.build("system_control", for: part),
                                                     options: RunOptions(clockMHz: part.defaultClockMHz))
            let expected = part.core == .cortexM4 ? "ok cpuid_cortex_m4" : "ok cpuid_cortex_m7"
            #expect(result.stdout.contains(expected), "\(part.name): \(result.stdout)")
            #expect(result.exitStatus == 0, "\(part.name): every system-control check passes")
        }
    }

    @Test func partsCarryTheirDatasheetFacts() {
        // Worked from the reference manuals (docs/design.md#other-parts).
        #expect(Part.stm32f746.flashWaitStates[216] == 7)
        #expect(Part.stm32f412.flashWaitStates[100] == 3)
        #expect(Part.stm32f412.core == .cortexM4)
        #expect(Part.stm32f746.region(named: "SRAM1")?.base == 0x2001_0000)
        #expect(Part.stm32f412.region(named: "SRAM")?.size == 256 << 10)
        #expect(Part.named("StM32F746") == .stm32f746)
        #expect(Part.named("stm32f999") == nil)
    }

    static func build(_ program: String, for part: Part, folder: String = "tests") throws -> ELFImage {
        let toolchain = try Toolchain.locate(flagsFile: part.flagsFile)
        let spec = FirmwareSpec(name: program, sources: ["\(folder)/\(program).c"], linkerScript: part.linkerScript)
        return try ELFImage(contentsOf: toolchain.build(spec).elf)
    }

    /// hello.c exercises start-up (FPU, copies, .bss, the large-buffer section, ITCM code where
    /// there is ITCM), printf with floats and both output streams: the same bytes on every part.
    @Test(arguments: Part.all)
    func helloRunsAlikeOnEveryPart(part: Part) throws {
        let reference = try Machine(part: .stm32h743).run(try Self.build("hello", for: .stm32h743))
        let result = try Machine(part: part).run(try Self.build("hello", for: part),
                                                 options: RunOptions(clockMHz: part.defaultClockMHz))
        #expect(result.exitStatus == 0)
        #expect(result.stdout == reference.stdout)
        #expect(result.stderr == reference.stderr)
        #expect(result.conditions.contains("core clock \(part.defaultClockMHz) MHz, FLASH \(part.flashWaitStates[part.defaultClockMHz] ?? -1) wait states"))
    }

    @Test func aFaultNamesTheInstructionOnTheCortexM4() throws {
        let image = try Self.build("fault_unmapped_read", for: .stm32f412)
        #expect(throws: EmulatorError.self) { try Machine(part: .stm32f412).run(image) }
        do {
            _ = try Machine(part: .stm32f412).run(image)
        } catch let EmulatorError.fault(fault) {
            #expect(fault.kind == .unmappedRead)
            #expect(fault.function?.hasPrefix("read_") ?? false, "\(fault)")
        }
    }

    /// Code placed in ITCM runs on the parts that have ITCM and fails to link on the STM32F412
    /// with the linker script's one-line reason.
    @Test func itcmCodeOnAPartWithoutITCMIsALinkError() throws {
        for part in [Part.stm32h743, .stm32f746] {
            #expect(try Machine(part: part).run(Self.build("itcm_code", for: part),
                                                options: RunOptions(clockMHz: part.defaultClockMHz)).exitStatus == 0)
        }
        #expect(throws: ToolchainError.self) { _ = try Self.build("itcm_code", for: .stm32f412) }
        do {
            _ = try Self.build("itcm_code", for: .stm32f412)
        } catch let error as ToolchainError {
            let message = String(describing: error)
            #expect(message.contains("the STM32F412 has no ITCM"), "\(message)")
        }
    }

    @Test func theCortexM4ModelTimesTheF412() throws {
        let image = try Self.build("hello", for: .stm32f412)
        // The Cortex-M4 model counts more cycles than instructions on the same run (loads take
        // 2, taken branches refill) and its conditions say which core it timed.
        let timed = try Machine(part: .stm32f412).run(image, options: RunOptions(clockMHz: 100, timing: .pipeline))
        #expect(timed.cycles > timed.instructions)
        #expect(timed.conditions.contains("Cortex-M4 single-issue"))
        let full = try Machine(part: .stm32f412).run(image, options: RunOptions(clockMHz: 100, timing: .full))
        #expect(full.cycles > timed.cycles, "FLASH reads the ART misses add wait states")
        #expect(full.conditions.contains("ART accelerator"))
    }
}

struct PartTestError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// The STM32F746 under `--timing full`: the Cortex-M7 model with the part's memory system
/// (4 KiB caches, buses and FLASH at the core clock, 7 wait states at 216 MHz; Part.stm32f746's
/// `caches` and `memoryTiming`, each value citing RM0385). firmware/bench/memory_rules.c, built for the part,
/// measures the first-word latency of a D-cache miss; the expected figures are derived from the
/// parameters (request + one beat from SRAM; request + (wait states + 1) FLASH cycles), as the
/// STM32H743's are in Tests/TimingTests/MemoryBenchmarkTests.swift.
@Suite struct STM32F746MemoryTests {
    @Test func cacheMissesFollowThePartsBusAndFlash() throws {
        let part = Part.stm32f746
        let image = try PartTests.build("memory_rules", for: part, folder: "bench")
        let result = try Machine(part: part).run(image, options: RunOptions(clockMHz: 216, timing: .full))
        #expect(result.exitStatus == 0)
        var values: [String: Double] = [:]
        for line in result.stdout.split(separator: "\n") where line.hasPrefix("mem ") {
            let fields = line.split(separator: " ")
            if fields.count == 3, let value = Double(fields[2]) { values[String(fields[1])] = value / 1000 }
        }
        let p = part.timingParameters
        #expect(p[.dataCacheBytes] == 4096 && p[.instructionCacheBytes] == 4096)
        let request = Double(p[.axiRequestCycles])
        let sram = request + Double(p[.lineFillBeatCycles])
        let flash = request + Double((7 + 1) * p[.flashWaitStateCycles])
        let measuredSRAM = try #require(values["axi_load_miss"])
        let measuredFlash = try #require(values["flash_load_miss"])
        #expect(abs(measuredSRAM - sram) <= 0.1 * sram, "SRAM miss \(measuredSRAM), expected \(sram)")
        #expect(abs(measuredFlash - flash) <= 0.1 * flash, "FLASH miss \(measuredFlash), expected \(flash)")
        #expect(result.conditions.contains("STM32F746") && result.conditions.contains("FLASH 7 wait states"))
    }
}

/// The self-checking programs of firmware/tests on every part: built with each part's flags and
/// linker script, each ends as it does on the STM32H743 (same exit status and output, or the
/// same kind of fault at the function of the same name).
@Suite struct FirmwareOnEveryPartTests {
    /// Not here: dsp_selftest.c (double-precision FPv5 instructions in assembly: the F746 and
    /// F412 FPUs are single precision), system_control.c (its CPUID line names the core:
    /// PartTests.cpuidFollowsTheCore runs it on every part), itcm_code.c (PartTests: refused on the F412), kernel_*.c (KernelTests drive
    /// them with inputs; PartDeploymentTests runs the kernels on every part).
    static let programs = ["hello", "exit_status", "usage_no_fault", "profile_calls", "gdb_target",
                           "fault_unmapped_read", "fault_unmapped_write", "fault_undefined", "fault_invstate",
                           "fault_stack_overflow", "fault_flash_write"]

    enum Ending: Equatable {
        case exited(status: Int32, stdout: String)
        case fault(kind: String, function: String?)
        case other(String)
    }

    static func ending(_ program: String, on part: Part) throws -> Ending {
        let image = try PartTests.build(program, for: part)
        do {
            let result = try Machine(part: part).run(image, options: RunOptions(maxInstructions: 50_000_000, clockMHz: part.defaultClockMHz))
            return .exited(status: result.exitStatus, stdout: result.stdout)
        } catch let EmulatorError.fault(fault) {
            // Function names only: addresses differ between parts' builds.
            return .fault(kind: "\(fault.kind)", function: fault.function?.split(separator: "+").first.map(String.init))
        } catch {
            return .other("\(error)")
        }
    }

    @Test(arguments: programs)
    func programEndsAlikeOnEveryPart(program: String) throws {
        let reference = try Self.ending(program, on: .stm32h743)
        if case .other(let message) = reference { Issue.record("\(program) on STM32H743: \(message)") }
        for part in [Part.stm32f746, .stm32f412] {
            #expect(try Self.ending(program, on: part) == reference, "\(program) on \(part.name)")
        }
    }
}

/// The STM32F412 under `--timing full`: the Cortex-M4 model with the ART accelerator
/// (CortexM4Timing's ART parameters, RM0402 section 3.4). firmware/bench/art_rules.c measures
/// what a FLASH read the ART's data cache misses adds: the wait states at the clock (3 at
/// 100 MHz, 2 at 84 MHz; RM0402 table 6, one CPU cycle each).
@Suite struct STM32F412ARTTests {
    @Test(arguments: [100, 84])
    func aDataCacheMissCostsTheWaitStates(clockMHz: Int) throws {
        let part = Part.stm32f412
        let image = try PartTests.build("art_rules", for: part, folder: "bench")
        let result = try Machine(part: part).run(image, options: RunOptions(clockMHz: clockMHz, timing: .full))
        #expect(result.exitStatus == 0)
        let line = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("art data_miss_extra ") })
        let measured = try #require(Double(line.split(separator: " ")[2])) / 1000
        let waitStates = Double(try #require(part.flashWaitStates[clockMHz]))
        #expect(abs(measured - waitStates) <= 0.1 * waitStates, "measured \(measured), expected \(waitStates)")
        // The same firmware under pipeline (memory as zero-wait) counts no miss at all.
        let pipeline = try Machine(part: part).run(image, options: RunOptions(clockMHz: clockMHz, timing: .pipeline))
        #expect(pipeline.stdout.contains("art data_miss_extra 0"))
        #expect(result.cycles > pipeline.cycles)
        #expect((result.cycleStatistics?.instructionCacheMisses ?? 0) > 0, "code in FLASH fills the ART's instruction cache")
    }
}
