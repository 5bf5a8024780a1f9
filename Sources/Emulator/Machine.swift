import CUnicorn
import Foundation
import Timing
import UnicornShim

/// How to run firmware.
public struct RunOptions: Sendable {
    /// Stop with an error after this many instructions (firmware that never ends).
    public var maxInstructions: UInt64 = 20_000_000_000
    /// Core clock; sets the FLASH wait states and converts cycles to time.
    public var clockMHz: Int = 400
    /// Also write the firmware's output to this process's stdout/stderr as it is produced.
    public var echoOutput: Bool = false
    /// The Cortex-M7 cycle model: `.off` (one cycle per instruction), `.pipeline` or `.full`
    /// (see `TimingMode`). DWT->CYCCNT and SysTick follow the model's cycles. The library
    /// default is `.off`; `mixq run` defaults to `.pipeline`.
    public var timing: TimingMode = .off
    /// False runs with no block hook at all, to measure raw emulation speed (`mixq bench
    /// timing`'s `mips_no_hooks`): `instructions` and `cycles` then read 0 and
    /// `maxInstructions` is not enforced.
    public var countsInstructions: Bool = true
    /// Stop with `EmulatorError.outputLimitExceeded` once the firmware has written more than
    /// this many bytes (standard output and error together): a firmware stuck in a print loop
    /// ends instead of filling the disk or a pipe. `mixq run --max-output`.
    public var maxOutputBytes: UInt64 = 64 << 20
    /// How many of the last bytes of each stream `RunResult.stdout` and `RunResult.stderr`
    /// keep. Memory for output never grows past about twice this, however much is printed;
    /// `echoOutput` streams everything as it is produced.
    public var outputTailBytes: Int = 1 << 20
    /// Record where the cycles go (`RunResult.profile`); nil records nothing and costs nothing.
    /// Needs the image's function symbols. The run's cycle counts are the same either way.
    public var profile: ProfileOptions?

    public init(maxInstructions: UInt64 = 20_000_000_000, clockMHz: Int = 400, echoOutput: Bool = false,
                timing: TimingMode = .off, countsInstructions: Bool = true,
                maxOutputBytes: UInt64 = 64 << 20, outputTailBytes: Int = 1 << 20, profile: ProfileOptions? = nil) {
        self.maxInstructions = maxInstructions
        self.clockMHz = clockMHz
        self.echoOutput = echoOutput
        self.timing = timing
        self.countsInstructions = countsInstructions
        self.maxOutputBytes = maxOutputBytes
        self.outputTailBytes = max(0, outputTailBytes)
        self.profile = profile
    }
}

/// What a finished run produced.
public struct RunResult: Sendable {
    /// The status the firmware exited with through semihosting.
    public var exitStatus: Int32
    /// What the firmware wrote to standard output (semihosting handle 1, SYS_WRITEC,
    /// SYS_WRITE0 and ITM port 0): all of it, or its last `RunOptions.outputTailBytes` bytes
    /// when it wrote more (compare `stdoutBytes`).
    public var stdout: String
    /// What was written to semihosting handle 2, bounded the same way.
    public var stderr: String
    /// Bytes the firmware wrote to standard output in all (more than `stdout` holds when the
    /// tail was cut).
    public var stdoutBytes: UInt64 = 0
    /// Bytes the firmware wrote to standard error in all.
    public var stderrBytes: UInt64 = 0
    /// Instructions executed (condition-failed instructions in IT blocks included, as they
    /// still issue on a Cortex-M7).
    public var instructions: UInt64
    /// Core clock cycles from the cycle model chosen in `RunOptions.timing` (equal to
    /// `instructions` with `.off`).
    public var cycles: UInt64
    public var clockMHz: Int
    /// Host time spent emulating.
    public var wallSeconds: Double
    /// The cycle model that counted `cycles`.
    public var timing: TimingMode = .off
    /// The cycle model's counters (mispredictions, cache misses, stalls); nil with `.off`.
    public var cycleStatistics: CycleStatistics?
    /// The part the firmware ran on.
    public var part: Part = .stm32h743
    /// Where the cycles went, when `RunOptions.profile` asked for it.
    public var profile: RunProfile?

    /// Whether the firmware enabled the L1 caches at any time of the run; nil when unknown.
    public var cacheUse: CacheUse?

