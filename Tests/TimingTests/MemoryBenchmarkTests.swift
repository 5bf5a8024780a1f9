import Emulator
import Testing
import Timing

/// The memory system of `--timing full` (docs/timing.md, "Memory parameters"), measured by the
/// firmware itself with DWT->CYCCNT (firmware/bench/memory_rules.c: code in ITCM, both caches on,
/// data in DTCM, AXI SRAM and FLASH). Published figures are asserted within 10%, as the pipeline
/// rules are; where no publication gives a number the expected figure is derived from the
/// parameters, so the test pins the structure (critical word first, streaming, write-allocate
/// through the linefill buffers, write-back) and the same firmware is the plan for a board run.
@Suite("Memory system microbenchmarks (full model)")
struct MemoryBenchmarkTests {
    static func measure(clockMHz: Int) -> Result<[String: Double], Error> {
        Result {
            let result = try TimingFixtures.run("memory_rules", timing: .full, clockMHz: clockMHz)
            return TimingFixtures.values(in: result.stdout, prefix: "mem").mapValues { Double($0) / 1000 }
        }
    }
    static let at400 = measure(clockMHz: 400)
    static let at480 = measure(clockMHz: 480)

    static func expectWithin(_ name: String, _ values: [String: Double], _ expected: Double, _ why: String) throws {
        let value = try #require(values[name], "firmware printed no line for \(name)")
        #expect(abs(value - expected) <= 0.10 * expected, "\(name): measured \(value), expected \(expected) (\(why))")
    }

    @Test("unaligned load as the older op: +3 cycles (jnk0le, published)")
    func unalignedLoad() throws {
        try Self.expectWithin("unaligned_load_extra", Self.at400.get(), 3, "jnk0le: unaligned loads +3 cycles as older op")
    }

    @Test("unaligned stores, one per cycle: 4 cycles per store once the store buffer is full (jnk0le, published)")
    func unalignedStores() throws {
        // Reported as the aligned pattern's 1 cycle per store plus the unaligned extra.
        try Self.expectWithin("unaligned_store_stream", Self.at400.get(), 4, "jnk0le: 4 cycles per unaligned store")
    }

    @Test("write-allocate store misses stream at the AXI bandwidth: 4 beats x 2 core cycles per line")
    func storeMissBandwidth() throws {
        let p = TimingParameters.cortexM7
        // 32 bytes in 64-bit beats at ACLK = core/2 (TRM: 64-bit AXIM; RM0433: ACLK): the store
        // itself waits only for a free linefill buffer (TRM 5.9.2).
        let expected = Double(p[.cacheLineBytes] / 8 * p[.lineFillBeatCycles])
        try Self.expectWithin("axi_store_miss_line", Self.at400.get(), expected, "bus bandwidth bound")
    }

    @Test("critical word first: a random load miss waits for its doubleword, not the whole line")
    func criticalWordFirst() throws {
        let p = TimingParameters.cortexM7
        let values = try Self.at400.get()
        let axiFirst = Double(p[.axiRequestCycles] + p[.lineFillBeatCycles])
        try Self.expectWithin("axi_load_miss", values, axiFirst, "request + one AXI SRAM beat")
        for (clock, waitStates, values) in [(400, 2, values), (480, 4, try Self.at480.get())] {
            let flashFirst = Double(p[.axiRequestCycles] + (waitStates + 1) * p[.flashWaitStateCycles])
            try Self.expectWithin("flash_load_miss", values, flashFirst, "\(clock) MHz, random lines: request + one flash word read")
        }
    }

    /// A sequential stream of FLASH lines with the D-cache on (firmware: whole loop, cycles per
    /// line, over 4 KiB never read before). Two bounds from published figures meet here: the AXI
    /// bandwidth (64-bit beats at ACLK = core/2: 4 beats x 2 = 8 core cycles per 32-byte line;
    /// [TRM] AXIM width, RM0433 table 17 clocks) and the two linefill buffers ([TRM] 5.9.2), each
    /// holding a line from its request to its last beat (first-word latency + 3 beats): at most
    /// two lines per that time. The stream runs at the larger of the two: 9 cycles per line at
    /// 400 MHz, 11 at 480 MHz, whatever the load instruction (word loads, LDRD, LDM, one load per
    /// line). No board figure for the H743 is published; without read-ahead each line would cost
    /// its whole first-word latency (12 / 16 plus the loop).
    @Test("sequential FLASH streams through the D-cache run at the linefill-buffer bound")
    func flashStreams() throws {
        for (clock, waitStates, values) in [(400, 2, try Self.at400.get()), (480, 4, try Self.at480.get())] {
            let bound = Self.streamBound(waitStates: waitStates)
            for name in ["flash_stream_ldr", "flash_stream_ldrd", "flash_stream_ldm", "flash_stream_sparse"] {
                try Self.expectWithin(name, values, bound, "\(clock) MHz: two linefill buffers / AXI bandwidth")
            }
        }
    }

