import Diagnostics
import ArgumentParser
import Emulator
import Foundation
import Profiling
import Timing

/// `mixq run FILE`: run firmware on the emulated STM32H743.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a Cortex-M7 firmware ELF on an emulated STM32H743.",
        discussion: """
            The firmware's output goes to stdout (and its stderr to stderr) as it is produced; \
            MixQ exits with the firmware's exit status when it is 0 or 1...125, and with 125 after \
            a line naming the full status otherwise (256 would read as 0). Emulator failures (bad \
            file, fault, budget or output limit exhausted) print a line starting 'error:' on \
            stderr, on a line of its own, and exit non-zero.
            """
    )

    @Argument(help: "The firmware ELF built by arm-none-eabi-gcc.")
    var file: String

    @Option(help: "Stop with an error after this many instructions.")
    var maxInstructions: UInt64 = RunOptions().maxInstructions

    @Option(help: ArgumentHelp(SharedOption.partHelp, valueName: "part"))
    var part: String = "stm32h743"

    @Option(name: .customLong("clock-mhz"), help: "Core clock in MHz: 400 (VOS1, 2 FLASH wait states) or 480 (VOS0, 4 wait states) on the STM32H743; the part's maximum on the others.")
    var clockMHz: Int?

    @Option(name: .customLong("timing"), help: "Cycle model: off (1 cycle per instruction), pipeline (dual-issue schedule, latencies, branch prediction), full (pipeline + caches, FLASH wait states, AXI/TCM placement). Default: pipeline, or off on a part MixQ has no cycle model for.")
    var timingModel: TimingMode?

    @Option(help: "Write run statistics as JSON to this path.")
    var stats: String?

    @Option(name: .customLong("max-output"), help: "Stop with an error once the firmware has printed more than this many bytes (stdout and stderr together).")
    var maxOutput: UInt64 = RunOptions().maxOutputBytes

    @Flag(help: "Do not print MixQ's summary (instructions, cycles, time) on stderr after the run.")
    var quiet = false

    @Option(help: ArgumentHelp(
        "Write where the cycles go into this folder: profile.txt (top functions, source lines, memory regions), profile.folded (flame graphs), trace.json (Perfetto/Chrome), profile.json and profile.pb (pprof).",
        discussion: "Needs the ELF's symbols; source lines need -g. Cycle counts are the same as without it.",
        valueName: "folder"))
    var profile: String?

    @Option(name: .customLong("profile-top"), help: "Functions and source lines listed in profile.txt.")
    var profileTop: Int = 20

    @Flag(name: .customLong("profile-memory"), help: "Count data accesses per memory region under --timing off or pipeline too (always counted under full); slows emulation several times.")
    var profileMemory = false

    @Option(help: ArgumentHelp("Serve the GDB remote protocol on 127.0.0.1:PORT and run under GDB's control (see 'Debugging with GDB' in README.md). MixQ exits when GDB kills (k), detaches or disconnects, with the firmware's status if it exited, 1 after a fault, else 0.", valueName: "port"))
    var gdb: Int?

    /// The part `--part` names (validated).
    var emulatedPart: Part { Part.named(part) ?? .stm32h743 }
    /// `--clock-mhz`, or the part's default.
    var clock: Int { clockMHz ?? emulatedPart.defaultClockMHz }
    /// `--timing`, or pipeline.
    var timing: TimingMode { timingModel ?? .pipeline }

    func validate() throws {
        let part = try SharedOption.part(named: self.part)
        try SharedOption.validateClock(clock, on: part)
        guard maxInstructions > 0 else { throw ValidationError("--max-instructions must be positive") }
        guard profileTop > 0 else { throw ValidationError("--profile-top must be positive") }
        if profile == nil && (profileMemory || profileTop != 20) {
            throw ValidationError("--profile-memory and --profile-top need --profile FOLDER")
        }
        if let gdb { try validateGDB(port: gdb, profiling: profile != nil) }
    }

    func run() throws {
        // Outputs are checked before the run, which may take minutes, and may not be the input.
        if let stats { try OutputFiles.checkWritable(stats, option: "--stats", inputs: [file]) }
        if let gdb { return try runUnderGDB(port: gdb) }
        if let profile { try ProfileFolder.prepare(profile, inputs: [file]) }
        let image: ELFImage
        let machine: Machine
        do {
            image = try ELFImage(contentsOf: URL(fileURLWithPath: file))
            machine = try Machine(part: emulatedPart)
        } catch {
            throw CommandFailure(error)
        }
        let result: RunResult
        do {
            // Output is streamed; RunResult's copy is not needed, so none is kept.
            result = try machine.run(image, options: RunOptions(maxInstructions: maxInstructions,
                                                                 clockMHz: clock, echoOutput: true,
                                                                 timing: timing, maxOutputBytes: maxOutput,
                                                                 outputTailBytes: 0,
                                                                 profile: profile.map { _ in
                                                                     ProfileOptions(dataAccesses: profileMemory)
                                                                 }))
        } catch {
            // A fault or an exhausted budget still says where the cycles went up to the stop.
            if let profile, let recorded = machine.profileOfFailedRun {
                try? writeProfile(recorded, image: image, to: profile,
                                  conditions: RunResult.conditions(clockMHz: clock, timing: timing, part: emulatedPart),
                                  stop: String(describing: error))
            }
            throw CommandFailure(error)
        }
        let waitStates = emulatedPart.flashWaitStates[clock] ?? 0
        if !quiet {
            ConsoleEcho.printLine(result.summaryLine)
        }
        if let stats {
            let json = RunStatistics(result: result, waitStates: waitStates)
            var data = try JSONOutput.encode(json)
            data.append(0x0A)
            try OutputFiles.write(data, to: stats, option: "--stats")
        }
        if let profile, let recorded = result.profile {
            try writeProfile(recorded, image: image, to: profile, conditions: result.conditions, stop: nil)
        }
        if let note = FirmwareExitStatus.note(for: result.exitStatus) { ConsoleEcho.printLine(note) }
        if result.exitStatus != 0 {
            throw ExitCode(FirmwareExitStatus.processCode(for: result.exitStatus))
        }
    }

    /// Writes the profile folder; `stop` is the error a run ended with, profiled up to it.
    private func writeProfile(_ recorded: RunProfile, image: ELFImage, to folder: String, conditions: String,
                              stop: String?) throws {
        let partial = stop != nil
        let report = ProfileReport(recorded, image: image, part: emulatedPart, timing: timing)
        // The ELF's own compiler, as its DWARF producer string records it (MixQ did not build it).
        let compiler = "compiler (from the ELF's DWARF) \(image.producer() ?? "unknown")"
        let stopped = stop.map { "; profiled up to the stop: \($0)" } ?? ""
        try ProfileFolder.write(report, to: folder, firmware: file, conditions: conditions + "; " + compiler + stopped,
                                clockMHz: clock, limit: profileTop, showsCacheMisses: timing == .full)
        if !quiet || partial {
            let what = partial ? "profile up to the stop" : "profile"
            ConsoleEcho.printLine("mixq: \(what) written to \(folder)/ (\(ProfileReport.FileName.all.joined(separator: ", ")))")
        }
    }
}