    /// The conditions `cycles` holds under, for every printed figure: clock, FLASH wait states
    /// and cycle model. Under `--timing full` on a part with L1 caches, a run whose firmware
    /// never enabled them says so: every FLASH fetch then paid the wait states, which reads
    /// as a slow run with no cache misses otherwise.
    public var conditions: String {
        let text = Self.conditions(clockMHz: clockMHz, timing: timing, part: part)
        guard timing == .full, case .level1 = part.caches, let cacheUse, let state = cacheUse.summary else { return text }
        return text.replacingOccurrences(of: "caches as the firmware sets them", with: state)
    }

    /// The conditions line of a run at `clockMHz` under `timing` on `part` (for figures of a
    /// run that ended in an error, which has no `RunResult`). The part is named when it is not
    /// the STM32H743, MixQ's default.
    public static func conditions(clockMHz: Int, timing: TimingMode, part: Part = .stm32h743) -> String {
        let waitStates = part.flashWaitStates[clockMHz].map(String.init) ?? "?"
        let caches: String
        switch part.caches {
        case .level1: caches = "caches as the firmware sets them"
        case .artAccelerator: caches = "ART accelerator, no L1 caches"
        }
        let onPart = part == .stm32h743 ? "" : "\(part.name) (\(part.core.displayName)), "
        return onPart + "core clock \(clockMHz) MHz, FLASH \(waitStates) wait states, \(caches), timing model \(timing.summary(core: part.core))"
    }

    /// Millions of emulated instructions per host second.
    public var emulatedMIPS: Double { wallSeconds > 0 ? Double(instructions) / wallSeconds / 1e6 : 0 }
    /// `cycles` at the core clock, in milliseconds.
    public var milliseconds: Double { Double(cycles) / Double(clockMHz) / 1e3 }
}

/// Which L1 caches the firmware enabled (CCR.IC, CCR.DC; ARMv7-M ARM B3.2.8) at any time of a run.
public struct CacheUse: Sendable, Equatable {
    public var instructionCacheEnabled: Bool
    public var dataCacheEnabled: Bool

    public init(instructionCacheEnabled: Bool, dataCacheEnabled: Bool) {
        self.instructionCacheEnabled = instructionCacheEnabled
        self.dataCacheEnabled = dataCacheEnabled
    }

    /// The conditions' wording when a cache stayed off the whole run; nil when both were on
    /// at some time ("as the firmware sets them" holds).
    var summary: String? {
        switch (instructionCacheEnabled, dataCacheEnabled) {
        case (false, false): return "caches off for the whole run (the firmware never enabled them: every FLASH access paid the wait states)"
        case (false, true): return "instruction cache off for the whole run (never enabled), data cache as the firmware sets it"
        case (true, false): return "data cache off for the whole run (never enabled), instruction cache as the firmware sets it"
        case (true, true): return nil
        }
    }
}

/// Bytes placed in target RAM before the firmware starts.
public struct MemoryWrite: Sendable {
    public var address: UInt32
    public var bytes: [UInt8]
    public init(address: UInt32, bytes: [UInt8]) {
        self.address = address
        self.bytes = bytes
    }
}

/// An emulated microcontroller that runs one firmware image at a time.
///
/// ```swift
/// let image = try ELFImage(contentsOf: url)
/// let machine = try Machine(part: .stm32h743)
/// let result = try machine.run(image)
/// print(result.stdout, result.exitStatus)
/// ```
/// Each `run` starts from reset with freshly mapped memory; after it returns (or throws),
/// `readMemory(at:count:)` inspects what the firmware left behind.
public final class Machine {
    public let part: Part
    private var engine: OpaquePointer?
    private var state: ExecutionState?
    /// The profile of the last run that asked for one and stopped with an error (a fault, the
    /// instruction budget, the output limit): where the cycles went up to the stop, to show
    /// where firmware got stuck. A run that exits normally returns its profile in `RunResult`.
    public private(set) var profileOfFailedRun: RunProfile?

    /// Creates a machine for `part`. Fails only when Unicorn cannot be opened.
    public init(part: Part = .stm32h743) throws {
        self.part = part
        _ = try Self.openEngine(core: part.core)  // Fail early, at construction, on a broken installation.
            .map { uc_close($0) }
    }

    deinit {
        if let engine { uc_close(engine) }
    }

