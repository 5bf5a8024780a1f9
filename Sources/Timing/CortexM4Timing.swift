/// The processor core a cycle model times.
public enum Core: String, Sendable, Hashable, CaseIterable, Codable {
    /// Dual issue, 6-stage (docs/design.md#cortex-m7-timing; `TimingParameters.cortexM7`).
    case cortexM7 = "cortex-m7"
    /// Single issue, 3-stage (`CortexM4Timing`).
    case cortexM4 = "cortex-m4"

    /// "Cortex-M7", as reports print it.
    public var displayName: String { self == .cortexM7 ? "Cortex-M7" : "Cortex-M4" }
}

/// The Cortex-M4's instruction timings (docs/design.md#other-parts): single issue, one
/// instruction per cycle except where the table below says otherwise, no branch prediction
/// (a taken branch refills the pipeline), zero-wait memory (the FLASH accelerator's hits).
///
/// Sources: Arm Cortex-M4 Technical Reference Manual r0p1 (Arm 100166_0001_00), section 3.3.1
/// "Table of processor instructions" (Table 3-1) and section 3.3.2 "Load/store timings"; the
/// same load/store rules are in the Cortex-M3 TRM (ARM DDI 0337E, section 18.2, Table 18.1);
/// FPU instructions: Cortex-M4 TRM section 7.2.3 "FPU instruction set" (Table 7-1). Every value
/// names its source and provenance like `TimingParameters` (the Cortex-M7 table).
public struct CortexM4Timing: Sendable {
    public enum Key: String, Sendable, CaseIterable {
        case loadCycles, pipelinedLoadStoreSaving, storeImmediateCycles, storeCycles
        case addressDependencyStall, refillCycles, loadToPCRefillCycles
        case divideCycles, fpArithmeticCycles, fpMultiplyAccumulateCycles, fpDivideCycles
        case artInstructionLines, artDataLines, artLineBytes
    }

    public struct Parameter: Sendable {
        public var key: Key
        public var value: Int
        public var source: String
        public var provenance: Provenance
    }

    public static let table: [Parameter] = [
        .init(key: .loadCycles, value: 2, source: "LDR/LDRB/LDRH/LDRSB/LDRSH and VLDR.32: 2 cycles (M4 TRM Table 3-1, Table 7-1)",
              provenance: .datasheet),
        .init(key: .pipelinedLoadStoreSaving, value: 1,
              source: "a load or store right after a load whose result it does not use for its address costs one cycle less; "
                  + "LDR R0,[R1]; LDR R1,[R2] is 3 cycles (M4 TRM 3.3.2; M3 TRM 18.2)", provenance: .datasheet),
        .init(key: .storeImmediateCycles, value: 1, source: "STR Rx,[Ry,#imm] is always one cycle (M4 TRM 3.3.2)",
              provenance: .datasheet),
        .init(key: .storeCycles, value: 2, source: "other single stores: 2 cycles (M4 TRM Table 3-1)", provenance: .datasheet),
        .init(key: .addressDependencyStall, value: 1,
              source: "a load or store whose address the data-processing instruction just before computed stalls one cycle: "
                  + "no forwarding path (M4 TRM 3.3.2)", provenance: .datasheet),
        .init(key: .refillCycles, value: 2,
              source: "pipeline refill P of a taken branch: 1 to 3 by target alignment and width (M4 TRM 3.3.1); "
                  + "'if branch taken, pipeline reloads (two cycles are added)' (M3 TRM Table 18.1); MixQ charges 2",
              provenance: .datasheet),
        .init(key: .loadToPCRefillCycles, value: 3,
              source: "LDR PC and TBB/TBH: at least three cycles for the pipeline reload after the load (M4 TRM 3.3.2)",
              provenance: .datasheet),
        .init(key: .divideCycles, value: 7,
              source: "SDIV/UDIV take 2 to 12 cycles, ending early by the operands' leading zeros and ones (M4 TRM Table 3-1); "
                  + "the operands are not known when a block is scheduled, so MixQ charges the middle of the range",
              provenance: .estimate),
        .init(key: .fpArithmeticCycles, value: 1, source: "VADD/VSUB/VMUL/VCMP/VCVT/VMOV .F32: 1 cycle (M4 TRM Table 7-1)",
              provenance: .datasheet),
        .init(key: .fpMultiplyAccumulateCycles, value: 3, source: "VMLA/VMLS/VNMLA/VFMA .F32: 3 cycles (M4 TRM Table 7-1)",
              provenance: .datasheet),
        .init(key: .fpDivideCycles, value: 14, source: "VDIV.F32 and VSQRT.F32: 14 cycles (M4 TRM Table 7-1)",
              provenance: .datasheet),
        // The STM32F4 ART accelerator on the FLASH interface (`full` only): RM0402 section 3.4
        // "Read interface" (the same design as RM0090 section 3.5.2: "64 cache lines of 128
        // bits on I-Code, 8 cache lines of 128 bits on D-Code", prefetch on I-Code, a 128-bit
        // FLASH read). The caches' organisation is not published: MixQ makes them fully
        // associative with LRU replacement (our estimate).
        .init(key: .artInstructionLines, value: 64, source: "ART instruction cache: 64 lines (RM0402 3.4; RM0090 3.5.2)",
              provenance: .datasheet),
        .init(key: .artDataLines, value: 8, source: "ART data cache: 8 lines (RM0402 3.4; RM0090 3.5.2)", provenance: .datasheet),
        .init(key: .artLineBytes, value: 16, source: "128-bit lines, the FLASH read width (RM0402 3.4)", provenance: .datasheet),
    ]

