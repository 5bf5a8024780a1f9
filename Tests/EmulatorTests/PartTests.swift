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

    @Test func partsCarryTheirDatasheetFacts() {
        // Worked from the reference manuals (docs/design.md#other-parts).
        #expect(Part.stm32f746.flashWaitStates[216] == 7)
        #expect(Part.stm32f412.flashWaitStates[100] == 3)
        #expect(Part.stm32f412.core == .cortexM4)
        #expect(Part.stm32f746.region(named: "SRAM1")?.base == 0x2001_0000)
        #expect(Part.stm32f412.region(named: "SRAM")?.size == 256 << 10)
        #expect(Part.named("StM32F746") == .stm32f746)
        #expect(Part.named("stm32f999") == nil)
        #expect(Part.stm32f412.unsupportedTiming(.pipeline) != nil)
        #expect(Part.stm32f412.unsupportedTiming(.off) == nil)
        #expect(Part.stm32f746.unsupportedTiming(.pipeline) == nil)
        #expect(Part.stm32f746.unsupportedTiming(.full) != nil)
        #expect(Part.stm32h743.unsupportedTiming(.full) == nil)
    }

    static func build(_ program: String, for part: Part) throws -> ELFImage {
        let toolchain = try Toolchain.locate(flagsFile: part.flagsFile)
        let spec = FirmwareSpec(name: program, sources: ["tests/\(program).c"], linkerScript: part.linkerScript)
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

    @Test func aCycleModelThePartLacksIsRefused() throws {
        let image = try Self.build("hello", for: .stm32f412)
        #expect(throws: EmulatorError.timingUnavailable(part: "STM32F412", timing: "pipeline",
                                                        reason: Part.stm32f412.unsupportedTiming(.pipeline) ?? "")) {
            try Machine(part: .stm32f412).run(image, options: RunOptions(clockMHz: 100, timing: .pipeline))
        }
    }
}

struct PartTestError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
