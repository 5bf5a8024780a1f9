import Emulator
import FirmwareBuild
import Foundation
import Testing
import Timing

/// The Cortex-M4 model (Sources/Timing/CortexM4Timing.swift) against the Cortex-M4 TRM: each
/// rule's microbenchmark (firmware/bench/cortex_m4_rules.c), built for the STM32F412 with
/// toolchain/cortex-m4.flags and timed by the firmware with DWT->CYCCNT, within 10% of the
/// TRM's cycle count (or inside the TRM's range where it gives one).
@Suite struct CortexM4RuleTests {
    struct Rule: Sendable, CustomStringConvertible {
        var name: String
        /// Cycles per pattern the TRM gives (r0p1, Arm 100166, Table 3-1, 3.3.2, Table 7-1).
        var range: ClosedRange<Double>
        var description: String { name }
    }

    static let rules: [Rule] = [
        Rule(name: "alu_pair", range: 2...2),             // ADD, ADD: 1 + 1
        Rule(name: "mac_chain", range: 2...2),            // SMLAD 1, MLA 1
        Rule(name: "long_multiply", range: 1...1),        // SMULL 1
        Rule(name: "load_single", range: 3...3),          // LDR 2 + ADD 1
        Rule(name: "load_pair", range: 4...4),            // LDR 2 + pipelined LDR 1 + ADD 1
        Rule(name: "store_immediate", range: 1...1),      // STR Rx,[Ry,#imm] 1
        Rule(name: "address_dependency", range: 4...4),   // ADD 1 + stall 1 + LDR 2
        Rule(name: "ldm4", range: 5...5),                 // 1 + N
        Rule(name: "stm3", range: 4...4),                 // 1 + N
        Rule(name: "taken_branch", range: 2...4),         // 1 + P, P in 1...3
        Rule(name: "divide", range: 2...12),              // UDIV 2 to 12
        Rule(name: "vadd_chain", range: 1...1),           // VADD.F32 1
        Rule(name: "vmla_chain", range: 3...3),           // VMLA.F32 3
        Rule(name: "vdiv_each", range: 14...14),          // VDIV.F32 14
    ]

    static func measured() throws -> [String: Double] {
        let toolchain = try Toolchain.locate(flagsFile: Part.stm32f412.flagsFile)
        let built = try toolchain.build(FirmwareSpec(name: "cortex_m4_rules", sources: ["bench/cortex_m4_rules.c"],
                                                     linkerScript: Part.stm32f412.linkerScript))
        let result = try Machine(part: .stm32f412).run(ELFImage(contentsOf: built.elf),
                                                       options: RunOptions(clockMHz: 100, timing: .pipeline))
        #expect(result.exitStatus == 0)
        var values: [String: Double] = [:]
        for line in result.stdout.split(separator: "\n") where line.hasPrefix("rule ") {
            let fields = line.split(separator: " ")
            if fields.count == 3, let value = Double(fields[2]) { values[String(fields[1])] = value / 1000 }
        }
        return values
    }

    @Test func everyRuleMatchesTheTRM() throws {
        let values = try Self.measured()
        for rule in Self.rules {
            let cycles = try #require(values[rule.name], "no figure for \(rule.name) in \(values)")
            #expect(cycles >= rule.range.lowerBound * 0.9 && cycles <= rule.range.upperBound * 1.1,
                    "\(rule.name): \(cycles) cycles, the TRM says \(rule.range)")
        }
    }

    /// Every Cortex-M4 parameter names its source, and the model is not the Cortex-M7's: the
    /// same dual-issue pair takes 2 cycles here and 1 on the M7.
    @Test func parametersNameSourcesAndDifferFromTheM7() throws {
        for parameter in CortexM4Timing.table {
            #expect(!parameter.source.isEmpty, "\(parameter.key)")
        }
        #expect(CortexM4Timing.table.count == CortexM4Timing.Key.allCases.count)
        let values = try Self.measured()
        #expect(values["alu_pair"].map { abs($0 - 2) < 0.1 } == true)
    }
}
