import CUnicorn
import Foundation
import Timing
import UnicornShim

/// Why a debug session's `resume()` or `step()` returned.
public enum DebugStopReason: Sendable, Equatable {
    /// Stopped before executing the instruction at a breakpoint's address.
    case breakpoint(address: UInt32)
    /// A watched location was accessed at `address`; the session stops at the start of the
    /// next translated block, a few instructions at most after the access (as the imprecise
    /// DWT watchpoints of a Cortex-M can), or right after the access when stepping.
    case watchpoint(address: UInt32, kind: WatchpointKind)
    /// One instruction executed (`step()`).
    case stepped
    /// `interruptRequested` returned true while running (GDB's Ctrl-C).
    case interrupted
    /// The firmware exited through semihosting. The session is over.
    case exited(status: Int32)
    /// The firmware faulted; `Fault.description` is MixQ's usual message. The session cannot
    /// go on: resuming reports the same fault again.
    case fault(Fault)
    /// `RunOptions.maxInstructions` ran out.
    case budgetExhausted(pc: UInt32)
    /// `RunOptions.maxOutputBytes` ran out.
    case outputLimit(pc: UInt32)
    /// The engine stopped without an exit (WFI with no exception model: docs/design.md).
    case stoppedWithoutExit(pc: UInt32)

    /// True when no further execution is possible.
    public var isFinal: Bool {
        switch self {
        case .breakpoint, .watchpoint, .stepped, .interrupted: return false
        default: return true
        }
    }
}

/// A register a debugger reads or writes, numbered as MixQ's GDB target description does.
public enum DebugRegister: Sendable, Hashable {
    /// R0-R12, SP (13), LR (14), PC (15).
    case core(Int)
    /// The combined program status register.
    case xpsr
    /// Double-precision FPU register D0-D15 (S2n and S2n+1 are its low and high halves).
    case double(Int)
    /// The FPU status and control register.
    case fpscr

    /// Width in bytes.
    public var size: Int {
        if case .double = self { return 8 }
        return 4
    }
}

/// How a breakpoint was asked for. Both are code hooks on the address in MixQ: software
/// breakpoints do not patch memory, so FLASH stays as loaded.
public enum BreakpointKind: Sendable, Hashable {
    case software
    case hardware
}

/// Which accesses a watchpoint stops on.
public enum WatchpointKind: Sendable, Hashable {
    case write
    case read
    case access
}

/// Runs one firmware image under debugger control: the engine behind `mixq run --gdb`, usable
/// from any Swift code.
///
/// ```swift
/// let session = try DebugSession(machine: Machine(), image: image, options: RunOptions(timing: .pipeline))
/// try session.insertBreakpoint(at: image.symbol(named: "main")!.address & ~1)
/// let stop = session.resume()          // .breakpoint(address:)
/// let r0 = session.readRegister(.core(0))
/// ```
/// Starts exactly like `Machine.run` (reset, image loaded, hooks installed) and stops before
/// the first instruction of the reset handler. Instructions and cycles keep counting across
/// stops with the cycle model of `options.timing`; see docs/debugging.md for how stepping
/// and breakpoints inside translated blocks are counted.
public final class DebugSession {
    public let image: ELFImage
    public let options: RunOptions
    public let part: Part
    private let engine: OpaquePointer
    private let state: ExecutionState
    private let control: DebugControl
    private var hooks: [uc_hook] = []
    private var breakpoints: [BreakpointKey: uc_hook] = [:]
    private var watchpoints: [WatchpointKey: uc_hook] = [:]
    private var finalStop: DebugStopReason?
    /// Host seconds spent emulating so far.
    public private(set) var wallSeconds: Double = 0
    /// The reason of the last stop; nil before the first `resume()` or `step()`.
    public private(set) var lastStop: DebugStopReason?

    private struct BreakpointKey: Hashable {
        var address: UInt32
        var kind: BreakpointKind
    }

