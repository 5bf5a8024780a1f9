@testable import Timing
import Testing

/// The run-time model: cross-block operand stalls, branch prediction, caches, with hand-worked
/// expected cycle counts.
@Suite("Cycle model at run time")
struct CycleModelTests {
    /// A tiny code memory: blocks placed at fixed addresses.
    final class CodeMemory {
        var bytes: [UInt32: UInt8] = [:]
        func place(_ code: [UInt8], at address: UInt32) {
            for (i, b) in code.enumerated() { bytes[address + UInt32(i)] = b }
        }
        func read(_ address: UInt32, _ count: Int, _ into: UnsafeMutableRawPointer) -> Bool {
            for i in 0..<count {
                guard let b = bytes[address + UInt32(i)] else { return false }
                into.storeBytes(of: b, toByteOffset: i, as: UInt8.self)
            }
            return true
        }
    }

    static let regions = [TimedRegion(base: 0, size: 0x10000, kind: .tcm),
                          TimedRegion(base: 0x0800_0000, size: 0x20_0000, kind: .flash),
                          TimedRegion(base: 0x2000_0000, size: 0x2_0000, kind: .tcm),
                          TimedRegion(base: 0x2400_0000, size: 0x8_0000, kind: .axiSRAM)]

    func model(_ mode: TimingMode = .pipeline) throws -> CycleModel {
        try CycleModel(mode: mode, clockMHz: 400, regions: Self.regions)
    }

    @Test("a byte load at the end of one block stalls a consumer at the start of the next")
    func crossBlockStall() throws {
        let code = CodeMemory()
        code.place(Thumb.ldrbR1, at: 0x100)          // block A: 1 cycle, r1 pending 1 more
        code.place(Thumb.addsR2FromR1, at: 0x200)    // block B: needs r1 at its cycle 0
        let m = try model()
        _ = m.enterBlock(address: 0x100, size: 2, readCode: code.read)
        #expect(m.cycles == 1)
        _ = m.enterBlock(address: 0x200, size: 2, readCode: code.read)
        // ldrb at 0, add could issue at 2 (latency 2): 1 stall cycle + 1 issue cycle.
        #expect(m.cycles == 3)
        #expect(m.statistics.dependencyStallCycles == 1)
    }

    @Test("an independent consumer is not stalled")
    func noFalseStall() throws {
        let code = CodeMemory()
        code.place(Thumb.ldrbR1, at: 0x100)
        code.place(Thumb.addsR2, at: 0x200)
        let m = try model()
        _ = m.enterBlock(address: 0x100, size: 2, readCode: code.read)
        _ = m.enterBlock(address: 0x200, size: 2, readCode: code.read)
        #expect(m.statistics.dependencyStallCycles == 0)
        #expect(m.cycles <= 2)
    }

    @Test("an alternating conditional branch is mispredicted by 2-bit counters; a steady one is learnt")
    func branchPrediction() throws {
        let code = CodeMemory()
        code.place(Thumb.cmpR1 + Thumb.bneBack, at: 0x100)  // fall-through 0x104
        code.place(Thumb.nop + Thumb.bxLR, at: 0x104)
        code.place(Thumb.nop + Thumb.bxLR, at: 0xF8)
        let m = try model()
        // Taken (to 0xF8) every time: the first is mispredicted (counter starts weakly not
        // taken), then learnt.
        for _ in 0..<10 {
            _ = m.enterBlock(address: 0x100, size: 4, readCode: code.read)
            _ = m.enterBlock(address: 0xF8, size: 4, readCode: code.read)
        }
        let steady = m.statistics.mispredictions
        let m2 = try model()
        for i in 0..<10 {
            _ = m2.enterBlock(address: 0x100, size: 4, readCode: code.read)
            _ = m2.enterBlock(address: i % 2 == 0 ? 0xF8 : 0x104, size: 4, readCode: code.read)
        }
        // The BX LR returns also mispredict (nothing on the return stack): the same in both runs.
        let returns: UInt64 = 9
        #expect(steady == 1 + returns)
        #expect(m2.statistics.mispredictions == 10 + returns)
        // cmp + bne with the flags set the cycle before: the 8-cycle penalty.
        #expect(m2.cycles - m.cycles == 9 * 8)
    }

