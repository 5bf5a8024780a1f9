import Foundation
import Testing

/// `mixq bench parts`: the CoreMark-like workload on every part and cycle model.
@Suite struct BenchPartsCLITests {
    @Test func everyPartRunsTheWorkloadWithOneChecksum() throws {
        let outcome = try CLITests.mixq("bench", "parts")
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        let rows = try #require(report["results"] as? [[String: Any]])
        // Every part under off, pipeline and full.
        #expect(rows.count == 9)
        #expect(Set(rows.compactMap { $0["checksum"] as? Int }).count == 1)
        func cycles(_ part: String, _ model: String) -> Double? {
            rows.first { $0["part"] as? String == part && ($0["timing_model"] as? String)?.hasPrefix(model) == true }?["cycles_per_iteration"] as? Double
        }
        // Single issue: the Cortex-M4 needs more cycles than the dual-issue Cortex-M7 for the
        // same C (the instruction counts under `off` are within a few percent of each other).
        let m7 = try #require(cycles("STM32H743", "pipeline")), m4 = try #require(cycles("STM32F412", "pipeline"))
        #expect(m4 > m7 * 1.2, "M4 \(m4) vs M7 \(m7)")
        let offM7 = try #require(cycles("STM32H743", "off")), offM4 = try #require(cycles("STM32F412", "off"))
        #expect(abs(offM7 - offM4) < 0.1 * offM7)
        // Iterations per second follow each part's clock.
        for row in rows {
            let clock = try #require(row["clock_mhz"] as? Double), perIteration = try #require(row["cycles_per_iteration"] as? Double)
            let rate = try #require(row["iterations_per_second"] as? Double)
            #expect(abs(rate - (clock * 1e6 / perIteration).rounded()) <= 1)
        }
    }

    @Test func benchTimingRunsOnAnotherPart() throws {
        let outcome = try CLITests.mixq("bench", "timing", "--part", "stm32f412", "--rounds", "50", "--repeats", "1")
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        let conditions = try #require(report["conditions"] as? [String: Any])
        #expect(conditions["part"] as? String == "STM32F412")
        #expect(conditions["clock_mhz"] as? Int == 100)
        #expect(conditions["flash_wait_states"] as? Int == 3)
        let pipeline = try #require(report["cycles_pipeline"] as? Int)
        #expect(pipeline > 0)
        // Code in FLASH through the ART accelerator: full adds the wait states of its misses.
        #expect((report["cycles_full"] as? Int ?? 0) > pipeline)
        #expect(report["cycles_pipeline_profile"] as? Int == pipeline, "profiling changes no cycle count")
    }

    @Test func benchEmulatorRunsOnTheCortexM4() throws {
        // The firmware's checksum is checked against the host's computation inside the command.
        let outcome = try CLITests.mixq("bench", "emulator", "--part", "stm32f412", "--rounds", "20", "--repeats", "1")
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        #expect((report["conditions"] as? [String: Any])?["part"] as? String == "STM32F412")
        #expect((report["firmware_output"] as? String)?.hasPrefix("dot-product: rounds 20 checksum 0x") == true)
    }

    @Test func anUnknownPartIsOneErrorLine() throws {
        let outcome = try CLITests.mixq("bench", "parts", "--parts", "stm32h743,stm32x999")
        #expect(outcome.status != 0)
        #expect(outcome.stderr.hasPrefix("error: ") && outcome.stderr.contains("stm32x999"))
    }
}
