/// How an address range answers the core, for the `full` model.
public enum MemoryKind: UInt8, Sendable {
    /// ITCM/DTCM: zero wait states, never cached.
    case tcm
    /// Embedded FLASH behind AXI: wait states at the core clock, cached when enabled.
    case flash
    /// AXI SRAM (D1): behind the L1 D-cache.
    case axiSRAM
    /// D2/D3 SRAMs behind the AXI-to-AHB bridges.
    case busSRAM
    /// Peripherals and the system control space: never cached, not modelled.
    case peripheral
}

/// A range of the address space and how it answers, as the cycle model sees it.
public struct TimedRegion: Sendable {
    /// First address.
    public var base: UInt32
    /// Bytes.
    public var size: UInt32
    /// How the range answers.
    public var kind: MemoryKind

    public init(base: UInt32, size: UInt32, kind: MemoryKind) {
        self.base = base
        self.size = size
        self.kind = kind
    }
}

/// Counters the model keeps while it runs, for reports and validation.
public struct CycleStatistics: Sendable, Codable {
    /// Distinct translated blocks decoded and scheduled.
    public var blocksDecoded = 0
    /// Conditional, indirect and return branches whose prediction was checked.
    public var branchesResolved: UInt64 = 0
    /// Of those, mispredicted (each cost 6 or 8 cycles).
    public var mispredictions: UInt64 = 0
    /// Cycles the mispredictions cost.
    public var branchPenaltyCycles: UInt64 = 0
    /// Cycles blocks waited for operands produced by earlier blocks.
    public var dependencyStallCycles: UInt64 = 0
    /// I-cache misses (`full`, I-cache enabled).
    public var instructionCacheMisses: UInt64 = 0
    /// Code lines fetched from FLASH with the I-cache off (`full`): every execution of a block
    /// in FLASH fetches its lines again, so with the cache off this counts what
    /// `instructionCacheMisses` would otherwise show.
    public var uncachedFlashFetches: UInt64 = 0
    /// D-cache misses (`full`, D-cache enabled).
    public var dataCacheMisses: UInt64 = 0
    /// Data accesses outside TCM and the peripheral space (`full`).
    public var dataAccesses: UInt64 = 0
    /// Cycles added for fetches, data accesses and unaligned loads (`full`).
    public var memoryStallCycles: UInt64 = 0
    /// Decoded blocks forgotten because their code was written.
    public var codeInvalidations = 0
    /// FLASH lines read ahead for sequential streams (D-cache and I-cache, `full`).
    public var dataReadAheads: UInt64 = 0
    public var instructionReadAheads: UInt64 = 0
    /// SDIV/UDIV executions timed from their operands, and the cycles they took beyond the
    /// fastest divide.
    public var divides: UInt64 = 0
    public var divideCycles: UInt64 = 0
    /// Of `blocksDecoded`, blocks whose bytes matched a block decoded before at another address
    /// (or before an invalidation): their schedule was reused, not decoded and scheduled again.
    public var decodeCacheHits = 0
}

/// The Cortex-M7 cycle model at run time: one `enterBlock` per executed translated block.
///
/// A block is decoded with Capstone and scheduled the first time it runs (`BlockSchedule`);
/// afterwards each execution costs a flat-table lookup plus
/// `max(0, pending - needed)` over the block's inputs, the branch-prediction term of the
/// previous block's exit, and, in `full` mode, the I-cache lines the block is fetched from.
/// Data accesses reach `dataAccess` through a memory hook in `full` mode only.
///
/// Nothing on the hot path allocates or touches a dictionary (docs/design.md#unicorn-facts).
public final class CycleModel {
    /// `.pipeline` or `.full`.
    public let mode: TimingMode
    /// The core timed: the Cortex-M7 (dual issue, this file) or the Cortex-M4 (single issue,
    /// CortexM4Timing.swift; `pipeline` only).
    public let core: Core
    /// The numbers the model uses (`TimingParameters.table`).
    public let parameters: TimingParameters
    /// Core clock; sets `flashWaitStates`.
    public let clockMHz: Int
    /// FLASH wait states at `clockMHz` (RM0433 table 17).
    public let flashWaitStates: Int

    /// Core cycles so far, including every block entered (the current one in full).
    public var cycles: UInt64 { state.pointee.cycles }
    /// Instructions so far (condition-failed instructions in IT blocks included).
    public var instructions: UInt64 { state.pointee.instructions }
    public var statistics: CycleStatistics { state.pointee.statistics }
    /// Cycles lost so far to operand stalls between blocks, mispredicted branches and (in
    /// `full`) the memory system: what a profiler samples at every block.
    @inline(__always)
    public var stallCycles: UInt64 {
        state.pointee.statistics.dependencyStallCycles &+ state.pointee.statistics.branchPenaltyCycles
            &+ state.pointee.statistics.memoryStallCycles
    }
    /// I-cache plus D-cache misses so far (`full`), sampled like `stallCycles`.
    @inline(__always)
    public var cacheMisses: (instruction: UInt64, data: UInt64) {
        (state.pointee.statistics.instructionCacheMisses, state.pointee.statistics.dataCacheMisses)
    }
    /// Whether one-block loops use the steady-state shortcut (on; tests compare both ways).
    var steadyLoopsEnabled: Bool {
        get { state.pointee.steadyLoopsEnabled }
        set { state.pointee.steadyLoopsEnabled = newValue }
    }

    /// Everything the hot path mutates, behind one pointer: stored `var`s of a class would pay
    /// a dynamic exclusivity check on every access (docs/design.md#unicorn-facts).
    private let state: UnsafeMutablePointer<RunningState>

    // Decoding (cold path).
    private let decoder: InstructionDecoder
    private let scheduler: BlockScheduler
    private let singleIssueScheduler: CortexM4Scheduler
    /// The Cortex-M4's pipeline refill after a taken branch.
    private let refillCycles: Int64
    /// What a FLASH read the ART does not hold adds on the Cortex-M4: the wait states.
    private let flashStall: Int64
    /// Decoded blocks by their bytes, addresses made relative to the block's start: code that
    /// is never the same twice in address but often in content (zero-filled FLASH that fuzzed
    /// or runaway firmware runs through, unrolled copies, inlined helpers) is decoded with
    /// Capstone and scheduled once. A block is decoded from its first byte outside any IT
    /// block (`InstructionDecoder.decode`), so its bytes alone determine the result.
    private var decodeCache: [[UInt8]: DecodedBlock] = [:]
    private var decodeCacheBytes = 0
    /// Bounds of the cache; past either it starts again empty.
    private static let decodeCacheMaximumBytes = 16 << 20
    private static let decodeCacheMaximumEntries = 65_536
    /// Whether `decodeCache` is used (on; tests compare both ways).
    var decodeCacheEnabled = true
    /// SDIV/UDIV instructions seen so far by address, and those not yet handed to the caller
    /// (`takeNewDivideSites`), whose code hook reports their operands (`divide(at:...)`).
    private var divideSites: [UInt32: DivideSite] = [:]
    private var newDivideSites: [DivideSite] = []
    /// Divide timing (Cortex-M7): the schedule's cycles, the slowest divide, quotient bits per cycle.
    private let divideMinimum: Int
    private let divideMaximum: Int
    private let divideBitsPerCycle: Int

    private static let empty = UInt64.max
    /// Inputs/outputs per unrolled group, and the scoreboard entries padding uses.
    private static let group = 4
    private static let paddingRead = UInt8(RegisterIndex.count)
    private static let paddingWrite = UInt8(RegisterIndex.count + 1)
    private static let removed = UInt64.max - 1

    // Scoreboard: per register, the absolute cycle a normal consumer may issue, and the read
    // delays of its producer for every `ReadRole` as 4-bit fields (delay + 8): two independent
    // loads per input and two stores per result on the hot path.
    private let readyAt: UnsafeMutablePointer<Int64>
    private let delayFields: UnsafeMutablePointer<UInt32>
    /// Read delays, producer-major, `ReadRole.slots` per producer.
    private let readDelay: UnsafeMutablePointer<Int64>

    // Branch prediction.
    private let counters: UnsafeMutablePointer<UInt8>
    private let counterMask: Int
    private let targets: UnsafeMutablePointer<UInt32>
    private let targetMask: Int
    private let returnStack: UnsafeMutablePointer<UInt32>
    private let returnStackMask: Int
    private let mispredictPenalty: Int64
    private let mispredictPenaltyEarly: Int64

