import CUnicorn
import Timing

/// Records a `RunProfile` from the block hook (and, for data accesses, the memory hook).
///
/// At every block entry the cycles counted since the previous entry are charged to the
/// previous block and to the calling context it ran in, so the charges add up to the run's
/// cycles exactly; then the call stack follows the transition:
/// - the previous block ended with BL/BLX and this block is not its fall-through: a call;
/// - this block starts at the return address of the innermost frame (or, after a longjmp,
///   of an outer one): a return;
/// - otherwise a block in another function is a tail call or jump: the innermost frame is
///   replaced.
/// Everything the hot path touches sits behind one pointer (docs/design.md#unicorn-facts).
final class ProfileCollector {
    private struct BlockRecord {
        var address: UInt32
        var size: UInt32
        var function: Int32
        var exit: BlockExit
        var instructions: UInt32
        var executions: UInt64 = 0
        var executedInstructions: UInt64 = 0
        var cycles: UInt64 = 0
        var stalls: UInt64 = 0
        var instructionMisses: UInt64 = 0
        var dataMisses: UInt64 = 0
    }

    private struct Node {
        var function: Int32
        var parent: Int32
        var firstChild: Int32 = -1
        var nextSibling: Int32 = -1
        var cycles: UInt64 = 0
        var instructions: UInt64 = 0
        var calls: UInt64 = 0
    }

    private struct Frame {
        var node: Int32
        var returnAddress: UInt32
    }

    private struct Event {
        var cycle: UInt64
        var node: Int32
        var isEntry: Bool
    }

    private struct State {
        var blocks = FlatArray<BlockRecord>()
        var nodes = FlatArray<Node>()
        var frames = FlatArray<Frame>()
        var events = FlatArray<Event>()
        var eventsDropped: UInt64 = 0
        var previous: Int32 = -1
        /// Counters at the previous block's entry.
        var cycles: UInt64 = 0
        var instructions: UInt64 = 0
        var stalls: UInt64 = 0
        var instructionMisses: UInt64 = 0
        var dataMisses: UInt64 = 0
        /// Per region (as `regionOf64KiB` numbers them): reads, writes, bytes read, bytes
        /// written, stall cycles.
        var regionCounters: UnsafeMutablePointer<UInt64>
        /// Per function x region: accesses.
        var functionRegionCounters: FlatArray<UInt64>

        func release() {
            blocks.release(); nodes.release(); frames.release(); events.release()
            regionCounters.deallocate(); functionRegionCounters.release()
        }
    }

    /// Frames deeper than this reuse the innermost calling context (deep recursion would
    /// otherwise grow the tree without bound).
    private static let maximumContextDepth = 256
    private static let unknownFunction = "(no symbol)"
    private static let regionFields = 5

    let options: ProfileOptions
    private let state: UnsafeMutablePointer<State>
    private let functions: [RunProfile.Function]
    /// Function starts, sorted, for the binary search on a block's first sight.
    private let functionStarts: [UInt32]
    private let regionNames: [String]
    /// Region index per 64 KiB of address space; `noRegion` outside the part's memory.
    private let regionOf64KiB: UnsafeMutablePointer<UInt8>
    private static let noRegion: UInt8 = 0xFF
    private let layoutReader: BlockLayoutReader
    private var layouts: [BlockLayout] = []
    private let maxEvents: Int

