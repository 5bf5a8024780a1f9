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
        Rule(name: "byte_stores_unit_stride", publishedCycles: 2.4, statement: "unit-stride byte stores run at 2.4 cycles per store"),
        Rule(name: "byte_copy_unit_stride", publishedCycles: 2.4, statement: "a unit-stride byte copy is store-bound: 2.4 cycles per byte"),
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

    /// Fill and copy loops of one element per iteration (each iteration its own translated block,
    /// so the store spacing crosses blocks): the byte loops are bound by the unit-stride `strb`
    /// rate (jnk0le: 2.4 cycles per store), the word loops by one store per cycle (stores never
    /// dual issue; a word store to DTCM is one store-buffer entry). newlib-nano's own memset and
    /// memcpy are reported in docs/timing.md.
    @Test("byte fill/copy loops run at the published strb rate, word loops at one store per cycle")
    func fillAndCopyLoops() throws {
        let result = try TimingFixtures.run("timing_rules", timing: .pipeline)
        let bytes = TimingFixtures.values(in: result.stdout, prefix: "bytes").mapValues { Double($0) / 1000 }
        for name in ["memset_byte_loop", "memcpy_byte_loop"] {
            let perByte = try #require(bytes[name], "no line for \(name)")
            #expect(abs(perByte - 2.4) <= 0.24, "\(name): \(perByte) cycles per byte, published strb rate 2.4")
        }
        for name in ["memset_word_loop", "memcpy_word_loop"] {
            let perByte = try #require(bytes[name], "no line for \(name)")
            #expect(perByte >= 0.25 && perByte <= 0.25 * 2.2, "\(name): \(perByte) cycles per byte, bound 0.25")
        }
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