    // Memory system (`full`).
    /// Per 64 KiB of address space: regions of some parts share a MiB (the STM32F746's DTCM and
    /// SRAM1 both start in 0x200xxxxx).
    private let regionKinds: UnsafeMutablePointer<UInt8>
    /// Per MemoryKind: cycles until the whole 32-byte line has arrived (first word + 3 beats).
    private let lineFill: UnsafeMutablePointer<Int64>
    /// Per MemoryKind: cycles until the first (requested) doubleword arrives: an uncached read,
    /// or the stall of a critical-word-first line fill.
    private let uncachedRead: UnsafeMutablePointer<Int64>
    /// Core cycles per 64-bit AXI beat, and the beats of one line.
    private let beatCycles: Int64
    private let beatsPerLine: Int64
    /// Critical word first and streaming (Cortex-M7 TRM 5.9); off: every miss waits for the line.
    private let criticalWordFirst: Bool
    private let writeBack: Int64
    /// Narrow-store spacing across blocks: any two, and the 3rd/4th unit-stride `strb` of a word.
    private let narrowStoreGap: Int64
    private let narrowStoreSameWordGap: Int64
    /// Sequential FLASH streams read lines ahead (`flashStreamPrefetchLines`, 0 = off).
    private let flashPrefetch: Bool
    private let flashPrefetchLines: Int
    private let uncachedStore: Int64
    private let unalignedLoad: Int64
    /// Unaligned stores: drain cycles each, and how many the store buffer holds before the core
    /// waits (jnk0le; Cortex-M7 TRM 5.9.2).
    private let unalignedStoreDrain: Int64
    private let storeBufferEntries: Int64
    /// The first two TCM regions (base, size; size 0 = none), for the load fast path.
    private let tcmBase: (UInt32, UInt32)
    private let tcmSize: (UInt32, UInt32)
    /// Pages (4 KiB) holding decoded code, for invalidation on writes.
    private let codePages: UnsafeMutablePointer<UInt8>
    private var codeBuffer: UnsafeMutableRawPointer
    private var codeBufferSize = 4096

    /// - Parameters:
    ///   - mode: `.pipeline` or `.full` (`.off` needs no model).
    ///   - clockMHz: 400 or 480; sets the FLASH wait states.
    ///   - regions: how each address range answers (used by `full`).
    ///   - flashWaitStates: the part's FLASH wait states at `clockMHz` (default: the
    ///     STM32H743's, from `parameters`).
    public init(mode: TimingMode, clockMHz: Int, regions: [TimedRegion], parameters: TimingParameters = .cortexM7,
                core: Core = .cortexM7, flashWaitStates: Int? = nil) throws {
        self.mode = mode
        self.core = core
        singleIssueScheduler = CortexM4Scheduler(timing: .standard)
        refillCycles = Int64(CortexM4Timing.standard[.refillCycles])
        self.parameters = parameters
        self.clockMHz = clockMHz
        self.flashWaitStates = flashWaitStates ?? parameters.flashWaitStates(clockMHz: clockMHz) ?? parameters[.flashWaitStates400MHz]
        flashStall = Int64(self.flashWaitStates * parameters[.flashWaitStateCycles])
        decoder = try InstructionDecoder(parameters: parameters)
        divideMinimum = parameters[.divideMinimumCycles]
        divideMaximum = parameters[.divideMaximumCycles]
        divideBitsPerCycle = max(1, parameters[.divideQuotientBitsPerCycle])
        scheduler = BlockScheduler(parameters: parameters)


        // Two extra entries: padding inputs read `paddingRead` (never written, always old),
        // padding outputs write `paddingWrite` (never read).
        readyAt = .allocate(capacity: RegisterIndex.count + 2)
        // At reset every register is long since ready (early reads must not stall at cycle 0).
        readyAt.initialize(repeating: -1_000_000, count: RegisterIndex.count + 2)
        delayFields = .allocate(capacity: RegisterIndex.count + 2)
        delayFields.initialize(repeating: 0x8888_8888, count: RegisterIndex.count + 2)
        let table = ReadDelayTable(parameters: parameters)
        readDelay = .allocate(capacity: ProducerKind.count * ReadRole.slots)
        readDelay.initialize(repeating: 0, count: ProducerKind.count * ReadRole.slots)
        for producer in 0..<ProducerKind.count {
            for role in 0..<ReadRole.count {
                readDelay[producer * ReadRole.slots + role] = Int64(
                    table[ProducerKind(rawValue: UInt8(producer))!, ReadRole(rawValue: UInt8(role))!])
            }
        }

        let entries = max(16, parameters[.predictorEntries]).nextPowerOfTwo
        counterMask = entries - 1
        counters = .allocate(capacity: entries)
        counters.initialize(repeating: 1, count: entries)  // weakly not taken
        let targetEntries = max(16, parameters[.indirectTargetEntries]).nextPowerOfTwo
        targetMask = targetEntries - 1
        targets = .allocate(capacity: targetEntries)
        targets.initialize(repeating: 0, count: targetEntries)
        let depth = max(1, parameters[.returnStackEntries]).nextPowerOfTwo
        returnStackMask = depth - 1
        returnStack = .allocate(capacity: depth)
        returnStack.initialize(repeating: 0, count: depth)
        mispredictPenalty = Int64(parameters[.mispredictPenalty])
        mispredictPenaltyEarly = Int64(parameters[.mispredictPenaltyEarlyFlags])

        let line = parameters[.cacheLineBytes]
        state = .allocate(capacity: 1)
        state.initialize(to: RunningState(
            instructionCache: core == .cortexM4 ? CortexM4Timing.standard.artInstructionCache()
                : CacheModel(bytes: parameters[.instructionCacheBytes], ways: parameters[.instructionCacheWays], lineBytes: line),
            dataCache: core == .cortexM4 ? CortexM4Timing.standard.artDataCache()
                : CacheModel(bytes: parameters[.dataCacheBytes], ways: parameters[.dataCacheWays], lineBytes: line)))
        let tcms = regions.filter { $0.kind == .tcm && $0.size > 0 }
        tcmBase = (tcms.first?.base ?? 0, tcms.dropFirst().first?.base ?? 0)
        tcmSize = (tcms.first?.size ?? 0, tcms.dropFirst().first?.size ?? 0)
        regionKinds = .allocate(capacity: 1 << 16)
        regionKinds.initialize(repeating: MemoryKind.peripheral.rawValue, count: 1 << 16)
        for region in regions where region.size > 0 {
            let first = Int(region.base >> 16)
            let last = Int((UInt64(region.base) + UInt64(region.size) - 1) >> 16)
            for page in first...min(last, (1 << 16) - 1) { regionKinds[page] = region.kind.rawValue }
        }
        // First-word latency and whole-line time per MemoryKind (docs/timing.md, "Memory
        // parameters"): a request crosses the AXI matrix (axiRequestCycles), the slave answers
        // (AXI SRAM: one beat; FLASH: one 256-bit flash word read of LATENCY + 1 AXI clocks,
        // which is the whole 32-byte line), then the line's doublewords follow one per beat.
        let request = Int64(parameters[.axiRequestCycles])
        beatCycles = Int64(parameters[.lineFillBeatCycles])
        beatsPerLine = Int64(max(1, line / 8))
        let flashWordsPerLine = Int64(max(1, line / max(1, parameters[.flashWordBytes])))
        let flashRead = Int64(self.flashWaitStates + 1) * Int64(parameters[.flashWaitStateCycles])
        let bus = Int64(parameters[.d2SramExtraCycles])
        let rest = (beatsPerLine - 1) * beatCycles
        // Further flash words of a longer line are read while the beats of the first go out.
        let flashRest = max(rest, (flashWordsPerLine - 1) * flashRead)
        criticalWordFirst = parameters[.criticalWordFirst] != 0
        lineFill = .allocate(capacity: 5)
        uncachedRead = .allocate(capacity: 5)
        let reads: [Int64] = [0, request + flashRead, request + beatCycles, request + beatCycles + bus, 0]
        let fills: [Int64] = [0, reads[1] + flashRest, reads[2] + rest, reads[3] + rest, 0]
        for index in 0..<5 {
            (lineFill + index).initialize(to: fills[index])
            (uncachedRead + index).initialize(to: reads[index])
        }
        state.pointee.fillBuffers = max(1, min(parameters[.lineFillBuffers], RunningState.maximumFillBuffers))
        writeBack = Int64(parameters[.writeBackCycles])
        narrowStoreGap = Int64(parameters[.narrowStoreCycles])
        narrowStoreSameWordGap = Int64(parameters[.narrowStoreSameWordCycles])
        flashPrefetch = parameters[.flashStreamPrefetchLines] > 0 && parameters[.criticalWordFirst] != 0
        flashPrefetchLines = max(0, parameters[.flashStreamPrefetchLines])
        uncachedStore = Int64(parameters[.uncachedStoreCycles])
        unalignedLoad = Int64(parameters[.unalignedLoadExtra])
        unalignedStoreDrain = Int64(parameters[.unalignedStoreCycles])
        storeBufferEntries = Int64(parameters[.storeBufferEntries])
        codePages = .allocate(capacity: 1 << 20)
        codePages.initialize(repeating: 0, count: 1 << 20)
        codeBuffer = .allocate(byteCount: codeBufferSize, alignment: 8)
    }

    deinit {
        state.pointee.release()
        state.deinitialize(count: 1)
        state.deallocate()
        readyAt.deallocate(); delayFields.deallocate(); readDelay.deallocate()
        counters.deallocate(); targets.deallocate(); returnStack.deallocate()
        regionKinds.deallocate(); lineFill.deallocate(); uncachedRead.deallocate()
        codePages.deallocate(); codeBuffer.deallocate()
    }

    // MARK: The block hook

