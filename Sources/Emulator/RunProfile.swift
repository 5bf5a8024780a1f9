import Timing

/// What to record for `RunResult.profile` (`mixq run --profile`).
public struct ProfileOptions: Sendable {
    /// Also count data accesses per memory region. Always on under `--timing full`, whose
    /// cycle model already watches every access; in the other modes it adds a memory hook,
    /// which slows emulation several times (docs/profiling.md).
    public var dataAccesses: Bool
    /// Function entries and exits kept for the trace; past this the trace stops (the
    /// profile's totals are unaffected) and `RunProfile.traceEventsDropped` counts the rest.
    public var maxTraceEvents: Int

    public init(dataAccesses: Bool = false, maxTraceEvents: Int = 200_000) {
        self.dataAccesses = dataAccesses
        self.maxTraceEvents = max(0, maxTraceEvents)
    }
}

/// Where a run's cycles went, as recorded: per translated block, per calling context and per
/// memory region, plus function entries and exits on the cycle axis. Cycles are those of the
/// run's cycle model (instructions under `--timing off`); every block's cycles, and every
/// calling context's, add up to `RunResult.cycles` exactly.
///
/// This is raw data keyed by addresses and the ELF's function symbols; the `Profiling` module
/// turns it into per-function, per-line and per-region tables and writes the files.
public struct RunProfile: Sendable {
    /// A function symbol of the image (or a stand-in for code outside every symbol).
    public struct Function: Sendable, Hashable {
        public var name: String
        public var address: UInt32
        public var size: UInt32
    }

    /// One translated block and what its executions cost.
    public struct Block: Sendable {
        public var address: UInt32
        public var size: UInt32
        /// Index into `functions` of the function holding the block's first instruction.
        public var function: Int
        /// Instructions per execution.
        public var instructions: UInt32
        public var executions: UInt64
        /// Instructions executed in the block, as the run counts them (the cycle model's count
        /// under `pipeline` and `full`): they add up to `RunResult.instructions` exactly.
        public var executedInstructions: UInt64
        /// Cycles from this block's entry to the next block's entry, summed over executions:
        /// its issue cycles plus the stalls charged to it (operands from earlier blocks,
        /// mispredicted branches into it and, under `full`, fetch and data-access stalls).
        public var cycles: UInt64
        /// Of `cycles`, stalls (0 under `--timing off`).
        public var stallCycles: UInt64
        public var instructionCacheMisses: UInt64
        public var dataCacheMisses: UInt64
        /// Instruction addresses and static issue cycles, for apportioning `cycles` to lines.
        public var layout: BlockLayout
    }

    /// A calling context: one function reached through one chain of callers.
    public struct CallNode: Sendable {
        /// Index into `functions`; -1 for the root (before the first block).
        public var function: Int
        /// Index of the caller's node; -1 for the root.
        public var parent: Int
        /// Cycles and instructions spent in this context's own code.
        public var cycles: UInt64
        public var instructions: UInt64
        /// Times the context was entered (calls, tail calls and jumps into the function).
        public var calls: UInt64
    }

    /// A function entry or exit, for the trace.
    public struct TraceEvent: Sendable {
        public var cycle: UInt64
        /// Index into `nodes`.
        public var node: Int
        public var isEntry: Bool
    }

    /// Data accesses that landed in one memory region.
    public struct RegionAccesses: Sendable {
        public var region: String
        public var reads: UInt64 = 0
        public var writes: UInt64 = 0
        public var bytesRead: UInt64 = 0
        public var bytesWritten: UInt64 = 0
        /// Cycles the `full` model charged these accesses (cache misses, uncached latency,
        /// unaligned loads); 0 in the other modes.
        public var stallCycles: UInt64 = 0
    }

    public var functions: [Function]
    public var blocks: [Block]
    /// Node 0 is the root.
    public var nodes: [CallNode]
    public var traceEvents: [TraceEvent]
    public var traceEventsDropped: UInt64
    /// Per memory region of the part, when data accesses were counted; nil otherwise.
    public var regions: [RegionAccesses]?
    /// Data accesses per function (index as in `functions`) and region (as in `regions`),
    /// reads plus writes, when counted.
    public var functionRegionAccesses: [[UInt64]]?
    public var cycles: UInt64
    public var instructions: UInt64
}
