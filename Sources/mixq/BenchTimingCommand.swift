import ArgumentParser
import Emulator
import FirmwareBuild
import Foundation
import Timing

/// `mixq bench timing`: what the cycle model costs in emulation speed. Runs one compute-heavy
/// firmware (int8 SMLAD dot products, firmware/bench/dot_product.c) with no hooks at all, then
/// with `--timing off`, `pipeline` and `full`, in one process, and reports millions of emulated
/// instructions per second for each plus the ratios to no-hooks (targets: pipeline >= 0.5,
/// full >= 0.2; see docs/design.md#goals-and-how-they-are-measured).
struct BenchTiming: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timing",
        abstract: "Emulation speed with each cycle model versus Unicorn with no hooks (JSON).",
        discussion: """
            Every mode runs the same ELF; the instruction count of the `off` run is used for \
            the no-hooks run, which cannot count. Each mode is run --repeats times, interleaved, \
            and the fastest run (thread CPU time) is reported: the host is shared, and the least \
            disturbed run is the closest to the emulator's own speed.
            """
    )

    @Option(help: "Dot-product rounds; each is about 6 k instructions.")
    var rounds: Int = 20000

    @Option(help: "Runs per mode; the fastest is reported.")
    var repeats: Int = 3

    @Option(help: "Time this firmware ELF instead of firmware/bench/dot_product.c (it must exit with status 0); the compiler reported is the one its DWARF debug information names, or unknown.")
    var elf: String?

    @Option(name: .customLong("clock-mhz"), help: "\(SharedOption.clockHelp) Other parts: their maximum by default. Sets the FLASH wait states of the full model.")
    var clockMHz: Int?

    @Option(help: ArgumentHelp(SharedOption.partHelp + " The default firmware is built for it.",
                               valueName: "part"))
    var part: String = "stm32h743"

    private var emulatedPart: Part { Part.named(part) ?? .stm32h743 }
    private var clock: Int { clockMHz ?? emulatedPart.defaultClockMHz }

    @Flag(help: "Print JSON (the only format; accepted for symmetry with other commands).")
    var json = false

    func validate() throws {
        guard rounds > 0 else { throw ValidationError("--rounds must be positive") }
        guard (1...20).contains(repeats) else { throw ValidationError("--repeats must be 1...20") }
        let part = try SharedOption.part(named: self.part)
        try SharedOption.validateClock(clock, on: part)
    }

    private enum Mode: String, CaseIterable { case noHooks = "no_hooks", off, pipeline, full, pipelineProfile = "pipeline_profile" }

    func run() throws {
        let image: ELFImage
        let compiler: FirmwareCompiler
        do {
            if let elf {
                // A user's ELF needs no toolchain, and its build conditions are its own.
                image = try ELFImage(contentsOf: URL(fileURLWithPath: elf))
                compiler = FirmwareCompiler(recordedIn: image)
            } else {
                let toolchain = try Toolchain.locate(flagsFile: emulatedPart.flagsFile)
                var spec = FirmwareSpec.benchmark("dot_product", defines: ["ROUNDS=\(rounds)"])
                spec.linkerScript = emulatedPart.linkerScript
                let built = try toolchain.build(spec)
                image = try ELFImage(contentsOf: built.elf)
                compiler = FirmwareCompiler(builtBy: toolchain)
            }
        } catch {
            throw CommandFailure(error)
        }
        var best: [Mode: Double] = [:]
        var results: [Mode: RunResult] = [:]
        for _ in 0..<repeats {
            for mode in Mode.allCases {
                let clockMHz = clock
                let options: RunOptions
                switch mode {
                case .noHooks: options = RunOptions(maxInstructions: 1 << 40, clockMHz: clockMHz, countsInstructions: false)
                case .off: options = RunOptions(maxInstructions: 1 << 40, clockMHz: clockMHz, timing: .off)
                case .pipeline: options = RunOptions(maxInstructions: 1 << 40, clockMHz: clockMHz, timing: .pipeline)
                case .full: options = RunOptions(maxInstructions: 1 << 40, clockMHz: clockMHz, timing: .full)
                case .pipelineProfile:
                    options = RunOptions(maxInstructions: 1 << 40, clockMHz: clockMHz, timing: .pipeline, profile: ProfileOptions())
                }
                let result: RunResult
                let cpuSeconds: Double
                do {
                    let machine = try Machine(part: emulatedPart)
                    let before = Self.threadCPUSeconds()
                    result = try machine.run(image, options: options)
                    cpuSeconds = Self.threadCPUSeconds() - before
                } catch {
                    throw CommandFailure(error)
                }
                guard result.exitStatus == 0 else {
                    throw CommandFailure(message: "benchmark firmware exited with status \(result.exitStatus) in mode \(mode.rawValue)")
                }
                // Thread CPU time, not wall time: the host is shared, and time spent descheduled
                // is not the emulator's. It includes loading the image (the same in every mode).
                best[mode] = min(best[mode] ?? .infinity, cpuSeconds)
                if results[mode] == nil { results[mode] = result }
            }
        }
        guard let counted = results[.off]?.instructions, counted > 0 else {
            throw CommandFailure(message: "the off run counted no instructions")
        }
        func mips(_ mode: Mode) -> Double {
            guard let seconds = best[mode], seconds > 0 else { return 0 }
            return (Double(counted) / seconds / 1e6 * 10).rounded() / 10
        }
        let noHooks = mips(.noHooks)
        let report = TimingBenchReport(
            firmware: elf ?? "firmware/bench/dot_product.c", rounds: elf == nil ? rounds : nil, instructions: counted,
            mipsNoHooks: noHooks, mipsOff: mips(.off), mipsPipeline: mips(.pipeline), mipsFull: mips(.full),
            pipelineRatio: noHooks > 0 ? (mips(.pipeline) / noHooks * 1000).rounded() / 1000 : 0,
            fullRatio: noHooks > 0 ? (mips(.full) / noHooks * 1000).rounded() / 1000 : 0,
            cyclesPipeline: results[.pipeline]?.cycles ?? 0, cyclesFull: results[.full]?.cycles ?? 0,
            mipsPipelineProfile: mips(.pipelineProfile),
            profileOverhead: mips(.pipelineProfile) > 0 ? (mips(.pipeline) / mips(.pipelineProfile) * 100).rounded() / 100 : 0,
            cyclesPipelineProfile: results[.pipelineProfile]?.cycles ?? 0,
            conditions: TimingBenchConditions(
                part: emulatedPart.name, clockMHz: clock,
                flashWaitStates: emulatedPart.flashWaitStates[clock] ?? 0,
                placement: elf == nil ? "code in FLASH, data in DTCM, caches off (the firmware does not enable them)"
                    : "as the firmware places it",
                repeats: repeats, measure: "thread CPU time of Machine.run, fastest of the repeats, one process, modes interleaved",
                compiler: compiler.compiler, flags: compiler.flags,
                hostCores: ProcessInfo.processInfo.activeProcessorCount,
                build: Self.buildConfiguration))
        try JSONOutput.print(report)
    }

    /// CPU time this thread has used (CLOCK_THREAD_CPUTIME_ID).
    private static func threadCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }

    private static var buildConfiguration: String {
        #if DEBUG
        return "debug (speed figures need `swift build -c release`)"
        #else
        return "release"
        #endif
    }
}