    /// Accounts one execution of the translated block at `address` (`size` bytes) and returns
    /// how many instructions it holds. `readCode` fills a buffer with the block's bytes; it is
    /// called only the first time a block is seen.
    public func enterBlock(address: UInt32, size: UInt32,
                           readCode: (_ address: UInt32, _ size: Int, _ into: UnsafeMutableRawPointer) -> Bool) -> UInt32 {
        if core == .cortexM4 { return enterSingleIssueBlock(address: address, size: size, readCode: readCode) }
        // A block that repeats itself (a one-block loop) needs no table lookup.
        let previousIndex = state.pointee.previous
        var index: Int32
        if previousIndex >= 0, state.pointee.records.pointer[Int(previousIndex)].address == address,
           state.pointee.records.pointer[Int(previousIndex)].size == size {
            index = previousIndex
        } else {
            index = lookup(address: address, size: size)
            if index < 0 { index = learn(address: address, size: size, readCode: readCode) }
        }
        let block = state.pointee.records.pointer + Int(index)

        let entered = Int64(bitPattern: state.pointee.cycles)
        var now = entered
        var pairedIn = false
        // Branch term: how the previous block was left.
        if state.pointee.previous >= 0 {
            let last = state.pointee.records.pointer + Int(state.pointee.previous)
            let kind = last.pointee.branch
            // An if-chain, most frequent case first: cheaper on the host than a jump table.
            if kind == .conditional {
                let taken = address != last.pointee.fallThrough
                let slot = Int(last.pointee.branchAddress >> 1) & counterMask
                let counter = counters[slot]
                let predictedTaken = counter >= 2
                counters[slot] = taken ? min(counter + 1, 3) : (counter == 0 ? 0 : counter - 1)
                state.pointee.statistics.branchesResolved &+= 1
                if predictedTaken != taken {
                    state.pointee.statistics.mispredictions &+= 1
                    let penalty = last.pointee.conditionSetEarly ? mispredictPenaltyEarly : mispredictPenalty
                    state.pointee.statistics.branchPenaltyCycles &+= UInt64(penalty)
                    now &+= penalty
                } else {
                    pairedIn = last.pointee.endsWithFreeSlot
                }
            } else if kind.rawValue <= BranchKind.call.rawValue {
                // Fall-through split, direct branch or call: always predicted (BTAC).
                if kind == .call { pushReturn(last.pointee.fallThrough) }
                pairedIn = last.pointee.endsWithFreeSlot
            } else if kind == .return {
                state.pointee.statistics.branchesResolved &+= 1
                if popReturn() != address {
                    state.pointee.statistics.mispredictions &+= 1
                    state.pointee.statistics.branchPenaltyCycles &+= UInt64(mispredictPenalty)
                    now &+= mispredictPenalty
                } else {
                    pairedIn = last.pointee.endsWithFreeSlot
                }
            } else {
                if kind == .indirectCall { pushReturn(last.pointee.fallThrough) }
                let slot = Int(last.pointee.branchAddress >> 1) & targetMask
                state.pointee.statistics.branchesResolved &+= 1
                if targets[slot] != address {
                    targets[slot] = address
                    state.pointee.statistics.mispredictions &+= 1
                    state.pointee.statistics.branchPenaltyCycles &+= UInt64(mispredictPenalty)
                    now &+= mispredictPenalty
                } else {
                    pairedIn = last.pointee.endsWithFreeSlot
                }
            }
        }
        state.pointee.previous = index

        let predicted = now == entered
        // Fetch (full): FLASH/AXI code goes through the I-cache, TCM code is zero-wait.
        var fetch: Int64 = 0
        if mode == .full {
            let uncached = Int64(block.pointee.uncachedFetch)
            if uncached > 0 {
                if state.pointee.instructionCacheOn {
                    fetch = fetchCost(address: address, size: size, kind: Int(regionKinds[Int(address >> 16)]), at: now,
                                      blockCycles: Int64(block.pointee.cost))
                } else {
                    fetch = uncached
                    state.pointee.statistics.memoryStallCycles &+= UInt64(uncached)
                    state.pointee.statistics.uncachedFlashFetches &+= UInt64(block.pointee.flashLines)
                }
                now &+= fetch
            }
        }
        // The steady state below holds only while every iteration is timed alike: no
        // mispredict, the same fetch cost, no data stall in the previous iteration.
        let alike = predicted && fetch == state.pointee.lastFetch && !state.pointee.dataStalled
        state.pointee.lastFetch = fetch
        state.pointee.dataStalled = false

        // One-block loops reach a steady state: from the third iteration on, every input is
        // either written by the previous iteration (same timing every time) or long ready, so
        // the stall repeats. Once two consecutive iterations stalled alike, the loop runs in
        // "steady" mode: the stall is reused and the outputs are written only when the loop is
        // left (with the last iteration's end), which is exact and skips both loops below.
        if index == previousIndex && alike {
            state.pointee.repeats &+= 1
        } else {
            if state.pointee.steadyLoop {
                writeOutputs(of: state.pointee.records.pointer + Int(previousIndex), end: state.pointee.previousEnd)
                state.pointee.steadyLoop = false
            }
            state.pointee.repeats = 0
        }
        // In the steady state the stall of the previous iteration repeats and the outputs are
        // written only when the loop is left; otherwise compute both from the pending operands.
        let steady = state.pointee.steadyLoop
        var stall: Int64 = 0
        if steady {
            stall = state.pointee.steadyStall
        } else {
            // Operands still pending from earlier blocks.
            // Inputs and outputs are padded to groups of `Self.group`, so the loops below run a
            // fixed number of times and unroll: variable trip counts cost more in host branch
            // mispredictions than the work itself.
            var input = state.pointee.inputs.pointer + Int(block.pointee.inputStart)
            for _ in 0..<Int(block.pointee.inputGroups) {
                for k in 0..<Self.group {
                    let r = Int(input[k].register)
                    let delay = Int64((delayFields[r] >> UInt32(input[k].shift)) & 0xF) &- 8
                    let wait = readyAt[r] &+ delay &- (now &+ Int64(input[k].needed))
                    stall = max(stall, wait)
                }
                input += Self.group
            }
            if block.pointee.firstNarrow >= 0 {
                // The store buffer spaces narrow stores across blocks as within one.
                var gap = narrowStoreGap
                if block.pointee.unitStrideBytes != 0 && state.pointee.unitStrideRun & 3 >= 2 { gap = narrowStoreSameWordGap }
                let earliest = state.pointee.lastNarrowStore &+ gap
                // A block that would pair in issues its first instruction a cycle early: a narrow
                // store there must not come too soon after the last one.
                if pairedIn && block.pointee.firstNarrow == 0 && earliest > now &- 1 {
                    pairedIn = false
                    state.pointee.dataStalled = true
                }
                stall = max(stall, earliest &- (now &+ Int64(block.pointee.firstNarrow)))
            }
            if state.pointee.repeats >= 2 && state.pointee.steadyLoopsEnabled {
                if stall == state.pointee.steadyStall { state.pointee.steadyLoop = true }
                state.pointee.steadyStall = stall
            } else {
                state.pointee.steadyStall = Int64.min
            }
        }
        if stall > 0 {
            now &+= stall
            state.pointee.statistics.dependencyStallCycles &+= UInt64(stall)
            pairedIn = false
        }
        let cost = Int64(pairedIn ? block.pointee.costWhenPairedIn : block.pointee.cost)
        // Paired in, the first instruction took the previous cycle's younger slot; in-block
        // probes stay relative to the cycle after it.
        state.pointee.blockStart = UInt64(bitPattern: now)
        now &+= cost
        if !steady { writeOutputs(of: block, end: now) }
        if block.pointee.firstNarrow >= 0 {
            state.pointee.lastNarrowStore = now &+ Int64(block.pointee.narrowTail)
            if block.pointee.unitStrideBytes != 0 {
                state.pointee.unitStrideRun &+= Int(block.pointee.unitStrideBytes)
                // The run's position in the word changes the spacing: not a steady state.
                state.pointee.dataStalled = true
            } else {
                state.pointee.unitStrideRun = 0
            }
        }
        state.pointee.previousEnd = now
        state.pointee.cycles = UInt64(bitPattern: now)
        state.pointee.currentBlock = index
        state.pointee.peripheralAccessesInBlock = 0
        state.pointee.unalignedStoresInBlock = 0
        let count = block.pointee.instructions
        state.pointee.instructions &+= UInt64(count)
        return count
    }