    private struct WatchpointKey: Hashable {
        var address: UInt32
        var length: UInt32
        var kind: WatchpointKind
    }

    /// Resets the machine with `image` loaded, ready to run from the reset vector.
    ///
    /// - Throws: `EmulatorError` when the image does not fit the part or has no valid vector
    ///   table, or Unicorn fails.
    public init(machine: Machine, image: ELFImage, options: RunOptions = RunOptions(), inputs: [MemoryWrite] = []) throws {
        self.image = image
        self.options = options
        self.part = machine.part
        guard let engine = try Machine.openEngine(core: machine.part.core) else {
            throw EmulatorError.engine(operation: "uc_open", message: "no engine")
        }
        self.engine = engine
        do {
            state = try ExecutionState(engine: engine, part: machine.part, image: image, options: options)
            control = DebugControl(state: state)
            try machine.mapMemory(engine, state: state)
            try machine.load(image, into: engine)
            for input in inputs {
                guard let region = part.region(containing: input.address), region.kind != .flash,
                      region.contains(address: input.address, length: UInt64(input.bytes.count)) else {
                    throw EmulatorError.inputOutsideRAM(address: input.address, count: input.bytes.count)
                }
                try writeMemory(input.bytes, at: input.address)
            }
            // The debug block hook goes first: a stop it requests skips the counting hook, so
            // a block the session stops in front of is neither executed nor counted
            // (docs/design.md#unicorn-facts).
            let context = Unmanaged.passUnretained(control).toOpaque()
            var handle: uc_hook = 0
            try check(mixq_uc_hook_block(engine, &handle, debugBlockHook, context, 1, 0), "adding the debug block hook")
            hooks.append(handle)
            try state.installHooks()
            let vectors = try readMemory(at: part.bootAddress, count: 8)
            let initialSP = Self.word(vectors, 0)
            let resetVector = Self.word(vectors, 4)
            guard resetVector & 1 == 1 else { throw EmulatorError.badResetVector(pc: resetVector) }
            try state.writeRegister(UC_ARM_REG_SP, initialSP)
            try state.writeRegister(UC_ARM_REG_LR, 0xFFFF_FFFF)
            try state.writeRegister(UC_ARM_REG_PC, resetVector | 1)
        } catch {
            uc_close(engine)
            throw error
        }
    }

    deinit {
        for handle in hooks { uc_hook_del(engine, handle) }
        for handle in breakpoints.values { uc_hook_del(engine, handle) }
        for handle in watchpoints.values { uc_hook_del(engine, handle) }
        uc_close(engine)
    }

    // MARK: Counters

    /// Instructions executed so far.
    public var instructions: UInt64 { state.instructions }
    /// Core cycles so far, from the cycle model of `options.timing`.
    public var cycles: UInt64 { state.cycles }
    /// The address of the next instruction.
    public var programCounter: UInt32 { state.readRegister(UC_ARM_REG_PC) & ~1 }

    /// The counters so far as a `RunResult` (its `conditions` and summary wording), with
    /// `exitStatus` 0 unless the firmware exited.
    public var progress: RunResult {
        var status: Int32 = 0
        if case let .exited(exitStatus)? = finalStop { status = exitStatus }
        state.drainTraceOutput()
        var result = RunResult(exitStatus: status, stdout: state.stdout.text, stderr: state.stderr.text,
                               stdoutBytes: state.stdout.total, stderrBytes: state.stderr.total,
                               instructions: instructions, cycles: cycles, clockMHz: options.clockMHz,
                               wallSeconds: wallSeconds)
        result.timing = options.timing
        result.part = part
        result.cycleStatistics = state.cycleModel?.statistics
        result.cacheUse = state.systemControl.cacheUse
        return result
    }

    // MARK: Running

