import ArgumentParser
import Emulator
import FirmwareBuild
import Foundation
import Timing

/// `mixq bench parts`: the same CoreMark-like integer workload (firmware/bench/integer_mix.c,
/// MixQ's own code, not CoreMark's) on every part, each built with the part's flags and linker
/// script and timed by its own cycle model: cycles per iteration and iterations per second at
/// the part's clock, under every timing mode the part supports. The checksum must agree across
/// parts (the same computation on every core).
struct BenchParts: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parts",
        abstract: "A CoreMark-like integer workload on every part and cycle model (JSON).",
        discussion: """
            Each part runs integer_mix.c at its default clock (STM32H743 400 MHz, STM32F746 \
            216 MHz, STM32F412 100 MHz), code in FLASH, caches enabled by the firmware where the \
            part has them. `work integer_mix` is the warm figure (second pass), as a board \
            benchmark reports it.
            """
    )

    @Option(help: "Parts, comma-separated (default: all).")
    var parts: String = Part.all.map { $0.name.lowercased() }.joined(separator: ",")

    @Flag(help: "Print JSON (the only format; accepted for symmetry with other commands).")
    var json = false

    func validate() throws {
        for name in selected { _ = try SharedOption.part(named: name) }
        guard !selected.isEmpty else { throw ValidationError("--parts is empty") }
    }

    private var selected: [String] {
        parts.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func run() throws {
        var rows: [PartBenchRow] = []
        for name in selected {
            let part = Part.named(name) ?? .stm32h743
            let toolchain: Toolchain
            let image: ELFImage
            do {
                toolchain = try Toolchain.locate(flagsFile: part.flagsFile)
                let built = try toolchain.build(FirmwareSpec(name: "integer_mix", sources: ["bench/integer_mix.c"],
                                                             linkerScript: part.linkerScript))
                image = try ELFImage(contentsOf: built.elf)
            } catch {
                throw CommandFailure(error)
            }
            for timing in TimingMode.allCases {
                let result: RunResult
                do {
                    result = try Machine(part: part).run(image, options: RunOptions(clockMHz: part.defaultClockMHz, timing: timing))
                } catch {
                    throw CommandFailure(error)
                }
                let values = Self.values(in: result.stdout)
                guard result.exitStatus == 0, let warm = values["integer_mix"], let checksum = values["checksum"] else {
                    throw CommandFailure(message: "integer_mix.c failed on \(part.name) (status \(result.exitStatus)): \(result.stdout)")
                }
                let cycles = Double(warm) / 1000
                rows.append(PartBenchRow(part: part.name, core: part.core.displayName, clockMHz: part.defaultClockMHz,
                                         flashWaitStates: part.flashWaitStates[part.defaultClockMHz] ?? 0,
                                         timingModel: timing.summary(core: part.core), cyclesPerIteration: cycles,
                                         iterationsPerSecond: (Double(part.defaultClockMHz) * 1e6 / cycles).rounded(),
                                         checksum: checksum, compiler: toolchain.compilerVersion,
                                         flags: toolchain.compileFlags.joined(separator: " ")))
            }
        }
        guard Set(rows.map(\.checksum)).count <= 1 else {
            throw CommandFailure(message: "integer_mix.c computed different checksums on different parts: "
                                 + rows.map { "\($0.part) \($0.checksum)" }.joined(separator: ", "))
        }
        try JSONOutput.print(PartBenchReport(results: rows))
    }

    /// `work <name> <value>` and `checksum <value>` lines.
    static func values(in stdout: String) -> [String: UInt64] {
        var values: [String: UInt64] = [:]
        for line in stdout.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 3, fields[0] == "work", let value = UInt64(fields[2]) { values[String(fields[1])] = value }
            if fields.count == 2, fields[0] == "checksum", let value = UInt64(fields[1]) { values["checksum"] = value }
        }
        return values
    }
}

struct PartBenchRow: Encodable {
    var part: String
    var core: String
    var clockMHz: Int
    var flashWaitStates: Int
    var timingModel: String
    var cyclesPerIteration: Double
    var iterationsPerSecond: Double
    var checksum: UInt64
    var compiler: String
    var flags: String

    enum CodingKeys: String, CodingKey {
        case part, core, clockMHz = "clock_mhz", flashWaitStates = "flash_wait_states", timingModel = "timing_model"
        case cyclesPerIteration = "cycles_per_iteration", iterationsPerSecond = "iterations_per_second", checksum
        case compiler, flags
    }
}

struct PartBenchReport: Encodable {
    var benchmark = "parts"
    var workload = "firmware/bench/integer_mix.c (CoreMark-like, MixQ's own code; not a CoreMark score)"
    var results: [PartBenchRow]
}
