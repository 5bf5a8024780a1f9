import CUnicorn
import Foundation
import Timing
import UnicornShim

/// Why the emulation loop stopped.
enum StopReason {
    case exited(status: Int32)
    case fault(Fault)
    case budgetExhausted(pc: UInt32)
    case outputLimit(pc: UInt32)
}

/// The last bytes of one output stream: memory stays below `2 * limit` however much firmware
/// prints (the front is dropped in amortized O(1) once twice the limit is held).
struct OutputTail {
    let limit: Int
    private(set) var bytes: [UInt8] = []
    /// Bytes appended in all.
    private(set) var total: UInt64 = 0

    init(limit: Int) { self.limit = limit }

    mutating func append(_ new: UnsafeRawBufferPointer) {
        total &+= UInt64(new.count)
        guard limit > 0, new.count > 0 else { return }
        if new.count >= limit {
            bytes = Array(new.suffix(limit))
            return
        }
        bytes.append(contentsOf: new)
        if bytes.count > 2 * limit { bytes.removeFirst(bytes.count - limit) }
    }

    var text: String { String(decoding: bytes.suffix(limit), as: UTF8.self) }
}

/// Everything one run mutates, reached from Unicorn's C callbacks through `user_data`.
///
/// Hot paths (the block hook) touch only stored properties and a flat table, never a
/// dictionary or an allocation.
final class ExecutionState {
    let engine: OpaquePointer
    let part: Part
    let image: ELFImage
    let options: RunOptions

    /// Instructions so far. Kept behind `hotCounters` with `lastBlock`: the block hook updates
    /// them on every block, and stored `var`s of a class pay a dynamic exclusivity check on
    /// every access (docs/design.md#unicorn-facts).
    var instructions: UInt64 {
        get { hotCounters.pointee.instructions }
        set { hotCounters.pointee.instructions = newValue }
    }
    private let hotCounters: UnsafeMutablePointer<BlockCounters> = {
        let counters = UnsafeMutablePointer<BlockCounters>.allocate(capacity: 1)
        counters.initialize(to: BlockCounters())
        return counters
    }()
    private let budget: UInt64
    var stopReason: StopReason?
    var stdout: OutputTail
    var stderr: OutputTail
    /// Bytes of output so far, both streams; the run stops past `options.maxOutputBytes`.
    private(set) var outputBytes: UInt64 = 0
    var systemControl = SystemControlSpace()
    /// Per-block instruction counts and UsageFault classes, behind a pointer like
    /// `hotCounters` (no exclusivity check on the block hook's path).
    private let blockLengths: UnsafeMutablePointer<BlockInstructionCounts> = {
        let table = UnsafeMutablePointer<BlockInstructionCounts>.allocate(capacity: 1)
        table.initialize(to: BlockInstructionCounts())
        return table
    }()
    /// The Cortex-M7 cycle model (`--timing pipeline|full`); nil with `--timing off`. A `let`:
    /// the block hook reads it without an exclusivity check.
    let cycleModel: CycleModel?
    /// `cycleModel` for the block hook, without retain/release traffic (docs/design.md#unicorn-facts).
    let cycleModelReference: Unmanaged<CycleModel>?
    /// Records `RunResult.profile` when `options.profile` asks for one.
    let profiler: ProfileCollector?
    let profilerReference: Unmanaged<ProfileCollector>?
    var hooks: [uc_hook] = []  // CycleModelHookup adds divide hooks
    /// Lowest address the stack may use (`__stack_bottom` from the linker script), if known.
    let stackBottom: UInt32?
    /// The translated block that ran last. Unicorn reports memory faults with PC at the start
    /// of the block, so this is where the faulting instruction is searched for.
    private(set) var lastBlock: (address: UInt32, size: UInt32) {
        get { (hotCounters.pointee.lastBlockAddress, hotCounters.pointee.lastBlockSize) }
        set { hotCounters.pointee.lastBlockAddress = newValue.address; hotCounters.pointee.lastBlockSize = newValue.size }
    }
    /// Instructions with UsageFault code hooks, by address (`installGuards`).
    private var guardedInstructions: [UInt32: GuardedInstruction] = [:]
    /// Checks the block hook runs at blocks' entries (`BlockEntry.checkStart`).
    /// Behind a pointer like `hotCounters`: the block hook reads it on every checked block.
    private let entryChecks: UnsafeMutablePointer<FlatArray<GuardedInstruction>> = {
        let checks = UnsafeMutablePointer<FlatArray<GuardedInstruction>>.allocate(capacity: 1)
        checks.initialize(to: FlatArray(capacity: 64))
        return checks
    }()
    /// On a re-run that locates a memory fault: the block to trace instruction by instruction.
    private let tracedBlock: (address: UInt32, size: UInt32)?
    /// The last instruction that started inside `tracedBlock`.
    private var lastTracedInstruction: UInt32?