    init(image: ELFImage, part: Part, options: ProfileOptions) throws {
        self.options = options
        var functions = image.symbols.filter(\.isFunction)
            .map { RunProfile.Function(name: $0.name, address: $0.address, size: $0.size) }
        // One entry per address: prefer the sized symbol (a label and a function may share it).
        functions.sort { ($0.address, $1.size) < ($1.address, $0.size) }
        var unique: [RunProfile.Function] = []
        for function in functions where unique.last?.address != function.address { unique.append(function) }
        // Static functions of one name in several files (a helper in a shared header) stay
        // apart in every table: the later ones get their address.
        var seen: Set<String> = []
        for index in unique.indices where !seen.insert(unique[index].name).inserted {
            unique[index].name += "@0x" + String(unique[index].address, radix: 16)
        }
        unique.append(RunProfile.Function(name: Self.unknownFunction, address: 0, size: 0))
        self.functions = unique
        functionStarts = unique.dropLast().map(\.address)
        regionNames = part.regions.map(\.name)
        regionOf64KiB = .allocate(capacity: 1 << 16)
        regionOf64KiB.initialize(repeating: Self.noRegion, count: 1 << 16)
        for (index, region) in part.regions.enumerated() where region.size > 0 && index < Int(Self.noRegion) {
            var page = Int(region.base >> 16)
            let last = Int((UInt64(region.base) + UInt64(region.size) - 1) >> 16)
            while page <= last { regionOf64KiB[page] = UInt8(index); page += 1 }
        }
        layoutReader = try BlockLayoutReader()
        maxEvents = options.maxTraceEvents
        let regionCounters = UnsafeMutablePointer<UInt64>.allocate(capacity: Self.regionFields * max(1, part.regions.count))
        regionCounters.initialize(repeating: 0, count: Self.regionFields * max(1, part.regions.count))
        state = .allocate(capacity: 1)
        state.initialize(to: State(regionCounters: regionCounters, functionRegionCounters: FlatArray()))
        state.pointee.nodes.append(Node(function: -1, parent: -1))
        state.pointee.frames.append(Frame(node: 0, returnAddress: 0xFFFF_FFFF))
        if options.dataAccesses {
            for _ in 0..<(unique.count * part.regions.count) { state.pointee.functionRegionCounters.append(0) }
        }
    }

    deinit {
        state.pointee.release()
        state.deinitialize(count: 1)
        state.deallocate()
        regionOf64KiB.deallocate()
    }

    /// Whether the image has function symbols to attribute cycles to.
    var hasSymbols: Bool { functions.count > 1 }

    // MARK: Block hook

    /// Called at every executed block's entry with the run's counters before the block is
    /// accounted. `profileIndex` is the block's slot in the emulator's per-block table (-1 on
    /// first sight; set here).
    @inline(__always)
    func enterBlock(address: UInt32, size: UInt32, instructions: UInt32, profileIndex: inout Int32,
                    cycles: UInt64, executed: UInt64, model: CycleModel?, engine: OpaquePointer) {
        if profileIndex < 0 { profileIndex = learn(address: address, size: size, instructions: instructions, engine: engine) }
        let s = state
        charge(cycles: cycles, instructions: executed, model: model)

        let blocks = s.pointee.blocks.pointer
        let index = Int(profileIndex)
        blocks[index].executions &+= 1
        let function = blocks[index].function
        let top = s.pointee.frames.count - 1
        let frame = s.pointee.frames.pointer[top]
        let previous = Int(s.pointee.previous)
        s.pointee.previous = profileIndex
        if previous >= 0 {
            let exit = blocks[previous].exit
            if (exit == .call || exit == .indirectCall) && address != blocks[previous].address &+ blocks[previous].size {
                push(function: function, returnAddress: blocks[previous].address &+ blocks[previous].size, cycle: cycles)
                return
            }
        }
        if address == frame.returnAddress && top > 0 {
            pop(to: top - 1, cycle: cycles)
            if s.pointee.nodes.pointer[Int(s.pointee.frames.pointer[top - 1].node)].function != function {
                replace(function: function, cycle: cycles)
            }
            return
        }
        if s.pointee.nodes.pointer[Int(frame.node)].function == function { return }
        if top == 0 {
            push(function: function, returnAddress: 0xFFFF_FFFF, cycle: cycles)
            return
        }
        // A return past the innermost frame (longjmp), else a tail call or jump.
        var depth = top - 1
        while depth > 0 && top - depth < 64 {
            if s.pointee.frames.pointer[depth].returnAddress == address {
                pop(to: depth - 1, cycle: cycles)
                if s.pointee.nodes.pointer[Int(s.pointee.frames.pointer[depth - 1].node)].function != function {
                    replace(function: function, cycle: cycles)
                }
                return
            }
            depth -= 1
        }
        replace(function: function, cycle: cycles)
    }