    @Test("full mode: code in FLASH pays line fills with the I-cache off and only misses with it on")
    func instructionCache() throws {
        let code = CodeMemory()
        code.place(Thumb.addsR1 + Thumb.addsR2, at: 0x0800_0000)
        let off = try model(.full)
        let on = try model(.full)
        on.setCacheEnables(instruction: true, data: false)
        for _ in 0..<10 {
            _ = off.enterBlock(address: 0x0800_0000, size: 4, readCode: code.read)
            _ = on.enterBlock(address: 0x0800_0000, size: 4, readCode: code.read)
        }
        let p = TimingParameters.cortexM7
        // A 4-byte block at the start of a FLASH line: critical word first, the block needs the
        // first doubleword only: request + one flash word read (2 wait states + 1 AXI clocks).
        let fill = UInt64(p[.axiRequestCycles] + 3 * p[.flashWaitStateCycles])
        #expect(on.statistics.instructionCacheMisses == 1)
        #expect(off.cycles - on.cycles == 9 * fill)
        // With the I-cache off every execution fetches its FLASH lines again, counted apart
        // from the misses (zero: no cache was used), and not counted with the cache on.
        #expect(off.statistics.instructionCacheMisses == 0)
        #expect(off.statistics.uncachedFlashFetches == 10)
        #expect(on.statistics.uncachedFlashFetches == 0)
        // A block across a line boundary fetches both lines; code in ITCM none.
        code.place(Thumb.addsR1 + Thumb.addsR2 + Thumb.addsR1 + Thumb.addsR2, at: 0x0800_003C)
        code.place(Thumb.addsR1 + Thumb.addsR2, at: 0x0000_0000)
        let crossing = try model(.full)
        _ = crossing.enterBlock(address: 0x0800_003C, size: 8, readCode: code.read)
        _ = crossing.enterBlock(address: 0x0000_0000, size: 4, readCode: code.read)
        #expect(crossing.statistics.uncachedFlashFetches == 2)
    }

    @Test("full mode: D-cache misses once per line, uncached AXI reads pay every time, TCM is free")
    func dataCache() throws {
        let m = try model(.full)
        let p = TimingParameters.cortexM7
        m.dataAccess(address: 0x2000_0000, size: 4, write: false)
        #expect(m.cycles == 0)
        m.dataAccess(address: 0x2400_0000, size: 4, write: false)
        let firstWord = UInt64(p[.axiRequestCycles] + p[.lineFillBeatCycles])
        #expect(m.cycles == firstWord)
        m.setCacheEnables(instruction: false, data: true)
        let before = m.cycles
        // Back-to-back loads through two lines (all seen at one cycle): the critical word, then
        // each later doubleword as its beat arrives; the second fill's beats follow the first's.
        for offset in stride(from: UInt32(0), to: 64, by: 4) {
            m.dataAccess(address: 0x2400_1000 + offset, size: 4, write: false)
        }
        #expect(m.statistics.dataCacheMisses == 2)
        let beats = UInt64(p[.lineFillBeatCycles])
        #expect(m.cycles - before == 2 * (firstWord + 3 * beats))
        // One load per line, seen back to back: each waits for its critical word only; the
        // fills overlap in the two linefill buffers, bounded by the read channel (4 beats/line).
        let sparse = m.cycles
        for line in UInt32(0)..<4 { m.dataAccess(address: 0x2400_2000 + 32 * line, size: 4, write: false) }
        #expect(m.cycles - sparse == 4 * firstWord)
        // A write-allocate store miss with a linefill buffer free does not wait at all.
        let fresh = try model(.full)
        fresh.setCacheEnables(instruction: false, data: true)
        fresh.dataAccess(address: 0x2400_3000, size: 4, write: true)
        #expect(fresh.cycles == 0)
        #expect(fresh.statistics.dataCacheMisses == 1)
    }

    @Test("LRU: a 2-way set keeps the two most recent lines")
    func leastRecentlyUsed() {
        var cache = CacheModel(bytes: 64, ways: 2, lineBytes: 32)  // one set, two ways
        defer { cache.release() }
        #expect(cache.access(0x000, write: false) == .miss)
        #expect(cache.access(0x020, write: false) == .miss)
        #expect(cache.access(0x000, write: false) == .hit)
        #expect(cache.access(0x040, write: true) == .miss)   // evicts 0x020
        #expect(cache.access(0x000, write: false) == .hit)
        #expect(cache.access(0x020, write: false) == .missEvictingDirty)  // LRU is the dirty 0x040
        #expect(cache.access(0x040, write: false) == .miss)               // LRU is the clean 0x000
    }

    @Test("peripheral accesses: a load through a literal-pool address of DWT is a candidate, a stack load is not")
    func peripheralCandidates() throws {
        let decoder = try InstructionDecoder()
        // ldr r3, [pc, #4]; ldr r2, [r3]; (pad); .word 0xE0001004 at 0x24 - as assembled at 0x1E.
        let bytes: [UInt8] = [0x01, 0x4B, 0x1A, 0x68]
        let profiles = bytes.withUnsafeBytes { decoder.decode($0, address: 0x1E) }
        let candidates = CycleModel.peripheralCandidates(profiles) { address in address == 0x24 ? 0xE000_1004 : nil }
        #expect(candidates == [false, true])
        let ram = CycleModel.peripheralCandidates(profiles) { _ in 0x2000_0000 }
        #expect(ram == [false, false])
    }

    @Test("writing code invalidates decoded blocks in the written range")
    func invalidation() throws {
        let code = CodeMemory()
        code.place(Thumb.addsR1 + Thumb.addsR1, at: 0x100)
        let m = try model()
        _ = m.enterBlock(address: 0x100, size: 4, readCode: code.read)
        #expect(m.cycles == 2)
        code.place(Thumb.addsR1 + Thumb.addsR2, at: 0x100)
        m.invalidateCode(address: 0x102, size: 2)
        _ = m.enterBlock(address: 0x100, size: 4, readCode: code.read)
        #expect(m.cycles == 3)
        #expect(m.statistics.blocksDecoded == 2)
    }

