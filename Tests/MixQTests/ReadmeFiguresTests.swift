import Foundation
import Testing

/// README.md's trained-model table is produced by commands in the repository: its bit-width,
/// planned FLASH and peak RAM columns are recomputed here with `mixq plan --json`, its cycles
/// and ms with `mixq eval --limit 1 --target-images 1` (the first test image on the target),
/// for every row, so they cannot drift from what MixQ computes. On a mismatch the regenerated
/// cells are printed, ready to paste.
@Suite struct ReadmeFiguresTests {
    static let root = EvalCLITests.root

    /// `8x19 4x7 2x2`: how many of `bits` are 8, 4 and 2, widest first.
    static func histogram(_ bits: [Int]) -> String {
        [8, 4, 2].compactMap { width in
            let count = bits.filter { $0 == width }.count
            return count > 0 ? "\(width)x\(count)" : nil
        }.joined(separator: " ")
    }

    @Test func trainedModelTableMatchesThePlanner() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let rows = readme.split(separator: "\n").filter { $0.hasPrefix("| mnist_mobilenet_v1_0.25_32__") }
        #expect(rows.count == 5)
        for row in rows {
            let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let name = cells[0]
            let budget = cells[1].split(separator: "/").map { $0.trimmingCharacters(in: .whitespaces) }
            let plan = try CLITests.mixq("plan", "--model", Self.root.appendingPathComponent("data/models/\(name).onnx").path,
                                         "--flash", budget[0], "--ram", budget[1], "--json")
            #expect(plan.status == 0, "\(name): \(plan.stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any])
            let layers = try #require(object["layers"] as? [[String: Any]])
            let weights = layers.compactMap { $0["weight_bits"] as? Int }
            let activations = [layers.first?["input_bits"] as? Int].compactMap { $0 } + layers.compactMap { $0["output_bits"] as? Int }
            let expected = [
                "\(Self.histogram(weights)) / \(Self.histogram(activations))",
                "\(object["flash_bytes"] as? Int ?? -1)",
                "\(object["peak_activation_bytes"] as? Int ?? -1)",
            ]
            #expect(Array(cells[2...4]) == expected, "\(name): README has \(cells[2...4]), the planner gives \(expected)")
            // Cycles and ms of the first test image on the target.
            let eval = try CLITests.mixq("eval", "--model", Self.root.appendingPathComponent("data/models/\(name).onnx").path,
                                         "--flash", budget[0], "--ram", budget[1], "--dataset", EvalCLITests.dataset,
                                         "--limit", "1", "--target-images", "1", "--no-float", "--json")
            #expect(eval.status == 0, "\(name): \(eval.stderr)")
            let result = try #require(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
            let deployment = try #require(result["deployment"] as? [String: Any])
            let measured = ["\(deployment["total_cycles"] as? Int ?? -1)", String(format: "%.2f", deployment["latency_ms"] as? Double ?? -1)]
            #expect(Array(cells[5...6]) == measured, "\(name): README has \(cells[5...6]), mixq eval measures \(measured)")
        }
    }

    /// The TFLite table: planned FLASH and peak activations of each converted file, as
    /// `mixq plan --json` computes them from the file.
    @Test func tfliteTableMatchesThePlanner() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let names = ["mobilenet_v1_025_96_int8", "resnet8_int8", "ds_cnn_int8", "fc_autoencoder_int8", "mobilenet_like_uint8_qat"]
        let rows = readme.split(separator: "\n").filter { row in names.contains { row.hasPrefix("| \($0) |") } }
        #expect(rows.count == names.count)
        for row in rows {
            let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let file = Self.root.appendingPathComponent("Tests/ModelImportTests/Fixtures/tflite/\(cells[0]).tflite").path
            let plan = try CLITests.mixq("plan", "--model", file, "--json")
            #expect(plan.status == 0, "\(cells[0]): \(plan.stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any])
            let expected = ["\(object["flash_bytes"] as? Int ?? -1)", "\(object["peak_activation_bytes"] as? Int ?? -1)"]
            #expect(Array(cells[3...4]) == expected, "\(cells[0]): README has \(cells[3...4]), the planner gives \(expected)")
            #expect(cells.last == "bit-exact")
        }
    }
}
