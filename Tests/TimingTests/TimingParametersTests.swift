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
}