    /// Runs until a breakpoint, an exit, a fault, the budget, or until `interruptRequested`
    /// (polled every few thousand blocks, on this thread) returns true.
    ///
    /// Resuming on a breakpoint's address first steps over it.
    public func resume(interruptRequested: (() -> Bool)? = nil) -> DebugStopReason {
        if let finalStop { return record(finalStop) }
        let pc = programCounter
        if breakpoints.keys.contains(where: { $0.address == pc }) {
            let stepped = step()
            guard stepped == .stepped else { return stepped }
        }
        control.reset()
        control.interruptCheck = interruptRequested
        defer { control.interruptCheck = nil }
        let err = start()
        return record(classify(err))
    }

    /// Executes one instruction. A semihosting call is one instruction; an IT instruction
    /// executes together with the instructions of its IT block (docs/debugging.md).
    public func step() -> DebugStopReason {
        if let finalStop { return record(finalStop) }
        let pc = programCounter
        // An IT instruction steps together with the instructions it makes conditional: Unicorn
        // 2.0.1 cannot stop cleanly inside an IT block (docs/design.md#unicorn-facts).
        let next = ThumbDecoding.endOfITBlock(at: pc, read: readHalfword) ?? pc &+ ThumbDecoding.length(of: readHalfword(pc) ?? 0)
        let length = next &- pc
        control.reset()
        control.stepping = true
        control.stepStart = pc
        control.stepTarget = next
        control.stepLength = length
        // A code hook on the next instruction in sequence; branches end the translated block,
        // so the debug block hook stops at their target. Translations holding the address
        // are dropped so the hook takes effect (docs/design.md#unicorn-facts).
        var temporary: uc_hook = 0
        let context = Unmanaged.passUnretained(control).toOpaque()
        let added = mixq_uc_hook_code(engine, &temporary, debugCodeHook, context, UInt64(next), UInt64(next)) == UC_ERR_OK
        _ = mixq_uc_remove_translations(engine, UInt64(next), UInt64(next) + 1)
        defer {
            if added { uc_hook_del(engine, temporary) }
            control.stepping = false
            state.blockSizeLimit = .max
        }
        var err = UC_ERR_OK
        // A block whose UsageFault checks are installed on first sight restarts from its first
        // instruction (ExecutionState.installGuards): nothing ran, so try again.
        for _ in 0..<3 {
            let before = instructions
            err = start()
            if state.stopReason != nil || err != UC_ERR_OK || instructions != before || programCounter != pc { break }
            control.reset()
            control.stepping = true
            control.stepStart = pc
            control.stepTarget = next
            control.stepLength = length
        }
        return record(classify(err, stepping: true))
    }

    private func start() -> uc_err {
        let clock = ContinuousClock()
        let started = clock.now
        let err = uc_emu_start(engine, UInt64(programCounter | 1), 0xFFFF_FFFE, 0, 0)
        let elapsed = clock.now - started
        wallSeconds += Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        state.drainTraceOutput()
        return err
    }

    private func record(_ reason: DebugStopReason) -> DebugStopReason {
        if reason.isFinal { finalStop = reason }
        lastStop = reason
        return reason
    }

    private func classify(_ err: uc_err, stepping: Bool = false) -> DebugStopReason {
        switch state.stopReason {
        case let .exited(status)?: return .exited(status: status)
        case let .fault(fault)?: return .fault(locate(fault))
        case let .budgetExhausted(pc)?: return .budgetExhausted(pc: pc)
        case let .outputLimit(pc)?: return .outputLimit(pc: pc)
        case nil: break
        }
        if let hit = control.watchpointHit { return .watchpoint(address: hit.address, kind: hit.kind) }
        if let address = control.breakpointHit { return .breakpoint(address: address) }
        if control.interrupted { return .interrupted }
        let pc = programCounter
        func fault(_ kind: FaultKind) -> DebugStopReason {
            .fault(Fault(kind: kind, pc: pc, function: image.describe(address: pc), address: nil, region: nil,
                         pcRegion: part.region(containing: pc)?.name, stackPointer: state.readRegister(UC_ARM_REG_SP)))
        }
        if err == UC_ERR_INSN_INVALID {
            // As ExecutionState.finish: a clear Thumb bit is INVSTATE, anything else UNDEFINSTR.
            if state.readRegister(UC_ARM_REG_XPSR) & (1 << 24) == 0 { return fault(.usageFault(.invalidState, instruction: "")) }
            return fault(.undefinedInstruction)
        }
        if err != UC_ERR_OK { return fault(.hardFault(reason: String(cString: uc_strerror(err)))) }
        if stepping && (control.stepEnded || pc != control.stepStart) { return .stepped }
        return .stoppedWithoutExit(pc: pc)
    }

