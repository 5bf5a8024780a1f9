import Emulator
import Timing

/// A run's profile in the terms an engineer reads: cycles per function (self and inclusive),
/// per source line and per memory region, the calling contexts as folded stacks and the
/// function spans for a trace viewer.
///
/// ```swift
/// let result = try machine.run(image, options: RunOptions(timing: .pipeline, profile: ProfileOptions()))
/// let report = try ProfileReport(result.profile!, image: image, part: .stm32h743, timing: .pipeline)
/// print(report.functions.prefix(10))
/// ```
public struct ProfileReport: Sendable {
    /// One function's share of the run.
    public struct FunctionCost: Sendable, Equatable {
        public var name: String
        public var address: UInt32
        /// Cycles in the function's own instructions.
        public var selfCycles: UInt64
        /// Cycles in the function and everything it called (recursion counted once).
        public var inclusiveCycles: UInt64
        public var instructions: UInt64
        /// Times the function was entered (calls, tail calls and jumps into it).
        public var calls: UInt64
        /// Of `selfCycles`, stalls: operands from earlier blocks, mispredicted branches and,
        /// under `full`, the memory system.
        public var stallCycles: UInt64
        public var instructionCacheMisses: UInt64
        public var dataCacheMisses: UInt64
        /// Where the function starts in the source, when the ELF has line information.
        public var location: SourceLocation?

        /// Cycles per instruction of the function's own code.
        public var cyclesPerInstruction: Double {
            instructions > 0 ? Double(selfCycles) / Double(instructions) : 0
        }
    }

    /// One source line's share.
    public struct LineCost: Sendable, Equatable {
        public var location: SourceLocation
        /// The function most of the line's cycles ran in.
        public var function: String
        public var cycles: UInt64
        public var instructions: UInt64
    }

    /// Code executed from one memory region, and the data accesses that landed in it.
    public struct RegionCost: Sendable, Equatable {
        public var region: String
        /// Instructions fetched from the region and the cycles of those blocks.
        public var instructions: UInt64
        public var cycles: UInt64
        /// Data accesses, when counted (`--timing full` or `ProfileOptions.dataAccesses`).
        public var reads: UInt64?
        public var writes: UInt64?
        public var bytesRead: UInt64?
        public var bytesWritten: UInt64?
        /// Cycles the `full` model charged the region's data accesses.
        public var dataStallCycles: UInt64?
    }

    /// A calling context with cycles of its own: the functions from the outermost in, and
    /// the cycles spent in the innermost one's own code.
    public struct Stack: Sendable, Equatable {
        public var functions: [String]
        public var cycles: UInt64
        public var instructions: UInt64
    }

    /// A function's span on the cycle axis (entry to exit, callees included).
    public struct Span: Sendable, Equatable {
        public var function: String
        public var start: UInt64
        public var cycles: UInt64
        /// Calling depth, 0 for the outermost function.
        public var depth: Int
    }

    public var cycles: UInt64
    public var instructions: UInt64
    /// Sorted by self cycles, most first.
    public var functions: [FunctionCost]
    /// Sorted by cycles, most first.
    public var lines: [LineCost]
    /// Whether the ELF had DWARF line information (`-g`).
    public var hasLineInformation: Bool
    /// In the part's region order; regions with no code and no accesses are left out.
    public var regions: [RegionCost]
    public var dataAccessesCounted: Bool
    public var stacks: [Stack]
    public var spans: [Span]
    /// Function entries and exits not kept once the trace reached its limit.
    public var traceEventsDropped: UInt64