/// The JSON `mixq run --stats` writes.
struct RunStatistics: Encodable {
    var instructions: UInt64
    var cycles: UInt64
    var clockMHz: Int
    var flashWaitStates: Int
    var timingModel: String
    var exitStatus: Int32
    var wallSeconds: Double
    var emulatedMIPS: Double
    var milliseconds: Double
    /// The cycle model's counters (absent with `--timing off`).
    var cycleModel: CycleModelStatistics?
    /// Whether the firmware enabled the instruction and data caches at any time of the run
    /// (with both false, zero cache misses mean no cache was used, not a perfect one).
    var cachesEnabledDuringRun: [String: Bool]?

    init(result: RunResult, waitStates: Int) {
        instructions = result.instructions
        cycles = result.cycles
        clockMHz = result.clockMHz
        flashWaitStates = waitStates
        timingModel = result.timing.summary(core: result.part.core)
        exitStatus = result.exitStatus
        wallSeconds = result.wallSeconds
        emulatedMIPS = result.emulatedMIPS
        milliseconds = result.milliseconds
        cycleModel = result.cycleStatistics.map(CycleModelStatistics.init)
        if case .level1 = result.part.caches, let use = result.cacheUse {
            cachesEnabledDuringRun = ["instruction": use.instructionCacheEnabled, "data": use.dataCacheEnabled]
        }
    }