    /// A data-access fault reported at its block's start, moved to its exact instruction
    /// (DebugFaultLocator), with PC set there so registers and PC agree.
    private func locate(_ fault: Fault) -> Fault {
        let block = state.lastBlock
        guard fault.kind.isDataAccess, fault.pc == block.address,
              let pc = DebugFaultLocator.locate(fault: fault, block: block, part: part, source: engine) else { return fault }
        try? state.writeRegister(UC_ARM_REG_PC, pc | 1)
        var located = fault
        located.pc = pc
        located.function = image.describe(address: pc)
        located.pcRegion = part.region(containing: pc)?.name
        return located
    }

    private func readHalfword(_ address: UInt32) -> UInt16? {
        guard let bytes = try? readMemory(at: address, count: 2) else { return nil }
        return UInt16(bytes[0]) | UInt16(bytes[1]) << 8
    }

    // MARK: Breakpoints

    /// The most breakpoints (and, separately, watchpoints) a session holds. Each is a Unicorn
    /// hook, and Unicorn removes hooks by walking its hook list, so N of them cost N^2 to remove
    /// (30,000 took 9 s to remove and 13 s more to free); 4,096 is far beyond what a debugging
    /// session sets (a Cortex-M7's FPB has 8 comparators) and costs milliseconds.
    public static let maximumBreakpoints = 4_096

    /// Stops `resume()` before the instruction at `address` executes. Inserting the same
    /// breakpoint twice is harmless.
    public func insertBreakpoint(at address: UInt32, kind: BreakpointKind = .software) throws {
        let key = BreakpointKey(address: address & ~1, kind: kind)
        guard breakpoints[key] == nil else { return }
        guard breakpoints.count < Self.maximumBreakpoints else { throw DebugSessionError.tooManyBreakpoints(limit: Self.maximumBreakpoints) }
        var handle: uc_hook = 0
        let context = Unmanaged.passUnretained(control).toOpaque()
        try check(mixq_uc_hook_code(engine, &handle, debugCodeHook, context, UInt64(key.address), UInt64(key.address)),
                  "adding a breakpoint at 0x\(String(key.address, radix: 16))")
        breakpoints[key] = handle
        control.addBreakpoint(key.address)
        // Existing translations of the address were made without the hook.
        _ = mixq_uc_remove_translations(engine, UInt64(key.address), UInt64(key.address) + 1)
    }

    /// Removes a breakpoint; removing one that does not exist is harmless. Returns whether
    /// one was removed.
    @discardableResult
    public func removeBreakpoint(at address: UInt32, kind: BreakpointKind = .software) -> Bool {
        let key = BreakpointKey(address: address & ~1, kind: kind)
        guard let handle = breakpoints.removeValue(forKey: key) else { return false }
        uc_hook_del(engine, handle)
        if breakpoints[BreakpointKey(address: key.address, kind: kind == .software ? .hardware : .software)] == nil {
            control.removeBreakpoint(key.address)
        }
        _ = mixq_uc_remove_translations(engine, UInt64(key.address), UInt64(key.address) + 1)
        return true
    }

