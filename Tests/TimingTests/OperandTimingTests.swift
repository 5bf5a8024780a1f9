import Emulator
import Testing
import Timing

/// Timings that depend on the data (firmware/bench/operand_rules.c, `--timing pipeline`, timed by
/// the firmware with DWT->CYCCNT): SDIV/UDIV early termination and a data-dependent branch.
@Suite("Operand-dependent timing: divides and data-dependent branches")
struct OperandTimingTests {
    static let measured: Result<[String: Double], Error> = Result {
        let result = try TimingFixtures.run("operand_rules", timing: .pipeline)
        return TimingFixtures.values(in: result.stdout, prefix: "operand").mapValues { Double($0) / 1000 }
    }

    static func value(_ name: String) throws -> Double {
        try #require(try measured.get()[name], "firmware printed no line for \(name)")
    }

    /// Cortex-M4 TRM (Arm 100166) table 3-1 / Cortex-M3 TRM (DDI 0337) table 18-1: SDIV/UDIV take
    /// 2 to 12 cycles, terminating early on the operands; the end points are the published figures.
    @Test("UDIV with 32 quotient bits takes the published maximum, 12 cycles")
    func slowestDivide() throws {
        let cycles = try Self.value("udiv_32_bits")
        #expect(abs(cycles - 12) <= 1.2, "measured \(cycles), published 12")
    }

    @Test("UDIV with no quotient bit takes the published minimum, 2 cycles")
    func fastestDivide() throws {
        let cycles = try Self.value("udiv_0_bits")
        #expect(abs(cycles - 2) <= 0.2, "measured \(cycles), published 2")
    }

    /// Between the end points the rule spreads the range over the quotient bits: worked by hand,
    /// -3000 / 49 has clz(49) - clz(3000) + 1 = 26 - 20 + 1 = 7 bits: 2 + 7 / 3 = 4 cycles;
    /// -458752 / -7 has 29 - 13 + 1 = 17 bits: 2 + 17 / 3 = 7 cycles.
    @Test("signed divides in between follow the quotient bits (hand-worked)")
    func middleDivides() throws {
        #expect(abs(try Self.value("sdiv_pooling") - 4) <= 0.4)
        #expect(abs(try Self.value("sdiv_17_bits") - 7) <= 0.7)
        #expect(CycleModel.divideCycles(dividend: UInt32(bitPattern: -3000), divisor: 49, signed: true) == 4)
        #expect(CycleModel.divideCycles(dividend: 0x8000_0000, divisor: 0xFFFF_FFFF, signed: true) == 12)
        #expect(CycleModel.divideCycles(dividend: 100, divisor: 0, signed: false) == 2)
    }

    /// A forward branch on pseudo-random bytes: every mispredict costs 8 cycles (jnk0le: the
    /// flags are set by the CMP just before the branch). The firmware also prints how often the
    /// outcome changed from one element to the next: a 2-bit counter mispredicts at least once
    /// per change of a long run and at most on every element, so the extra cycles per element
    /// lie between 8 x (changes / 2) / n and 8.
    @Test("data-dependent forward branch: extra cycles bounded by the mispredict penalty and the pattern")
    func dataDependentBranch() throws {
        let extra = try Self.value("branch_random_extra")
        let changes = try Self.value("branch_changes") * 1000  // printed unscaled
        let perElementLower = 8 * (changes / 2) / 512
        #expect(extra >= 0.9 * perElementLower && extra <= 8, "extra \(extra) cycles per element, changes \(changes)")
    }
}