    /// Charges the counters since the previous block's entry (cycles, and instructions as the
    /// run counts them) to that block and its context.
    @inline(__always)
    private func charge(cycles: UInt64, instructions: UInt64, model: CycleModel?) {
        let s = state
        let delta = cycles &- s.pointee.cycles
        s.pointee.cycles = cycles
        let executed = instructions &- s.pointee.instructions
        s.pointee.instructions = instructions
        let previous = Int(s.pointee.previous)
        let node = Int(s.pointee.frames.pointer[s.pointee.frames.count - 1].node)
        s.pointee.nodes.pointer[node].cycles &+= delta
        guard previous >= 0 else { return }
        let block = s.pointee.blocks.pointer + previous
        block.pointee.cycles &+= delta
        block.pointee.executedInstructions &+= executed
        s.pointee.nodes.pointer[node].instructions &+= executed
        if let model {
            let stalls = model.stallCycles
            block.pointee.stalls &+= stalls &- s.pointee.stalls
            s.pointee.stalls = stalls
            if model.mode == .full {
                let misses = model.cacheMisses
                block.pointee.instructionMisses &+= misses.instruction &- s.pointee.instructionMisses
                block.pointee.dataMisses &+= misses.data &- s.pointee.dataMisses
                s.pointee.instructionMisses = misses.instruction
                s.pointee.dataMisses = misses.data
            }
        }
    }

    private func push(function: Int32, returnAddress: UInt32, cycle: UInt64) {
        let s = state
        let parent = s.pointee.frames.pointer[s.pointee.frames.count - 1].node
        let node = s.pointee.frames.count > Self.maximumContextDepth ? parent : child(of: parent, function: function)
        s.pointee.nodes.pointer[Int(node)].calls &+= 1
        s.pointee.frames.append(Frame(node: node, returnAddress: returnAddress))
        record(Event(cycle: cycle, node: node, isEntry: true))
    }

    private func pop(to depth: Int, cycle: UInt64) {
        let s = state
        while s.pointee.frames.count - 1 > depth {
            record(Event(cycle: cycle, node: s.pointee.frames.pointer[s.pointee.frames.count - 1].node, isEntry: false))
            s.pointee.frames.removeLast(1)
        }
    }

    private func replace(function: Int32, cycle: UInt64) {
        let s = state
        let top = s.pointee.frames.count - 1
        let old = s.pointee.frames.pointer[top].node
        let parent = s.pointee.frames.pointer[top - 1].node
        let node = top > Self.maximumContextDepth ? old : child(of: parent, function: function)
        record(Event(cycle: cycle, node: old, isEntry: false))
        s.pointee.frames.pointer[top].node = node
        s.pointee.nodes.pointer[Int(node)].calls &+= 1
        record(Event(cycle: cycle, node: node, isEntry: true))
    }

    private func child(of parent: Int32, function: Int32) -> Int32 {
        let s = state
        var candidate = s.pointee.nodes.pointer[Int(parent)].firstChild
        while candidate >= 0 {
            if s.pointee.nodes.pointer[Int(candidate)].function == function { return candidate }
            candidate = s.pointee.nodes.pointer[Int(candidate)].nextSibling
        }
        let index = Int32(s.pointee.nodes.count)
        s.pointee.nodes.append(Node(function: function, parent: parent,
                                    nextSibling: s.pointee.nodes.pointer[Int(parent)].firstChild))
        s.pointee.nodes.pointer[Int(parent)].firstChild = index
        return index
    }

    private func record(_ event: Event) {
        if state.pointee.events.count < maxEvents {
            state.pointee.events.append(event)
        } else {
            state.pointee.eventsDropped &+= 1
        }
    }

    /// First sight of a block: its function and layout (cold path).
    private func learn(address: UInt32, size: UInt32, instructions: UInt32, engine: OpaquePointer) -> Int32 {
        var bytes = [UInt8](repeating: 0, count: Int(size))
        let readable = size > 0 && bytes.withUnsafeMutableBytes {
            uc_mem_read(engine, UInt64(address), $0.baseAddress, Int(size))
        } == UC_ERR_OK
        let layout = readable ? layoutReader.layout(of: bytes, at: address)
            : BlockLayout(instructionAddresses: [], issueCycles: [], cost: 0, exit: .other)
        let index = Int32(state.pointee.blocks.count)
        state.pointee.blocks.append(BlockRecord(address: address, size: size, function: Int32(function(containing: address)),
                                                exit: layout.exit, instructions: instructions))
        layouts.append(layout)
        return index
    }