    @Test("the one-block-loop steady state gives the same cycles as computing every iteration")
    func steadyLoopIsExact() throws {
        let code = CodeMemory()
        // 0x100: mul r1, r1, r2 ; bne 0x100   (latency 2 > the 1-cycle body: one stall each time)
        code.place([0x01, 0xFB, 0x02, 0xF1, 0xFC, 0xD1], at: 0x100)
        // 0x106: adds r2, r1, #1 ; bx lr   (reads r1 after the loop)
        code.place([0x4A, 0x1C, 0x70, 0x47], at: 0x106)
        func run(steady: Bool) throws -> (UInt64, UInt64) {
            let m = try model()
            m.steadyLoopsEnabled = steady
            for round in 0..<3 {
                for _ in 0..<(20 + round) { _ = m.enterBlock(address: 0x100, size: 6, readCode: code.read) }
                _ = m.enterBlock(address: 0x106, size: 4, readCode: code.read)
            }
            return (m.cycles, m.statistics.dependencyStallCycles)
        }
        let exact = try run(steady: false)
        let steady = try run(steady: true)
        #expect(exact == steady)
        #expect(exact.1 > 0)
    }

    @Test("the block table grows past its initial capacity and still finds every block")
    func blockTableGrows() throws {
        let code = CodeMemory()
        let count = 5000  // the table starts with 4096 slots and grows at half full
        for i in 0..<count { code.place(Thumb.addsR1, at: 0x1000 + UInt32(2 * i)) }
        let m = try model()
        for _ in 0..<2 {
            for i in 0..<count { _ = m.enterBlock(address: 0x1000 + UInt32(2 * i), size: 2, readCode: code.read) }
        }
        #expect(m.statistics.blocksDecoded == count)
        #expect(m.instructions == UInt64(2 * count))
    }

    @Test("blocks with the same bytes at different addresses are decoded once and timed alike")
    func decodeCacheReusesSchedules() throws {
        let code = CodeMemory()
        // ldr r1, [r0] ; adds r2, r1, #1 ; cmp r1, #0 ; bne.n (backwards): a load-use stall and a
        // conditional branch whose predictor entry depends on the copy's address.
        let body = Thumb.ldrR1 + Thumb.addsR2FromR1 + Thumb.cmpR1 + Thumb.bneBack
        let copies = 200
        for i in 0..<copies { code.place(body, at: 0x1000 + UInt32(0x40 * i)) }
        func run(cache: Bool) throws -> CycleModel {
            let m = try model(.full)
            m.decodeCacheEnabled = cache
            for round in 0..<3 {
                for i in 0..<copies {
                    let address = 0x1000 + UInt32(0x40 * ((i * 7 + round) % copies))
                    _ = m.enterBlock(address: address, size: UInt32(body.count), readCode: code.read)
                }
            }
            return m
        }
        let cached = try run(cache: true)
        let plain = try run(cache: false)
        #expect(cached.cycles == plain.cycles)
        #expect(cached.instructions == plain.instructions)
        #expect(cached.statistics.mispredictions == plain.statistics.mispredictions)
        #expect(cached.statistics.dependencyStallCycles == plain.statistics.dependencyStallCycles)
        #expect(cached.statistics.blocksDecoded == copies && plain.statistics.blocksDecoded == copies)
        #expect(cached.statistics.decodeCacheHits == copies - 1)
        #expect(plain.statistics.decodeCacheHits == 0)
    }

    @Test("a reused schedule still reads the literal pool at its own address")
    func decodeCacheRereadsLiterals() throws {
        let code = CodeMemory()
        // ldr r0, [pc, #4] ; ldr r1, [r0] ; bx lr, and the literal 8 bytes on: DWT->CYCCNT in
        // one copy (a peripheral access), DTCM in the other (none).
        let body: [UInt8] = [0x01, 0x48, 0x01, 0x68, 0x70, 0x47]
        code.place(body, at: 0x100)
        code.place([0x04, 0x10, 0x00, 0xE0], at: 0x108)
        code.place(body, at: 0x200)
        code.place([0x00, 0x00, 0x00, 0x20], at: 0x208)
        for cache in [true, false] {
            let m = try model()
            m.decodeCacheEnabled = cache
            _ = m.enterBlock(address: 0x100, size: 6, readCode: code.read)
            #expect(m.cyclesAtPeripheralAccess() < m.cycles, "cache \(cache): the load may reach DWT")
            _ = m.enterBlock(address: 0x200, size: 6, readCode: code.read)
            #expect(m.cyclesAtPeripheralAccess() == m.cycles, "cache \(cache): the load reaches DTCM only")
            #expect(m.statistics.decodeCacheHits == (cache ? 1 : 0))
        }
    }
}
