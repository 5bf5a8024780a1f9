/// The execution resource an instruction occupies on the Cortex-M7 (docs/design.md#cortex-m7-timing:
/// two ALUs, two load pipes, one store pipe, one MAC, one branch unit, one FPU).
enum ExecutionUnit: UInt8, Sendable {
    case alu
    /// DSP, SIMD and bitfield instructions (`uxtb`, `uxtab`, `sxtb16`, `pkhbt`, `uadd8`, `qadd`,
    /// `clz`, `rev`, `ubfx`, `bfi`, `ssat`, ...): older slot only, never two in one cycle.
    case dsp
    case multiply
    case load
    case store
    case branch
    case divide
    case loadStoreMultiple
    case fpArithmetic
    case fpMultiplyAccumulate
    case fpMove
    case system
}

/// How an instruction reads one register; decides how early the value must be ready.
enum ReadRole: UInt8, Sendable {
    /// Read by the late ALU (EX2).
    case normal = 0
    /// Load/store address or index: read one cycle early by the AGU.
    case address = 1
    /// Inline-shifted, rotated or extracted operand: read one cycle early by the early ALU.
    case early = 2
    /// Multiplicand of a MAC (cannot take an `ldr` result of the previous cycle).
    case multiplicand = 3
    /// Accumulator of a MAC: read one stage after the late ALU.
    case accumulator = 4
    /// Store data: read late, after the address.
    case storeData = 5
    /// Accumulator of a floating-point multiply-accumulate.
    case fpAccumulator = 6

    static let count = 7
    /// Scoreboard entries per register (count rounded up to a power of two).
    static let slots = 8
}

/// What produced a register's value; a few producer/consumer pairs have extra latency.
enum ProducerKind: UInt8, Sendable {
    case alu = 0
    case load = 1
    case subwordLoad = 2
    case multiply = 3
    case dsp = 4
    case fpMultiplyAccumulate = 5
    case fpOther = 6

    static let count = 7
}

/// How a block may end, for the branch predictor.
enum BranchKind: UInt8, Sendable {
    case none = 0
    case conditional
    case direct
    case call
    case indirect
    case indirectCall
    case `return`
}

/// One register read: which register, how, and whether it is the first read in the block.
struct RegisterRead: Sendable {
    var register: UInt8
    var role: ReadRole
}

/// One register write and the cycles until a normal consumer may issue.
struct RegisterWrite: Sendable {
    var register: UInt8
    var latency: Int
    var producer: ProducerKind
}

/// Everything the scheduler needs to know about one decoded instruction.
struct InstructionProfile: Sendable {
    var address: UInt32
    var length: UInt8
    var mnemonic: String
    var unit: ExecutionUnit
    var reads: [RegisterRead] = []
    var writes: [RegisterWrite] = []
    /// Issues alone (LDM/STM, LDRD/STRD, TBB, MRS/MSR, barriers, divides, ...).
    var singleIssue = false
    /// Cycles the instruction holds the issue stage when it issues alone (LDM: ceil(n/2)).
    var issueCycles = 1
    /// Words a load/store multiple or dual transfers (LDM/STM/PUSH/POP/VLDM: the registers,
    /// PC included; LDRD/STRD/VLDR.64: 2); 0 for other instructions. The Cortex-M4 charges
    /// 1 + this (Cortex-M4 TRM section 3.3.1).
    var transferWords: UInt8 = 0
    /// Cycles the whole pipeline is locked after issue (VDIV, VSQRT).
    var lockCycles = 0
    /// Uses the early-ALU shifter (inline-shifted operand, bitfield/DSP extraction).
    var usesShifter = false
    /// Byte or halfword store (the store buffer drains them slowly).
    var narrowStore = false
    /// A byte store (STRB), a kind of `narrowStore`.
    var byteStore = false
    /// Double-precision or two-register FP transfer that never dual issues.
    var branch: BranchKind = .none
    /// Sets the APSR flags.
    var setsFlags = false
    /// The register a CBZ/CBNZ tests (its "flags").
    var comparedRegister: UInt8?
    /// Load/store addressing: base register and immediate offset, for DTCM bank pairing.
    var memoryBase: UInt8?
    var memoryOffset: Int32 = 0
    var hasIndexRegister = false
    /// What base write-back adds to the base register (pre-index: the offset; post-index: the
    /// immediate), nil without write-back or when it is a register; narrow-store bank tracking.
    var baseAdvance: Int32?
    /// The access address is the base before the write-back (post-indexed).
    var postIndexed = false
    /// A PC-relative word load (`ldr rX, =constant`): the literal's address.
    var literalAddress: UInt32?
    /// An immediate move: MOV/MOVW set the register, MOVT its top half.
    var immediate: (register: UInt8, value: UInt32, topHalf: Bool)?
    /// SDIV/UDIV: the dividend and divisor registers and whether the divide is signed (their
    /// values at run time set the divide's cycles, `DivideTiming`).
    var divide: DivideSite?

