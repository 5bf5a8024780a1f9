import Foundation
import Testing
@testable import Reports
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The rendered report of the fixture results: tables, CSV, JSON, plots, profiles, files.
@Suite struct ReportTests {
    func fixtureReport() throws -> Report {
        Report(collection: try Fixtures.both(), accuracy: try Fixtures.publishedAndUser())
    }

    /// Every value below is worked by hand from the fixture JSON: e.g. 0.25_128 int8 FLASH
    /// 520000 / 2097152 = 24.8%, AXI SRAM 98304 / 524288 = 18.75% -> 18.8%, 2356000 MACs /
    /// 4000000 cycles = 0.589 MAC/cycle; the non-fitting 1.0_224 shows the plan's bytes.
    @Test func combinedTableRows() throws {
        let markdown = try fixtureReport().markdown()
        let expected = [
            "| *mobilenet_v1_0.25_128 | int8 | w 8x4; a 8x5 | 520000 (24.8%) | 98304 (18.8%) | yes | yes | 2356000 | 4000000 | 10.000 | 0.589 | 39.5 | [2] published |",
            "| mobilenet_v1_0.25_128 | mixpc | w 8x2 4x1 2x1; a 8x4 4x1 | 300000 (14.3%) | 81920 (15.6%) | yes | yes | 2356000 | 4800000 | 12.000 | 0.491 | 38.9 | [1] user |",
            "| *mobilenet_v1_0.5_160 | int8 | w 8x4; a 8x5 | 1390000 (66.3%) | 307200 (58.6%) | yes | yes | 8012000 | 12000000 | 30.000 | 0.668 | 58.0 | [3] user |",
            "| *mobilenet_v1_0.5_160 | mixpl | w 8x2 4x2; a 8x3 4x2 | 790000 (37.7%) | 230400 (43.9%) | yes | NO | 8012000 | 10000000 | 25.000 | 0.801 | 56.0 | [4] user |",
            "| mobilenet_v1_1.0_224 | int8 | w 8x4; a 8x6 | 4331976 (206.6%) (plan) | 2408448 (459.4%) (plan) | no | - | 41164800 | - | - | - | 70.1 | [2] published |",
        ]
        let lines = markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let start = try #require(lines.firstIndex(of: "## All results"))
        #expect(Array(lines[(start + 4)...(start + 8)]) == expected)
        // Per-scheme tables repeat the same rows.
        let mixpl = try #require(lines.firstIndex(of: "## mixpl"))
        #expect(lines[mixpl + 4] == expected[3])
        #expect(lines[mixpl + 5] == "")
        #expect(lines.contains("## int8") && lines.contains("## mixpc"))
        // Sources, numbered in sorted order, each with its origin.
        #expect(lines.contains("1. QAT run, fixture (user)"))
        #expect(lines.contains { $0.hasPrefix("2. TF-slim model zoo, 2018_08_02 checkpoints, 8-bit quantized model") && $0.hasSuffix("(published)") })
        #expect(lines.contains("3. re-measured int8 (fixture) (user)"))
        #expect(lines.contains("4. user table accuracy.csv (user)"))
        #expect(markdown.contains("- STM32H743 (FLASH 2097152 B, RAM 524288 B), mixed: 68.0% Top-1"))
        #expect(lines.contains("Not run (no cycles): mobilenet_v1_1.0_224/int8 (does not fit: FLASH needs 4331976 B, 2283976 B over the budget of 2048000 B)."))
    }

