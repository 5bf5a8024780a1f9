import Emulator
import Testing
import Timing

/// One microbenchmark per published Cortex-M7 timing rule (docs/design.md#cortex-m7-timing),
/// timed by the firmware itself with DWT->CYCCNT (firmware/bench/timing_rules.c) under
/// `--timing pipeline`.
/// Each expected figure is the published one (jnk0le's STM32H743 measurements, summarised in
/// docs/design.md#cortex-m7-timing); the tolerance is 10%, the goal in
/// docs/design.md#goals-and-how-they-are-measured.
@Suite("Cortex-M7 timing rules, measured by firmware through DWT->CYCCNT")
struct MicrobenchmarkTests {
    /// One rule: its benchmark name, the published cycles per pattern, and why.
    struct Rule: CustomTestStringConvertible, Sendable {
        var name: String
        var publishedCycles: Double
        var statement: String
        var testDescription: String { "\(name): \(statement)" }
    }

    static let rules: [Rule] = [
        Rule(name: "alu_pairs", publishedCycles: 1, statement: "two independent ALU instructions dual issue (1 cycle per pair)"),
        Rule(name: "alu_chain", publishedCycles: 1, statement: "dependent ALU chain, latency 1"),
        Rule(name: "load_use", publishedCycles: 1, statement: "word load feeds an ALU in the next cycle"),
        Rule(name: "byte_load_use", publishedCycles: 2, statement: "byte load: one extra cycle of latency"),
        Rule(name: "smlad_chain", publishedCycles: 1, statement: "SMLAD accumulator chain at one MAC per cycle"),
        Rule(name: "load_to_mac", publishedCycles: 2, statement: "a load cannot feed a MAC in the very next cycle"),
        Rule(name: "dsp_pair", publishedCycles: 2, statement: "DSP/SIMD instructions never pair"),
        Rule(name: "ldm5", publishedCycles: 3, statement: "LDM of 5 registers takes ceil(5/2) cycles"),
        Rule(name: "stm4", publishedCycles: 2, statement: "STM of 4 registers takes ceil(4/2) cycles"),
        Rule(name: "store_pair", publishedCycles: 2, statement: "two stores never pair"),
        Rule(name: "byte_stores", publishedCycles: 2, statement: "a byte-store stream to alternating banks runs at 2 cycles per store"),
        Rule(name: "byte_stores_one_bank", publishedCycles: 4, statement: "a byte-store stream to one DTCM bank runs at 4 cycles per store"),
        Rule(name: "half_stores_unit_stride", publishedCycles: 2, statement: "unit-stride halfword stores run at 2 cycles per store"),
        Rule(name: "load_store_pair", publishedCycles: 1, statement: "a load and a store pair"),
        Rule(name: "vadd_chain", publishedCycles: 3, statement: "VADD.F32 latency 3"),
        Rule(name: "vmul_chain", publishedCycles: 3, statement: "VMUL.F32 latency 3"),
        Rule(name: "vfma_chain", publishedCycles: 5, statement: "VFMA.F32 result into a multiplicand: latency 5"),
        Rule(name: "vdiv_each", publishedCycles: 16, statement: "VDIV.F32 locks the pipeline for 16 cycles"),
        Rule(name: "mispredict", publishedCycles: 8, statement: "a mispredicted branch costs 8 cycles"),
        Rule(name: "mispredict_early_flags", publishedCycles: 6, statement: "6 cycles when the flags were set 3+ cycles earlier"),
    ]

    /// The firmware runs once; every rule reads its line.
    static let measured: Result<[String: Int], Error> = Result {
        let result = try TimingFixtures.run("timing_rules", timing: .pipeline)
        return TimingFixtures.values(in: result.stdout, prefix: "rule")
    }

    @Test("rule within 10% of the published figure", arguments: rules)
    func ruleMatchesPublishedFigure(_ rule: Rule) throws {
        let values = try Self.measured.get()
        let milli = try #require(values[rule.name], "firmware printed no line for \(rule.name)")
        let cycles = Double(milli) / 1000
        #expect(abs(cycles - rule.publishedCycles) <= 0.10 * rule.publishedCycles,
                "\(rule.name): measured \(cycles) cycles per pattern, published \(rule.publishedCycles)")
    }

    /// jnk0le measured 2.4 cycles per store for unit-stride `strb`; the model's bank rule (another
    /// word of the same bank: 4, same word or other bank: 2) gives 2.0 on this pattern. A known
    /// deviation (docs/timing.md, "Known approximations"), bounded here rather than hidden.
    @Test("unit-stride byte stores: published 2.4, the model's 2.0 is a documented deviation (within 20%)")
    func unitStrideByteStores() throws {
        let values = try Self.measured.get()
        let cycles = Double(try #require(values["byte_stores_unit_stride"])) / 1000
        #expect(cycles >= 1.9 && abs(cycles - 2.4) <= 0.20 * 2.4, "measured \(cycles), published 2.4")
    }

    @Test("timing off counts one cycle per instruction, so the same firmware sees other figures")
    func offModeDiffers() throws {
        let result = try TimingFixtures.run("timing_rules", timing: .off)
        let values = TimingFixtures.values(in: result.stdout, prefix: "rule")
        // One instruction per cycle: a dual-issued ALU pair costs 2, a byte load + add also 2.
        #expect(values["alu_pairs"].map { abs($0 - 2000) <= 100 } == true, "\(values)")
        #expect(result.cycles == result.instructions)
    }
}
