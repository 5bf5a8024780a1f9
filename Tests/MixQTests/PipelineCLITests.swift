import Foundation
import Testing

/// `mixq plan`, `deploy`, `sweep` and `report` as other tools call them: the JSON keys and the
/// results files of docs/results-format.md.
@Suite(.serialized) struct PipelineCLITests {
    private func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func planJSONHasTheContractKeys() throws {
        let outcome = try CLITests.mixq("plan", "--model", "mobilenet_v1_1.0_224", "--scheme", "mixpc", "--json")
        #expect(outcome.status == 0)
        let plan = try object(outcome.stdout)
        for key in ["model", "scheme", "flash_budget", "ram_budget", "weight_bytes", "param_bytes", "flash_bytes",
                    "peak_activation_bytes", "fits", "cuts", "layers"] {
            #expect(plan[key] != nil, "missing \(key)")
        }
        let layers = try #require(plan["layers"] as? [[String: Any]])
        #expect(layers.count == 28)
        for key in ["name", "kind", "input_bits", "weight_bits", "output_bits", "weight_bytes", "activation_bytes"] {
            #expect(layers.allSatisfy { $0[key] != nil }, "layers miss \(key)")
        }
        // The planner's accounting must respect the paper's budgets (docs/design.md#planner).
        #expect((plan["flash_bytes"] as? Int ?? .max) <= 2_048_000)
        #expect((plan["peak_activation_bytes"] as? Int ?? .max) <= 512_000)
        #expect(plan["fits"] as? Bool == true)
    }

    @Test func impossibleBudgetsAreAnErrorLine() throws {
        let outcome = try CLITests.mixq("plan", "--model", "mobilenet_v1_1.0_224", "--ram", "10k", "--scheme", "mixpl")
        #expect(outcome.status == 1)
        #expect(outcome.stderr.hasPrefix("error: "))
    }

    @Test func sweepThenReportWritesTheTables() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-cli-sweep-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let sweep = try CLITests.mixq("sweep", "--models", "mobilenet_v1_0.25_128", "--schemes", "mixpc",
                                      "--out", folder.path, "--jobs", "1")
        #expect(sweep.status == 0, "\(sweep.stderr)")
        let resultURL = folder.appendingPathComponent("mobilenet_v1_0.25_128__mixpc.json")
        let result = try object(String(decoding: try Data(contentsOf: resultURL), as: UTF8.self))
        for key in ["total_cycles", "latency_ms", "clock_mhz", "flash_used", "ram_used", "bit_exact", "layers"] {
            #expect(result[key] != nil, "missing \(key)")
        }
        #expect(result["bit_exact"] as? Bool == true)
        let layers = try #require(result["layers"] as? [[String: Any]])
        #expect(layers.allSatisfy { ($0["cycles"] as? Int ?? 0) > 0 })

        // Running it again finds the pair done and recomputes nothing.
        let again = try CLITests.mixq("sweep", "--models", "mobilenet_v1_0.25_128", "--schemes", "mixpc",
                                      "--out", folder.path, "--jobs", "1")
        #expect(again.status == 0)
        #expect(again.stderr.contains("1 already done"))

        let report = try CLITests.mixq("report", folder.path)
        #expect(report.status == 0, "\(report.stderr)")
        for file in ["report.md", "results.csv", "results.json", "latency_accuracy.svg", "memory.svg"] {
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(file).path), "missing \(file)")
        }
        let markdown = try String(contentsOf: folder.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(markdown.contains("mobilenet_v1_0.25_128"))
    }

    @Test func sweepRefusesWhatAPartLacksBeforeAnyWork() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-cli-parts-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let unknown = try CLITests.mixq("sweep", "--parts", "stm32f412,stm32f999", "--models", "mobilenet_v1_0.25_128",
                                        "--out", folder.path)
        #expect(unknown.status != 0)
        #expect(unknown.stderr.hasPrefix("error: --parts: stm32f999 is not a part MixQ emulates"), "\(unknown.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.path), "refused before creating the results folder")
        // A clock one of the parts lacks is a usage error naming that part.
        let clock = try CLITests.mixq("sweep", "--parts", "stm32h743,stm32f412", "--clock-mhz", "400", "--out", folder.path)
        #expect(clock.status != 0)
        #expect(clock.stderr.hasPrefix("error: --clock-mhz must be 84 or 100 on STM32F412"), "\(clock.stderr)")
    }

    @Test func reportNeverReplacesItsAccuracyInputAndNamesUnknownModels() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-cli-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let sweep = try CLITests.mixq("sweep", "--models", "mobilenet_v1_0.25_128", "--schemes", "int8", "--out", folder.path, "--jobs", "1")
        #expect(sweep.status == 0, "\(sweep.stderr)")
        // The user's accuracy file sits where the report writes results.csv.
        let accuracy = folder.appendingPathComponent("results.csv")
        let table = "model,scheme,top1,source\nmobilenet_v1_0.25_128,int8,40.0,mine\nno_such_model,int8,50.0,mine\n"
        try Data(table.utf8).write(to: accuracy)
        let refused = try CLITests.mixq("report", folder.path, "--accuracy", accuracy.path)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("error: ") && refused.stderr.contains(accuracy.path))
        #expect(try String(contentsOf: accuracy, encoding: .utf8) == table, "the input is untouched")
        let elsewhere = folder.appendingPathComponent("out")
        let report = try CLITests.mixq("report", folder.path, "--accuracy", accuracy.path, "--out", elsewhere.path)
        #expect(report.status == 0)
        #expect(report.stderr.contains("warning: --accuracy \(accuracy.path) has rows for models with no result, ignored: no_such_model"))
    }

    @Test func twoSweepsIntoOneFolderComputeEachPairOnce() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-cli-twice-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let arguments = ["sweep", "--models", "mobilenet_v1_0.25_128", "--schemes", "int8", "--out", folder.path, "--jobs", "1"]
        final class Outcomes: @unchecked Sendable {
            let lock = NSLock()
            var values: [CLITests.Outcome] = []
        }
        let outcomes = Outcomes()
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            guard let outcome = try? CLITests.mixq(arguments: arguments) else { return }
            outcomes.lock.lock()
            outcomes.values.append(outcome)
            outcomes.lock.unlock()
        }
        let both = outcomes.values
        #expect(both.count == 2 && both.allSatisfy { $0.status == 0 })
        #expect(both.filter { $0.stderr.contains("done by another sweep into the same folder") }.count == 1,
                "\(both.map(\.stderr))")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent(".mobilenet_v1_0.25_128__int8.json.lock").path))
    }
}