    /// The function covering `address`: the last function starting at or before it whose
    /// size covers it, else (hand-written code without `.size`) the last one starting before
    /// it, else the stand-in for code outside every symbol.
    private func function(containing address: UInt32) -> Int {
        var low = 0, high = functionStarts.count
        while low < high {
            let middle = (low + high) / 2
            if functionStarts[middle] <= address { low = middle + 1 } else { high = middle }
        }
        let unknown = functions.count - 1
        guard low > 0 else { return unknown }
        let candidate = functions[low - 1]
        if candidate.size > 0 && address - candidate.address >= candidate.size {
            // Past the function's end: maybe inside an earlier, larger one; else no symbol.
            var index = low - 2
            while index >= 0 && low - 2 - index < 8 {
                let earlier = functions[index]
                if earlier.size > 0 && address - earlier.address < earlier.size { return index }
                index -= 1
            }
            return unknown
        }
        return low - 1
    }

    // MARK: Memory hook

    /// One data access; `stallCycles` is what the cycle model charged it (`full`), else 0.
    @inline(__always)
    func dataAccess(address: UInt32, size: Int, write: Bool, stallCycles: UInt64) {
        let region = Int(regionOf64KiB[Int(address >> 16)])
        guard region != Int(Self.noRegion) else { return }
        let s = state
        let counters = s.pointee.regionCounters + region * Self.regionFields
        counters[write ? 1 : 0] &+= 1
        counters[write ? 3 : 2] &+= UInt64(size)
        counters[4] &+= stallCycles
        let previous = Int(s.pointee.previous)
        if previous >= 0 && s.pointee.functionRegionCounters.count > 0 {
            let function = Int(s.pointee.blocks.pointer[previous].function)
            s.pointee.functionRegionCounters.pointer[function * regionNames.count + region] &+= 1
        }
    }

    // MARK: Result

    /// The profile of a run that ended with `cycles` (and these model counters): the last
    /// block is charged and the open frames are closed.
    func finish(cycles: UInt64, instructions: UInt64, model: CycleModel?) -> RunProfile {
        charge(cycles: cycles, instructions: instructions, model: model)
        pop(to: 0, cycle: cycles)
        let s = state.pointee
        let blocks = s.blocks.elements.enumerated().map { index, block in
            RunProfile.Block(address: block.address, size: block.size, function: Int(block.function),
                             instructions: block.instructions, executions: block.executions,
                             executedInstructions: block.executedInstructions, cycles: block.cycles,
                             stallCycles: block.stalls, instructionCacheMisses: block.instructionMisses,
                             dataCacheMisses: block.dataMisses, layout: layouts[index])
        }
        let nodes = s.nodes.elements.map {
            RunProfile.CallNode(function: Int($0.function), parent: Int($0.parent), cycles: $0.cycles,
                                instructions: $0.instructions, calls: $0.calls)
        }
        let events = s.events.elements.map { RunProfile.TraceEvent(cycle: $0.cycle, node: Int($0.node), isEntry: $0.isEntry) }
        var regions: [RunProfile.RegionAccesses]?
        var functionRegions: [[UInt64]]?
        if options.dataAccesses {
            regions = regionNames.enumerated().map { index, name in
                let c = s.regionCounters + index * Self.regionFields
                return RunProfile.RegionAccesses(region: name, reads: c[0], writes: c[1], bytesRead: c[2],
                                                 bytesWritten: c[3], stallCycles: c[4])
            }
            let flat = s.functionRegionCounters.elements
            functionRegions = (0..<functions.count).map { Array(flat[($0 * regionNames.count)..<(($0 + 1) * regionNames.count)]) }
        }
        return RunProfile(functions: functions, blocks: blocks, nodes: nodes, traceEvents: events,
                          traceEventsDropped: s.eventsDropped, regions: regions, functionRegionAccesses: functionRegions,
                          cycles: cycles, instructions: instructions)
    }
}