    /// The addresses with at least one breakpoint.
    public var breakpointAddresses: Set<UInt32> { Set(breakpoints.keys.map(\.address)) }

    // MARK: Watchpoints

    /// Stops `resume()` and `step()` after an access of the kind to `length` bytes at
    /// `address` (a memory hook on the range, installed only while the watchpoint exists).
    public func insertWatchpoint(at address: UInt32, length: Int, kind: WatchpointKind) throws {
        guard length > 0, length <= 1 << 20 else { throw DebugSessionError.badWatchpointLength(length) }
        let key = WatchpointKey(address: address, length: UInt32(length), kind: kind)
        guard watchpoints[key] == nil else { return }
        guard watchpoints.count < Self.maximumBreakpoints else { throw DebugSessionError.tooManyWatchpoints(limit: Self.maximumBreakpoints) }
        var types: UInt32 = 0
        if kind != .read { types |= UC_HOOK_MEM_WRITE.rawValue }
        if kind != .write { types |= UC_HOOK_MEM_READ.rawValue }
        var handle: uc_hook = 0
        let context = Unmanaged.passUnretained(control).toOpaque()
        // Accesses are up to 8 bytes (LDRD, VLDR.64): start the hook's range 7 bytes early so
        // an access that begins before the watched range and overlaps it is seen.
        let first = UInt64(address) >= 7 ? UInt64(address) - 7 : 0
        try check(mixq_uc_hook_memory(engine, &handle, Int32(types), debugMemoryHook, context, first,
                                      UInt64(address) + UInt64(length) - 1),
                  "adding a watchpoint at 0x\(String(address, radix: 16))")
        watchpoints[key] = handle
        control.setWatchpoints(watchpoints.keys.map { ($0.address, $0.length, $0.kind) })
    }

    /// Removes a watchpoint; returns whether one was removed.
    @discardableResult
    public func removeWatchpoint(at address: UInt32, length: Int, kind: WatchpointKind) -> Bool {
        guard length > 0, length <= 1 << 20 else { return false }
        let key = WatchpointKey(address: address, length: UInt32(length), kind: kind)
        guard let handle = watchpoints.removeValue(forKey: key) else { return false }
        uc_hook_del(engine, handle)
        control.setWatchpoints(watchpoints.keys.map { ($0.address, $0.length, $0.kind) })
        return true
    }

    // MARK: Registers

    /// The register's value (zero-extended to 64 bits). PC reads without the Thumb bit.
    public func readRegister(_ register: DebugRegister) -> UInt64 {
        switch register {
        case let .core(index) where (0...15).contains(index):
            if index == 15 { return UInt64(programCounter) }
            return UInt64(state.readRegister(Self.unicornRegister(core: index)))
        case .xpsr: return UInt64(state.readRegister(UC_ARM_REG_XPSR))
        case .fpscr: return UInt64(state.readRegister(UC_ARM_REG_FPSCR))
        case let .double(index) where (0...15).contains(index):
            var value: UInt64 = 0
            _ = uc_reg_read(engine, Int32(UC_ARM_REG_D0.rawValue + UInt32(index)), &value)
            return value
        default: return 0
        }
    }

    /// Writes a register. PC gets the Thumb bit set (a Cortex-M executes Thumb only).
    /// - Throws: `DebugSessionError.noSuchRegister` or `EmulatorError.engine`.
    public func writeRegister(_ register: DebugRegister, _ value: UInt64) throws {
        let low = UInt32(truncatingIfNeeded: value)
        switch register {
        case let .core(index) where (0...15).contains(index):
            try state.writeRegister(Self.unicornRegister(core: index), index == 15 ? low | 1 : low)
        case .xpsr: try state.writeRegister(UC_ARM_REG_XPSR, low)
        case .fpscr: try state.writeRegister(UC_ARM_REG_FPSCR, low)
        case let .double(index) where (0...15).contains(index):
            var value = value
            try check(uc_reg_write(engine, Int32(UC_ARM_REG_D0.rawValue + UInt32(index)), &value), "writing d\(index)")
        default: throw DebugSessionError.noSuchRegister(String(describing: register))
        }
    }

