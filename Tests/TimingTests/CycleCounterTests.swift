import Emulator
import Testing
import Timing

/// DWT->CYCCNT read in the middle of a translated block sees the cycles up to the reading
/// instruction (firmware/bench/cycle_counter.c).
@Suite("DWT->CYCCNT inside a block")
struct CycleCounterTests {
    @Test("two reads around 8 dual-issued ALU instructions differ by their 4 cycles (+1 for the load pair)",
          arguments: [TimingMode.pipeline, .full])
    func readInsideBlock(mode: TimingMode) throws {
        let result = try TimingFixtures.run("cycle_counter", timing: mode)
        let delta = try #require(TimingFixtures.values(in: result.stdout.replacingOccurrences(of: "cyccnt-delta", with: "x cyccnt-delta"),
                                                       prefix: "x")["cyccnt-delta"])
        // ldr + 8 adds dual issue: the first ldr pairs with add #1, then 3.5 cycles of adds,
        // the second ldr pairs with the 8th add or issues the cycle after: 4 or 5.
        #expect((4...5).contains(delta), "CYCCNT delta \(delta)")
    }

    @Test("with --timing off the whole block is counted at its entry, so both reads agree")
    func offCountsAtBlockEntry() throws {
        let result = try TimingFixtures.run("cycle_counter", timing: .off)
        let delta = TimingFixtures.values(in: result.stdout.replacingOccurrences(of: "cyccnt-delta", with: "x cyccnt-delta"),
                                          prefix: "x")["cyccnt-delta"]
        #expect(delta == 0)
    }
}