    /// The Cortex-M4's block accounting: the block's static cost, plus a pipeline refill when
    /// the previous block left through a taken branch (the M4 predicts nothing: Cortex-M4 TRM
    /// section 3.3.1, "1 + P"). Operands never stall across blocks on a single-issue core whose
    /// results are ready for the next instruction, except an address computed by the
    /// instruction just before, which a block boundary (always after a branch or a split)
    /// rarely separates.
    private func enterSingleIssueBlock(address: UInt32, size: UInt32,
                                       readCode: (UInt32, Int, UnsafeMutableRawPointer) -> Bool) -> UInt32 {
        var index = lookup(address: address, size: size)
        if index < 0 { index = learn(address: address, size: size, readCode: readCode) }
        let block = state.pointee.records.pointer + Int(index)
        var now = Int64(bitPattern: state.pointee.cycles)
        let previous = state.pointee.previous
        var branchedIn = previous < 0
        if previous >= 0 {
            let last = state.pointee.records.pointer + Int(previous)
            if last.pointee.branch != .none {
                state.pointee.statistics.branchesResolved &+= 1
                // Only a conditional branch can fall through; any other always refills, even
                // one whose target is the next instruction.
                if last.pointee.branch != .conditional || address != last.pointee.fallThrough {
                    now &+= refillCycles
                    state.pointee.statistics.branchPenaltyCycles &+= UInt64(refillCycles)
                    branchedIn = true
                }
            }
        }
        if mode == .full && regionKinds[Int(address >> 16)] == MemoryKind.flash.rawValue {
            now &+= artFetch(address: address, size: size, branchedIn: branchedIn)
        }
        state.pointee.previous = index
        state.pointee.blockStart = UInt64(bitPattern: now)
        now &+= Int64(block.pointee.cost)
        state.pointee.cycles = UInt64(bitPattern: now)
        state.pointee.currentBlock = index
        state.pointee.peripheralAccessesInBlock = 0
        let count = block.pointee.instructions
        state.pointee.instructions &+= UInt64(count)
        return count
    }

    /// The Cortex-M4's instruction fetch from FLASH through the ART accelerator (`full`): the
    /// line a taken branch lands on costs the FLASH wait states when the ART's instruction cache
    /// misses it; lines reached sequentially are prefetched while the previous one executes
    /// (CortexM4Timing's ART parameters, RM0402 section 3.4).
    private func artFetch(address: UInt32, size: UInt32, branchedIn: Bool) -> Int64 {
        let lines = state.pointee.instructionCache.lines(from: address, size: size)
        let lineBytes = state.pointee.instructionCache.lineBytes
        var cost: Int64 = 0
        var line = lines.first
        while true {
            if state.pointee.instructionCache.access(line &* lineBytes, write: false) != .hit {
                state.pointee.statistics.instructionCacheMisses &+= 1
                if line == lines.first && branchedIn { cost &+= flashStall }
            }
            if line == lines.last { break }
            line &+= 1
        }
        state.pointee.statistics.memoryStallCycles &+= UInt64(cost)
        return cost
    }

    /// Records when the block's results are ready, the block having ended at cycle `end`.
    @inline(__always)
    private func writeOutputs(of block: UnsafeMutablePointer<BlockRecord>, end: Int64) {
        var output = state.pointee.outputs.pointer + Int(block.pointee.outputStart)
        for _ in 0..<Int(block.pointee.outputGroups) {
            for k in 0..<Self.group {
                readyAt[Int(output[k].register)] = end &+ Int64(output[k].pending)
                delayFields[Int(output[k].register)] = output[k].delays
            }
            output += Self.group
        }
    }

    @inline(__always)
    private func pushReturn(_ address: UInt32) {
        state.pointee.returnTop = (state.pointee.returnTop + 1) & returnStackMask
        returnStack[state.pointee.returnTop] = address
    }

    @inline(__always)
    private func popReturn() -> UInt32 {
        let value = returnStack[state.pointee.returnTop]
        state.pointee.returnTop = (state.pointee.returnTop - 1) & returnStackMask
        return value
    }

    /// The cycles the block waits for line `line` of its code when that line is not cached:
    /// critical word first, the fill starts with the doubleword the block needs first and
    /// streams the rest (TRM 5.9), so the block waits for the beats up to its last byte in the
    /// line; without critical word first, for the whole line.
    @inline(__always)
    private func lineFetch(_ line: UInt32, first firstLine: UInt32, last lastLine: UInt32,
                           address: UInt32, lastByte: UInt32, kind: Int) -> Int64 {
        guard criticalWordFirst else { return lineFill[kind] }
        let first = line == firstLine ? Int64((address >> 3) & 3) : 0
        let last = line == lastLine ? Int64((lastByte >> 3) & 3) : beatsPerLine - 1
        return uncachedRead[kind] &+ max(0, last - first) * beatCycles
    }

    /// The fetch cost of a block with the I-cache off (every line fetched on every execution).
    private func uncachedFetchCost(address: UInt32, size: UInt32, kind: Int) -> Int64 {
        guard kind != Int(MemoryKind.tcm.rawValue) && kind != Int(MemoryKind.peripheral.rawValue) else { return 0 }
        let lines = state.pointee.instructionCache.lines(from: address, size: size)
        let lastByte = address &+ max(size, 1) &- 1
        var cost: Int64 = 0
        for line in lines.first...lines.last {
            cost &+= lineFetch(line, first: lines.first, last: lines.last, address: address, lastByte: lastByte, kind: kind)
        }
        return cost
    }

    /// The fetch cost of a block with the I-cache on: its missing lines. A FLASH line that
    /// misses keeps the `flashStreamPrefetchLines` lines after it read ahead, each in the
    /// instruction linefill buffer free first, behind the fills already on the bus: sequential
    /// code then waits only for the doublewords that have not arrived when it gets there. Kept
    /// out of line: the block hook stays small for `pipeline`.
    @inline(never)
    private func fetchCost(address: UInt32, size: UInt32, kind: Int, at now: Int64, blockCycles: Int64) -> Int64 {
        let lines = state.pointee.instructionCache.lines(from: address, size: size)
        let lastByte = address &+ max(size, 1) &- 1
        let readsAhead = flashPrefetch && kind == Int(MemoryKind.flash.rawValue)
        var cost: Int64 = 0
        var line = lines.first
        while true {
            if state.pointee.instructionCache.access(line << 5, write: false) != .hit {
                state.pointee.statistics.instructionCacheMisses &+= 1
                // The core reaches a later line of the block after executing the part before
                // it (the block's cycles spread over its bytes).
                let before = line == lines.first ? 0 : Int64((line << 5) &- address)
                let request = now &+ cost &+ (size > 0 ? blockCycles &* before / Int64(size) : 0)
                if readsAhead, let first = takeInstructionReadAhead(line) {
                    // Read ahead (critical doubleword 0): wait for the last doubleword needed.
                    let last = line == lines.last ? Int64((lastByte >> 3) & 3) : beatsPerLine - 1
                    cost &+= max(0, first &+ last &* beatCycles &- request)
                } else {
                    let fetch = lineFetch(line, first: lines.first, last: lines.last, address: address, lastByte: lastByte, kind: kind)
                    cost &+= fetch
                    let done = request &+ uncachedRead[kind] &+ (beatsPerLine &- 1) &* beatCycles
                    occupyInstructionBuffer(instructionBuffer(at: request).index, until: done)
                    state.pointee.instructionChannelFree = max(state.pointee.instructionChannelFree, done)
                }
                if readsAhead { readInstructionsAhead(after: line, at: request, kind: kind) }
            }
            if line == lines.last { break }
            line &+= 1
        }
        state.pointee.statistics.memoryStallCycles &+= UInt64(cost)
        return cost
    }

    /// Of the two instruction line buffers, the one free first, and when a fill requested at
    /// `request` can start in it.
    @inline(__always)
    private func instructionBuffer(at request: Int64) -> (index: Int, start: Int64) {
        let free = state.pointee.instructionBufferFree
        return free.a <= free.b ? (0, max(request, free.a)) : (1, max(request, free.b))
    }

    /// Buffer `index` holds a line until its last doubleword arrives at `end`.
    @inline(__always)
    private func occupyInstructionBuffer(_ index: Int, until end: Int64) {
        if index == 0 { state.pointee.instructionBufferFree.a = end } else { state.pointee.instructionBufferFree.b = end }
    }

    /// Reads the `flashStreamPrefetchLines` lines after `line` ahead (those not cached nor
    /// already on their way) from cycle `request`.
    @inline(never)
    private func readInstructionsAhead(after line: UInt32, at request: Int64, kind: Int) {
        var next = line &+ 1
        for _ in 0..<flashPrefetchLines {
            let tag = next &+ 1
            let ahead = state.pointee.instructionAheadLine
            if tag != ahead.a && tag != ahead.b && tag != ahead.c && tag != ahead.d
                && regionKinds[Int((next << 5) >> 16)] == UInt8(kind)
                && !state.pointee.instructionCache.contains(next << 5) {
                let buffer = instructionBuffer(at: request)
                let first = max(buffer.start &+ uncachedRead[kind], state.pointee.instructionChannelFree &+ beatCycles)
                let done = first &+ (beatsPerLine &- 1) &* beatCycles
                occupyInstructionBuffer(buffer.index, until: done)
                state.pointee.instructionChannelFree = done
                let slot = Int(state.pointee.instructionAheadNext)
                state.pointee.instructionAheadNext = (state.pointee.instructionAheadNext &+ 1) & 3
                state.pointee.instructionAheadLine.set(slot, tag)
                state.pointee.instructionAheadFirst.set(slot, first)
                state.pointee.statistics.instructionReadAheads &+= 1
            }
            next &+= 1
        }
    }

    /// If `line` was read ahead, forgets it and returns the cycle its first doubleword arrives.
    @inline(__always)
    private func takeInstructionReadAhead(_ line: UInt32) -> Int64? {
        let tag = line &+ 1
        for k in 0..<4 where state.pointee.instructionAheadLine.k(k) == tag {
            state.pointee.instructionAheadLine.set(k, 0)
            return state.pointee.instructionAheadFirst.k(k)
        }
        return nil
    }