    private static func unicornRegister(core index: Int) -> uc_arm_reg {
        switch index {
        case 13: return UC_ARM_REG_SP
        case 14: return UC_ARM_REG_LR
        case 15: return UC_ARM_REG_PC
        default: return uc_arm_reg(rawValue: UC_ARM_REG_R0.rawValue + UInt32(index))
        }
    }

    // MARK: Memory

    /// Reads target memory; the range must lie inside one memory region of the part.
    public func readMemory(at address: UInt32, count: Int) throws -> [UInt8] {
        try readTargetMemory(engine, part: part, at: address, count: count)
    }

    /// Writes target memory, FLASH included (as a debug probe can); the range must lie inside
    /// one memory region. Translated code in the range is dropped so changed code runs.
    public func writeMemory(_ bytes: [UInt8], at address: UInt32) throws {
        guard let region = part.region(containing: address),
              region.contains(address: address, length: UInt64(bytes.count)) else {
            throw DebugSessionError.writeOutsideMemory(address: address, count: bytes.count)
        }
        guard !bytes.isEmpty else { return }
        if region.kind == .flash {
            // FLASH is mapped read-only for the firmware (Machine.load); open it for this write.
            _ = uc_mem_protect(engine, UInt64(region.base), Int(region.size), UInt32(UC_PROT_ALL.rawValue))
        }
        let err = bytes.withUnsafeBytes { uc_mem_write(engine, UInt64(address), $0.baseAddress, bytes.count) }
        if region.kind == .flash {
            _ = uc_mem_protect(engine, UInt64(region.base), Int(region.size),
                               UInt32(UC_PROT_READ.rawValue | UC_PROT_EXEC.rawValue))
        }
        try check(err, "writing \(bytes.count) bytes at 0x\(String(address, radix: 16))")
        _ = mixq_uc_remove_translations(engine, UInt64(address), UInt64(address) + UInt64(bytes.count))
    }

    private func check(_ err: uc_err, _ operation: String) throws {
        guard err == UC_ERR_OK else {
            throw EmulatorError.engine(operation: operation, message: String(cString: uc_strerror(err)))
        }
    }

    private static func word(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }
}

/// Failures of debugger requests.
public enum DebugSessionError: Error, Equatable, CustomStringConvertible {
    case noSuchRegister(String)
    case writeOutsideMemory(address: UInt32, count: Int)
    case badWatchpointLength(Int)
    case tooManyBreakpoints(limit: Int)
    case tooManyWatchpoints(limit: Int)

    public var description: String {
        switch self {
        case let .noSuchRegister(name): return "no register \(name) on the Cortex-M7"
        case let .writeOutsideMemory(address, count):
            return "cannot write \(count) bytes at 0x\(String(address, radix: 16)): not inside one memory region of the part"
        case let .badWatchpointLength(length):
            return "cannot watch \(length) bytes: use 1 byte to 1 MiB"
        case let .tooManyBreakpoints(limit):
            return "cannot insert more than \(limit) breakpoints; remove some first"
        case let .tooManyWatchpoints(limit):
            return "cannot insert more than \(limit) watchpoints; remove some first"
        }
    }
}