    /// Interprets `profile`, recorded from `image` on `part` under `timing`.
    ///
    /// A line's cycles are its blocks' measured cycles apportioned by each instruction's
    /// static issue cycles (under `--timing off`, one per instruction), so lines add up to the
    /// run's total exactly; functions are exact without apportioning.
    public init(_ profile: RunProfile, image: ELFImage, part: Part, timing: TimingMode) {
        cycles = profile.cycles
        instructions = profile.instructions
        let lineTable = (try? SourceLineTable(image: image)) ?? nil
        hasLineInformation = !(lineTable?.isEmpty ?? true)
        traceEventsDropped = profile.traceEventsDropped
        dataAccessesCounted = profile.regions != nil

        // Functions: self figures from blocks, calls and inclusive cycles from the contexts.
        var byFunction = profile.functions.enumerated().map { index, function in
            FunctionCost(name: function.name, address: function.address, selfCycles: 0, inclusiveCycles: 0,
                         instructions: 0, calls: 0, stallCycles: 0, instructionCacheMisses: 0, dataCacheMisses: 0,
                         location: function.size > 0 ? lineTable?.location(of: function.address) : nil)
        }
        for block in profile.blocks where block.function < byFunction.count {
            byFunction[block.function].selfCycles &+= block.cycles
            byFunction[block.function].instructions &+= block.executedInstructions
            byFunction[block.function].stallCycles &+= block.stallCycles
            byFunction[block.function].instructionCacheMisses &+= block.instructionCacheMisses
            byFunction[block.function].dataCacheMisses &+= block.dataCacheMisses
        }
        let nodes = profile.nodes
        var inclusive = nodes.map(\.cycles)
        // Children are created after their parents: one backward pass sums every subtree.
        for index in nodes.indices.reversed() where nodes[index].parent >= 0 {
            inclusive[nodes[index].parent] &+= inclusive[index]
        }
        for (index, node) in nodes.enumerated() where node.function >= 0 && node.function < byFunction.count {
            byFunction[node.function].calls &+= node.calls
            // A recursive function's inner contexts are inside its outermost one already.
            var ancestor = node.parent
            var recursive = false
            while ancestor >= 0 {
                if nodes[ancestor].function == node.function { recursive = true; break }
                ancestor = nodes[ancestor].parent
            }
            if !recursive { byFunction[node.function].inclusiveCycles &+= inclusive[index] }
        }
        functions = byFunction.filter { $0.selfCycles > 0 || $0.inclusiveCycles > 0 || $0.instructions > 0 }
            .sorted { ($0.selfCycles, $1.name) > ($1.selfCycles, $0.name) }

        // Lines and code regions, from the blocks.
        var lineCycles: [SourceLocation: (cycles: UInt64, instructions: UInt64, byFunction: [Int: UInt64])] = [:]
        var regionCode = [(instructions: UInt64, cycles: UInt64)](repeating: (0, 0), count: part.regions.count)
        for block in profile.blocks where block.executions > 0 {
            if let region = part.regions.firstIndex(where: { $0.contains(address: block.address, length: 1) }) {
                regionCode[region].instructions &+= block.executedInstructions
                regionCode[region].cycles &+= block.cycles
            }
            guard let lineTable, !lineTable.isEmpty else { continue }
            let addresses = block.layout.instructionAddresses
            guard !addresses.isEmpty else { continue }
            let weights = timing == .off ? [Int](repeating: 1, count: addresses.count) : block.layout.instructionCycles
            let shares = Self.apportion(block.cycles, weights: weights)
            for (index, address) in addresses.enumerated() {
                let location = lineTable.location(of: address) ?? SourceLocation(file: "??", line: 0)
                var entry = lineCycles[location] ?? (0, 0, [:])
                entry.cycles &+= shares[index]
                entry.instructions &+= block.executions
                entry.byFunction[block.function, default: 0] &+= shares[index]
                lineCycles[location] = entry
            }
        }
        lines = lineCycles.map { location, entry in
            let function = entry.byFunction.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key ?? profile.functions.count - 1
            return LineCost(location: location, function: profile.functions[function].name,
                            cycles: entry.cycles, instructions: entry.instructions)
        }.sorted { ($0.cycles, $1.location) > ($1.cycles, $0.location) }

        regions = part.regions.enumerated().compactMap { index, region in
            let data = profile.regions.flatMap { index < $0.count ? $0[index] : nil }
            let code = regionCode[index]
            let touched = code.instructions > 0 || (data.map { $0.reads + $0.writes } ?? 0) > 0
            guard touched else { return nil }
            return RegionCost(region: region.name, instructions: code.instructions, cycles: code.cycles,
                              reads: data?.reads, writes: data?.writes, bytesRead: data?.bytesRead,
                              bytesWritten: data?.bytesWritten, dataStallCycles: data?.stallCycles)
        }

        // Calling contexts and spans.
        func name(_ function: Int) -> String {
            function >= 0 && function < profile.functions.count ? profile.functions[function].name : "(root)"
        }
        var paths: [[String]] = Array(repeating: [], count: nodes.count)
        var depths = [Int](repeating: -1, count: nodes.count)
        for (index, node) in nodes.enumerated() where node.parent >= 0 {
            paths[index] = paths[node.parent] + [name(node.function)]
            depths[index] = depths[node.parent] + 1
        }
        stacks = nodes.indices.filter { (nodes[$0].cycles > 0 || nodes[$0].instructions > 0) && nodes[$0].parent >= 0 }
            .map { Stack(functions: paths[$0], cycles: nodes[$0].cycles, instructions: nodes[$0].instructions) }
        var open: [(node: Int, start: UInt64)] = []
        var spans: [Span] = []
        for event in profile.traceEvents {
            if event.isEntry {
                open.append((event.node, event.cycle))
            } else if let last = open.last, last.node == event.node {
                open.removeLast()
                spans.append(Span(function: name(nodes[last.node].function), start: last.start,
                                  cycles: event.cycle - last.start, depth: max(0, depths[last.node])))
            }
        }
        // A trace cut at its limit: close what is still open at the last recorded cycle.
        let end = profile.traceEvents.last?.cycle ?? profile.cycles
        for frame in open.reversed() {
            spans.append(Span(function: name(nodes[frame.node].function), start: frame.start,
                              cycles: end - frame.start, depth: max(0, depths[frame.node])))
        }
        self.spans = spans.sorted { ($0.start, $0.depth) < ($1.start, $1.depth) }
    }

    /// Splits `total` in proportion to `weights` so that the shares add up to `total` exactly
    /// (cumulative rounding); equal shares when every weight is 0.
    static func apportion(_ total: UInt64, weights: [Int]) -> [UInt64] {
        guard !weights.isEmpty else { return [] }
        var weights = weights.map { UInt64(max(0, $0)) }
        if weights.allSatisfy({ $0 == 0 }) { weights = [UInt64](repeating: 1, count: weights.count) }
        let sum = weights.reduce(0, +)
        var shares: [UInt64] = []
        var cumulative: UInt64 = 0
        var given: UInt64 = 0
        for weight in weights {
            cumulative += weight
            // floor(total * cumulative / sum) without overflow; never above total.
            let product = total.multipliedFullWidth(by: cumulative)
            let exact = sum.dividingFullWidth((product.high, product.low)).quotient
            shares.append(exact - given)
            given = exact
        }
        return shares
    }
}