    init(engine: OpaquePointer, part: Part, image: ELFImage, options: RunOptions,
         tracing block: (address: UInt32, size: UInt32)? = nil) throws {
        self.engine = engine
        self.part = part
        self.image = image
        self.options = options
        self.tracedBlock = block
        self.budget = options.maxInstructions
        self.stackBottom = image.symbol(named: "__stack_bottom")?.address
        self.stdout = OutputTail(limit: options.outputTailBytes)
        self.stderr = OutputTail(limit: options.outputTailBytes)
        self.cycleModel = try Self.makeCycleModel(options: options, part: part)
        systemControl.cpuid = part.cpuid
        self.cycleModelReference = cycleModel.map { Unmanaged.passUnretained($0) }
        if let profile = options.profile {
            var profile = profile
            // The full model watches every data access already: counting them costs little.
            if options.timing == .full { profile.dataAccesses = true }
            self.profiler = try ProfileCollector(image: image, part: part, options: profile)
        } else {
            self.profiler = nil
        }
        self.profilerReference = profiler.map { Unmanaged.passUnretained($0) }
    }

    deinit {
        entryChecks.pointee.release()
        entryChecks.deinitialize(count: 1)
        entryChecks.deallocate()
        blockLengths.pointee.release()
        blockLengths.deinitialize(count: 1)
        blockLengths.deallocate()
        hotCounters.deallocate()
    }

    /// Bytes of the next blocks the block hook counts (`BlockCounters.blockSizeLimit`).
    var blockSizeLimit: UInt32 {
        get { hotCounters.pointee.blockSizeLimit }
        set { hotCounters.pointee.blockSizeLimit = newValue }
    }

    /// Core cycles so far: the cycle model's count, or one cycle per instruction with
    /// `--timing off`.
    var cycles: UInt64 { cycleModel?.cycles ?? instructions }

    // MARK: Set-up

    func installHooks() throws {
        updateActiveGuards(initial: true)  // CPACR at reset gives no FPU access; nothing is translated yet
        let context = Unmanaged.passUnretained(self).toOpaque()
        var handle: uc_hook = 0
        if let memoryHook = try installDataAccessHook() { hooks.append(memoryHook) }
        if options.countsInstructions {
            try check(mixq_uc_hook_block(engine, &handle, blockHook, context, 1, 0), "adding the block hook")
            hooks.append(handle)
        }
        try check(mixq_uc_hook_interrupt(engine, &handle, interruptHook, context), "adding the interrupt hook")
        hooks.append(handle)
        try check(mixq_uc_hook_invalid_memory(engine, &handle, invalidMemoryHook, context), "adding the memory-fault hook")
        hooks.append(handle)
        if let block = tracedBlock, block.size > 0 {
            // A code hook over one block only: costs nothing elsewhere.
            try check(mixq_uc_hook_code(engine, &handle, codeHook, context, UInt64(block.address),
                                        UInt64(block.address) + UInt64(block.size) - 1), "adding the fault-locating hook")
            hooks.append(handle)
        }
    }

    func mapSystemControlSpace() throws {
        let context = Unmanaged.passUnretained(self).toOpaque()
        try check(uc_mmio_map(engine, UInt64(SystemControlSpace.base), Int(SystemControlSpace.size),
                              systemControlRead, context, systemControlWrite, context),
                  "mapping the system control space")
    }

