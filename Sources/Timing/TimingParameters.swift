/// Where a number of the cycle model comes from.
public enum Provenance: String, Sendable, Codable {
    /// Measured by someone on an STM32H743 with DWT->CYCCNT (jnk0le/random, "pipeline cycle
    /// test", doc/cortex_m7.md, tested on an STM32H743 rev Y).
    case measured = "measured on hardware"
    /// Taken from a vendor document (RM0433, DS12110, Cortex-M7 TRM).
    case datasheet = "datasheet"
    /// Taken from LLVM's Cortex-M7 scheduling model (ARMScheduleM7.td, ARMLatencyMutations.cpp).
    case llvmModel = "LLVM scheduling model"
    /// Our estimate: no public measurement found; chosen to be plausible and documented.
    case estimate = "our estimate"
}

/// One number of the Cortex-M7 cycle model, with its source.
public struct TimingParameter: Sendable, Codable {
    /// Which parameter.
    public var key: TimingParameters.Key
    /// Cycles, bytes, ways or entries, as the key's name says.
    public var value: Int
    /// Where the value comes from.
    public var source: String
    /// Measured on hardware, from a datasheet or LLVM, or our estimate.
    public var provenance: Provenance
}

/// Every parameter of the cycle model, in ONE table (`TimingParameters.table`), each with its
/// source and whether it was measured on hardware or is our estimate.
///
/// Latencies follow one convention: a result of latency L is usable by an instruction that reads
/// it at the normal (late-ALU, EX2) stage L cycles after the producer issued. An operand read
/// early (addresses, inline-shifted operands) needs it one cycle sooner; store data one later.
public struct TimingParameters: Sendable {
    /// The names of the parameters (`table` documents each).
    public enum Key: String, Sendable, Codable, CaseIterable {
        case issueWidth
        case aluLatency
        case wordLoadLatency
        case subwordLoadLatency
        case multiplyLatency
        case accumulatorLatency
        case loadToMultiplyExtra
        case dspToAddressExtra
        case earlyReadCycles
        case lateStoreDataCycles
        case narrowStoreCycles
        case narrowStoreSameBankCycles
        case narrowStoreSameWordCycles
        case divideMinimumCycles
        case divideMaximumCycles
        case divideQuotientBitsPerCycle
        case loadStoreDualCycles
        case barrierCycles
        case mispredictPenalty
        case mispredictPenaltyEarlyFlags
        case earlyFlagsDistance
        case takenBranchPairsWithTarget
        case predictorEntries
        case returnStackEntries
        case indirectTargetEntries
        case fpArithmeticLatency
        case fpFusedLatency
        case fpChainedLatency
        case fpDivideCycles
        case fpSqrtCycles
        case fpDoubleMultiplyCycles
        case fpDoubleDivideCycles
        case fpLoadLatency
        case fpMoveLatency
        case unalignedLoadExtra
        case unalignedStoreCycles
        case storeBufferEntries
        case flashWaitStateCycles
        case flashWaitStates400MHz
        case flashWaitStates480MHz
        case axiRequestCycles
        case flashWordBytes
        case d2SramExtraCycles
        case cacheLineBytes
        case instructionCacheBytes
        case instructionCacheWays
        case dataCacheBytes
        case dataCacheWays
        case lineFillBeatCycles
        case criticalWordFirst
        case lineFillBuffers
        case flashStreamPrefetchLines
        case writeBackCycles
        case uncachedStoreCycles
    }

