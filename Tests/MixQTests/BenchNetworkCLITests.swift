import Foundation
import Testing

/// `mixq bench network` (docs/network-speed.md): its JSON keys, subtotals that add up to the
/// totals, the bit-exactness check, the published MLPerf Tiny figures, and one `error:` line for
/// bad arguments. The small digit network keeps the deployment quick; the speed targets
/// themselves are read from the benchmark's own output, never asserted here.
@Suite struct BenchNetworkCLITests {
    @Test func subtotalsAddUpAndTheRunIsChecked() throws {
        let outcome = try CLITests.mixq("bench", "network", "--models", "mnist_mobilenet_v1_0.25_32", "--schemes", "int8",
                                        "--timings", "pipeline")
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        let conditions = try #require(report["conditions"] as? [String: Any])
        #expect(conditions["part"] as? String == "STM32H743")
        #expect(conditions["clock_mhz"] as? Int == 400)
        #expect(conditions["flash_wait_states"] as? Int == 2)
        let entries = try #require(report["entries"] as? [[String: Any]])
        #expect(entries.count == 1)
        let entry = try #require(entries.first)
        #expect(entry["bit_exact"] as? Bool == true)
        let cycles = try #require(entry["cycles"] as? Int), macs = try #require(entry["macs"] as? Int)
        let kinds = try #require(entry["kinds"] as? [[String: Any]])
        #expect(kinds.compactMap { $0["kind"] as? String } == ["conv", "depthwise", "pointwise", "fc", "pool"])
        #expect(kinds.compactMap { $0["cycles"] as? Int }.reduce(0, +) == cycles)
        #expect(kinds.compactMap { $0["macs"] as? Int }.reduce(0, +) == macs)
        #expect(kinds.compactMap { $0["layers"] as? Int }.reduce(0, +) == 29)   // 27 convolutions, pooling, classifier
        let published = try #require(report["published_visual_wake_words"] as? [[String: Any]])
        #expect(published.count == 7)
        let st = try #require(published.first { $0["board"] as? String == "NUCLEO-H7A3ZI-Q" && $0["stack"] as? String == "X-CUBE-AI 9.0" })
        #expect(st["cycles"] as? Int == 6_664_000)
    }

    @Test func anUnknownModelIsOneErrorLine() throws {
        let outcome = try CLITests.mixq("bench", "network", "--models", "mobilenet_v1_0.3_96")
        #expect(outcome.status != 0)
        #expect(outcome.stderr.hasPrefix("error: ") && outcome.stderr.contains("mobilenet_v1_0.3_96"))
    }
}
