import Emulator
import Testing
import Timing

/// The kernels' inner loops (firmware/bench/inner_loops.c) timed by the firmware with
/// DWT->CYCCNT, against cycle counts worked by hand from docs/design.md#cortex-m7-timing, and the
/// full model's memory-placement effects. The llvm-mca comparison is in docs/timing.md.
@Suite("Kernel inner loops and memory placement")
struct InnerLoopTests {
    static func loops(itcm: Bool = true, dtcm: Bool = true, caches: Bool = false,
                      timing: TimingMode, clockMHz: Int = 400) throws -> [String: Double] {
        let defines = ["CODE_IN_ITCM=\(itcm ? 1 : 0)", "DATA_IN_DTCM=\(dtcm ? 1 : 0)", "ENABLE_CACHES=\(caches ? 1 : 0)"]
        let result = try TimingFixtures.run("inner_loops", timing: timing, clockMHz: clockMHz, defines: defines)
        return TimingFixtures.values(in: result.stdout, prefix: "loop").mapValues { Double($0) / 1000 }
    }

    /// Hand-worked cycles per iteration (loop control included) for the GCC 12 -O3 code of each
    /// loop, from the rules: see docs/timing.md for the schedules.
    static let handWorked: [(String, Double)] = [("dot_smlad", 7), ("unpack4", 6), ("unpack2", 8), ("memcpy", 2)]

    @Test("code in ITCM, data in DTCM: each loop within 10% of its hand-worked schedule")
    func loopsMatchRules() throws {
        let measured = try Self.loops(timing: .pipeline)
        for (name, cycles) in Self.handWorked {
            let value = try #require(measured[name], "no figure for \(name)")
            #expect(abs(value - cycles) <= 0.10 * cycles, "\(name): \(value) cycles per iteration, hand-worked \(cycles)")
        }
        // Pointwise: 30 instructions need at least 15 cycles at two per cycle; 8 SXTB16 must each
        // take the older slot and 8 SMLADs cannot pair with each other.
        let pointwise = try #require(measured["pointwise"])
        #expect(pointwise >= 15 && pointwise <= 22, "pointwise: \(pointwise)")
    }

    @Test("full model, TCM placement: no wait states, so within 5% of the pipeline model")
    func tightlyCoupledMatchesPipeline() throws {
        let pipeline = try Self.loops(timing: .pipeline)
        let full = try Self.loops(timing: .full)
        for (name, value) in pipeline {
            let other = try #require(full[name])
            #expect(abs(other - value) <= 0.05 * value + 0.5, "\(name): full \(other), pipeline \(value)")
        }
    }

    @Test("full model: FLASH code without I-cache is several times slower; with it, like ITCM")
    func flashAndInstructionCache() throws {
        let itcm = try Self.loops(timing: .full)
        let flash = try Self.loops(itcm: false, timing: .full)
        let cached = try Self.loops(itcm: false, caches: true, timing: .full)
        let flash480 = try Self.loops(itcm: false, timing: .full, clockMHz: 480)
        let dot = try #require(itcm["dot_smlad"]), flashDot = try #require(flash["dot_smlad"])
        #expect(flashDot >= 3 * dot, "FLASH uncached \(flashDot) vs ITCM \(dot)")
        #expect(abs(try #require(cached["dot_smlad"]) - dot) <= 0.05 * dot)
        // 4 wait states at 480 MHz instead of 2 at 400 MHz: each line fill costs 4 more cycles.
        #expect(try #require(flash480["dot_smlad"]) > flashDot)
    }

    @Test("full model: AXI SRAM data without D-cache pays the bus on every access; with it, like DTCM")
    func axiAndDataCache() throws {
        let dtcm = try Self.loops(timing: .full)
        let axi = try Self.loops(dtcm: false, timing: .full)
        let cached = try Self.loops(dtcm: false, caches: true, timing: .full)
        let copy = try #require(dtcm["memcpy"]), axiCopy = try #require(axi["memcpy"])
        #expect(axiCopy >= 3 * copy, "AXI uncached \(axiCopy) vs DTCM \(copy)")
        #expect(abs(try #require(cached["memcpy"]) - copy) <= 0.1 * copy + 0.2)
    }
}