    // MARK: Data accesses (`full`)

    /// Accounts one data access seen by the memory hook: D-cache when enabled, uncached bus
    /// latency otherwise, TCM free, unaligned loads penalised.
    ///
    /// With the D-cache on, a load miss waits for its own doubleword only (critical word first),
    /// a write-allocate store miss waits only for a free linefill buffer (its data merges into
    /// the fill from the store buffer), and a later load from a line still being filled waits
    /// for its beat (streaming); fills share the AXI read channel one after another (Cortex-M7
    /// TRM 5.9, 5.9.2). Accesses of one block are seen at the block's end cycle.
    @inline(__always)
    public func dataAccess(address: UInt32, size: Int, write: Bool) {
        // Loads from TCM, the most frequent access: only an unaligned one costs (no table lookup).
        if !write && (address &- tcmBase.0 < tcmSize.0 || address &- tcmBase.1 < tcmSize.1) {
            if size > 1 && Int(address) & (size - 1) != 0 && core == .cortexM7 { chargeMemoryStall(unalignedLoad) }
            return
        }
        if write && codePages[Int(address >> 12)] != 0 { invalidateCode(address: address, size: UInt32(size)) }
        let kind = Int(regionKinds[Int(address >> 16)])
        if core == .cortexM4 {
            // Reads from FLASH go through the ART's data cache; SRAM answers with no wait state.
            if mode == .full && !write && kind == Int(MemoryKind.flash.rawValue) {
                state.pointee.statistics.dataAccesses &+= 1
                if state.pointee.dataCache.access(address, write: false) != .hit {
                    state.pointee.statistics.dataCacheMisses &+= 1
                    state.pointee.statistics.memoryStallCycles &+= UInt64(flashStall)
                    state.pointee.cycles &+= UInt64(flashStall)
                    state.pointee.blockStart &+= UInt64(flashStall)
                }
            }
            return
        }
        var cost: Int64 = 0
        if size > 1 && Int(address) & (size - 1) != 0 {
            if write { cost = unalignedStore() } else { cost = unalignedLoad }
        }
        if kind != Int(MemoryKind.tcm.rawValue) && kind != Int(MemoryKind.peripheral.rawValue) {
            state.pointee.statistics.dataAccesses &+= 1
            if state.pointee.dataCacheOn {
                switch state.pointee.dataCache.access(address, write: write) {
                case .hit:
                    // The access issues at `at`; a read ahead it triggers is requested then,
                    // before the access's own wait.
                    let at = Int64(bitPattern: state.pointee.cycles) &+ cost
                    if criticalWordFirst && !write && state.pointee.fillsPending {
                        cost &+= streamingWait(address: address, size: size, at: at)
                    }
                    let tag = (address >> 5) &+ 1
                    let tags = state.pointee.readAheadTags
                    if tag == tags.a || tag == tags.b || tag == tags.c || tag == tags.d {
                        readAhead(after: address, at: at)
                    }
                case .miss:
                    state.pointee.statistics.dataCacheMisses &+= 1
                    let at = Int64(bitPattern: state.pointee.cycles) &+ cost
                    cost &+= fill(address: address, kind: kind, write: write, at: at)
                    if flashPrefetch && kind == Int(MemoryKind.flash.rawValue) && !write
                        && state.pointee.dataCache.contains(address &- 32) {
                        readAhead(after: address, at: at)
                    }
                case .missEvictingDirty:
                    state.pointee.statistics.dataCacheMisses &+= 1
                    cost &+= writeBack
                    let at = Int64(bitPattern: state.pointee.cycles) &+ cost
                    cost &+= fill(address: address, kind: kind, write: write, at: at)
                    if flashPrefetch && kind == Int(MemoryKind.flash.rawValue) && !write
                        && state.pointee.dataCache.contains(address &- 32) {
                        readAhead(after: address, at: at)
                    }
                }
            } else {
                cost &+= write ? uncachedStore : uncachedRead[kind]
            }
        }
        if cost > 0 { chargeMemoryStall(cost) }
    }

    /// The core waits `cost` cycles for the memory system from the current point of the block.
    @inline(__always)
    private func chargeMemoryStall(_ cost: Int64) {
        state.pointee.dataStalled = true
        state.pointee.cycles &+= UInt64(cost)
        state.pointee.blockStart &+= UInt64(cost)
        state.pointee.statistics.memoryStallCycles &+= UInt64(cost)
    }

    /// An unaligned store (jnk0le): free until the store buffer clogs, then one per
    /// `unalignedStoreCycles`. The k-th unaligned store of a block is placed k cycles after the
    /// block's start (stores never pair), its stalls included; each needs the drain time, and the
    /// core waits when more than `storeBufferEntries` drains are queued.
    @inline(__always)
    private func unalignedStore() -> Int64 {
        let at = Int64(bitPattern: state.pointee.blockStart) &+ Int64(state.pointee.unalignedStoresInBlock)
        state.pointee.unalignedStoresInBlock &+= 1
        let drained = max(state.pointee.unalignedDrainEnd, at) &+ unalignedStoreDrain
        state.pointee.unalignedDrainEnd = drained
        return max(0, drained &- at &- storeBufferEntries &* unalignedStoreDrain)
    }

    /// Starts a line fill for a D-cache miss at cycle `now`; returns the core's stall.
    @inline(__always)
    private func fill(address: UInt32, kind: Int, write: Bool, at now: Int64) -> Int64 {
        guard criticalWordFirst else { return lineFill[kind] }
        let (start, first) = startFill(line: address >> 5, critical: Int64((address >> 3) & 3), kind: kind, at: now)
        // A write-allocate store only needed the buffer; a load waits for its doubleword.
        return write ? start &- now : first &- now
    }

    /// Starts filling `line` (critical doubleword `critical` first) in the linefill buffer that
    /// is free first, no earlier than `now`; its first beat follows the request latency and the
    /// beats of earlier fills on the shared read channel. Records the fill for `streamingWait`
    /// and returns when the buffer was taken and when the first doubleword arrives.
    @inline(__always)
    private func startFill(line: UInt32, critical: Int64, kind: Int, at now: Int64) -> (start: Int64, first: Int64) {
        var buffer = 0
        for k in 1..<state.pointee.fillBuffers where state.pointee.fillDone.k(k) < state.pointee.fillDone.k(buffer) {
            buffer = k
        }
        let start = max(now, state.pointee.fillDone.k(buffer))
        let first = max(start &+ uncachedRead[kind], state.pointee.readChannelFree &+ beatCycles)
        let done = first &+ (beatsPerLine &- 1) &* beatCycles
        state.pointee.fillDone.set(buffer, done)
        // The fill's record goes to the oldest of four slots: a buffer can hold a line still
        // arriving while the next line is already queued for it (a read-ahead).
        let slot = Int(state.pointee.fillRecordNext)
        state.pointee.fillRecordNext = (state.pointee.fillRecordNext &+ 1) & 3
        state.pointee.fillLine.set(slot, line &+ 1)
        state.pointee.fillFirst.set(slot, first)
        state.pointee.fillCritical.set(slot, critical)
        state.pointee.fillRecordDone.set(slot, done)
        state.pointee.readChannelFree = done
        state.pointee.fillsPending = true
        return (start, first)
    }

    /// A sequential FLASH stream: keeps the `flashStreamPrefetchLines` lines after `address`'s
    /// read ahead, each requested in the linefill buffer that is free first (so a stream keeps
    /// both buffers busy), behind the fills already on the read channel. The stream's tag is the
    /// first line read ahead: its first use moves the window one line on.
    @inline(never)
    private func readAhead(after address: UInt32, at now: Int64) {
        // Up to four interleaved streams keep their tags (the oldest is replaced).
        var slot = Int(state.pointee.readAheadNext)
        for k in 0..<4 where state.pointee.readAheadTags.k(k) == (address >> 5) &+ 1 {
            slot = k
            state.pointee.readAheadTags.set(k, 0)
        }
        let nextLine = (address >> 5) &+ 1
        guard regionKinds[Int((nextLine << 5) >> 16)] == MemoryKind.flash.rawValue else { return }
        var line = nextLine
        for _ in 0..<flashPrefetchLines {
            guard regionKinds[Int((line << 5) >> 16)] == MemoryKind.flash.rawValue else { break }
            if !state.pointee.dataCache.contains(line << 5) {
                // The evicted line's write-back (if dirty) drains behind the fill; not charged.
                _ = state.pointee.dataCache.access(line << 5, write: false)
                state.pointee.statistics.dataReadAheads &+= 1
                _ = startFill(line: line, critical: 0, kind: Int(MemoryKind.flash.rawValue), at: now)
            }
            line &+= 1
        }
        state.pointee.readAheadTags.set(slot, nextLine &+ 1)
        if slot == Int(state.pointee.readAheadNext) { state.pointee.readAheadNext = (state.pointee.readAheadNext &+ 1) & 3 }
    }