    @Test func conditionsAtTheTopAndDisagreementSaidSo() throws {
        let markdown = try fixtureReport().markdown()
        let conditions = try #require(markdown.range(of: "## Conditions"))
        let table = try #require(markdown.range(of: "## All results"))
        #expect(conditions.upperBound < table.lowerBound)
        // The four results that ran agree; the one that never ran has no conditions to compare.
        #expect(String(markdown[conditions.upperBound..<table.lowerBound]) == """


            - clock (MHz): 400
            - FLASH wait states: 2
            - caches: I-cache and D-cache on
            - timing model: pipeline
            - compiler: arm-none-eabi-gcc 12.2.1
            - flags: -mcpu=cortex-m7 -mthumb -mfpu=fpv5-d16 -mfloat-abi=hard -O3
            - weights: synthetic, seed 1


            """)
        // A re-run with the caches off and 4 wait states disagrees, and the report says so.
        let folder = try Fixtures.scratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Fixtures.copy("mobilenet_v1_0.5_160__mixpl.json", from: Fixtures.shardB, to: folder) {
            $0.replacingOccurrences(of: "\"flash_wait_states\": 2", with: "\"flash_wait_states\": 4")
                .replacingOccurrences(of: "\"caches\": \"I-cache and D-cache on\"", with: "\"caches\": false")
        }
        let mixed = Report(collection: try ResultsFolder.load(folders: [Fixtures.shardA, folder]), accuracy: .empty)
        #expect(!mixed.conditionsAgree)
        let text = mixed.markdown()
        #expect(text.contains("**The results disagree on conditions** (2 different sets)"))
        #expect(text.contains("Set 1, 2 results (mobilenet_v1_0.25_128/int8, mobilenet_v1_0.25_128/mixpc):"))
        #expect(text.contains("Set 2, 1 results (mobilenet_v1_0.5_160/mixpl):\n\n- clock (MHz): 400\n- FLASH wait states: 4\n- caches: off\n"))
        #expect(try SVGSummary(mixed.latencyAccuracySVG()).texts.contains("latency (ms) at 400 MHz; conditions differ, see report.md"))
    }

    @Test func csvHasTheDocumentedColumnsAndTheSameRows() throws {
        let report = try fixtureReport()
        let table = try CSVTable(parsing: report.csv(), path: "results.csv")
        #expect(table.header == Report.csvColumns)
        #expect(table.header.count == 31)
        #expect(table.rows.count == 5)
        func value(_ row: Int, _ column: String) throws -> String {
            table.rows[row].fields[try #require(table.column(column))]
        }
        #expect(try (0..<5).map { try value($0, "device") } == Array(repeating: "STM32H743", count: 5), "results without a part are the STM32H743's")
        #expect(try value(0, "flash_percent") == "24.8")
        #expect(try value(0, "ram_total_bytes") == "110304")
        #expect(try value(1, "top1_source") == "QAT run, fixture")
        #expect(try value(1, "top1_origin") == "user")
        #expect(try value(1, "top1_dataset") == "ImageNet", "a user table without a dataset column is ImageNet")
        #expect(try value(1, "on_pareto_front") == "false")
        #expect(try value(2, "macs_per_cycle") == "0.668")
        #expect(try value(4, "flash_basis") == "plan")
        #expect(try value(4, "cycles") == "")
        #expect(try value(4, "latency_ms") == "")
        #expect(try value(4, "fits") == "false")
        #expect(try value(4, "top1_source").hasPrefix("TF-slim"))
        #expect(try value(4, "note") == "does not fit: FLASH needs 4331976 B, 2283976 B over the budget of 2048000 B")
        #expect(try value(4, "activation_bits") == "8x6")  // the pool layer's output counts, it has no weights
        #expect(try value(0, "note") == "")
        #expect(try value(4, "result_file").hasSuffix("shard_a/mobilenet_v1_1.0_224__int8.json"))
        let none = try CSVTable(parsing: Report(collection: try Fixtures.both(), accuracy: .empty).csv(), path: "r.csv")
        #expect(none.rows.allSatisfy { $0.fields[24] == "" && $0.fields[25] == "no published figure" && $0.fields[26] == "none" })
    }

    @Test func jsonHasTheSameRowsTyped() throws {
        let report = try fixtureReport()
        let document = try JSONDecoder().decode(JSONValue.self, from: report.json())
        guard case .object(let top) = document, case .array(let rows)? = top["rows"] else {
            Issue.record("no rows array")
            return
        }
        #expect(rows.count == 5)
        guard case .object(let first) = rows[0], case .object(let last) = rows[4] else { return }
        #expect(Set(first.keys) == Set(Report.csvColumns))
        #expect(first["latency_ms"] == .number(10))
        #expect(first["macs_per_cycle"] == .number(0.589))
        #expect(first["top1"] == .number(39.5))
        #expect(last["cycles"] == .null && last["fits"] == .bool(false) && last["bit_exact"] == .null)
        #expect(top["conditions_agree"] == .bool(true))
    }

    @Test func plotsAreWellFormedXMLWithOneMarkerPerRow() throws {
        let report = try fixtureReport()
        let latency = try SVGSummary(report.latencyAccuracySVG())
        // Five rows, all with a Top-1 under the user table: five markers, one hollow (1.0_224).
        #expect(latency.markers.count == 5)
        #expect(latency.markers.filter(\.hollow).count == 1)
        #expect(latency.classes.contains("pareto-front"))
        #expect(latency.texts.contains("latency (ms) at 400 MHz"))
        #expect(latency.texts.contains("no latency"))
        #expect(latency.texts.contains("Top-1 (%)"))
        #expect(latency.texts.contains("int8") && latency.texts.contains("mixpl") && latency.texts.contains("mixpc"))
        // Three schemes: three marker shapes.
        #expect(Set(latency.markers.map(\.element)) == ["circle", "rect", "polygon"])
        // Published figures only: 3 rows have a Top-1, 2 are counted as not shown.
        let published = try SVGSummary(Report(collection: try Fixtures.both(), accuracy: try Fixtures.published()).latencyAccuracySVG())
        #expect(published.markers.count == 3)
        #expect(published.texts.contains("2 of 5 results"))

        let memory = try SVGSummary(report.memorySVG())
        #expect(memory.markers.count == 5)
        #expect(memory.markers.filter(\.hollow).count == 1)
        #expect(memory.classes.contains("device-box"))
        #expect(memory.texts.contains("STM32H743: 2097152 B FLASH x 524288 B AXI SRAM"))
        // Axis ticks: FLASH up to 4331976 B = 4.13 MiB -> 0..5 MiB in steps of 1.
        #expect(["0", "1", "2", "3", "4", "5"].allSatisfy(memory.texts.contains))
    }

    @Test func axisTicksAreNiceNumbers() {
        let axis = PlotAxis(minimum: 0, maximum: 31.5, pixels: (0, 100))
        #expect(axis.step == 10 && axis.lower == 0 && axis.upper == 40)
        #expect(axis.ticks.map(axis.label) == ["0", "10", "20", "30", "40"])
        let top1 = PlotAxis(minimum: 36.9, maximum: 72.1, pixels: (100, 0))
        #expect(top1.step == 10 && top1.lower == 30 && top1.upper == 80)
        let fine = PlotAxis(minimum: 0, maximum: 1.1, pixels: (0, 100))
        #expect(fine.step == 0.25 && fine.ticks.map(fine.label) == ["0.00", "0.25", "0.50", "0.75", "1.00", "1.25"])
        #expect(fine.pixel(0.625) == 50)
    }

    @Test func layerProfileAndTrace() throws {
        let collection = try Fixtures.both()
        let result = try #require(collection.entries.first { $0.result.scheme == "mixpc" }?.result)
        let profile = LayerProfile(result: result)
        let csv = try CSVTable(parsing: profile.csv(), path: "p.csv")
        #expect(csv.header == LayerProfile.csvColumns)
        // pw1: 2400000 cycles from 1800000, at 400 MHz: start 4500 us, 6000 us long, 50% of 4800000.
        #expect(csv.rows[2].fields == ["2", "pw1", "pointwise", "8", "4", "4", "106532", "30720", "1600000", "2400000",
                                       "0.667", "4500.000", "6000.000", "50.00"])
        let trace = try JSONDecoder().decode(JSONValue.self, from: try #require(try profile.traceJSON()))
        guard case .object(let top) = trace, case .array(let events)? = top["traceEvents"] else {
            Issue.record("no traceEvents")
            return
        }
        let complete = events.compactMap { event -> [String: JSONValue]? in
            guard case .object(let fields) = event, fields["ph"] == .string("X") else { return nil }
            return fields
        }
        #expect(complete.map { $0["name"] } == ["conv1", "dw1", "pw1", "fc"].map(JSONValue.string))
        #expect(complete.map { $0["ts"] } == [0, 3000, 4500, 10500].map(JSONValue.number))
        #expect(complete.map { $0["dur"] } == [3000, 1500, 6000, 1500].map(JSONValue.number))
        // A result that never ran: a CSV with empty timing columns and no trace.
        let notRun = LayerProfile(result: try #require(collection.entries.last?.result))
        #expect(!notRun.hasTimeline)
        #expect(try notRun.traceJSON() == nil)
        #expect(try CSVTable(parsing: notRun.csv(), path: "p.csv").rows[0].fields[9...13].allSatisfy(\.isEmpty))
    }

    @Test func writesEveryOutputAndNeverAnInput() throws {
        let folder = try Fixtures.scratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for name in ["mobilenet_v1_0.25_128__int8.json", "mobilenet_v1_1.0_224__int8.json"] {
            try Fixtures.copy(name, from: Fixtures.shardA, to: folder)
        }
        let collection = try ResultsFolder.load(folders: [folder])
        let report = Report(collection: collection, accuracy: try Fixtures.published())
        let written = try report.write(to: folder, protecting: collection.inputFiles)
        #expect(written.map(\.lastPathComponent) == [
            "report.md", "results.csv", "results.json", "latency_accuracy.svg", "memory.svg",
            "mobilenet_v1_0.25_128__int8.csv", "mobilenet_v1_0.25_128__int8.trace.json", "mobilenet_v1_1.0_224__int8.csv",
        ])
        // Outputs are not mistaken for results when the folder is read again, and a second
        // report is byte-for-byte the same.
        let again = try ResultsFolder.load(folders: [folder])
        #expect(again.entries.count == 2)
        let first = try Data(contentsOf: folder.appendingPathComponent("report.md"))
        try Report(collection: again, accuracy: try Fixtures.published()).write(to: folder, protecting: again.inputFiles)
        #expect(try Data(contentsOf: folder.appendingPathComponent("report.md")) == first)
        // A results "folder" whose input sits where an output goes is refused before writing.
        let input = folder.appendingPathComponent("results.csv")
        #expect(throws: ReportsError.wouldOverwriteInput(path: input.path)) {
            try report.write(to: folder, protecting: [input])
        }
    }

    /// Top-1 on two datasets: each has its own Pareto front, plot and markdown line, and no
    /// marker of one dataset appears on the other's plot (the fixtures' 0.5_160 pairs measured
    /// on "digits", the rest published ImageNet figures).
    @Test func accuraciesOnDifferentDatasetsAreNeverCompared() throws {
        let digits = try AccuracyTable(parsing: """
            model,scheme,top1,source,dataset
            mobilenet_v1_0.5_160,int8,99.0,digit test,digits
            mobilenet_v1_0.5_160,mixpl,97.0,digit test,digits
            """, path: "digits.csv", origin: .user)
        let report = Report(collection: try Fixtures.both(), accuracy: try Fixtures.published().overridden(by: digits))
        #expect(report.datasets == ["ImageNet", "digits"])
        let onDigits = report.paretoFront(of: "digits").map { report.rows[$0].model }
        #expect(Set(onDigits) == ["mobilenet_v1_0.5_160"])
        #expect(report.paretoFront(of: "ImageNet").allSatisfy { report.rows[$0].top1Dataset == "ImageNet" })
        #expect(report.paretoFront.count == report.paretoFront(of: "ImageNet").count + onDigits.count)
        #expect(report.latencyAccuracyPlots.map(\.file) == ["latency_accuracy.svg", "latency_accuracy_digits.svg"])
        let imageNetPlot = try SVGSummary(report.latencyAccuracySVG(dataset: "ImageNet"))
        let digitsPlot = try SVGSummary(report.latencyAccuracySVG(dataset: "digits"))
        #expect(digitsPlot.texts.contains { $0.hasPrefix("digits Top-1 against latency") })
        #expect(digitsPlot.markers.count == 2)
        #expect(imageNetPlot.markers.count == report.rows.filter { $0.top1Dataset == "ImageNet" }.count)
        #expect(imageNetPlot.texts.contains { $0.hasPrefix("ImageNet Top-1 against latency") })
        let markdown = report.markdown()
        #expect(markdown.contains("Pareto front on ImageNet"))
        #expect(markdown.contains("Pareto front on digits"))
        #expect(markdown.contains("(latency_accuracy_digits.svg)"))
        #expect(ReportFiles.latencyAccuracyPlot(for: "data/mnist/test") == "latency_accuracy_data_mnist_test.svg")
    }

    /// The accuracy section says what its rows hold: measured figures are called measured,
    /// table figures are called not measured, with counts from the rows.
    @Test func accuracyProseFollowsTheRows() throws {
        let measured = try AccuracyTable(parsing: """
            model,scheme,top1,source,dataset
            mobilenet_v1_0.5_160,int8,99.0,mixq eval,digits
            mobilenet_v1_0.5_160,mixpl,97.0,mixq eval,digits
            """, path: "measured.csv", origin: .measured)
        let mixed = Report(collection: try Fixtures.both(), accuracy: try Fixtures.published().overridden(by: measured)).markdown()
        #expect(!mixed.contains("does not measure accuracy"))
        #expect(mixed.contains("2 of 5 Top-1 figures were measured by MixQ"), "\(mixed)")
        #expect(mixed.contains(" on digits; "))
        #expect(mixed.contains("are published or user-supplied figures"))
        let tablesOnly = try fixtureReport().markdown()
        #expect(!tablesOnly.contains("measured by MixQ") && tablesOnly.contains("MixQ did not measure them"))
    }

    @Test func latencyThatDisagreesWithCyclesIsAWarning() throws {
        let folder = try Fixtures.scratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Fixtures.copy("mobilenet_v1_0.25_128__int8.json", from: Fixtures.shardA, to: folder) {
            $0.replacingOccurrences(of: "\"latency_ms\": 10.0", with: "\"latency_ms\": 8.0")
        }
        let report = Report(collection: try ResultsFolder.load(folders: [folder]), accuracy: .empty)
        #expect(report.warnings == ["mobilenet_v1_0.25_128 under int8: latency_ms 8.000 disagrees with 4000000 cycles at 400 MHz = 10.000 ms"])
        #expect(report.markdown().contains("## Warnings"))
    }
}

/// What an SVG document holds, read with Foundation's XML parser (which fails on malformed XML).
final class SVGSummary: NSObject, XMLParserDelegate {
    struct Marker {
        var element: String
        var hollow: Bool
    }

    private(set) var markers: [Marker] = []
    private(set) var classes: Set<String> = []
    private(set) var texts: [String] = []
    /// Centres of the markers (the mean of their shape's points) and their tooltips.
    private(set) var markerCentres: [(x: Double, y: Double)] = []
    private(set) var markerTitles: [String] = []
    private var currentText: String?
    private var inMarker = false

    init(_ svg: String) throws {
        super.init()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = self
        guard parser.parse() else {
            throw FixtureError(message: "not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "?")")
        }
    }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        if let cssClass = attributeDict["class"] {
            classes.insert(cssClass)
            if cssClass == "marker" {
                markers.append(Marker(element: elementName, hollow: attributeDict["fill"] == "#ffffff"))
                markerCentres.append(Self.centre(elementName, attributeDict))
                inMarker = true
            }
        }
        if elementName == "text" || (elementName == "title" && inMarker) { currentText = "" }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        currentText?.append(string)
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        if elementName == "text", let text = currentText {
            texts.append(text)
            currentText = nil
        }
        if elementName == "title", inMarker, let text = currentText {
            markerTitles.append(text)
            currentText = nil
        }
        if ["circle", "rect", "polygon", "path"].contains(elementName) { inMarker = false }
    }

    static func centre(_ element: String, _ attributes: [String: String]) -> (x: Double, y: Double) {
        func number(_ key: String) -> Double { Double(attributes[key] ?? "") ?? 0 }
        switch element {
        case "circle": return (number("cx"), number("cy"))
        case "rect": return (number("x") + number("width") / 2, number("y") + number("height") / 2)
        default:
            let text = attributes["points"] ?? attributes["d"] ?? ""
            let values = text.split(whereSeparator: { !"0123456789.-".contains($0) }).compactMap { Double($0) }
            let xs = stride(from: 0, to: values.count - 1, by: 2).map { values[$0] }
            let ys = stride(from: 1, to: values.count, by: 2).map { values[$0] }
            return (xs.reduce(0, +) / Double(max(xs.count, 1)), ys.reduce(0, +) / Double(max(ys.count, 1)))
        }
    }
}