    enum CodingKeys: String, CodingKey {
        case instructions, cycles
        case clockMHz = "clock_mhz"
        case flashWaitStates = "flash_wait_states"
        case timingModel = "timing_model"
        case exitStatus = "exit_status"
        case wallSeconds = "wall_seconds"
        case emulatedMIPS = "emulated_mips"
        case milliseconds
        case cycleModel = "cycle_model"
        case cachesEnabledDuringRun = "caches_enabled_during_run"
    }
}

/// `--stats` JSON of the cycle model's counters.
struct CycleModelStatistics: Encodable {
    var blocksDecoded: Int
    var branchesResolved: UInt64
    var mispredictions: UInt64
    var dependencyStallCycles: UInt64
    var instructionCacheMisses: UInt64
    var uncachedFlashFetches: UInt64
    var dataCacheMisses: UInt64
    var dataAccesses: UInt64
    var memoryStallCycles: UInt64

    init(_ s: CycleStatistics) {
        blocksDecoded = s.blocksDecoded
        branchesResolved = s.branchesResolved
        mispredictions = s.mispredictions
        dependencyStallCycles = s.dependencyStallCycles
        instructionCacheMisses = s.instructionCacheMisses
        uncachedFlashFetches = s.uncachedFlashFetches
        dataCacheMisses = s.dataCacheMisses
        dataAccesses = s.dataAccesses
        memoryStallCycles = s.memoryStallCycles
    }

    enum CodingKeys: String, CodingKey {
        case blocksDecoded = "blocks_decoded", branchesResolved = "branches_resolved", mispredictions
        case dependencyStallCycles = "dependency_stall_cycles", instructionCacheMisses = "instruction_cache_misses"
        case uncachedFlashFetches = "uncached_flash_fetches"
        case dataCacheMisses = "data_cache_misses", dataAccesses = "data_accesses"
        case memoryStallCycles = "memory_stall_cycles"
    }
}

extension TimingMode: ExpressibleByArgument {}

/// The `--profile` folder: created and checked before the run, written after it.
enum ProfileFolder {
    static func prepare(_ folder: String, inputs: [String]) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw CommandFailure(message: "cannot write --profile '\(folder)': it is a file; give a folder (it is created if missing)")
        }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw CommandFailure(message: "cannot create --profile folder '\(folder)': \(SystemErrorText.reason(error))")
        }
        for name in ProfileReport.FileName.all {
            try OutputFiles.checkWritable((folder as NSString).appendingPathComponent(name), option: "--profile", inputs: inputs)
        }
    }

    static func write(_ report: ProfileReport, to folder: String, firmware: String, conditions: String,
                      clockMHz: Int, limit: Int, showsCacheMisses: Bool) throws {
        do {
            try report.write(to: URL(fileURLWithPath: folder, isDirectory: true), firmware: firmware,
                             conditions: conditions, clockMHz: clockMHz, limit: limit, showsCacheMisses: showsCacheMisses,
                             sourceRoot: FileManager.default.currentDirectoryPath)
        } catch {
            throw CommandFailure(message: "cannot write the profile into '\(folder)': \(SystemErrorText.reason(error))")
        }
    }
}