    func writeRegister(_ register: uc_arm_reg, _ value: UInt32) throws {
        var value = value
        try check(uc_reg_write(engine, Int32(register.rawValue), &value), "writing a register")
    }

    func readRegister(_ register: uc_arm_reg) -> UInt32 {
        var value: UInt32 = 0
        _ = uc_reg_read(engine, Int32(register.rawValue), &value)
        return value
    }

    private func check(_ err: uc_err, _ operation: String) throws {
        guard err == UC_ERR_OK else {
            throw EmulatorError.engine(operation: operation, message: String(cString: uc_strerror(err)))
        }
    }

    // MARK: Hooks

    @inline(__always)
    func enterBlock(address: UInt32, size: UInt32) {
        // A debug session (DebugSession.swift) may count only the first bytes of a block.
        let size = min(size, hotCounters.pointee.blockSizeLimit)
        lastBlock = (address, size)
        let entry = blockLengths.pointee.entry(address: address, size: size, engine: engine)
        let pending = entry.pointee.guards & hotCounters.pointee.activeGuards & ~entry.pointee.installed
        if pending != 0 {
            entry.pointee.installed |= pending
            // The block is about to run without checks its instructions need: add them, and
            // when that takes code hooks run it again from its first instruction (none of it
            // has executed yet).
            if installGuards(address: address, size: size, classes: pending, entry: entry) { return }
        }
        if entry.pointee.checkCount != 0 && runEntryChecks(entry) { return }
        if let profiler = profilerReference {
            let now = cycleModel?.cycles ?? instructions
            let executed = cycleModel?.instructions ?? instructions
            profiler._withUnsafeGuaranteedRef {
                $0.enterBlock(address: address, size: size, instructions: entry.pointee.count,
                              profileIndex: &entry.pointee.profileIndex, cycles: now, executed: executed,
                              model: cycleModel, engine: engine)
            }
        }
        if let model = cycleModelReference {
            instructions &+= UInt64(model._withUnsafeGuaranteedRef { timeBlock($0, address: address, size: size) })
        } else {
            instructions &+= UInt64(entry.pointee.count)
        }
        if instructions > budget {
            // Past the budget every block asks to stop again, so a stop that a later PC write
            // cancelled cannot let a run go on forever.
            if stopReason == nil { stopReason = .budgetExhausted(pc: address) }
            uc_emu_stop(engine)
        }
    }

    // MARK: UsageFaults Unicorn does not raise

    /// The `GuardClass`es the SCB registers make fault now: misaligned LDRD/LDM/LDREX/VLDR
    /// always; LDR/STR with CCR.UNALIGN_TRP (bit 3); SDIV/UDIV with CCR.DIV_0_TRP (bit 4);
    /// floating point while CPACR.CP10/CP11 (bits 23:20) are not both enabled (ARMv7-M ARM
    /// B3.2.8 CCR, B3.2.20 CPACR; 0b01, privileged access, counts as enabled: without an
    /// exception model MixQ's firmware always runs privileged).
    func updateActiveGuards(initial: Bool = false) {
        var active = GuardClass.alwaysAligned
        let ccr = systemControl.configurationControl
        if ccr & (1 << 3) != 0 { active |= GuardClass.trappedAlignment }
        if ccr & (1 << 4) != 0 { active |= GuardClass.division }
        let cpacr = systemControl.coprocessorAccess
        let cp10 = (cpacr >> 20) & 3, cp11 = (cpacr >> 22) & 3
        if cp10 == 0 || cp10 == 2 || cp11 == 0 || cp11 == 2 { active |= GuardClass.floatingPoint }
        let newlyActive = active & ~hotCounters.pointee.activeGuards
        hotCounters.pointee.activeGuards = active
        if newlyActive != 0 && !initial {
            // Blocks translated before the change run without the new checks until their next
            // translation; drop the translations of every region (code lives in no other
            // address; a whole-address-space flush costs ~30 ms in Unicorn 2.0.1) so the block
            // hook sees each block again.
            for region in part.regions {
                _ = mixq_uc_remove_translations(engine, UInt64(region.base), region.end)
            }
        }
    }