    /// A load that hits a line still being filled waits until its doubleword has arrived.
    @inline(__always)
    private func streamingWait(address: UInt32, size: Int, at now: Int64) -> Int64 {
        let line = (address >> 5) &+ 1
        var pending = false
        var wait: Int64 = 0
        for k in 0..<4 where state.pointee.fillRecordDone.k(k) > now {
            pending = true
            if state.pointee.fillLine.k(k) == line {
                let critical = state.pointee.fillCritical.k(k)
                let lastByte = min(address &+ UInt32(max(size, 1) - 1), address | 31)
                let beat = max((Int64((address >> 3) & 3) &- critical) & 3, (Int64((lastByte >> 3) & 3) &- critical) & 3)
                wait = max(0, state.pointee.fillFirst.k(k) &+ beat &* beatCycles &- now)
            }
        }
        state.pointee.fillsPending = pending
        return wait
    }

    /// Follows the firmware's SCB->CCR IC/DC bits. Enabling a cache after it was off starts it
    /// empty (firmware invalidates before enabling, as the architecture requires).
    public func setCacheEnables(instruction: Bool, data: Bool) {
        if instruction && !state.pointee.instructionCacheOn { state.pointee.instructionCache.invalidateAll() }
        if data && !state.pointee.dataCacheOn { state.pointee.dataCache.invalidateAll() }
        state.pointee.instructionCacheOn = instruction
        state.pointee.dataCacheOn = data
    }

    /// ICIALLU: the firmware invalidated the whole I-cache.
    public func invalidateInstructionCache() {
        state.pointee.instructionCache.invalidateAll()
    }

    public var instructionCacheEnabled: Bool { state.pointee.instructionCacheOn }
    public var dataCacheEnabled: Bool { state.pointee.dataCacheOn }

    // MARK: Divides (operand-dependent)

    /// Whether blocks decoded since the last `takeNewDivideSites` hold SDIV/UDIV instructions
    /// the caller has not hooked yet (checked after every block: one load).
    @inline(__always)
    public var hasNewDivideSites: Bool { state.pointee.newDivideSites != 0 }

    /// The SDIV/UDIV instructions decoded since the last call. The caller arranges for
    /// `divide(at:dividend:divisor:)` to be called just before each executes (a code hook);
    /// until then (the first execution of a block) a divide costs `divideMinimumCycles`.
    public func takeNewDivideSites() -> [DivideSite] {
        defer { newDivideSites.removeAll(); state.pointee.newDivideSites = 0 }
        return newDivideSites
    }

    /// The divide at `address`, if one was decoded there.
    public func divideSite(at address: UInt32) -> DivideSite? { divideSites[address] }

    /// Cycles of one SDIV/UDIV with these operands (Cortex-M3/M4 TRM: 2 to 12, early
    /// termination on the operands' magnitudes; `TimingParameters` divide rows): the number
    /// of quotient bits q = clz(|divisor|) - clz(|dividend|) + 1 (0 when the divisor is
    /// larger or zero), then `minimum + q / bitsPerCycle`, at most `maximum`.
    public static func divideCycles(dividend: UInt32, divisor: UInt32, signed: Bool,
                                    parameters: TimingParameters = .cortexM7) -> Int {
        divideCycles(dividend: dividend, divisor: divisor, signed: signed, minimum: parameters[.divideMinimumCycles],
                     maximum: parameters[.divideMaximumCycles], bitsPerCycle: max(1, parameters[.divideQuotientBitsPerCycle]))
    }

    private static func divideCycles(dividend: UInt32, divisor: UInt32, signed: Bool,
                                     minimum: Int, maximum: Int, bitsPerCycle: Int) -> Int {
        func magnitude(_ value: UInt32) -> UInt32 {
            signed && Int32(bitPattern: value) < 0 ? 0 &- value : value
        }
        let n = magnitude(dividend), d = magnitude(divisor)
        guard d != 0 else { return minimum }
        let bits = max(0, d.leadingZeroBitCount - n.leadingZeroBitCount + 1)
        return min(maximum, minimum + bits / bitsPerCycle)
    }

    /// A divide at `address` is about to execute with these register values: adds the cycles
    /// it takes beyond the schedule's `divideMinimumCycles` (the divide holds the pipeline, so
    /// everything after it in the block moves by as much).
    public func divide(at address: UInt32, dividend: UInt32, divisor: UInt32) {
        guard let site = divideSites[address] else { return }
        let cycles = Self.divideCycles(dividend: dividend, divisor: divisor, signed: site.signed,
                                       minimum: divideMinimum, maximum: divideMaximum, bitsPerCycle: divideBitsPerCycle)
        let extra = Int64(cycles - divideMinimum)
        state.pointee.statistics.divides &+= 1
        guard extra > 0 else { return }
        state.pointee.cycles &+= UInt64(extra)
        state.pointee.blockStart &+= UInt64(extra)
        state.pointee.statistics.divideCycles &+= UInt64(extra)
        // A one-block loop whose divides vary is not in a steady state.
        state.pointee.dataStalled = true
    }

    // MARK: Cycle counter reads inside a block

    /// The cycle at which the current block's next system-control-space access (a DWT->CYCCNT
    /// or SysTick read or write) issues, for the memory-mapped register handlers.
    ///
    /// Unicorn runs a whole block before the next block hook, and its PC inside memory
    /// callbacks is the block's start, not the accessing instruction's. So the model counts
    /// the peripheral accesses of the current block execution and maps the k-th one to the
    /// k-th load/store of the block that may reach the peripheral space (a load/store whose
    /// base is not SP or PC and not a constant known to point elsewhere; constants come from
    /// `ldr rX, =literal` and MOVW/MOVT in the same block). The answer is the block's start
    /// plus that instruction's issue cycle in the static schedule (plus memory stalls so far),
    /// so a read in the middle of a block does not see the cycles of the instructions after
    /// it. When no candidate is left, the block's end is returned.
    public func cyclesAtPeripheralAccess() -> UInt64 {
        guard state.pointee.currentBlock >= 0 else { return cycles }
        let block = state.pointee.records.pointer + Int(state.pointee.currentBlock)
        let k = Int(state.pointee.peripheralAccessesInBlock)
        state.pointee.peripheralAccessesInBlock &+= 1
        guard k < Int(block.pointee.probeCount) else { return cycles }
        let probe = state.pointee.probes.pointer[Int(block.pointee.probeStart) + k]
        return min(cycles, state.pointee.blockStart &+ UInt64(probe.cycle))
    }

    /// Which instructions of a block may access the system control space (0xE000_0000 and up).
    static func peripheralCandidates(_ profiles: [InstructionProfile], readWord: (UInt32) -> UInt32?) -> [Bool] {
        var known = [UInt32?](repeating: nil, count: RegisterIndex.count)
        var result: [Bool] = []
        for p in profiles {
            var candidate = false
            if p.unit == .load || p.unit == .store {
                if p.literalAddress != nil {
                    candidate = false
                } else if let base = p.memoryBase, base != RegisterIndex.stackPointer, base != RegisterIndex.programCounter {
                    if let value = known[Int(base)], !p.hasIndexRegister {
                        // 0xE000_0000 and up: the ARMv7-M private peripheral bus (ARM ARM B3.1).
                        candidate = value &+ UInt32(bitPattern: p.memoryOffset) >= 0xE000_0000
                    } else {
                        candidate = true
                    }
                }
            }
            result.append(candidate)
            let prior = p.immediate.flatMap { known[Int($0.register)] }
            for write in p.writes { known[Int(write.register)] = nil }
            if let literal = p.literalAddress, let target = p.writes.first?.register {
                known[Int(target)] = readWord(literal)
            }
            if let imm = p.immediate {
                if imm.topHalf {
                    known[Int(imm.register)] = prior.map { ($0 & 0xFFFF) | (imm.value << 16) }
                } else {
                    known[Int(imm.register)] = imm.value
                }
            }
        }
        return result
    }

    // MARK: Code writes

    /// Whether `address` lies in a 4 KiB page holding code the model has decoded.
    @inline(__always)
    public func holdsDecodedCode(_ address: UInt32) -> Bool { codePages[Int(address >> 12)] != 0 }

    /// Forgets the schedules of blocks overlapping `[address, address + size)` (code written at
    /// run time, e.g. into ITCM); they are decoded again when they next run.
    public func invalidateCode(address: UInt32, size: UInt32) {
        let end = UInt64(address) + UInt64(max(size, 1))
        // The previous block may be among those forgotten: leave the steady loop and drop the
        // one-block-loop shortcut (its branch was already accounted when this block entered).
        if state.pointee.steadyLoop, state.pointee.previous >= 0 {
            writeOutputs(of: state.pointee.records.pointer + Int(state.pointee.previous), end: state.pointee.previousEnd)
        }
        state.pointee.steadyLoop = false
        state.pointee.repeats = 0
        state.pointee.previous = -1
        for slot in 0..<state.pointee.capacity where state.pointee.keys[slot] != Self.empty && state.pointee.keys[slot] != Self.removed {
            let start = UInt64(state.pointee.keys[slot] >> 32)
            let blockEnd = start + (state.pointee.keys[slot] & 0xFFFF_FFFF)
            if start < end && UInt64(address) < blockEnd {
                state.pointee.keys[slot] = Self.removed
                state.pointee.statistics.codeInvalidations += 1
            }
        }
    }

