/// The static schedule of one translated block on the Cortex-M7's 2-wide in-order pipeline,
/// computed once and reused on every execution of the block.
///
/// The block is scheduled as if every input register were ready and the pipeline empty at
/// cycle 0; what the run-time model needs to correct for the real state is kept alongside:
/// for each input register the cycle it is first needed, for each result how long it is still
/// pending after the block's last issue cycle.
struct BlockSchedule: Sendable {
    struct Input: Sendable, Equatable {
        var register: UInt8
        var role: ReadRole
        /// Issue cycle (from the block's start) of the first instruction reading the register.
        var needed: Int
    }

    struct Output: Sendable, Equatable {
        var register: UInt8
        var producer: ProducerKind
        /// Cycles after the block's end until a normal consumer may issue (may be negative).
        var pending: Int
    }

    /// Cycles from the first issue to the first free cycle after the block.
    var cost: Int
    /// The cost when the first instruction takes the free younger slot left by the previous
    /// block (a fall-through split or a correctly predicted taken branch).
    var costWhenPairedIn: Int
    /// The last issue cycle holds one instruction that could take a younger partner.
    var endsWithFreeSlot: Bool
    var inputs: [Input]
    var outputs: [Output]
    /// Issue cycle of each instruction, in order.
    var issueCycles: [Int]
    var instructionAddresses: [UInt32]
    var branch: BranchKind
    var branchAddress: UInt32
    /// The condition (flags or CBZ register) was set 3+ cycles before the branch, or outside
    /// the block: the shorter mispredict penalty applies.
    var conditionSetEarly: Bool
    /// SDIV/UDIV instructions of the block: their operands add cycles at run time.
    var divides: [DivideSite] = []
    /// Issue cycles of the block's first and last byte/halfword store (nil: none), and how many
    /// of its narrow stores are `strb` post-incremented by 1 (0 unless all are): the run-time
    /// model spaces narrow stores across blocks.
    var firstNarrowIssue: Int?
    var lastNarrowIssue: Int?
    var unitStrideByteStores = 0
    var instructionCount: Int { issueCycles.count }
}

/// Schedules decoded instructions with the Cortex-M7 issue rules (docs/design.md#cortex-m7-timing).
struct BlockScheduler {
    let parameters: TimingParameters
    private let readDelay: ReadDelayTable

    init(parameters: TimingParameters = .cortexM7) {
        self.parameters = parameters
        self.readDelay = ReadDelayTable(parameters: parameters)
    }

    func schedule(_ instructions: [InstructionProfile]) -> BlockSchedule {
        let plain = run(instructions, pairedIn: false)
        let paired = parameters[.takenBranchPairsWithTarget] != 0 ? run(instructions, pairedIn: true).cost : plain.cost
        var result = plain
        result.costWhenPairedIn = min(paired, plain.cost)
        return result
    }

