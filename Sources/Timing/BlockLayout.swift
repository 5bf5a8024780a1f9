/// How a block of Thumb-2 code leaves: what a profiler needs to follow calls and returns.
public enum BlockExit: UInt8, Sendable {
    /// Falls through, branches inside or out of its function, or is split by the emulator.
    case other
    /// Ends with BL or BLX to an immediate: the next block is the callee unless the call was
    /// condition-failed.
    case call
    /// Ends with BLX to a register.
    case indirectCall
    /// Ends with BX LR, POP {..., PC}, LDM SP!, {..., PC} or LDR PC, [SP], #4.
    case `return`
}

/// The instructions of one block with their static issue cycles on the Cortex-M7 schedule
/// (every input ready, pipeline empty), for attributing a block's measured cycles to its
/// instructions and source lines.
public struct BlockLayout: Sendable, Equatable {
    /// Address of each instruction, in order.
    public var instructionAddresses: [UInt32]
    /// Issue cycle of each instruction from the block's first, on the static schedule.
    public var issueCycles: [Int]
    /// Cycles from the first issue to the first free cycle after the block (static).
    public var cost: Int
    /// How the block leaves.
    public var exit: BlockExit

    public init(instructionAddresses: [UInt32], issueCycles: [Int], cost: Int, exit: BlockExit) {
        self.instructionAddresses = instructionAddresses
        self.issueCycles = issueCycles
        self.cost = cost
        self.exit = exit
    }

    /// Static cycles of each instruction: the gap to the next instruction's issue (the last
    /// one: to the block's end). Instructions that pair with the one before cost 0; the
    /// weights add up to `cost`.
    public var instructionCycles: [Int] {
        var cycles: [Int] = []
        cycles.reserveCapacity(issueCycles.count)
        for index in issueCycles.indices {
            let next = index + 1 < issueCycles.count ? issueCycles[index + 1] : cost
            cycles.append(max(0, next - issueCycles[index]))
        }
        return cycles
    }
}

/// Decodes and schedules blocks outside a run (cold path: Capstone plus the block scheduler),
/// for tools that need per-instruction detail a `CycleModel` does not keep.
public final class BlockLayoutReader {
    private let decoder: InstructionDecoder
    private let scheduler: BlockScheduler

    public init(parameters: TimingParameters = .cortexM7) throws {
        decoder = try InstructionDecoder(parameters: parameters)
        scheduler = BlockScheduler(parameters: parameters)
    }

    /// The layout of the Thumb-2 code `bytes` placed at `address`.
    public func layout(of bytes: [UInt8], at address: UInt32) -> BlockLayout {
        let profiles = bytes.withUnsafeBytes { decoder.decode($0, address: address) }
        let schedule = scheduler.schedule(profiles)
        let exit: BlockExit
        switch profiles.last?.branch {
        case .call?: exit = .call
        case .indirectCall?: exit = .indirectCall
        case .return?: exit = .return
        default: exit = .other
        }
        return BlockLayout(instructionAddresses: profiles.map(\.address), issueCycles: schedule.issueCycles,
                           cost: schedule.cost, exit: exit)
    }
}