    /// Installs the checks for `classes` in the block. An instruction whose registers are known
    /// at the block's entry as "entry value + constant" (`ThumbGuardScanner`) is checked by the
    /// block hook itself, from the registers at entry: a few register reads per execution of
    /// the block. Any other gets one code hook (once for the whole run); then the block's
    /// translation is dropped and the block restarts, so the next translation calls it.
    /// Returns whether the block restarts. Blocks without such instructions pay nothing.
    private func installGuards(address: UInt32, size: UInt32, classes: UInt8, entry: UnsafeMutablePointer<BlockEntry>) -> Bool {
        guard size > 0 else { return false }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        guard bytes.withUnsafeMutableBytes({ uc_mem_read(engine, UInt64(address), $0.baseAddress, Int(size)) }) == UC_ERR_OK else {
            return false
        }
        var found: [GuardedInstruction] = []
        bytes.withUnsafeBytes { raw in
            _ = ThumbGuardScanner.scan(raw, address: address) { found.append($0) }
        }
        // The block's entry checks, for every class installed so far, replace its old ones.
        let installed = entry.pointee.installed
        let start = entryChecks.pointee.count
        for instruction in found where instruction.entryRelative && instruction.classes & installed != 0 {
            entryChecks.pointee.append(instruction)
        }
        entry.pointee.checkStart = Int32(start)
        entry.pointee.checkCount = Int32(entryChecks.pointee.count - start)
        var added = false
        let context = Unmanaged.passUnretained(self).toOpaque()
        for instruction in found where !instruction.entryRelative && instruction.classes & classes != 0
            && guardedInstructions[instruction.address] == nil {
            guardedInstructions[instruction.address] = instruction
            var handle: uc_hook = 0
            if mixq_uc_hook_code(engine, &handle, guardHook, context, UInt64(instruction.address),
                                 UInt64(instruction.address)) == UC_ERR_OK {
                hooks.append(handle)
                added = true
            }
        }
        guard added else { return false }
        _ = mixq_uc_remove_translations(engine, UInt64(address), UInt64(address) + UInt64(size))
        // A PC write from a hook ends the current translated block before its first instruction
        // and resumes there (docs/design.md#unicorn-facts), now through a fresh translation.
        return (try? writeRegister(UC_ARM_REG_PC, address | 1)) != nil
    }

    /// Called before each code-hooked guarded instruction executes: raises the UsageFault a
    /// Cortex-M7 would, with the instruction's PC and the address it touches.
    func checkGuard(at pc: UInt32) {
        guard stopReason == nil, let instruction = guardedInstructions[pc] else { return }
        let active = hotCounters.pointee.activeGuards & instruction.classes
        guard active != 0 else { return }
        if instruction.condition != GuardedInstruction.always,
           !ThumbGuardScanner.conditionPasses(instruction.condition, xpsr: readRegister(UC_ARM_REG_XPSR)) {
            return  // condition-failed inside an IT block: executes as a NOP, cannot fault
        }
        check(instruction, active: active,
              base: instruction.base == GuardedInstruction.none ? 0 : coreRegister(instruction.base) &+ UInt32(bitPattern: instruction.offset),
              index: instruction.index == GuardedInstruction.none ? 0 : coreRegister(instruction.index),
              divisor: instruction.divisor == GuardedInstruction.none ? 1 : coreRegister(instruction.divisor))
    }

    /// The block's entry checks, from the registers at entry. Returns whether one faulted (the
    /// run stops before any instruction of the block executes; the fault names the
    /// instruction, whose PC and address are exact).
    private func runEntryChecks(_ entry: UnsafeMutablePointer<BlockEntry>) -> Bool {
        let active = hotCounters.pointee.activeGuards
        let first = Int(entry.pointee.checkStart)
        for index in first..<(first + Int(entry.pointee.checkCount)) {
            let instruction = entryChecks.pointee.pointer + index
            let classes = instruction.pointee.classes & active
            guard classes != 0 else { continue }
            // An operand whose memory cannot be read now is left to the instruction itself
            // (its access then faults as a memory fault).
            guard let base = operandValue(instruction.pointee.baseOperand, absent: 0),
                  let offset = operandValue(instruction.pointee.indexOperand, absent: 0),
                  let divisor = operandValue(instruction.pointee.divisorOperand, absent: 1) else { continue }
            if check(instruction.pointee, active: classes, base: base, index: offset, divisor: divisor) { return true }
        }
        return false
    }