/// What the debug hooks read and set while the engine runs, reached through `user_data`.
final class DebugControl {
    let state: ExecutionState
    /// Sorted breakpoint addresses.
    private(set) var breakpoints: [UInt32] = []
    private var breakpointSet: Set<UInt32> = []
    var stepping = false
    var stepStart: UInt32 = 0
    /// Where a step stops: the next instruction in sequence (after an IT block when stepping
    /// an IT instruction).
    var stepTarget: UInt32 = 0
    /// Breakpoints on instructions inside IT blocks: not honoured, since a stop requested
    /// there leaves PC behind the executed instruction (docs/design.md#unicorn-facts).
    private(set) var breakpointsInsideITBlocks: Set<UInt32> = []
    var stepLength: UInt32 = 2
    var stepBlocks = 0
    var stepEnded = false
    var breakpointHit: UInt32?
    /// The first watched access since the last resume or step.
    var watchpointHit: (address: UInt32, kind: WatchpointKind)?
    private var watchpoints: [(address: UInt32, length: UInt32, kind: WatchpointKind)] = []
    var interrupted = false
    var interruptCheck: (() -> Bool)?
    /// Blocks between two calls of `interruptCheck`.
    static let pollInterval = 1 << 14
    private var countdown = DebugControl.pollInterval

    init(state: ExecutionState) { self.state = state }

    func reset() {
        stepping = false
        stepBlocks = 0
        stepEnded = false
        breakpointHit = nil
        watchpointHit = nil
        interrupted = false
    }

    func setWatchpoints(_ list: [(address: UInt32, length: UInt32, kind: WatchpointKind)]) {
        watchpoints = list
    }

    /// A data access inside a watchpoint's hook range: noted; the next block entry stops.
    func dataAccess(address: UInt32, size: Int, write: Bool) {
        guard watchpointHit == nil else { return }
        let end = UInt64(address) + UInt64(max(size, 1))
        for watch in watchpoints {
            guard UInt64(address) < UInt64(watch.address) + UInt64(watch.length), end > UInt64(watch.address) else { continue }
            switch watch.kind {
            case .write where !write, .read where write: continue
            default: break
            }
            watchpointHit = (max(address, watch.address), watch.kind)
            return
        }
    }

    /// Adds `address` to the sorted list: a binary search and one insertion, so inserting N
    /// breakpoints does not sort N times.
    func addBreakpoint(_ address: UInt32) {
        guard breakpointSet.insert(address).inserted else { return }
        breakpoints.insert(address, at: firstIndex(above: address, orEqual: true))
    }

    func removeBreakpoint(_ address: UInt32) {
        guard breakpointSet.remove(address) != nil else { return }
        breakpoints.remove(at: firstIndex(above: address, orEqual: true))
    }

