import Emulator
import Testing

/// The emulated core computes DSP/SIMD, saturating, multiply-long, IT-block, load/store-multiple
/// and FPv5 instructions as the ARMv7-M ARM defines them. Expected values come from
/// toolchain/gen_dsp_vectors.py (host arithmetic), compiled into firmware/tests/dsp_selftest.c.
@Suite struct InstructionTests {
    /// Tables the firmware must report, with their row counts (12 vectors per table; the
    /// 64-bit results count twice).
    static let expectedTables: [(String, Int)] = [
        ("smlad", 12), ("smladx", 12),
        ("sxtb16_ror0", 12), ("sxtb16_ror8", 12), ("sxtb16_ror16", 12), ("sxtb16_ror24", 12),
        ("uxtb16_ror0", 12), ("uxtb16_ror8", 12), ("uxtb16_ror16", 12), ("uxtb16_ror24", 12),
        ("ssat8", 12), ("ssat16_lsl3", 12), ("usat8", 12), ("usat4_lsl2", 12),
        ("pkhbt_lsl16", 12), ("pkhbt_lsl0", 12), ("pkhtb_asr16", 12), ("pkhtb_asr8", 12),
        ("sadd16", 12), ("qadd16", 12), ("sel_after_sadd16", 12), ("smlabb", 12),
        ("usad8", 12), ("clz", 12), ("it_clamp", 12), ("smull", 24), ("umull", 24),
        ("vfma_f32", 12), ("vmul_f32", 12), ("vdiv_f32", 12), ("vsqrt_f32", 12),
        ("ldrd_strd", 2), ("ldm_stm", 10), ("vadd_f64", 24),
    ]

    @Test func everyInstructionMatchesTheHostReference() throws {
        let result = try FirmwareFixtures.run("dsp_selftest")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let mismatches = lines.filter { $0.hasPrefix("MISMATCH") }
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
        for (name, rows) in Self.expectedTables {
            #expect(lines.contains("\(name) \(rows)/\(rows)"), "table \(name) missing or failing")
        }
        let total = Self.expectedTables.reduce(0) { $0 + $1.1 }
        #expect(lines.last == "dsp-selftest: \(total) passed, 0 failed")
        #expect(result.exitStatus == 0)
    }
}