    /// The value of an `EntryOperand` now, at the block's entry; `absent` for an operand the
    /// instruction does not have, nil when a word it is loaded from is not in RAM or FLASH.
    @inline(__always)
    private func operandValue(_ operand: EntryOperand, absent: UInt32) -> UInt32? {
        guard operand.source != GuardedInstruction.none else { return absent }
        let value = (operand.source == EntryOperand.absolute ? 0 : coreRegister(operand.source)) &+ UInt32(bitPattern: operand.delta)
        guard operand.loaded else { return value }
        // Only memory regions: a read of the system control space would have side effects.
        guard let region = part.region(containing: value), region.contains(address: value, length: 4) else { return nil }
        var word: UInt32 = 0
        guard uc_mem_read(engine, UInt64(value), &word, 4) == UC_ERR_OK else { return nil }
        return UInt32(littleEndian: word) &+ UInt32(bitPattern: operand.extra)
    }

    /// Raises the UsageFault `instruction` takes with these operand values, if any.
    @discardableResult
    private func check(_ instruction: GuardedInstruction, active: UInt8, base: UInt32, index: UInt32, divisor: UInt32) -> Bool {
        if active & GuardClass.floatingPoint != 0 {
            stop(.usageFault(.noCoprocessor, instruction: instruction.mnemonic), pc: instruction.address, address: nil)
            return true
        }
        if active & (GuardClass.alwaysAligned | GuardClass.trappedAlignment) != 0, instruction.base != GuardedInstruction.none {
            let target = base &+ (instruction.index == GuardedInstruction.none ? 0 : index << UInt32(instruction.shift))
            if target % instruction.alignment != 0 {
                stop(.usageFault(.unaligned, instruction: instruction.mnemonic), pc: instruction.address, address: target)
                return true
            }
        }
        if active & GuardClass.division != 0, instruction.divisor != GuardedInstruction.none, divisor == 0 {
            stop(.usageFault(.divideByZero, instruction: instruction.mnemonic), pc: instruction.address, address: nil)
            return true
        }
        return false
    }

    /// R0-R12, SP, LR; PC reads as the instruction's address + 4 (ARMv7-M ARM A5.1.2).
    private func coreRegister(_ index: UInt8) -> UInt32 {
        switch index {
        case 0...12: return readRegister(uc_arm_reg(rawValue: UC_ARM_REG_R0.rawValue + UInt32(index)))
        case 13: return readRegister(UC_ARM_REG_SP)
        case 14: return readRegister(UC_ARM_REG_LR)
        default: return (readRegister(UC_ARM_REG_PC) & ~1) &+ 4
        }
    }

    func traceInstruction(at address: UInt32) {
        lastTracedInstruction = address
    }

    func interrupt(_ number: UInt32) {
        let pc = readRegister(UC_ARM_REG_PC) & ~1
        // Exception numbers are QEMU's (target/arm/cpu.h, the base of Unicorn 2): 1 UDEF,
        // 2 SWI (SVC), 7 BKPT, 17 NOCP, 18 INVSTATE, 22 UNALIGNED, 23 DIVBYZERO.
        switch number {
        case 7:
            let instruction = (try? readHalfword(pc)) ?? 0
            if instruction == 0xBEAB {
                serviceSemihosting(pc: pc)
            } else {
                stop(.breakpoint(immediate: UInt8(truncatingIfNeeded: instruction)), pc: pc, address: nil)
            }
        case 1:
            stop(.undefinedInstruction, pc: pc, address: nil)
        case 2:
            stop(.hardFault(reason: "SVC with no handler: MixQ does not model exceptions"), pc: pc, address: nil)
        case 17:
            stop(.usageFault(.noCoprocessor, instruction: "floating-point instruction"), pc: pc, address: nil)
        case 18:
            stop(.usageFault(.invalidState, instruction: ""), pc: pc, address: nil)
        case 22:
            stop(.usageFault(.unaligned, instruction: "access"), pc: pc, address: nil)
        case 23:
            stop(.usageFault(.divideByZero, instruction: "division"), pc: pc, address: nil)
        default:
            stop(.hardFault(reason: "CPU exception \(number)"), pc: pc, address: nil)
        }
    }