    public static let standard = CortexM4Timing()

    private let values: [Key: Int]

    public init() {
        values = Dictionary(uniqueKeysWithValues: Self.table.map { ($0.key, $0.value) })
    }

    public subscript(key: Key) -> Int { values[key] ?? 1 }

    /// The ART accelerator's instruction cache (fully associative: organisation not published).
    func artInstructionCache() -> CacheModel {
        CacheModel(bytes: self[.artInstructionLines] * self[.artLineBytes], ways: self[.artInstructionLines], lineBytes: self[.artLineBytes])
    }

    /// The ART accelerator's data cache.
    func artDataCache() -> CacheModel {
        CacheModel(bytes: self[.artDataLines] * self[.artLineBytes], ways: self[.artDataLines], lineBytes: self[.artLineBytes])
    }
}

/// Schedules a block on the Cortex-M4: a sum of per-instruction cycles with the load/store
/// pipelining and address-dependency rules of `CortexM4Timing`. A taken branch's refill is
/// added at run time, when the next block shows whether it was taken (`CycleModel`).
struct CortexM4Scheduler {
    let timing: CortexM4Timing

    func schedule(_ instructions: [InstructionProfile]) -> BlockSchedule {
        var cycle = 0
        var issueCycles: [Int] = []
        var previous: InstructionProfile?
        for p in instructions {
            issueCycles.append(cycle)
            cycle += cycles(of: p, after: previous)
            previous = p
        }
        let last = instructions.last
        return BlockSchedule(cost: cycle, costWhenPairedIn: cycle, endsWithFreeSlot: false, inputs: [], outputs: [],
                             issueCycles: issueCycles, instructionAddresses: instructions.map(\.address),
                             branch: last?.branch ?? .none, branchAddress: last?.address ?? 0, conditionSetEarly: true)
    }

    func cycles(of p: InstructionProfile, after previous: InstructionProfile?) -> Int {
        let mnemonic = p.mnemonic.lowercased()
        let isMemory = p.unit == .load || p.unit == .store
        var cost: Int
        switch p.unit {
        case .load:
            cost = p.transferWords > 0 ? 1 + Int(p.transferWords) : timing[.loadCycles]
        case .store:
            cost = p.transferWords > 0 ? 1 + Int(p.transferWords)
                : (p.hasIndexRegister ? timing[.storeCycles] : timing[.storeImmediateCycles])
        case .loadStoreMultiple:
            cost = 1 + Int(max(1, p.transferWords))
        case .divide:
            cost = timing[.divideCycles]
        case .fpMultiplyAccumulate:
            cost = timing[.fpMultiplyAccumulateCycles]
        case .fpArithmetic:
            cost = mnemonic.hasPrefix("vdiv") || mnemonic.hasPrefix("vsqrt") ? timing[.fpDivideCycles] : timing[.fpArithmeticCycles]
        default:
            cost = 1
        }
        // A load to PC (POP {..., pc}, LDR pc, TBB/TBH) waits for its data before refilling.
        if (p.unit == .load || p.unit == .loadStoreMultiple) && p.branch != .none {
            cost += timing[.loadToPCRefillCycles] - timing[.refillCycles]
        }
        if let previous {
            let addressRegisters = p.reads.filter { $0.role == .address }.map(\.register)
            if isMemory && p.transferWords == 0 && previous.unit == .load && previous.transferWords == 0 && previous.branch == .none
                && !previous.writes.contains(where: { addressRegisters.contains($0.register) }) {
                cost -= timing[.pipelinedLoadStoreSaving]
            }
            let computedByPrevious = [ExecutionUnit.alu, .dsp, .multiply].contains(previous.unit)
                && previous.writes.contains { addressRegisters.contains($0.register) }
            if (isMemory || p.unit == .loadStoreMultiple) && computedByPrevious {
                cost += timing[.addressDependencyStall]
            }
        }
        return max(1, cost)
    }
}