    /// The index of the first breakpoint above `address` (or equal to it, when `orEqual`).
    private func firstIndex(above address: UInt32, orEqual: Bool) -> Int {
        var low = 0, high = breakpoints.count
        while low < high {
            let middle = (low + high) / 2
            if breakpoints[middle] < address || (!orEqual && breakpoints[middle] == address) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    func enterBlock(address: UInt32, size: UInt32) {
        if watchpointHit != nil {
            // Stop where PC is exact: the start of a block, before the block is counted.
            uc_emu_stop(state.engine)
            return
        }
        if stepping {
            // The step's own block counts its first instruction only; the next block is not run.
            if stepBlocks > 0 {
                stepEnded = true
                uc_emu_stop(state.engine)
                return
            }
            stepBlocks += 1
            state.blockSizeLimit = stepLength
            return
        }
        countdown -= 1
        if countdown <= 0 {
            countdown = Self.pollInterval
            if let interruptCheck, interruptCheck() {
                interrupted = true
                uc_emu_stop(state.engine)
                return
            }
        }
        guard !breakpoints.isEmpty else {
            state.blockSizeLimit = .max
            return
        }
        if breakpointSet.contains(address) {
            breakpointHit = address
            uc_emu_stop(state.engine)
            return
        }
        // A breakpoint inside the block stops it there: count only the bytes before it.
        var limit = UInt32.max
        let end = UInt64(address) + UInt64(size)
        for breakpoint in breakpoints[firstIndex(above: address, orEqual: false)...] {
            guard UInt64(breakpoint) < end else { break }
            if breakpointsInsideITBlocks.contains(breakpoint) { continue }
            if ThumbDecoding.isInsideITBlock(breakpoint, blockStart: address, read: readHalfword) {
                breakpointsInsideITBlocks.insert(breakpoint)
                continue
            }
            limit = breakpoint - address
            break
        }
        state.blockSizeLimit = limit
    }

    private func readHalfword(_ address: UInt32) -> UInt16? {
        var value: UInt16 = 0
        guard uc_mem_read(state.engine, UInt64(address), &value, 2) == UC_ERR_OK else { return nil }
        return UInt16(littleEndian: value)
    }

    func enterInstruction(address: UInt32) {
        if stepping {
            if address == stepTarget {
                stepEnded = true
                uc_emu_stop(state.engine)
            }
            return
        }
        if breakpointSet.contains(address) && !breakpointsInsideITBlocks.contains(address) {
            breakpointHit = address
            uc_emu_stop(state.engine)
        }
    }
}

private let debugBlockHook: mixq_block_callback = { _, address, size, context in
    Unmanaged<DebugControl>.fromOpaque(context!)._withUnsafeGuaranteedRef {
        $0.enterBlock(address: UInt32(truncatingIfNeeded: address), size: size)
    }
}

private let debugMemoryHook: mixq_memory_callback = { _, type, address, size, _, context in
    Unmanaged<DebugControl>.fromOpaque(context!)._withUnsafeGuaranteedRef {
        $0.dataAccess(address: UInt32(truncatingIfNeeded: address), size: Int(size), write: type == UC_MEM_WRITE)
    }
}

private let debugCodeHook: mixq_code_callback = { _, address, _, context in
    Unmanaged<DebugControl>.fromOpaque(context!)._withUnsafeGuaranteedRef {
        $0.enterInstruction(address: UInt32(truncatingIfNeeded: address))
    }
}

/// The little Thumb-2 decoding a debugger needs (ARMv7-M ARM A5.1 and A7.7.38 IT).
enum ThumbDecoding {
    /// 2 or 4: an instruction is 32-bit when its first halfword starts 0b11101, 0b11110 or
    /// 0b11111.
    static func length(of firstHalfword: UInt16) -> UInt32 {
        let top = firstHalfword >> 11
        return top == 0b11101 || top == 0b11110 || top == 0b11111 ? 4 : 2
    }

    /// The number of instructions an IT instruction makes conditional (1-4), or nil when
    /// `halfword` is not an IT instruction (0xBFxy with mask y != 0; y == 0 is a hint: NOP,
    /// YIELD, WFE, WFI, SEV).
    static func itBlockCount(_ halfword: UInt16) -> Int? {
        guard halfword & 0xFF00 == 0xBF00, halfword & 0xF != 0 else { return nil }
        return 4 - (Int(halfword & 0xF).trailingZeroBitCount)
    }

    /// The address after the IT block when the instruction at `address` is an IT instruction.
    static func endOfITBlock(at address: UInt32, read: (UInt32) -> UInt16?) -> UInt32? {
        guard let first = read(address), let count = itBlockCount(first) else { return nil }
        var next = address &+ 2
        for _ in 0..<count {
            guard let halfword = read(next) else { return nil }
            next &+= length(of: halfword)
        }
        return next
    }

    /// Whether `target` is one of the conditional instructions of an IT block, decoding
    /// forward from `blockStart` (a translated block's first instruction).
    static func isInsideITBlock(_ target: UInt32, blockStart: UInt32, read: (UInt32) -> UInt16?) -> Bool {
        var address = blockStart
        var conditionalLeft = 0
        while address < target {
            guard let halfword = read(address) else { return false }
            if conditionalLeft > 0 {
                conditionalLeft -= 1
            } else if let count = itBlockCount(halfword) {
                conditionalLeft = count
            }
            address &+= length(of: halfword)
        }
        return address == target && conditionalLeft > 0
    }
}