    /// Runs `image` from reset until it exits through semihosting.
    ///
    /// - Parameter inputs: bytes written into RAM after the image is loaded and before reset,
    ///   e.g. a test's input tensors placed at a buffer symbol in `.axisram` (which start-up code
    ///   neither copies nor zeroes). Each must lie inside one writable region.
    /// - Throws: `EmulatorError` when the image does not fit the part, the firmware faults,
    ///   runs out of instruction budget, or stops without exiting.
    public func run(_ image: ELFImage, options: RunOptions = RunOptions(), inputs: [MemoryWrite] = []) throws -> RunResult {
        if options.profile != nil && !image.symbols.contains(where: \.isFunction) {
            throw EmulatorError.noSymbolsToProfile
        }
        profileOfFailedRun = nil
        do {
            return try runOnce(image, options: options, inputs: inputs, tracing: nil)
        } catch let EmulatorError.fault(fault) where fault.kind.isDataAccess {
            profileOfFailedRun = state?.partialProfile()
            // Unicorn reports a data-access fault with PC at the start of the translated block.
            // The run is deterministic, so run again tracing only that block instruction by
            // instruction to name the exact faulting instruction.
            guard let block = state?.lastBlock, block.size > 0 else { throw EmulatorError.fault(fault) }
            var silent = options
            silent.echoOutput = false  // the first run already showed the output
            silent.profile = nil
            do {
                _ = try runOnce(image, options: silent, inputs: inputs, tracing: block)
            } catch let EmulatorError.fault(located) where located.kind == fault.kind && located.address == fault.address {
                throw EmulatorError.fault(located)
            } catch {}
            throw EmulatorError.fault(fault)
        } catch {
            profileOfFailedRun = state?.partialProfile()
            throw error
        }
    }

    private func runOnce(_ image: ELFImage, options: RunOptions, inputs: [MemoryWrite],
                         tracing block: (address: UInt32, size: UInt32)?) throws -> RunResult {
        if let engine { uc_close(engine) }
        engine = nil
        state = nil
        guard let engine = try Self.openEngine(core: part.core) else {
            throw EmulatorError.engine(operation: "uc_open", message: "no engine")
        }
        self.engine = engine
        let state = try ExecutionState(engine: engine, part: part, image: image, options: options, tracing: block)
        self.state = state
        try mapMemory(engine, state: state)
        try load(image, into: engine)
        for input in inputs { try write(input, into: engine) }
        try state.installHooks()
        // Reset as the hardware does: SP from word 0 of the vector table, PC from word 1.
        let vectors = try readMemory(at: part.bootAddress, count: 8)
        let initialSP = UInt32(vectors[0]) | UInt32(vectors[1]) << 8 | UInt32(vectors[2]) << 16 | UInt32(vectors[3]) << 24
        let resetVector = UInt32(vectors[4]) | UInt32(vectors[5]) << 8 | UInt32(vectors[6]) << 16 | UInt32(vectors[7]) << 24
        guard resetVector & 1 == 1 else { throw EmulatorError.badResetVector(pc: resetVector) }
        try state.writeRegister(UC_ARM_REG_SP, initialSP)
        try state.writeRegister(UC_ARM_REG_LR, 0xFFFF_FFFF)

        let clock = ContinuousClock()
        let started = clock.now
        // `until` is an address no firmware executes; 0 would stop code placed in ITCM at once.
        let err = uc_emu_start(engine, UInt64(resetVector | 1), 0xFFFF_FFFE, 0, 0)
        let elapsed = clock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        var result = try state.finish(engineStatus: err, wallSeconds: seconds)
        result.timing = options.timing
        result.part = part
        result.cycleStatistics = state.cycleModel?.statistics
        return result
    }

    /// Reads `count` bytes of target memory at `address` (after or during a run).
    public func readMemory(at address: UInt32, count: Int) throws -> [UInt8] {
        guard let engine else { throw EmulatorError.readOutsideMemory(address: address, count: count) }
        return try readTargetMemory(engine, part: part, at: address, count: count)
    }

    private func write(_ input: MemoryWrite, into engine: OpaquePointer) throws {
        guard let region = part.region(containing: input.address), region.kind != .flash,
              region.contains(address: input.address, length: UInt64(input.bytes.count)) else {
            throw EmulatorError.inputOutsideRAM(address: input.address, count: input.bytes.count)
        }
        let err = input.bytes.withUnsafeBytes { uc_mem_write(engine, UInt64(input.address), $0.baseAddress, input.bytes.count) }
        guard err == UC_ERR_OK else {
            throw EmulatorError.engine(operation: "writing input at 0x\(hex(input.address))", message: String(cString: uc_strerror(err)))
        }
    }