    // MARK: Block table

    @inline(__always)
    private func lookup(address: UInt32, size: UInt32) -> Int32 {
        let key = UInt64(address) << 32 | UInt64(size)
        var slot = Self.hash(key) & (state.pointee.capacity - 1)
        while true {
            let found = state.pointee.keys[slot]
            if found == key { return state.pointee.slots[slot] }
            if found == Self.empty { return -1 }
            slot = (slot + 1) & (state.pointee.capacity - 1)
        }
    }

    @inline(__always)
    private static func hash(_ key: UInt64) -> Int {
        // Fold the address (high half) into the low bits before the multiply, then keep the
        // product's high bits: the low bits of a product depend only on the key's low bits, so
        // taking them would make every block of one size collide.
        Int(truncatingIfNeeded: ((key ^ (key >> 29)) &* 0x9E37_79B9_7F4A_7C15) >> 32)
    }

    private func learn(address: UInt32, size: UInt32,
                       readCode: (UInt32, Int, UnsafeMutableRawPointer) -> Bool) -> Int32 {
        if Int(size) > codeBufferSize {
            codeBuffer.deallocate()
            codeBufferSize = Int(size).nextPowerOfTwo
            codeBuffer = .allocate(byteCount: codeBufferSize, alignment: 8)
        }
        let schedule: BlockSchedule
        var peripheral: [Bool] = []
        if size > 0 && readCode(address, Int(size), codeBuffer) {
            let bytes = UnsafeRawBufferPointer(start: codeBuffer, count: Int(size))
            func readLiteral(_ literal: UInt32) -> UInt32? {
                var word: UInt32 = 0
                return withUnsafeMutableBytes(of: &word) { readCode(literal, 4, $0.baseAddress!) } ? word : nil
            }
            let key = decodeCacheEnabled ? [UInt8](bytes) : []
            if decodeCacheEnabled, let cached = decodeCache[key] {
                schedule = cached.schedule.relocated(by: address)
                // Literal pools hold per-address constants: only those blocks look again.
                peripheral = cached.peripheral
                    ?? Self.peripheralCandidates(cached.profiles.map { $0.relocated(by: address) }, readWord: readLiteral)
                state.pointee.statistics.decodeCacheHits += 1
            } else {
                let profiles = decoder.decode(bytes, address: address)
                schedule = core == .cortexM4 ? singleIssueScheduler.schedule(profiles) : scheduler.schedule(profiles)
                peripheral = Self.peripheralCandidates(profiles, readWord: readLiteral)
                if decodeCacheEnabled {
                    let hasLiterals = profiles.contains { $0.literalAddress != nil }
                    if decodeCacheBytes + key.count > Self.decodeCacheMaximumBytes
                        || decodeCache.count >= Self.decodeCacheMaximumEntries {
                        decodeCache.removeAll()
                        decodeCacheBytes = 0
                    }
                    decodeCache[key] = DecodedBlock(
                        schedule: schedule.relocated(by: 0 &- address),
                        profiles: hasLiterals ? profiles.map { $0.relocated(by: 0 &- address) } : [],
                        peripheral: hasLiterals ? nil : peripheral)
                    decodeCacheBytes += key.count
                }
            }
        } else {
            // Unreadable code: one cycle per halfword, no dependencies.
            let halfwords = Int(size + 1) / 2
            schedule = BlockSchedule(cost: halfwords, costWhenPairedIn: halfwords, endsWithFreeSlot: false,
                                     inputs: [], outputs: [], issueCycles: Array(0..<halfwords),
                                     instructionAddresses: [], branch: .none, branchAddress: 0, conditionSetEarly: true)
        }
        state.pointee.statistics.blocksDecoded += 1
        if core == .cortexM7 {
            for site in schedule.divides where divideSites[site.address] == nil {
                divideSites[site.address] = site
                newDivideSites.append(site)
            }
            state.pointee.newDivideSites = newDivideSites.count
        }
        let index = Int32(state.pointee.records.count)
        var record = BlockRecord(address: address, size: size, schedule: schedule,
                                 inputStart: Int32(state.pointee.inputs.count), outputStart: Int32(state.pointee.outputs.count),
                                 probeStart: Int32(state.pointee.probes.count))
        if mode == .full {
            let kind = Int(regionKinds[Int(address >> 16)])
            record.uncachedFetch = Int32(clamping: uncachedFetchCost(address: address, size: size, kind: kind))
            if kind == Int(MemoryKind.flash.rawValue) {
                let lines = state.pointee.instructionCache.lines(from: address, size: size)
                record.flashLines = Int16(clamping: lines.last &- lines.first &+ 1)
            }
        }
        for input in schedule.inputs {
            state.pointee.inputs.append(.init(register: input.register, shift: input.role.rawValue * 4,
                                              needed: Int16(clamping: input.needed)))
        }
        // Results ready 2+ cycles before the block's end cannot delay a later consumer (the
        // largest read delay is 2: a DSP result used as an address), so only the others are
        // kept. Approximation: such an early result does not overwrite a value an older block
        // left pending past this block's end (a write-after-write on a divide or FP result
        // nobody read), which would then stall a reader in vain.
        for output in schedule.outputs where output.pending >= -1 {
            state.pointee.outputs.append(.init(register: output.register, pending: Int16(clamping: output.pending),
                                               delays: delayFields(of: output.producer)))
        }
        for (index, (offset, issue)) in zip(schedule.instructionAddresses, schedule.issueCycles).enumerated()
        where index < peripheral.count && peripheral[index] {
            state.pointee.probes.append(.init(offset: UInt16(truncatingIfNeeded: offset &- address), cycle: UInt16(clamping: issue)))
        }
        while (state.pointee.inputs.count - Int(record.inputStart)) % Self.group != 0 {
            state.pointee.inputs.append(.init(register: Self.paddingRead, shift: 0, needed: 0))
        }
        while (state.pointee.outputs.count - Int(record.outputStart)) % Self.group != 0 {
            state.pointee.outputs.append(.init(register: Self.paddingWrite, pending: 0, delays: 0x8888_8888))
        }
        record.inputGroups = Int16((state.pointee.inputs.count - Int(record.inputStart)) / Self.group)
        record.outputGroups = Int16((state.pointee.outputs.count - Int(record.outputStart)) / Self.group)
        record.probeCount = Int16(clamping: state.pointee.probes.count - Int(record.probeStart))
        state.pointee.records.append(record)
        var page = address >> 12
        while page <= (address &+ max(size, 1) &- 1) >> 12 {
            codePages[Int(page)] = 1
            page += 1
        }
        insert(key: UInt64(address) << 32 | UInt64(size), index: index)
        return index
    }

    /// The read delays of `producer` for every role, packed as `Output.delays` expects.
    private func delayFields(of producer: ProducerKind) -> UInt32 {
        var fields: UInt32 = 0
        for role in 0..<ReadRole.count {
            let delay = readDelay[Int(producer.rawValue) * ReadRole.slots + role]
            fields |= UInt32(clamping: delay + 8) << UInt32(role * 4)
        }
        return fields
    }

    private func insert(key: UInt64, index: Int32) {
        var slot = Self.hash(key) & (state.pointee.capacity - 1)
        while state.pointee.keys[slot] != Self.empty { slot = (slot + 1) & (state.pointee.capacity - 1) }
        state.pointee.keys[slot] = key
        state.pointee.slots[slot] = index
        state.pointee.used += 1
        if state.pointee.used * 2 > state.pointee.capacity { grow() }
    }

    private func grow() {
        let oldKeys = state.pointee.keys, oldSlots = state.pointee.slots, oldCapacity = state.pointee.capacity
        state.pointee.capacity *= 2
        state.pointee.keys = .allocate(capacity: state.pointee.capacity)
        state.pointee.keys.initialize(repeating: Self.empty, count: state.pointee.capacity)
        state.pointee.slots = .allocate(capacity: state.pointee.capacity)
        state.pointee.slots.initialize(repeating: 0, count: state.pointee.capacity)
        state.pointee.used = 0
        for slot in 0..<oldCapacity where oldKeys[slot] != Self.empty && oldKeys[slot] != Self.removed {
            insert(key: oldKeys[slot], index: oldSlots[slot])
        }
        oldKeys.deallocate()
        oldSlots.deallocate()
    }
}

/// A decoded and scheduled block with its addresses relative to its first byte, for reuse at
/// any address with the same bytes (`CycleModel.decodeCache`).
struct DecodedBlock {
    var schedule: BlockSchedule
    /// The decoded instructions, kept only when the block loads literals (their values depend
    /// on where the block is, so the peripheral candidates are found again).
    var profiles: [InstructionProfile]
    /// The peripheral candidates, when they do not depend on the block's address.
    var peripheral: [Bool]?
}

extension BlockSchedule {
    /// The same schedule for the same bytes `delta` bytes further on.
    func relocated(by delta: UInt32) -> BlockSchedule {
        var moved = self
        moved.instructionAddresses = instructionAddresses.map { $0 &+ delta }
        moved.branchAddress = branchAddress &+ delta
        moved.divides = divides.map { var site = $0; site.address &+= delta; return site }
        return moved
    }
}