    func invalidMemory(type: uc_mem_type, address: UInt64, size: Int32) -> Bool {
        let pc = readRegister(UC_ARM_REG_PC) & ~1
        let target = UInt32(truncatingIfNeeded: address)
        let sp = readRegister(UC_ARM_REG_SP)
        let kind: FaultKind
        switch type {
        case UC_MEM_READ_UNMAPPED: kind = .unmappedRead
        case UC_MEM_WRITE_UNMAPPED: kind = .unmappedWrite
        case UC_MEM_FETCH_UNMAPPED: kind = .unmappedFetch
        case UC_MEM_WRITE_PROT: kind = .flashWrite
        case UC_MEM_FETCH_PROT: kind = .fetchFromNonExecutable
        default: kind = .unmappedRead
        }
        var classified = kind
        if kind == .unmappedRead || kind == .unmappedWrite, let stackBottom,
           target < stackBottom && (sp < stackBottom || stackBottom - target <= 4096) {
            classified = .stackOverflow
        }
        let faultPC = kind == .unmappedFetch ? target & ~1 : (lastTracedInstruction ?? pc)
        stop(classified, pc: faultPC, address: target)
        return false
    }

    func stop(_ kind: FaultKind, pc: UInt32, address: UInt32?) {
        guard stopReason == nil else { return }
        let fault = Fault(kind: kind, pc: pc, function: image.describe(address: pc),
                          address: address, region: address.flatMap { part.region(containing: $0)?.name },
                          pcRegion: part.region(containing: pc)?.name,
                          stackPointer: readRegister(UC_ARM_REG_SP))
        stopReason = .fault(fault)
        uc_emu_stop(engine)
    }

    func exit(status: Int32) {
        guard stopReason == nil else { return }
        stopReason = .exited(status: status)
        // Do not write PC here: a PC write cancels the pending stop (docs/design.md#unicorn-facts).
        uc_emu_stop(engine)
    }

    // MARK: Output

    /// Firmware output: echoed at once (`options.echoOutput`), its tail kept for `RunResult`,
    /// and counted against `options.maxOutputBytes`; past the limit only the bytes up to it are
    /// kept and the run stops.
    func emit(_ bytes: [UInt8], toStandardError: Bool) {
        bytes.withUnsafeBytes { emit($0, toStandardError: toStandardError) }
    }

    func emit(_ bytes: UnsafeRawBufferPointer, toStandardError: Bool) {
        guard !bytes.isEmpty, stopReason == nil else { return }
        let allowed = options.maxOutputBytes > outputBytes ? options.maxOutputBytes - outputBytes : 0
        let kept = UnsafeRawBufferPointer(rebasing: bytes.prefix(Int(min(UInt64(bytes.count), allowed))))
        outputBytes &+= UInt64(kept.count)
        if toStandardError { stderr.append(kept) } else { stdout.append(kept) }
        if options.echoOutput { ConsoleEcho.write(kept, toStandardError: toStandardError) }
        if kept.count < bytes.count {
            stopReason = .outputLimit(pc: readRegister(UC_ARM_REG_PC) & ~1)
            uc_emu_stop(engine)
        }
    }