    var isLoad: Bool { unit == .load }
    var isStore: Bool { unit == .store }
    var isFloatingPointArithmetic: Bool { unit == .fpArithmetic || unit == .fpMultiplyAccumulate }
}

/// The dual-issue rules of the Cortex-M7 for two instructions in one cycle
/// (docs/design.md#cortex-m7-timing; jnk0le's STM32H743 measurements).
enum PairingRules {
    /// Whether `younger` may issue in the same cycle as, and after, `older`.
    static func canPair(older: InstructionProfile, younger: InstructionProfile) -> Bool {
        if older.singleIssue || younger.singleIssue { return false }
        // DSP/SIMD/bitfield: older slot only, never two per cycle.
        if younger.unit == .dsp { return false }
        // One shifter user per cycle.
        if older.usesShifter && younger.usesShifter { return false }
        // MACs pair neither with MACs nor with stores.
        if older.unit == .multiply && (younger.unit == .multiply || younger.unit == .store) { return false }
        if younger.unit == .multiply && older.unit == .store { return false }
        // Two stores never pair.
        if older.unit == .store && younger.unit == .store { return false }
        // Two loads pair only on different DTCM/cache banks (even/odd words).
        if older.unit == .load && younger.unit == .load && !differentBanks(older, younger) { return false }
        // One FP arithmetic instruction per cycle; FP MACs do not pair with FP loads/stores/moves.
        if older.isFloatingPointArithmetic && younger.isFloatingPointArithmetic { return false }
        if older.unit == .fpMultiplyAccumulate && (younger.unit == .fpMove || isFloatingPointTransfer(younger)) { return false }
        if younger.unit == .fpMultiplyAccumulate && (older.unit == .fpMove || isFloatingPointTransfer(older)) { return false }
        if older.unit == .fpMove && younger.unit == .fpMove { return false }
        // A taken branch ends the issue group; a not-taken branch pairs with what follows. The
        // block's static schedule assumes fall-through inside the block, so nothing to check.
        return true
    }

    /// Two loads are assumed to hit different banks unless they share a base register and their
    /// offsets are a multiple of 8 bytes apart (same even/odd word bank). Loads through different
    /// base registers are assumed to pair: the addresses are not known before run time (estimate).
    static func differentBanks(_ a: InstructionProfile, _ b: InstructionProfile) -> Bool {
        guard let baseA = a.memoryBase, let baseB = b.memoryBase, baseA == baseB,
              !a.hasIndexRegister, !b.hasIndexRegister else { return true }
        return ((a.memoryOffset - b.memoryOffset) >> 2) & 1 == 1
    }

    private static func isFloatingPointTransfer(_ p: InstructionProfile) -> Bool {
        (p.unit == .load || p.unit == .store) && p.reads.contains { $0.register >= RegisterIndex.firstFloatingPoint }
            || p.writes.contains { $0.register >= RegisterIndex.firstFloatingPoint && (p.unit == .load) }
    }
}

/// Compact register numbers used by the scheduler and the run-time scoreboard.
enum RegisterIndex {
    /// r0-r12, sp = 13, lr = 14, pc = 15.
    static let stackPointer: UInt8 = 13
    static let linkRegister: UInt8 = 14
    static let programCounter: UInt8 = 15
    /// APSR N, Z, C, V, Q, GE.
    static let flags: UInt8 = 16
    /// FPSCR (its NZCV reaches the APSR through VMRS).
    static let floatingPointStatus: UInt8 = 17
    /// s0-s31 at 18...49; d<n> is s<2n> and s<2n+1>.
    static let firstFloatingPoint: UInt8 = 18
    static let count = 50
}

/// One SDIV/UDIV instruction whose cycles depend on its operands: the run-time model reads
/// `dividend` and `divisor` just before it executes (a code hook on `address`).
public struct DivideSite: Sendable, Equatable {
    public var address: UInt32
    /// Register numbers (r0-r12 = 0-12, sp = 13, lr = 14).
    public var dividend: UInt8
    public var divisor: UInt8
    public var signed: Bool
}