extension InstructionProfile {
    func relocated(by delta: UInt32) -> InstructionProfile {
        var moved = self
        moved.address = address &+ delta
        moved.literalAddress = literalAddress.map { $0 &+ delta }
        if var site = divide { site.address &+= delta; moved.divide = site }
        return moved
    }
}

/// One block as the hot path reads it: plain values, no references.
struct BlockRecord {
    /// `shift` = 4 x the `ReadRole`: where the role's delay sits in the producer's delay fields.
    struct Input { var register: UInt8; var shift: UInt8; var needed: Int16 }
    /// `delays`: the producer's read delay for every role, 4 bits each, biased by 8.
    struct Output { var register: UInt8; var pending: Int16; var delays: UInt32 }
    struct Probe { var offset: UInt16; var cycle: UInt16 }

    // Four-byte fields first, then the narrow ones: 56 bytes, no padding holes.
    var address: UInt32
    var size: UInt32
    var cost: Int32
    var costWhenPairedIn: Int32
    var instructions: UInt32
    var inputStart: Int32
    var outputStart: Int32
    var probeStart: Int32
    var branchAddress: UInt32
    var fallThrough: UInt32
    /// `full`: the fetch cost of the block with the I-cache off (0 for TCM code), computed once.
    var uncachedFetch: Int32 = 0
    /// `full`: the FLASH lines the block's code spans (0 outside FLASH).
    var flashLines: Int16 = 0
    var inputGroups: Int16 = 0
    var outputGroups: Int16 = 0
    var probeCount: Int16 = 0
    /// Issue cycle of the first byte/halfword store (-1: none), the last one's issue cycle
    /// minus the block's cost, and the unit-stride `strb` count (`BlockSchedule`).
    var firstNarrow: Int16 = -1
    var narrowTail: Int16 = 0
    var unitStrideBytes: UInt8 = 0
    var branch: BranchKind
    var endsWithFreeSlot: Bool
    var conditionSetEarly: Bool

    init(address: UInt32, size: UInt32, schedule: BlockSchedule, inputStart: Int32, outputStart: Int32, probeStart: Int32) {
        self.address = address
        self.size = size
        cost = Int32(clamping: schedule.cost)
        costWhenPairedIn = Int32(clamping: schedule.costWhenPairedIn)
        instructions = UInt32(schedule.instructionCount)
        self.inputStart = inputStart
        self.outputStart = outputStart
        self.probeStart = probeStart
        branch = schedule.branch
        endsWithFreeSlot = schedule.endsWithFreeSlot
        conditionSetEarly = schedule.conditionSetEarly
        branchAddress = schedule.branchAddress
        fallThrough = address &+ size
        if let first = schedule.firstNarrowIssue, let last = schedule.lastNarrowIssue {
            firstNarrow = Int16(clamping: first)
            narrowTail = Int16(clamping: last - schedule.cost)
            unitStrideBytes = UInt8(clamping: schedule.unitStrideByteStores)
        }
    }
}

/// A growable buffer of plain values, read through `pointer` on hot paths. A value type its
/// owner frees with `release()`: kept inside a struct that sits behind an
/// `UnsafeMutablePointer`, it costs no exclusivity check (docs/design.md#unicorn-facts).
package struct FlatArray<Element> {
    package private(set) var pointer: UnsafeMutablePointer<Element>
    package private(set) var count = 0
    private var capacity: Int

    package init(capacity: Int = 1024) {
        self.capacity = max(1, capacity)
        pointer = .allocate(capacity: self.capacity)
    }

    package mutating func append(_ element: Element) {
        if count == capacity {
            let bigger = UnsafeMutablePointer<Element>.allocate(capacity: capacity * 2)
            bigger.moveInitialize(from: pointer, count: count)
            pointer.deallocate()
            pointer = bigger
            capacity *= 2
        }
        (pointer + count).initialize(to: element)
        count += 1
    }

    /// Drops the last `k` elements.
    package mutating func removeLast(_ k: Int) {
        let k = min(k, count)
        (pointer + count - k).deinitialize(count: k)
        count -= k
    }

    /// The elements as an array (cold path).
    package var elements: [Element] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    package func release() {
        pointer.deinitialize(count: count)
        pointer.deallocate()
    }
}

extension Int {
    var nextPowerOfTwo: Int {
        var value = 1
        while value < self { value <<= 1 }
        return value
    }
}

/// The mutable state of a `CycleModel`, kept in one allocation the model points to.
struct RunningState {
    var cycles: UInt64 = 0
    var instructions: UInt64 = 0
    var statistics = CycleStatistics()
    // Block table: open addressing on (address << 32 | size) -> record index.
    var capacity = 4096
    var used = 0
    var keys: UnsafeMutablePointer<UInt64>
    var slots: UnsafeMutablePointer<Int32>
    var records = FlatArray<BlockRecord>()
    var inputs = FlatArray<BlockRecord.Input>()
    var outputs = FlatArray<BlockRecord.Output>()
    var probes = FlatArray<BlockRecord.Probe>()
    var previous: Int32 = -1
    /// Cycle at which the previous block ended.
    var previousEnd: Int64 = 0
    /// Consecutive re-executions of the current block, and the one-block-loop steady state.
    var repeats = 0
    var steadyLoop = false
    var steadyStall = Int64.min
    var lastFetch: Int64 = 0
    var dataStalled = false
    /// Tests switch the steady state off to check that it changes no cycle count.
    var steadyLoopsEnabled = true
    var returnTop = 0
    /// Cycle at which the current block's first instruction issued.
    var blockStart: UInt64 = 0
    var currentBlock: Int32 = -1
    var peripheralAccessesInBlock: UInt32 = 0
    var instructionCache: CacheModel
    var dataCache: CacheModel
    var instructionCacheOn = false
    var dataCacheOn = false
    // D-cache linefill buffers (`full`, critical word first): per buffer the cycle it is free
    // again (its last fill's last beat).
    static let maximumFillBuffers = 4
    var fillBuffers = 2
    var fillDone = Quad<Int64>(Int64.min / 2)
    // The last four fills started, for streaming: the line (number + 1, 0 = none), the cycle
    // its first doubleword arrives, that doubleword's index in the line, the cycle the whole
    // line has arrived; the slot the next fill takes.
    var fillLine = Quad<UInt32>(0)
    var fillFirst = Quad<Int64>(0)
    var fillCritical = Quad<Int64>(0)
    var fillRecordDone = Quad<Int64>(Int64.min / 2)
    var fillRecordNext: UInt8 = 0
    /// The cycle the AXI read channel has delivered the last beat of the fills started so far.
    var readChannelFree = Int64.min / 2
    /// Some fill may still be in flight (skips the streaming check when none is).
    var fillsPending = false
    /// Up to four FLASH streams: the first line (number + 1, 0 = none) each has read ahead and
    /// not yet used (its first use reads one more line ahead); the slot the next new stream takes.
    var readAheadTags = Quad<UInt32>(0)
    /// I-cache read-ahead: the last four lines read ahead and not yet reached (number + 1,
    /// 0 = none) with the cycle each one's first doubleword arrives, and the slot the next one
    /// takes; when the two instruction line buffers are free again; the cycle the instruction
    /// fills on the bus end.
    var instructionAheadLine = Quad<UInt32>(0)
    var instructionAheadFirst = Quad<Int64>(0)
    var instructionAheadNext: UInt8 = 0
    var instructionBufferFree = (a: Int64.min / 2, b: Int64.min / 2)
    var instructionChannelFree = Int64.min / 2
    var readAheadNext: UInt8 = 0
    /// Unaligned stores: the cycle the queued ones have drained; the count in the current block.
    var unalignedDrainEnd = Int64.min / 2
    var unalignedStoresInBlock: Int32 = 0
    /// Divide instructions decoded and not yet taken by the caller.
    var newDivideSites = 0
    /// Narrow stores across blocks: the cycle the last one issued, and how many unit-stride
    /// `strb` ran in a row (the position in the word of the next one, modulo 4).
    var lastNarrowStore = Int64.min / 2
    var unitStrideRun = 0

    init(instructionCache: CacheModel, dataCache: CacheModel) {
        self.instructionCache = instructionCache
        self.dataCache = dataCache
        keys = .allocate(capacity: capacity)
        keys.initialize(repeating: UInt64.max, count: capacity)
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: 0, count: capacity)
    }

    func release() {
        keys.deallocate()
        slots.deallocate()
        records.release(); inputs.release(); outputs.release(); probes.release()
        instructionCache.release(); dataCache.release()
    }
}

/// Four values in a struct (no heap, no exclusivity checks), indexed 0...3.
struct Quad<Value> {
    var a, b, c, d: Value
    init(_ value: Value) { a = value; b = value; c = value; d = value }
    @inline(__always) func k(_ index: Int) -> Value {
        switch index { case 0: return a; case 1: return b; case 2: return c; default: return d }
    }
    @inline(__always) mutating func set(_ index: Int, _ value: Value) {
        switch index { case 0: a = value; case 1: b = value; case 2: c = value; default: d = value }
    }
}