struct TimingBenchConditions: Encodable {
    var part: String
    var clockMHz: Int
    var flashWaitStates: Int
    var placement: String
    var repeats: Int
    var measure: String
    var compiler: String
    var flags: String
    var hostCores: Int
    var build: String

    enum CodingKeys: String, CodingKey {
        case part, clockMHz = "clock_mhz", flashWaitStates = "flash_wait_states", placement, repeats, measure
        case compiler, flags, hostCores = "host_cores", build
    }
}

struct TimingBenchReport: Encodable {
    var benchmark = "timing"
    var firmware: String
    var rounds: Int?
    var instructions: UInt64
    var mipsNoHooks: Double
    var mipsOff: Double
    var mipsPipeline: Double
    var mipsFull: Double
    var pipelineRatio: Double
    var fullRatio: Double
    var cyclesPipeline: UInt64
    var cyclesFull: UInt64
    /// `--timing pipeline` with `--profile`: speed, slowdown against pipeline alone (goal at
    /// most 2, docs/design.md#goals-and-how-they-are-measured) and cycles (equal to
    /// `cyclesPipeline`: profiling changes no count).
    var mipsPipelineProfile: Double
    var profileOverhead: Double
    var cyclesPipelineProfile: UInt64
    var conditions: TimingBenchConditions

    enum CodingKeys: String, CodingKey {
        case benchmark, firmware, rounds, instructions
        case mipsNoHooks = "mips_no_hooks", mipsOff = "mips_off", mipsPipeline = "mips_pipeline", mipsFull = "mips_full"
        case pipelineRatio = "pipeline_over_no_hooks", fullRatio = "full_over_no_hooks"
        case cyclesPipeline = "cycles_pipeline", cyclesFull = "cycles_full", conditions
        case mipsPipelineProfile = "mips_pipeline_profile", profileOverhead = "profile_slowdown_over_pipeline"
        case cyclesPipelineProfile = "cycles_pipeline_profile"
    }
}