    /// Emits `count` bytes of target memory at `address` in bounded chunks (a SYS_WRITE of a
    /// whole RAM region never becomes one host allocation of that size). Throws, writing
    /// nothing, when the range is not inside one memory region.
    func emitMemory(_ address: UInt32, count: Int, toStandardError: Bool) throws {
        guard count > 0 else { return }
        guard let region = part.region(containing: address), region.contains(address: address, length: UInt64(count)) else {
            throw EmulatorError.readOutsideMemory(address: address, count: count)
        }
        let chunk = 64 << 10
        var buffer = [UInt8](repeating: 0, count: min(count, chunk))
        var done = 0
        while done < count && stopReason == nil {
            let length = min(chunk, count - done)
            let err = buffer.withUnsafeMutableBytes { uc_mem_read(engine, UInt64(address) + UInt64(done), $0.baseAddress, length) }
            guard err == UC_ERR_OK else { throw EmulatorError.readOutsideMemory(address: address, count: count) }
            buffer.withUnsafeBytes { emit(UnsafeRawBufferPointer(rebasing: $0.prefix(length)), toStandardError: toStandardError) }
            done += length
        }
    }

    /// Drains what the firmware wrote to ITM stimulus port 0 into standard output, in order
    /// with semihosting output.
    func drainTraceOutput() {
        guard !systemControl.itmOutput.isEmpty else { return }
        let bytes = systemControl.itmOutput
        systemControl.itmOutput.removeAll(keepingCapacity: true)
        emit(bytes, toStandardError: false)
    }

    // MARK: Memory helpers for the semihosting service

    func readBytes(_ address: UInt32, count: Int) throws -> [UInt8] {
        guard count > 0 else { return [] }
        return try readTargetMemory(engine, part: part, at: address, count: count)
    }

    func readWord(_ address: UInt32) throws -> UInt32 {
        let b = try readBytes(address, count: 4)
        return UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
    }

    func readHalfword(_ address: UInt32) throws -> UInt16 {
        let b = try readBytes(address, count: 2)
        return UInt16(b[0]) | UInt16(b[1]) << 8
    }

    func writeBytes(_ address: UInt32, _ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        guard let region = part.region(containing: address),
              region.contains(address: address, length: UInt64(bytes.count)), region.kind != .flash else {
            throw EmulatorError.readOutsideMemory(address: address, count: bytes.count)
        }
        _ = bytes.withUnsafeBytes { uc_mem_write(engine, UInt64(address), $0.baseAddress, bytes.count) }
    }

    // MARK: Finishing

    /// The profile up to where the run stopped, for a run that ended in an error.
    func partialProfile() -> RunProfile? {
        profiler?.finish(cycles: cycles, instructions: cycleModel?.instructions ?? instructions, model: cycleModel)
    }

    func finish(engineStatus: uc_err, wallSeconds: Double) throws -> RunResult {
        for handle in hooks { uc_hook_del(engine, handle) }
        hooks.removeAll()
        drainTraceOutput()
        switch stopReason {
        case let .exited(status):
            var result = RunResult(exitStatus: status, stdout: stdout.text, stderr: stderr.text,
                                   stdoutBytes: stdout.total, stderrBytes: stderr.total,
                                   instructions: instructions, cycles: cycles, clockMHz: options.clockMHz,
                                   wallSeconds: wallSeconds)
            result.profile = profiler?.finish(cycles: cycles, instructions: cycleModel?.instructions ?? instructions,
                                              model: cycleModel)
            result.cacheUse = systemControl.cacheUse
            return result
        case let .outputLimit(pc):
            throw EmulatorError.outputLimitExceeded(limit: options.maxOutputBytes, pc: pc, function: image.describe(address: pc))
        case let .fault(fault):
            throw EmulatorError.fault(fault)
        case let .budgetExhausted(pc):
            throw EmulatorError.instructionBudgetExhausted(budget: budget, pc: pc, function: image.describe(address: pc))
        case nil:
            let pc = readRegister(UC_ARM_REG_PC) & ~1
            if engineStatus == UC_ERR_INSN_INVALID && readRegister(UC_ARM_REG_XPSR) & (1 << 24) == 0 {
                // The Thumb bit is clear: a BX/BLX/POP to an even address. A Cortex-M executes
                // Thumb only and raises UsageFault INVSTATE (ARMv7-M ARM B1.4.2), escalating to
                // HardFault without a handler; Unicorn reports it as an invalid instruction.
                throw EmulatorError.fault(Fault(kind: .usageFault(.invalidState, instruction: ""),
                                                pc: pc, function: image.describe(address: pc), address: nil, region: nil,
                                                pcRegion: part.region(containing: pc)?.name, stackPointer: readRegister(UC_ARM_REG_SP)))
            }
            if engineStatus == UC_ERR_INSN_INVALID {
                // Unicorn reports UDF and undecodable encodings this way, without a hook call.
                throw EmulatorError.fault(Fault(kind: .undefinedInstruction, pc: pc, function: image.describe(address: pc),
                                                address: nil, region: nil, pcRegion: part.region(containing: pc)?.name,
                                                stackPointer: readRegister(UC_ARM_REG_SP)))
            }
            if engineStatus != UC_ERR_OK {
                throw EmulatorError.fault(Fault(kind: .hardFault(reason: String(cString: uc_strerror(engineStatus))),
                                                pc: pc, function: image.describe(address: pc), address: nil,
                                                region: nil, pcRegion: part.region(containing: pc)?.name,
                                                stackPointer: readRegister(UC_ARM_REG_SP)))
            }
            throw EmulatorError.stoppedWithoutExit(pc: pc, function: image.describe(address: pc))
        }
    }
}

