import Foundation
import Testing
@testable import Reports

/// The shipped table of published figures, user tables, and the join on (model, scheme).
@Suite struct AccuracyTableTests {
    /// Figures checked against the TF-slim model zoo table (research/slim/nets/mobilenet_v1.md)
    /// and the mixed-precision figures of Rusci et al. (MLSys 2020) as quoted by MCUNet Table 4.
    @Test func shippedTableHoldsThePublishedFigures() throws {
        let table = try Fixtures.published()
        #expect(table.count == 32)  // 16 models x {float, int8}
        let int8 = try #require(table.figure(model: "mobilenet_v1_1.0_224", scheme: "int8"))
        #expect(int8.top1 == 70.1)
        #expect(int8.origin == .published)
        #expect(int8.source.contains("TF-slim") && int8.source.contains("8-bit quantized"))
        #expect(table.figure(model: "mobilenet_v1_1.0_224", scheme: "float")?.top1 == 70.9)
        #expect(table.figure(model: "mobilenet_v1_0.25_128", scheme: "int8")?.top1 == 39.5)
        #expect(table.figure(model: "mobilenet_v1_0.75_128", scheme: "int8")?.top1 == 55.8)
        #expect(table.figure(model: "mobilenet_v1_0.5_160", scheme: "int8")?.top1 == 57.7)
        // The paper's mixed-precision results belong to device budgets, not to a model.
        #expect(table.figure(model: "mobilenet_v1_1.0_224", scheme: "mixpc") == nil)
        #expect(table.figure(model: "mobilenet_v1_1.0_224", scheme: "mixpl") == nil)
        #expect(table.budgetFigures.map(\.top1) == [68.0, 62.9, 60.2])
        let h7 = try #require(table.budgetFigures.first)
        #expect(h7.device == "STM32H743" && h7.flashBytes == 2097152 && h7.ramBytes == 524288)
        #expect(h7.source.contains("Rusci") && h7.source.contains("MCUNet"))
    }

    /// Every figure of the shipped table equals the project's reference copy of the model zoo
    /// table and of the mixed-precision results (Tests/PlanningTests/Resources,
    /// docs/design.md#mobilenetv1), so nothing was mistyped or invented on the way.
    @Test func shippedTableMatchesTheReferenceTablesRowForRow() throws {
        let resources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("PlanningTests/Resources")
        let zoo = try CSVTable(contentsOf: resources.appendingPathComponent("mobilenet_v1_imagenet.csv"))
        let table = try Fixtures.published()
        #expect(zoo.rows.count == 16)
        for row in zoo.rows {
            func field(_ name: String) throws -> Double {
                let column = try #require(zoo.column(name))
                return try #require(Double(row.fields[column]))
            }
            let model = row.fields[0]
            #expect(table.figure(model: model, scheme: "float")?.top1 == (try field("float_top1")), "\(model)")
            #expect(table.figure(model: model, scheme: "int8")?.top1 == (try field("int8_top1")), "\(model)")
        }
        let mixed = try CSVTable(contentsOf: resources.appendingPathComponent("mixed_precision_results.csv"))
        #expect(table.budgetFigures.map(\.device) == mixed.rows.map { $0.fields[0] })
        #expect(table.budgetFigures.map { $0.ramBytes.map(String.init) } == mixed.rows.map { $0.fields[1] })
        #expect(table.budgetFigures.map { $0.flashBytes.map(String.init) } == mixed.rows.map { $0.fields[2] })
        #expect(table.budgetFigures.map(\.top1) == mixed.rows.compactMap { Double($0.fields[3]) })
    }

