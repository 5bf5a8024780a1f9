import Foundation
import Testing
@testable import Reports

/// Reading, checking and merging results folders (docs/results-format.md).
@Suite struct ResultsFolderTests {
    @Test func fileNamesJoinModelAndSchemeWithTwoUnderscores() {
        #expect(ResultsFolder.fileName(model: "mobilenet_v1_0.25_128", scheme: "mixpc") == "mobilenet_v1_0.25_128__mixpc.json")
        #expect(ResultsFolder.isResultFileName("mobilenet_v1_0.25_128__mixpc.json"))
        for name in ["results.json", "report.md", "a__b.trace.json", "__mixpc.json", "model__.json", ".x__y.json", "a__b.csv"] {
            #expect(!ResultsFolder.isResultFileName(name), "\(name)")
        }
    }

    @Test func oneShardReadsItsThreeResultsSorted() throws {
        let collection = try ResultsFolder.load(folders: [Fixtures.shardA])
        #expect(collection.entries.map { "\($0.result.model)/\($0.result.scheme)" } == [
            "mobilenet_v1_0.25_128/int8", "mobilenet_v1_0.25_128/mixpc", "mobilenet_v1_1.0_224/int8",
        ])
        #expect(collection.warnings.isEmpty)
        let notFitting = try #require(collection.entries.last?.result)
        #expect(!notFitting.fits)
        #expect(notFitting.totalCycles == nil && notFitting.effectiveLatencyMs == nil && notFitting.flashUsed == nil)
        #expect(notFitting.effectiveMACs == 10838016 + 3612672 + 25690112 + 1024000)
        // Deployment's pooling step has no weights: weight_bits is absent.
        #expect(notFitting.layers.map(\.kind) == ["conv", "depthwise", "pointwise", "pool", "fc"])
        #expect(notFitting.layers[3].weightBits == nil)
        #expect(notFitting.note?.hasPrefix("does not fit") == true)
    }

    /// shard_b repeats shard_a's mixpc result (compact, other key order): equal results merge
    /// silently into one row; README.txt in shard_b is ignored.
    @Test func overlappingShardsThatAgreeMergeSilently() throws {
        let collection = try Fixtures.both()
        #expect(collection.entries.count == 5)
        #expect(collection.inputFiles.count == 6)
        #expect(collection.warnings.isEmpty)
        #expect(collection.entries.map { "\($0.result.model)/\($0.result.scheme)" } == [
            "mobilenet_v1_0.25_128/int8", "mobilenet_v1_0.25_128/mixpc",
            "mobilenet_v1_0.5_160/int8", "mobilenet_v1_0.5_160/mixpl", "mobilenet_v1_1.0_224/int8",
        ])
        // The first copy stays when both agree.
        let mixpc = try #require(collection.entries.first { $0.result.scheme == "mixpc" })
        #expect(mixpc.source.deletingLastPathComponent().lastPathComponent == "shard_a")
    }

    @Test func conflictingDuplicateLaterFolderWinsWithAWarning() throws {
        let rerun = try Fixtures.scratchFolder()
        defer { try? FileManager.default.removeItem(at: rerun) }
        try Fixtures.copy("mobilenet_v1_0.25_128__mixpc.json", from: Fixtures.shardA, to: rerun) {
            $0.replacingOccurrences(of: "\"total_cycles\": 4800000", with: "\"total_cycles\": 4400000")
                .replacingOccurrences(of: "\"latency_ms\": 12.0", with: "\"latency_ms\": 11.0")
        }
        let collection = try ResultsFolder.load(folders: [Fixtures.shardA, rerun])
        let mixpc = try #require(collection.entries.first { $0.result.scheme == "mixpc" })
        #expect(mixpc.result.totalCycles == 4400000)
        #expect(collection.warnings.count == 1)
        let warning = try #require(collection.warnings.first)
        #expect(warning.contains("latency_ms, total_cycles"))
        #expect(warning.contains("the later one"))
        // Reversed order: the fixture is now the later one and wins.
        let reversed = try ResultsFolder.load(folders: [rerun, Fixtures.shardA])
        #expect(reversed.entries.first { $0.result.scheme == "mixpc" }?.result.totalCycles == 4800000)
    }

    @Test func malformedResultsAreRejectedNamingFileAndProblem() throws {
        let cases: [(String, String)] = [
            ("{ \"model\": ", "x__y.json: not a valid deployment result: not valid JSON"),
            ("[1, 2]", "x__y.json: not a valid deployment result: the file should hold one JSON object"),
        ]
        for (text, expected) in cases {
            do {
                _ = try ResultsFolder.decode(Data(text.utf8), path: "x__y.json")
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.description.hasPrefix(expected), "\(error)")
            }
        }
        let shard = try Fixtures.shardA
        let name = "mobilenet_v1_0.25_128__int8.json"
        let edits: [(String, (String) -> String, String)] = [
            ("missing field", { $0.replacingOccurrences(of: "\"fits\": true,", with: "") }, "missing field 'fits'"),
            ("missing layer field", { $0.replacingOccurrences(of: "\"kind\": \"depthwise\",", with: "") }, "missing field 'kind' in layers[1]"),
            ("wrong type", { $0.replacingOccurrences(of: "\"total_cycles\": 4000000", with: "\"total_cycles\": \"many\"") },
             "field 'total_cycles' should be an integer"),
            ("negative", { $0.replacingOccurrences(of: "\"weight_bytes\": 470000", with: "\"weight_bytes\": -5") },
             "field 'weight_bytes' is negative (-5)"),
            ("zero bits", { $0.replacingOccurrences(of: "\"weight_bits\": 8, \"output_bits\": 8,\n     \"weight_bytes\": 72",
                                                     with: "\"weight_bits\": 0, \"output_bits\": 8,\n     \"weight_bytes\": 72") },
             "layers[1] (dw1): 'weight_bits' must be 1...32 bits, not 0"),
            ("renamed", { $0.replacingOccurrences(of: "\"scheme\": \"int8\"", with: "\"scheme\": \"mixpl\"") },
             "must be named mobilenet_v1_0.25_128__mixpl.json"),
            ("zero cycles", { $0.replacingOccurrences(of: "\"total_cycles\": 4000000", with: "\"total_cycles\": 0") },
             "field 'total_cycles' is 0 for a network that ran"),
        ]
        for (label, edit, expected) in edits {
            let folder = try Fixtures.scratchFolder(label)
            defer { try? FileManager.default.removeItem(at: folder) }
            try Fixtures.copy(name, from: shard, to: folder, edit: edit)
            do {
                _ = try ResultsFolder.load(folders: [folder])
                Issue.record("\(label): accepted")
            } catch {
                #expect(error.description.contains(folder.appendingPathComponent(name).path), "\(label): \(error)")
                #expect(error.description.contains(expected), "\(label): \(error)")
            }
        }
    }

    @Test func missingFolderAndEmptyFolderAreErrors() throws {
        let empty = try Fixtures.scratchFolder()
        defer { try? FileManager.default.removeItem(at: empty) }
        #expect(throws: ReportsError.noResults(folders: [empty.path])) { try ResultsFolder.load(folders: [empty]) }
        let missing = empty.appendingPathComponent("nope")
        #expect(throws: ReportsError.notAFolder(path: missing.path)) { try ResultsFolder.load(folders: [missing]) }
    }

    /// What `mixq sweep` writes, `mixq report` reads back unchanged.
    @Test func writtenResultReadsBackEqual() throws {
        let original = try ResultsFolder.read(Fixtures.shardA.appendingPathComponent("mobilenet_v1_0.25_128__mixpc.json"))
        let folder = try Fixtures.scratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = try ResultsFolder.write(original, to: folder)
        #expect(url.lastPathComponent == "mobilenet_v1_0.25_128__mixpc.json")
        #expect(try ResultsFolder.read(url) == original)
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text.contains("\"capacity\" : 2097152"))
        #expect(text.contains("\"reason\" : \"largest share of weight bytes\""))
    }
}
