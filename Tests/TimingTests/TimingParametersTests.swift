import Testing
import Timing

/// The one parameter table: every key once, each with a source, and the published values the
/// rest of the model relies on.
@Suite("Timing parameter table")
struct TimingParametersTests {
    @Test("every parameter appears exactly once, with a source")
    func complete() {
        let keys = TimingParameters.table.map(\.key)
        #expect(Set(keys).count == keys.count)
        #expect(Set(keys) == Set(TimingParameters.Key.allCases))
        #expect(TimingParameters.table.allSatisfy { !$0.source.isEmpty })
    }

    @Test("FLASH wait states follow RM0433 table 17: 2 at 400 MHz, 4 at 480 MHz, none elsewhere")
    func flashWaitStates() {
        let p = TimingParameters.cortexM7
        #expect(p.flashWaitStates(clockMHz: 400) == 2)
        #expect(p.flashWaitStates(clockMHz: 480) == 4)
        #expect(p.flashWaitStates(clockMHz: 216) == nil)
    }

    /// Every parameter of the memory system either names a public source (measured on hardware
    /// or a datasheet) or, as our estimate, points at the microbenchmark that would pin it
    /// (docs/timing.md, "Memory parameters").
    @Test("memory parameters: a public source, or an estimate with a microbenchmark plan")
    func memoryParametersAreSourced() {
        let memory: Set<TimingParameters.Key> = [
            .narrowStoreCycles, .narrowStoreSameBankCycles, .narrowStoreSameWordCycles, .unalignedLoadExtra, .unalignedStoreCycles,
            .storeBufferEntries, .barrierCycles, .flashWaitStateCycles, .flashWaitStates400MHz,
            .flashWaitStates480MHz, .axiRequestCycles, .flashWordBytes, .d2SramExtraCycles, .cacheLineBytes,
            .instructionCacheBytes, .instructionCacheWays, .dataCacheBytes, .dataCacheWays,
            .lineFillBeatCycles, .criticalWordFirst, .lineFillBuffers, .flashStreamPrefetchLines, .writeBackCycles,
            .uncachedStoreCycles,
        ]
        for entry in TimingParameters.table where memory.contains(entry.key) {
            if entry.provenance == .estimate {
                #expect(entry.source.contains("firmware/bench/") || entry.source.contains("plan") && entry.source.contains("docs/timing.md"),
                        "\(entry.key): an estimate without a microbenchmark")
            } else {
                #expect(entry.provenance == .measured || entry.provenance == .datasheet, "\(entry.key)")
                #expect(entry.source.contains("[J]") || entry.source.contains("[RM]") || entry.source.contains("[TRM]")
                        || entry.source.contains("[D]"), "\(entry.key): no public source named")
            }
        }
    }

    /// No parameter is our estimate without a microbenchmark in firmware/bench that bounds it
    /// (run under MixQ by a test) or, where only a board can tell, a board plan in docs/timing.md.
    @Test("every estimate names the microbenchmark that bounds it")
    func estimatesAreBounded() {
        for entry in TimingParameters.table where entry.provenance == .estimate {
            #expect(entry.source.contains("firmware/bench/") || entry.source.contains("docs/timing.md"),
                    "\(entry.key): our estimate, and no microbenchmark named")
        }
    }
}
