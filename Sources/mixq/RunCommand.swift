import ArgumentParser
import Emulator
import Foundation
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

    @Option(name: .customLong("clock-mhz"), help: "Core clock in MHz: 400 (VOS1, 2 FLASH wait states) or 480 (VOS0, 4 wait states).")
    var clockMHz: Int = 400

    @Option(help: "Cycle model: off (1 cycle per instruction), pipeline (dual-issue schedule, latencies, branch prediction), full (pipeline + caches, FLASH wait states, AXI/TCM placement).")
    var timing: TimingMode = .pipeline

    @Option(help: "Write run statistics as JSON to this path.")
    var stats: String?

    @Option(name: .customLong("max-output"), help: "Stop with an error once the firmware has printed more than this many bytes (stdout and stderr together).")
    var maxOutput: UInt64 = RunOptions().maxOutputBytes

    @Flag(help: "Do not print MixQ's summary (instructions, cycles, time) on stderr after the run.")
    var quiet = false

    @Option(help: ArgumentHelp("Serve the GDB remote protocol on 127.0.0.1:PORT and run under GDB's control (see 'Debugging with GDB' in README.md). MixQ exits when GDB kills (k), detaches or disconnects, with the firmware's status if it exited, 1 after a fault, else 0.", valueName: "port"))
    var gdb: Int?

    func validate() throws {
        guard Part.stm32h743.flashWaitStates[clockMHz] != nil else {
            throw ValidationError("--clock-mhz must be 400 or 480 on STM32H743 (got \(clockMHz))")
        }
        guard maxInstructions > 0 else { throw ValidationError("--max-instructions must be positive") }
        if let gdb { try validateGDB(port: gdb) }
    }

    func run() throws {
        // Outputs are checked before the run, which may take minutes, and may not be the input.
        if let stats { try OutputFiles.checkWritable(stats, option: "--stats", inputs: [file]) }
        if let gdb { return try runUnderGDB(port: gdb) }
        let result: RunResult
        do {
            let image = try ELFImage(contentsOf: URL(fileURLWithPath: file))
            let machine = try Machine(part: .stm32h743)
            // Output is streamed; RunResult's copy is not needed, so none is kept.
            result = try machine.run(image, options: RunOptions(maxInstructions: maxInstructions,
                                                                  clockMHz: clockMHz, echoOutput: true,
                                                                  timing: timing, maxOutputBytes: maxOutput,
                                                                  outputTailBytes: 0))
        } catch {
            throw CommandFailure(error)
        }
        let waitStates = Part.stm32h743.flashWaitStates[clockMHz] ?? 0
        if !quiet {
            ConsoleEcho.printLine(result.summaryLine)
        }
        if let stats {
            let json = RunStatistics(result: result, waitStates: waitStates)
            var data = try JSONOutput.encode(json)
            data.append(0x0A)
            try OutputFiles.write(data, to: stats, option: "--stats")
        }
        if let note = FirmwareExitStatus.note(for: result.exitStatus) { ConsoleEcho.printLine(note) }
        if result.exitStatus != 0 {
            throw ExitCode(FirmwareExitStatus.processCode(for: result.exitStatus))
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

    init(result: RunResult, waitStates: Int) {
        instructions = result.instructions
        cycles = result.cycles
        clockMHz = result.clockMHz
        flashWaitStates = waitStates
        timingModel = result.timing.summary
        exitStatus = result.exitStatus
        wallSeconds = result.wallSeconds
        emulatedMIPS = result.emulatedMIPS
        milliseconds = result.milliseconds
        cycleModel = result.cycleStatistics.map(CycleModelStatistics.init)
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
    }
}

/// `--stats` JSON of the cycle model's counters.
struct CycleModelStatistics: Encodable {
    var blocksDecoded: Int
    var branchesResolved: UInt64
    var mispredictions: UInt64
    var dependencyStallCycles: UInt64
    var instructionCacheMisses: UInt64
    var dataCacheMisses: UInt64
    var dataAccesses: UInt64
    var memoryStallCycles: UInt64

    init(_ s: CycleStatistics) {
        blocksDecoded = s.blocksDecoded
        branchesResolved = s.branchesResolved
        mispredictions = s.mispredictions
        dependencyStallCycles = s.dependencyStallCycles
        instructionCacheMisses = s.instructionCacheMisses
        dataCacheMisses = s.dataCacheMisses
        dataAccesses = s.dataAccesses
        memoryStallCycles = s.memoryStallCycles
    }

    enum CodingKeys: String, CodingKey {
        case blocksDecoded = "blocks_decoded", branchesResolved = "branches_resolved", mispredictions
        case dependencyStallCycles = "dependency_stall_cycles", instructionCacheMisses = "instruction_cache_misses"
        case dataCacheMisses = "data_cache_misses", dataAccesses = "data_accesses"
        case memoryStallCycles = "memory_stall_cycles"
    }
}

extension TimingMode: ExpressibleByArgument {}