// MARK: - C callbacks

private func state(_ context: UnsafeMutableRawPointer?) -> Unmanaged<ExecutionState> {
    Unmanaged<ExecutionState>.fromOpaque(context!)
}

private let blockHook: mixq_block_callback = { _, address, size, context in
    state(context)._withUnsafeGuaranteedRef { $0.enterBlock(address: UInt32(truncatingIfNeeded: address), size: size) }
}

private let codeHook: mixq_code_callback = { _, address, _, context in
    state(context)._withUnsafeGuaranteedRef { $0.traceInstruction(at: UInt32(truncatingIfNeeded: address)) }
}

private let guardHook: mixq_code_callback = { _, address, _, context in
    state(context)._withUnsafeGuaranteedRef { $0.checkGuard(at: UInt32(truncatingIfNeeded: address)) }
}

private let interruptHook: mixq_interrupt_callback = { _, number, context in
    state(context)._withUnsafeGuaranteedRef { $0.interrupt(number) }
}

private let invalidMemoryHook: mixq_invalid_memory_callback = { _, type, address, size, _, context in
    state(context)._withUnsafeGuaranteedRef { $0.invalidMemory(type: type, address: address, size: size) }
}

private let systemControlRead: uc_cb_mmio_read_t = { _, offset, _, context in
    state(context)._withUnsafeGuaranteedRef { machine in
        let address = SystemControlSpace.base &+ UInt32(truncatingIfNeeded: offset)
        return UInt64(machine.systemControl.read(address, now: machine.cyclesAtPeripheralAccess))
    }
}

private let systemControlWrite: uc_cb_mmio_write_t = { _, offset, _, value, context in
    state(context)._withUnsafeGuaranteedRef { machine in
        let address = SystemControlSpace.base &+ UInt32(truncatingIfNeeded: offset)
        machine.systemControl.write(address, value: UInt32(truncatingIfNeeded: value), now: machine.cyclesAtPeripheralAccess)
        if address == SystemControlSpace.Address.itmStimulus0 { machine.drainTraceOutput() }
        if address >= SystemControlSpace.Address.configurationControl { machine.cacheControlWritten(at: address) }
        if address == SystemControlSpace.Address.configurationControl || address == SystemControlSpace.Address.coprocessorAccess {
            machine.updateActiveGuards()
        }
    }
}

/// What the block hook updates on every block, stored outside the class (see `instructions`).
struct BlockCounters {
    var instructions: UInt64 = 0
    var lastBlockAddress: UInt32 = 0
    var lastBlockSize: UInt32 = 0
    /// `GuardClass` bits checked under the current CCR and CPACR.
    var activeGuards: UInt8 = GuardClass.alwaysAligned
    /// Bytes of each block the block hook counts: all of them except in a debug session that
    /// stops inside the block (a breakpoint or a single step, DebugSession.swift).
    var blockSizeLimit: UInt32 = .max
}