    static func openEngine(core: Core) throws -> OpaquePointer? {
        var engine: OpaquePointer?
        let err = core == .cortexM4 ? mixq_uc_open_cortex_m4(&engine) : mixq_uc_open_cortex_m7(&engine)
        guard err == UC_ERR_OK else {
            throw EmulatorError.engine(operation: "uc_open (\(core.displayName))", message: String(cString: uc_strerror(err)))
        }
        return engine
    }

    func mapMemory(_ engine: OpaquePointer, state: ExecutionState) throws {
        for region in part.regions {
            let err = uc_mem_map(engine, UInt64(region.base), Int(region.size), UInt32(UC_PROT_ALL.rawValue))
            guard err == UC_ERR_OK else {
                throw EmulatorError.engine(operation: "mapping \(region.name)", message: String(cString: uc_strerror(err)))
            }
        }
        try state.mapSystemControlSpace()
    }

    func load(_ image: ELFImage, into engine: OpaquePointer) throws {
        for segment in image.segments where segment.memorySize > 0 {
            guard let region = part.region(containing: segment.physicalAddress),
                  region.contains(address: segment.physicalAddress, length: UInt64(segment.fileBytes.count)) else {
                throw EmulatorError.segmentOutsideMemory(address: segment.physicalAddress, size: segment.memorySize, part: part.name)
            }
            // A segment's zero-filled tail (memorySize > fileBytes) belongs to its run-time
            // address, which start-up code zeroes itself; only the file bytes are loaded.
            if !segment.fileBytes.isEmpty {
                let err = segment.fileBytes.withUnsafeBytes {
                    uc_mem_write(engine, UInt64(segment.physicalAddress), $0.baseAddress, segment.fileBytes.count)
                }
                guard err == UC_ERR_OK else {
                    throw EmulatorError.engine(operation: "loading segment at 0x\(hex(segment.physicalAddress))",
                                               message: String(cString: uc_strerror(err)))
                }
            }
            if segment.physicalAddress == segment.virtualAddress && UInt64(segment.memorySize) > UInt64(segment.fileBytes.count) {
                guard region.contains(address: segment.virtualAddress, length: UInt64(segment.memorySize)) else {
                    throw EmulatorError.segmentOutsideMemory(address: segment.virtualAddress, size: segment.memorySize, part: part.name)
                }
            }
        }
        guard image.segments.contains(where: {
            $0.fileBytes.count >= 8 && $0.physicalAddress <= part.bootAddress
                && UInt64(part.bootAddress) + 8 <= UInt64($0.physicalAddress) + UInt64($0.fileBytes.count)
        }) else {
            throw EmulatorError.noVectorTable(bootAddress: part.bootAddress, part: part.name)
        }
        // FLASH is read-only once the image is in it.
        for region in part.regions where region.kind == .flash {
            let err = uc_mem_protect(engine, UInt64(region.base), Int(region.size),
                                     UInt32(UC_PROT_READ.rawValue | UC_PROT_EXEC.rawValue))
            guard err == UC_ERR_OK else {
                throw EmulatorError.engine(operation: "protecting \(region.name)", message: String(cString: uc_strerror(err)))
            }
        }
    }
}

/// `count` bytes of target memory at `address`, which must lie inside one memory region of
/// `part` (for the machine, a debug session and the semihosting service alike).
func readTargetMemory(_ engine: OpaquePointer, part: Part, at address: UInt32, count: Int) throws -> [UInt8] {
    guard count >= 0, let region = part.region(containing: address),
          region.contains(address: address, length: UInt64(count)) else {
        throw EmulatorError.readOutsideMemory(address: address, count: count)
    }
    var bytes = [UInt8](repeating: 0, count: count)
    guard count > 0 else { return bytes }
    let err = bytes.withUnsafeMutableBytes { uc_mem_read(engine, UInt64(address), $0.baseAddress, count) }
    guard err == UC_ERR_OK else { throw EmulatorError.readOutsideMemory(address: address, count: count) }
    return bytes
}