    private func run(_ instructions: [InstructionProfile], pairedIn: Bool) -> BlockSchedule {
        var ready = [Int?](repeating: nil, count: RegisterIndex.count)
        var producer = [ProducerKind](repeating: .alu, count: RegisterIndex.count)
        var lastWrite = [Int?](repeating: nil, count: RegisterIndex.count)
        var inputs: [BlockSchedule.Input] = []
        var inputSeen = [Bool](repeating: false, count: RegisterIndex.count)
        var issueCycles: [Int] = []

        // A neutral ALU instruction in the older slot of cycle -1 when pairing in.
        let neutral = InstructionProfile(address: 0, length: 2, mnemonic: "(previous)", unit: .alu)
        var cycle = pairedIn ? -1 : 0
        var older: InstructionProfile? = pairedIn ? neutral : nil
        // Byte/halfword stores (jnk0le): the next one may issue `narrowStoreCycles` after the
        // previous, `narrowStoreSameBankCycles` when it writes another word of the same DTCM bank
        // (even/odd word). The bank is known when both go through one base register whose
        // changes in between are known write-backs; the base is assumed word aligned. From the
        // third narrow store in a row into one word on, the gap is `narrowStoreSameWordCycles`
        // (unit-stride strb: 2, 2, 3, 3 per word = 2.5 per store; jnk0le measured 2.4).
        // Offsets are kept from the base register's value at the first narrow store through it
        // (the anchor, assumed word aligned), so post-incremented `strb r1, [r0], #1` runs stay
        // in one word for four stores.
        var lastNarrowIssue = Int.min
        var narrowBase: UInt8?
        var narrowShift: Int32 = 0
        var lastNarrowOffset: Int32 = 0
        var storesIntoWord = 0
        var narrowIssues: [Int] = []
        var unitStrideBytes = 0
        var lockedUntil = Int.min

        for p in instructions {
            var t = cycle
            for read in p.reads {
                if let r = ready[Int(read.register)] {
                    t = max(t, r + readDelay[producer[Int(read.register)], read.role])
                }
            }
            var sameWord = false
            let narrowOffset = (p.postIndexed ? 0 : p.memoryOffset) &+ narrowShift
            let knownBank = p.narrowStore && !p.hasIndexRegister && p.memoryBase != nil && p.memoryBase == narrowBase
            if p.narrowStore && lastNarrowIssue != Int.min {
                var gap = parameters[.narrowStoreCycles]
                if knownBank {
                    let word = narrowOffset >> 2
                    let lastWord = lastNarrowOffset >> 2
                    if word != lastWord && (word - lastWord) & 1 == 0 { gap = parameters[.narrowStoreSameBankCycles] }
                    if word == lastWord {
                        sameWord = true
                        if storesIntoWord >= 2 { gap = parameters[.narrowStoreSameWordCycles] }
                    }
                }
                t = max(t, lastNarrowIssue + gap)
            }
            t = max(t, lockedUntil)
            if t == cycle, let o = older, !PairingRules.canPair(older: o, younger: p) { t = cycle + 1 }
            if t > cycle {
                cycle = t
                older = nil
            }
            let issue = cycle
            if older == nil {
                if p.singleIssue {
                    cycle += max(1, p.issueCycles)
                } else {
                    older = p
                }
            } else {
                cycle += 1
                older = nil
            }
            issueCycles.append(issue)
            if p.narrowStore {
                narrowIssues.append(issue)
                if p.byteStore && p.postIndexed && p.baseAdvance == 1 { unitStrideBytes += 1 }
                storesIntoWord = sameWord ? storesIntoWord + 1 : 1
                lastNarrowIssue = issue
                if knownBank {
                    lastNarrowOffset = narrowOffset
                } else if let base = p.memoryBase, !p.hasIndexRegister {
                    narrowBase = base
                    narrowShift = 0
                    lastNarrowOffset = p.postIndexed ? 0 : p.memoryOffset
                } else {
                    narrowBase = nil
                }
            }
            if let base = narrowBase, p.writes.contains(where: { $0.register == base }) {
                if p.memoryBase == base, let advance = p.baseAdvance {
                    narrowShift &+= advance
                } else {
                    narrowBase = nil
                }
            }
            if p.lockCycles > 0 { lockedUntil = issue + 1 + p.lockCycles }

            for read in p.reads where ready[Int(read.register)] == nil && !inputSeen[Int(read.register)] {
                inputSeen[Int(read.register)] = true
                inputs.append(.init(register: read.register, role: read.role, needed: issue))
            }
            let extra = p.singleIssue ? max(0, p.issueCycles - 1) : 0
            for write in p.writes {
                ready[Int(write.register)] = issue + extra + write.latency
                producer[Int(write.register)] = write.producer
                lastWrite[Int(write.register)] = issue
            }
        }
        var end = older != nil ? cycle + 1 : cycle
        end = max(end, lockedUntil, 0)

        var outputs: [BlockSchedule.Output] = []
        for register in 0..<RegisterIndex.count {
            if let r = ready[register] {
                outputs.append(.init(register: UInt8(register), producer: producer[register], pending: r - end))
            }
        }
        let last = instructions.last
        var conditionSetEarly = true
        if let last, last.branch == .conditional, let branchIssue = issueCycles.last {
            let source = Int(last.comparedRegister ?? RegisterIndex.flags)
            if let set = lastWrite[source] {
                conditionSetEarly = branchIssue - set >= parameters[.earlyFlagsDistance]
            }
        }
        return BlockSchedule(cost: end, costWhenPairedIn: end, endsWithFreeSlot: older != nil,
                             inputs: inputs, outputs: outputs, issueCycles: issueCycles,
                             instructionAddresses: instructions.map(\.address),
                             branch: last?.branch ?? .none, branchAddress: last?.address ?? 0,
                             conditionSetEarly: conditionSetEarly,
                             divides: instructions.compactMap(\.divide),
                             firstNarrowIssue: narrowIssues.first, lastNarrowIssue: narrowIssues.last,
                             unitStrideByteStores: narrowIssues.count == unitStrideBytes ? unitStrideBytes : 0)
    }
}

/// Extra cycles between a producer's "ready for a normal consumer" cycle and the cycle a
/// consumer reading in `role` may issue (docs/design.md#cortex-m7-timing, jnk0le's measurements):
/// early reads (addresses, shifted operands) need the value one cycle sooner; store data and
/// MAC accumulators one cycle later; a MAC cannot take an `ldr` result of the previous cycle;
/// a DSP/bitfield result used as an address costs one more cycle; an FP MAC chains on its
/// accumulator two cycles sooner than its full latency.
struct ReadDelayTable: Sendable {
    private var delays: [Int]

    init(parameters: TimingParameters) {
        delays = [Int](repeating: 0, count: ProducerKind.count * ReadRole.count)
        let early = parameters[.earlyReadCycles]
        for producer in 0..<ProducerKind.count {
            set(producer, .address, early)
            set(producer, .early, early)
            set(producer, .accumulator, -parameters[.lateStoreDataCycles])
            set(producer, .storeData, -parameters[.lateStoreDataCycles])
        }
        set(Int(ProducerKind.load.rawValue), .multiplicand, parameters[.loadToMultiplyExtra])
        set(Int(ProducerKind.dsp.rawValue), .address, early + parameters[.dspToAddressExtra])
        set(Int(ProducerKind.subwordLoad.rawValue), .storeData, -parameters[.subwordLoadLatency])
        set(Int(ProducerKind.fpMultiplyAccumulate.rawValue), .fpAccumulator,
            -(parameters[.fpFusedLatency] - parameters[.fpArithmeticLatency]))
    }

    private mutating func set(_ producer: Int, _ role: ReadRole, _ value: Int) {
        delays[producer * ReadRole.count + Int(role.rawValue)] = value
    }

    subscript(producer: ProducerKind, role: ReadRole) -> Int {
        delays[Int(producer.rawValue) * ReadRole.count + Int(role.rawValue)]
    }

    /// The table flattened, producer-major, for the run-time model.
    var flattened: [Int] { delays }
}
