import ArgumentParser
import Emulator
import FirmwareBuild
import Foundation

/// `mixq bench emulator`: emulated instructions per second on a compute-heavy firmware (int8
/// SMLAD dot products, firmware/bench/dot_product.c) with no timing model, the baseline later
/// timing work is compared against.
struct BenchEmulator: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emulator",
        abstract: "Emulated instructions per second, no timing model (JSON)."
    )

    @Option(help: "Dot-product rounds; each is about 6 k instructions.")
    var rounds: Int = 20000

    @Option(help: "Runs to make; the JSON reports each and the best.")
    var repeats: Int = 3

    @Option(help: ArgumentHelp(SharedOption.partHelp + " The firmware is built for it and runs on its core.", valueName: "part"))
    var part: String = "stm32h743"

    @Flag(help: "Print JSON (the only format; accepted for symmetry with other commands).")
    var json = false

    func validate() throws {
        guard rounds > 0 else { throw ValidationError("--rounds must be positive") }
        guard (1...20).contains(repeats) else { throw ValidationError("--repeats must be 1...20") }
        _ = try SharedOption.part(named: part)
    }

    func run() throws {
        let emulated = Part.named(part) ?? .stm32h743
        let toolchain = try Toolchain.locate(flagsFile: emulated.flagsFile)
        var spec = FirmwareSpec.benchmark("dot_product", defines: ["ROUNDS=\(rounds)"])
        spec.linkerScript = emulated.linkerScript
        let built = try toolchain.build(spec)
        let image = try ELFImage(contentsOf: built.elf)
        let machine = try Machine(part: emulated)
        var runs: [EmulatorRun] = []
        var output = ""
        for _ in 0..<repeats {
            let result = try machine.run(image, options: RunOptions(maxInstructions: 1 << 40, clockMHz: emulated.defaultClockMHz))
            guard result.exitStatus == 0 else {
                throw CommandFailure(message: "benchmark firmware exited with status \(result.exitStatus)")
            }
            output = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            runs.append(EmulatorRun(instructions: result.instructions, wallSeconds: result.wallSeconds,
                                    emulatedMIPS: result.emulatedMIPS))
        }
        let expected = String(format: "dot-product: rounds %d checksum 0x%08x", rounds, dotProductChecksum(rounds: rounds))
        guard output == expected else {
            throw CommandFailure(message: "benchmark firmware printed '\(output)', the host computes '\(expected)'")
        }
        let best = runs.map(\.emulatedMIPS).max() ?? 0
        let report = EmulatorBenchReport(
            benchmark: "emulator", firmware: "firmware/bench/dot_product.c", firmwareOutput: output,
            instructions: runs.first?.instructions ?? 0, runs: runs, bestMIPS: best,
            conditions: BenchConditions(part: machine.part.name, timingModel: "off (instructions only, no cycle model)",
                                        compiler: FirmwareCompiler(builtBy: toolchain).compiler,
                                        flags: FirmwareCompiler(builtBy: toolchain).flags,
                                        hostCores: ProcessInfo.processInfo.activeProcessorCount))
        try JSONOutput.print(report)
    }
}

/// The checksum firmware/bench/dot_product.c prints, computed on the host. Each round changes
/// one element of `a`, so the dot product is updated by that element's change times `b[i]`.
func dotProductChecksum(rounds: Int) -> UInt32 {
    let length = 2048
    var seed: UInt32 = 12345
    var a = [Int8](repeating: 0, count: length), b = a
    for i in 0..<length {
        seed = seed &* 1_664_525 &+ 1_013_904_223
        a[i] = Int8(truncatingIfNeeded: seed >> 24)
        seed = seed &* 1_664_525 &+ 1_013_904_223
        b[i] = Int8(truncatingIfNeeded: seed >> 24)
    }
    var dot: Int32 = zip(a, b).reduce(0) { $0 + Int32($1.0) * Int32($1.1) }
    var checksum: UInt32 = 0
    for round in 0..<rounds {
        let i = round % length
        let updated = a[i] &+ 1
        dot += (Int32(updated) - Int32(a[i])) * Int32(b[i])
        a[i] = updated
        checksum = checksum &* 31 &+ UInt32(bitPattern: dot)
    }
    return checksum
}

struct EmulatorRun: Encodable {
    var instructions: UInt64
    var wallSeconds: Double
    var emulatedMIPS: Double

    enum CodingKeys: String, CodingKey {
        case instructions, wallSeconds = "wall_seconds", emulatedMIPS = "emulated_mips"
    }
}

struct BenchConditions: Encodable {
    var part: String
    var timingModel: String
    var compiler: String
    var flags: String
    var hostCores: Int

    enum CodingKeys: String, CodingKey {
        case part, timingModel = "timing_model", compiler, flags, hostCores = "host_cores"
    }
}

struct EmulatorBenchReport: Encodable {
    var benchmark: String
    var firmware: String
    var firmwareOutput: String
    var instructions: UInt64
    var runs: [EmulatorRun]
    var bestMIPS: Double
    var conditions: BenchConditions

    enum CodingKeys: String, CodingKey {
        case benchmark, firmware, firmwareOutput = "firmware_output", instructions, runs
        case bestMIPS = "best_mips", conditions
    }
}