    @Test func userFiguresOverridePublishedOnesAndKeepTheirSource() throws {
        let table = try Fixtures.publishedAndUser()
        let overridden = try #require(table.figure(model: "mobilenet_v1_0.5_160", scheme: "int8"))
        #expect(overridden.top1 == 58.0 && overridden.origin == .user && overridden.source == "re-measured int8 (fixture)")
        #expect(table.figure(model: "mobilenet_v1_0.25_128", scheme: "mixpc")?.source == "QAT run, fixture")
        // No source column value: the file is named instead.
        #expect(table.figure(model: "mobilenet_v1_0.5_160", scheme: "mixpl")?.source == "user table accuracy.csv")
        // Untouched published rows stay.
        #expect(table.figure(model: "mobilenet_v1_0.25_128", scheme: "int8")?.origin == .published)
    }

    @Test func rowsJoinOnModelAndSchemeWithProvenance() throws {
        let report = Report(collection: try Fixtures.both(), accuracy: try Fixtures.publishedAndUser())
        let joined = report.rows.map { "\($0.model)/\($0.scheme): \(Format.optional($0.top1, 1, none: "-")) \($0.top1Origin?.rawValue ?? "none")" }
        #expect(joined == [
            "mobilenet_v1_0.25_128/int8: 39.5 published",
            "mobilenet_v1_0.25_128/mixpc: 38.9 user",
            "mobilenet_v1_0.5_160/int8: 58.0 user",
            "mobilenet_v1_0.5_160/mixpl: 56.0 user",
            "mobilenet_v1_1.0_224/int8: 70.1 published",
        ])
        let published = Report(collection: try Fixtures.both(), accuracy: try Fixtures.published())
        let mixpc = try #require(published.rows.first { $0.scheme == "mixpc" })
        #expect(mixpc.top1 == nil && mixpc.top1Origin == nil && mixpc.top1Source == "no published figure")
        let none = Report(collection: try Fixtures.both(), accuracy: .empty)
        #expect(none.rows.allSatisfy { $0.top1 == nil && $0.top1Source == ReportRow.noFigure })
    }

    @Test func malformedTablesNameFileAndLine() {
        let cases: [(String, AccuracyTable.Origin, String)] = [
            ("model,top1\nm,1\n", .user, "t.csv:1: the header must name the columns model, scheme and top1"),
            ("model,scheme,top1\nm,int8,101\n", .user, "t.csv:2: top1 '101' is not a percentage in 0...100"),
            ("model,scheme,top1\nm,int8,abc\n", .user, "t.csv:2: top1 'abc' is not a percentage"),
            ("# c\nmodel,scheme,top1\nm,int8,50\nm,int8,51\n", .user, "t.csv:4: m under int8 already has a figure on line 3"),
            ("model,scheme,top1\nm,int8\n", .user, "t.csv:2: 2 fields, but the header has 3"),
            ("model,scheme,top1,source\nm,int8,50,\"open\n", .user, "t.csv:2: a quoted field is never closed"),
            ("model,scheme,top1,source\nm,int8,50,\n", .published, "t.csv:2: a published figure needs a source"),
            ("model,scheme,top1\nm,int8,50\n", .published, "t.csv:1: a published table needs a source column"),
            ("model,scheme,top1\n,int8,50\n", .user, "t.csv:2: model is empty"),
            ("", .user, "t.csv:1: no header line"),
        ]
        for (text, origin, expected) in cases {
            do {
                _ = try AccuracyTable(parsing: text, path: "t.csv", origin: origin)
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.description.hasPrefix(expected), "\(error)")
            }
        }
    }

    @Test func csvQuotingRoundTrips() throws {
        let fields = ["plain", "with, comma", "with \"quote\"", "two\nlines", "#hash", ""]
        let table = CSVTable(header: ["a", "b", "c", "d", "e", "f"], rows: [CSVTable.Row(line: 2, fields: fields)])
        let text = table.rendered()
        #expect(text == "a,b,c,d,e,f\nplain,\"with, comma\",\"with \"\"quote\"\"\",\"two\nlines\",\"#hash\",\n")
        let parsed = try CSVTable(parsing: text, path: "t.csv")
        #expect(parsed.rows.map(\.fields) == [fields])
        #expect(try CSVTable(parsing: "a,b\r\n1,2\r\n", path: "t.csv").rows.map(\.fields) == [["1", "2"]])
    }
}