    /// Cycles per line of a pure FLASH stream: the larger of the AXI bandwidth (4 beats of 64
    /// bits per 32-byte line) and two linefill buffers each busy from a line's request to its
    /// last beat (first-word latency + 3 beats).
    static func streamBound(waitStates: Int) -> Double {
        let p = TimingParameters.cortexM7
        let firstWord = p[.axiRequestCycles] + (waitStates + 1) * p[.flashWaitStateCycles]
        let busy = firstWord + (p[.cacheLineBytes] / 8 - 1) * p[.lineFillBeatCycles]
        let bandwidth = p[.cacheLineBytes] / 8 * p[.lineFillBeatCycles]
        return max(Double(bandwidth), Double(busy) / Double(p[.lineFillBuffers]))
    }

    /// When the loop needs more cycles per line than the bus, the next line's read overlaps the
    /// computation: the cold stream costs little more than the cached one.
    @Test("a compute-bound FLASH stream hides its line fills")
    func computeBoundStream() throws {
        let values = try Self.at400.get()
        let warm = try #require(values["flash_stream_compute_warm"])
        let cold = try #require(values["flash_stream_compute"])
        #expect(warm > 10, "the loop must need more cycles per line than the bus (8): \(warm)")
        #expect(cold >= warm && cold <= warm + 3, "cold \(cold) cycles per line, cached \(warm)")
    }

    /// Straight-line code in FLASH through the I-cache, first execution: the same bound as the
    /// data stream (instruction lines are read ahead as data lines are); the cached run is the
    /// code's own 4 cycles per line.
    @Test("sequential instruction fetch from FLASH through the I-cache runs at the linefill bound")
    func instructionStream() throws {
        for (clock, waitStates, values) in [(400, 2, try Self.at400.get()), (480, 4, try Self.at480.get())] {
            try Self.expectWithin("icache_stream", values, Self.streamBound(waitStates: waitStates), "\(clock) MHz: linefill bound")
            try Self.expectWithin("icache_stream_warm", values, 4, "\(clock) MHz: 8 independent ALU instructions per line")
        }
    }

    @Test("evicting a dirty line costs the write-back on top of the fill")
    func dirtyWriteBack() throws {
        let p = TimingParameters.cortexM7
        try Self.expectWithin("dirty_write_back", Self.at400.get(), Double(p[.writeBackCycles]), "writeBackCycles")
    }

    /// CoreMark-like integer code of MixQ's own (firmware/bench/integer_mix.c: lists, a small
    /// matrix product, a state machine, CRC-16; code in FLASH, caches on): once its code and data
    /// are cached, the memory model adds nothing, so a CoreMark-like score cannot drift with the
    /// memory parameters. The first (cold) pass pays its misses, a fraction of a percent.
    @Test("cache-resident integer workload: full equals pipeline once warm, cold pass within 1%")
    func cacheResidentIntegerCode() throws {
        let full = try TimingFixtures.run("integer_mix", timing: .full)
        let pipeline = try TimingFixtures.run("integer_mix", timing: .pipeline)
        let f = TimingFixtures.values(in: full.stdout, prefix: "work")
        let p = TimingFixtures.values(in: pipeline.stdout, prefix: "work")
        let warmFull = Double(try #require(f["integer_mix"])), warmPipeline = Double(try #require(p["integer_mix"]))
        let cold = Double(try #require(f["integer_mix_cold"]))
        #expect(abs(warmFull - warmPipeline) <= 0.001 * warmPipeline, "full \(warmFull), pipeline \(warmPipeline)")
        #expect(cold >= warmFull && cold <= 1.01 * warmFull, "cold \(cold), warm \(warmFull)")
    }
}