    // The table. Sources: [J] jnk0le/random "pipeline cycle test" doc/cortex_m7.md (STM32H743
    // measurements); [L] LLVM ARMScheduleM7.td; [D] docs/design.md#clocks-flash-and-caches and
    // #cortex-m7-timing, which summarise both with DS12110; [RM] RM0433 (STM32H7 reference
    // manual); [TRM] Cortex-M7 TRM DDI 0489 (r1p2, section 5.9 "L1 caches", 5.9.2 "Store
    // buffer"); [TRM4] Cortex-M4 TRM (Arm 100166, table 3-1) and Cortex-M3 TRM (DDI 0337, table 18-1).
    // Memory parameters and the microbenchmark that would pin each estimate on a board:
    // docs/timing.md, "Memory parameters".
    public static let table: [TimingParameter] = [
        .init(key: .issueWidth, value: 2, source: "[J][L] dual issue, IssueWidth = 2 (structural: BlockScheduler has an older and a younger slot)", provenance: .measured),
        .init(key: .aluLatency, value: 1, source: "[J][L] ALU result usable by the next cycle", provenance: .measured),
        .init(key: .wordLoadLatency, value: 1, source: "[J] word loads consumed by the late ALU in the next cycle", provenance: .measured),
        .init(key: .subwordLoadLatency, value: 2, source: "[J] byte/half loads: 1 extra cycle of result latency", provenance: .measured),
        .init(key: .multiplyLatency, value: 2, source: "[J] all multiplications and MACs have 1 additional cycle of result latency", provenance: .measured),
        .init(key: .accumulatorLatency, value: 1, source: "[J] MACs chain on the accumulator every cycle", provenance: .measured),
        .init(key: .loadToMultiplyExtra, value: 1, source: "[J] MACs can't consume an ldr result from the previous cycle", provenance: .measured),
        .init(key: .dspToAddressExtra, value: 1, source: "[J] bitfield/DSP result used as a load/store address: 1 extra cycle", provenance: .measured),
        .init(key: .earlyReadCycles, value: 1, source: "[J][D] addresses and inline-shifted/extracted operands are read one cycle early", provenance: .measured),
        .init(key: .lateStoreDataCycles, value: 1, source: "[J] a store can store any result in the same cycle", provenance: .measured),
        .init(key: .narrowStoreCycles, value: 2, source: "[J] stores: one strb/strh per cycle to alternating even/odd DTCM banks runs at 2 cycles per store (the store buffer does RMW, no merging)", provenance: .measured),
        .init(key: .narrowStoreSameBankCycles, value: 4, source: "[J] stores: one strb/strh per cycle to one DTCM bank runs at 4 cycles per store (applied to another word of the same bank; unit-stride strh, same word, stays at 2)", provenance: .measured),
        .init(key: .narrowStoreSameWordCycles, value: 3, source: "[J] stores: unit-stride strb runs at 2.4 cycles per store, unit-stride strh at 2 (two per word): the third and fourth narrow store into one word wait 3 cycles, so unit-stride strb costs 2 + 2 + 3 + 3 per word = 2.5 per store (4% over 2.4; the store buffer's read-modify-write of one word, jnk0le's explanation, fitted to his figure with integer cycles)", provenance: .measured),
        .init(key: .divideMinimumCycles, value: 2, source: "[TRM4] Cortex-M4 TRM (Arm 100166) table 3-1 and Cortex-M3 TRM (DDI 0337) table 18-1: SDIV/UDIV 2 to 12 cycles, 'division operations use early termination to minimize the number of cycles required based on the number of leading ones and zeroes in the input operands'; Arm publishes no Cortex-M7 figure (its TRM has no instruction timings), the M3/M4 divider's range is used; single issue, the pipeline waits for it", provenance: .datasheet),
        .init(key: .divideMaximumCycles, value: 12, source: "[TRM4] as divideMinimumCycles: the slowest divide (32 quotient bits)", provenance: .datasheet),
        .init(key: .divideQuotientBitsPerCycle, value: 3, source: "how early termination spends the range: cycles = 2 + floor(q / 3) with q = clz(|divisor|) - clz(|dividend|) + 1 quotient bits (0 when the divisor is larger), so 0-2 bits take 2 cycles and 32 bits take 12; the per-bit slope is our estimate (Arm's only published per-operand divide rule, Cortex-R4 TRM DDI 0363G C.8, retires 2 bits per cycle with a 3-cycle base); the end points and two operand pairs in between are run by firmware/bench/operand_rules.c", provenance: .estimate),
        .init(key: .loadStoreDualCycles, value: 1, source: "[J] LDRD/STRD: ceil(2/2) = 1 cycle, single issue", provenance: .measured),
        .init(key: .barrierCycles, value: 4, source: "DSB/DMB/ISB/MRS/MSR: single issue; the drain time is our estimate; plan: dsb after an uncached AXI SRAM store vs after a DTCM store, docs/timing.md", provenance: .estimate),
        .init(key: .mispredictPenalty, value: 8, source: "[J] misprediction penalty 8 cycles", provenance: .measured),
        .init(key: .mispredictPenaltyEarlyFlags, value: 6, source: "[J] 6 cycles when the flags were set 3+ cycles before the branch", provenance: .measured),
        .init(key: .earlyFlagsDistance, value: 3, source: "[J] flags set at least 3 cycles before the branch", provenance: .measured),
        .init(key: .takenBranchPairsWithTarget, value: 1, source: "[J] a predicted taken branch dual issues with one instruction at its target (alignment-sensitive)", provenance: .measured),
        .init(key: .predictorEntries, value: 4096, source: "per-PC 2-bit counters; Arm does not publish the M7 predictor's organisation; bounded by firmware/bench/operand_rules.c (a data-dependent forward branch costs between the 2-bit counter's minimum and one mispredict per branch) and timing_rules.c (an alternating branch mispredicts every time); the capacity has a board plan in docs/timing.md", provenance: .estimate),
        .init(key: .returnStackEntries, value: 4, source: "return-address prediction depth; not published; board plan in docs/timing.md (call chains of depth 1 to 8)", provenance: .estimate),
        .init(key: .indirectTargetEntries, value: 1024, source: "last-target table for indirect branches (BX rN, TBB, LDR pc); not published; board plan in docs/timing.md (a TBB switch cycling over k targets)", provenance: .estimate),
        .init(key: .fpArithmeticLatency, value: 3, source: "[J] vadd.f/vmul.f result latency 3; FP arithmetic never dual issues", provenance: .measured),
        .init(key: .fpFusedLatency, value: 5, source: "[J] vfma.f result latency 5 (3 as the next accumulator)", provenance: .measured),
        .init(key: .fpChainedLatency, value: 6, source: "[J] vmla.f result latency 6", provenance: .measured),
        .init(key: .fpDivideCycles, value: 16, source: "[J] vdiv.f 16 cycles, locks the pipeline", provenance: .measured),
        .init(key: .fpSqrtCycles, value: 14, source: "[J] vsqrt.f 14 cycles, locks the pipeline", provenance: .measured),
        .init(key: .fpDoubleMultiplyCycles, value: 5, source: "[J] vmul.d 5 cycles per instruction", provenance: .measured),
        .init(key: .fpDoubleDivideCycles, value: 30, source: "[J] vdiv.d 30 cycles", provenance: .measured),
        .init(key: .fpLoadLatency, value: 1, source: "[J] vldr.f 1 cycle of result latency (3 into a vfma accumulator)", provenance: .measured),
        .init(key: .fpMoveLatency, value: 3, source: "[J] vmov between core and FP registers: 3 cycles into the FPU, 1 into the ALU", provenance: .measured),
        .init(key: .unalignedLoadExtra, value: 3, source: "[J] unaligned loads +3 cycles as the older op (+4 younger); full model only", provenance: .measured),
        .init(key: .unalignedStoreCycles, value: 4, source: "[J] stores: unaligned stores run without stalls until the store buffer clogs (5 consecutive), then one unaligned store per cycle drains at 4 cycles per store; full model only", provenance: .measured),
        .init(key: .storeBufferEntries, value: 4, source: "[TRM] 5.9.2: the store buffer has four entries of up to 64 bits (jnk0le: the 5th consecutive unaligned store is the first to wait)", provenance: .datasheet),
        .init(key: .flashWaitStateCycles, value: 2, source: "[RM][D] FLASH on the AXI clock = core/2, so one wait state = 2 core cycles; a flash word read takes LATENCY + 1 AXI clocks (table 17: n WS = n + 1 FLASH clock cycles)", provenance: .datasheet),
        .init(key: .flashWaitStates400MHz, value: 2, source: "[RM] table 17: 2 wait states at 400 MHz (VOS1)", provenance: .datasheet),
        .init(key: .flashWaitStates480MHz, value: 4, source: "[RM] table 17: 4 wait states at 480 MHz (VOS0)", provenance: .datasheet),
        .init(key: .axiRequestCycles, value: 6, source: "core cycles from a miss leaving the M7 AXIM port to the slave and from its first beat back, slave access time excluded (AXI SRAM first word 6 + 2 = 8, FLASH 6 + 3 x 2 = 12 at 400 MHz, as before the split); no public figure: pin with the pointer-chase plan in docs/timing.md", provenance: .estimate),
        .init(key: .flashWordBytes, value: 32, source: "[RM] section 4 (embedded flash): reads by 256-bit flash words (+10 ECC bits; also bbs.21ic.com/icview-3248566), so one 32-byte cache line is one flash word read of LATENCY + 1 AXI clocks; FLASH_ACR holds only LATENCY and WRHIGHFREQ (RM0433 register map; the stm32h7 crate's ACR, generated from ST's SVD): no prefetch or ART on the H743", provenance: .datasheet),
        .init(key: .d2SramExtraCycles, value: 4, source: "D2 SRAM1-3 / D3 SRAM4 sit behind the AXI-to-AHB bridges ([RM] section 2.1 bus matrix): extra latency over AXI SRAM not published; pin with the pointer-chase plan in docs/timing.md", provenance: .estimate),
        .init(key: .cacheLineBytes, value: 32, source: "[TRM][D] 32-byte lines in both L1 caches", provenance: .datasheet),
        .init(key: .instructionCacheBytes, value: 16384, source: "[D] 16 KiB I-cache on STM32H743", provenance: .datasheet),
        .init(key: .instructionCacheWays, value: 2, source: "[TRM] I-cache 2-way", provenance: .datasheet),
        .init(key: .dataCacheBytes, value: 16384, source: "[D] 16 KiB D-cache on STM32H743", provenance: .datasheet),
        .init(key: .dataCacheWays, value: 4, source: "[TRM] D-cache 4-way", provenance: .datasheet),
        .init(key: .lineFillBeatCycles, value: 2, source: "[TRM][RM] the AXIM port is 64 bits wide; the D1 AXI matrix clock ACLK is at most 200 MHz in VOS1 and 240 MHz in VOS0 (RM0433 table 17, DS12110), i.e. core/2 at 400 and 480 MHz: one 64-bit beat per 2 core cycles, 4 beats per 32-byte line; the AXI SRAM is assumed to answer in one beat (RM0433 gives it no wait-state setting)", provenance: .datasheet),
        .init(key: .criticalWordFirst, value: 1, source: "[TRM] 5.9: linefill buffers fetch the requested doubleword first and return it without waiting for the line; later accesses to the line are served as their beats arrive (streaming); 1 = modelled", provenance: .datasheet),
        .init(key: .lineFillBuffers, value: 2, source: "[TRM] 5.9.2: a write-back write-allocate store miss starts a linefill in either of the two linefill buffers and its data is merged from the store buffer: the core waits only when no linefill buffer is free", provenance: .datasheet),
        .init(key: .flashStreamPrefetchLines, value: 2, source: "a sequential stream of FLASH lines (a D-cache miss on line L with L-1 cached; any I-cache miss in FLASH) keeps the next two lines read ahead, each in the linefill buffer free first, and the first use of a line read ahead moves the window one line on: the M7 keeps two linefills outstanding on AXIM ([TRM] 5.9.2: two linefill buffers) and each line is one 256-bit flash word read ([RM] section 4); the read-ahead depth is our estimate (no public H743 figure), bounded by firmware/bench/memory_rules.c flash_stream_* and icache_stream: a pure stream never beats the AXI bandwidth of 8 core cycles per line and a random read still pays the whole first-word latency; applies to the D-cache and to the I-cache; 0 = off", provenance: .estimate),
        .init(key: .writeBackCycles, value: 8, source: "evicting a dirty line: 4 beats x 2 core cycles ([TRM][RM] bus width and clock) charged as a stall; how much the M7 hides behind its eviction path is not published: pin with the dirty/clean thrash plan in docs/timing.md", provenance: .estimate),
        .init(key: .uncachedStoreCycles, value: 1, source: "uncached stores go through the 4-entry store buffer ([TRM] 5.9.2) and drain to AXIM; the per-store cost is not published: pin with the uncached store-stream plan in docs/timing.md", provenance: .estimate),
    ]

    private var values: [Int]

    /// The Cortex-M7 values of `table`.
    public static let cortexM7 = TimingParameters()

    private init() {
        var values = [Int](repeating: 0, count: Key.allCases.count)
        for entry in Self.table {
            if let index = Key.allCases.firstIndex(of: entry.key) { values[index] = entry.value }
        }
        self.values = values
    }

    /// These parameters with some values replaced: another part's memory system (its cache
    /// sizes, bus clock) on the same Cortex-M7 core. The part names the source of each value.
    public func replacing(_ overrides: [Key: Int]) -> TimingParameters {
        var copy = self
        for (key, value) in overrides {
            if let index = Key.allCases.firstIndex(of: key) { copy.values[index] = value }
        }
        return copy
    }

    /// The value of `key`.
    public subscript(key: Key) -> Int {
        values[Key.allCases.firstIndex(of: key) ?? 0]
    }

    /// FLASH wait states the STM32H743 needs at `clockMHz` (RM0433 table 17), or nil for an
    /// unsupported clock.
    public func flashWaitStates(clockMHz: Int) -> Int? {
        switch clockMHz {
        case 400: return self[.flashWaitStates400MHz]
        case 480: return self[.flashWaitStates480MHz]
        default: return nil
        }
    }
}
