import Foundation
import Testing
@testable import Reports
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Results of the same pairs on two devices (Tests/ReportsTests/Fixtures/devices): the
/// STM32H743 files of shard_a (no `conditions.part`) and hand-written STM32F412 copies named
/// `<model>__<scheme>@stm32f412.json`. Every expected value is worked by hand from that JSON.
@Suite struct DeviceComparisonTests {
    static var devicesFolder: URL { get throws { try Fixtures.root.appendingPathComponent("devices") } }

    func report() throws -> Report {
        Report(collection: try ResultsFolder.load(folders: [Self.devicesFolder]), accuracy: try Fixtures.publishedAndUser())
    }

    @Test func fileNamesCarryTheDeviceOffTheSTM32H743() throws {
        #expect(ResultsFolder.fileName(model: "m", scheme: "int8") == "m__int8.json")
        #expect(ResultsFolder.fileName(model: "m", scheme: "int8", device: "STM32H743") == "m__int8.json")
        #expect(ResultsFolder.fileName(model: "m", scheme: "int8", device: "STM32F412") == "m__int8@stm32f412.json")
        #expect(ResultsFolder.device(inFileName: "m__int8@stm32f746.json") == "STM32F746")
        #expect(ResultsFolder.device(inFileName: "m__int8.json") == nil)
        #expect(ResultsFolder.isResultFileName("m__int8@stm32f412.json"))
        for bad in ["m__int8@.json", "m__@stm32f412.json", "m__int8@a@b.json"] {
            #expect(!ResultsFolder.isResultFileName(bad), "\(bad)")
        }
    }

    @Test func samePairOnTwoDevicesIsTwoResults() throws {
        let collection = try ResultsFolder.load(folders: [Self.devicesFolder])
        #expect(collection.warnings.isEmpty)
        // Sorted by model, scheme, then device (STM32H743 before STM32F412).
        #expect(collection.entries.map { "\($0.result.model)/\($0.result.scheme)/\($0.result.device)" } == [
            "mobilenet_v1_0.25_128/int8/STM32H743", "mobilenet_v1_0.25_128/int8/STM32F412",
            "mobilenet_v1_0.25_128/mixpc/STM32H743", "mobilenet_v1_0.25_128/mixpc/STM32F412",
            "mobilenet_v1_1.0_224/int8/STM32F412",
        ])
    }

    @Test func aResultUnderAnotherDevicesNameIsAnError() throws {
        let folder = try Fixtures.scratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // An STM32F412 result (conditions.part) copied to the STM32H743's name.
        let text = try String(contentsOf: Self.devicesFolder.appendingPathComponent("mobilenet_v1_0.25_128__int8@stm32f412.json"),
                              encoding: .utf8)
        try Data(text.utf8).write(to: folder.appendingPathComponent("mobilenet_v1_0.25_128__int8.json"))
        do {
            _ = try ResultsFolder.load(folders: [folder])
            Issue.record("a renamed copy was accepted")
        } catch {
            #expect("\(error)".contains("must be named mobilenet_v1_0.25_128__int8@stm32f412.json"))
        }
    }

    @Test func deviceColumnAndPerDeviceCapacities() throws {
        let report = try report()
        #expect(report.devices.map(\.name) == ["STM32H743", "STM32F412"])
        #expect(report.comparesDevices)
        let table = try CSVTable(parsing: report.csv(), path: "results.csv")
        #expect(table.header.count == 31 && table.header[2] == "device")
        func column(_ name: String) throws -> [String] {
            let index = try #require(table.column(name))
            return table.rows.map { $0.fields[index] }
        }
        #expect(try column("device") == ["STM32H743", "STM32F412", "STM32H743", "STM32F412", "STM32F412"])
        // FLASH 520000 / 2097152 = 24.8% on the H743, / 1048576 = 49.6% on the F412;
        // RAM: AXI SRAM 98304 / 524288 = 18.8%, SRAM 110000 / 262144 = 42.0%.
        #expect(try column("flash_capacity") == ["2097152", "1048576", "2097152", "1048576", "1048576"])
        #expect(try column("flash_percent") == ["24.8", "49.6", "14.3", "28.6", "413.1"])
        #expect(try column("ram_capacity") == ["524288", "262144", "524288", "262144", "262144"])
        #expect(try column("ram_percent") == ["18.8", "42.0", "15.6", "34.3", "918.8"])
        #expect(try column("latency_ms") == ["10.000", "50.000", "12.000", "44.000", ""])
        let json = try JSONDecoder().decode(JSONValue.self, from: report.json())
        guard case .object(let document) = json, case .array(let rows)? = document["rows"], case .array(let devices)? = document["devices"] else {
            Issue.record("results.json has no rows or devices")
            return
        }
        #expect(devices.count == 2)
        #expect(rows.map { row -> String in
            if case .object(let fields) = row, case .string(let device)? = fields["device"] { return device }
            return "?"
        } == ["STM32H743", "STM32F412", "STM32H743", "STM32F412", "STM32F412"])
    }

    @Test func oneParetoFrontPerDevice() throws {
        let report = try report()
        // H743: int8 10 ms 39.5% beats mixpc 12 ms 38.9%. F412: mixpc 44 ms 38.9% and int8 50 ms
        // 39.5% trade off, so both stay, although both are slower than the H743's int8 (a single
        // front across devices would hold the H743's int8 only).
        #expect(report.paretoFront(of: AccuracyTable.imageNet, device: "STM32H743") == [0])
        #expect(report.paretoFront(of: AccuracyTable.imageNet, device: "STM32F412") == [3, 1])
        #expect(report.rows.map(\.onParetoFront) == [true, true, false, true, false])
        let markdown = report.markdown()
        #expect(markdown.contains("Pareto front on ImageNet, STM32H743 (fitting models, lower latency and higher Top-1 better): "
                                  + "mobilenet_v1_0.25_128/int8 (10.000 ms, 39.5%)."))
        #expect(markdown.contains("Pareto front on ImageNet, STM32F412 (fitting models, lower latency and higher Top-1 better): "
                                  + "mobilenet_v1_0.25_128/mixpc (44.000 ms, 38.9%), mobilenet_v1_0.25_128/int8 (50.000 ms, 39.5%)."))
        // The latency-accuracy plot shows the first device only: its two rows, whose conditions agree.
        let plot = try SVGSummary(report.latencyAccuracySVG())
        #expect(plot.markers.count == 2)
        #expect(plot.texts.contains("latency (ms) at 400 MHz"))
        #expect(report.conditionsAgree(on: "STM32H743") && report.conditionsAgree(on: "STM32F412") && !report.conditionsAgree)
        #expect(markdown.contains("The results are for 2 devices, which run under different conditions by nature (2 sets); "
                                  + "compare latencies only within one set. The results of each device agree."))
    }

    @Test func comparisonTableRows() throws {
        let report = try report()
        #expect(report.deviceComparison.map { "\($0.model)/\($0.scheme)" } == [
            "mobilenet_v1_0.25_128/int8", "mobilenet_v1_0.25_128/mixpc", "mobilenet_v1_1.0_224/int8",
        ])
        #expect(report.deviceComparison.map(\.rows) == [[0, 1], [2, 3], [nil, 4]])
        let expected = [
            "| model | scheme | device | fits | bits (planner's choice) | latency ms | cycles | clock MHz | FLASH B (%) | RAM B (%) | planner budgets FLASH / RAM B |",
            "|---|---|---|---|---|---:|---:|---:|---:|---:|---:|",
            "| mobilenet_v1_0.25_128 | int8 | STM32H743 | yes | w 8x4; a 8x5 | 10.000 | 4000000 | 400 | 520000 (24.8%) | 98304 (18.8%) | 2048000 / 512000 |",
            "| mobilenet_v1_0.25_128 | int8 | STM32F412 | yes | w 8x4; a 8x5 | 50.000 | 5000000 | 100 | 520000 (49.6%) | 110000 (42.0%) | 1048576 / 262144 |",
            "| mobilenet_v1_0.25_128 | mixpc | STM32H743 | yes | w 8x2 4x1 2x1; a 8x4 4x1 | 12.000 | 4800000 | 400 | 300000 (14.3%) | 81920 (15.6%) | 2048000 / 512000 |",
            "| mobilenet_v1_0.25_128 | mixpc | STM32F412 | yes | w 8x2 4x1 2x1; a 8x4 4x1 | 44.000 | 4400000 | 100 | 300000 (28.6%) | 90000 (34.3%) | 1048576 / 262144 |",
            "| mobilenet_v1_1.0_224 | int8 | STM32H743 | no result | - | - | - | - | - | - | - |",
            "| mobilenet_v1_1.0_224 | int8 | STM32F412 | no | w 8x4; a 8x6 | - | - | - | 4331976 (413.1%) (plan) | 2408448 (918.8%) (plan) | 1048576 / 262144 |",
        ]
        #expect(report.deviceComparisonTable() == expected)
        let lines = report.markdown().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let section = try #require(lines.firstIndex(of: "## Device comparison"))
        #expect(Array(lines[(section + 7)...(section + 14)]) == expected)
        // The paper's budget figures beside their device (published_top1.csv).
        #expect(lines[section + 4] == "- STM32H743: FLASH 2097152 B, RAM (AXI SRAM) 524288 B; the paper's best MobilenetV1 for a "
                + "STM32H743 budget (FLASH 2097152 B, RAM 524288 B): 68.0% Top-1.")
        #expect(lines[section + 5] == "- STM32F412: FLASH 1048576 B, RAM (SRAM) 262144 B; the paper's best MobilenetV1 for a "
                + "STM32F412 budget (FLASH 1048576 B, RAM 262144 B): 60.2% Top-1.")
        // The STM32F746 takes the paper's STM32F7 figure (published for an STM32F765).
        #expect(report.budgetFigures(for: .stm32f746).map(\.top1) == [62.9])
        // The combined table gains a device column when devices are compared.
        #expect(lines.contains { $0.hasPrefix("| *mobilenet_v1_0.25_128 | int8 | STM32F412 | w 8x4; a 8x5 | 520000 (49.6%) | 110000 (42.0%) | yes |") })
    }

    /// A pair the planner found no bit assignment for on a part (a sweep records it with no
    /// layers and zero bytes) shows "no plan", not 0 bytes; `write` names it after its device.
    @Test func aPairWithoutAPlanSaysSo() throws {
        let folder = try Fixtures.scratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var record = DeploymentRecord(model: "mobilenet_v1_1.0_224", scheme: "mixpc", flashBudget: 1_048_576, ramBudget: 262_144,
                                      weightBytes: 0, paramBytes: 0, flashBytes: 0, peakActivationBytes: 0, fits: false,
                                      layers: [], clockMHz: 100, macs: 568_740_352,
                                      note: "does not fit: no bit-width assignment fits the RAM budget")
        record.device = "STM32F412"
        let url = try ResultsFolder.write(record, to: folder)
        #expect(url.lastPathComponent == "mobilenet_v1_1.0_224__mixpc@stm32f412.json")
        let report = Report(collection: try ResultsFolder.load(folders: [Self.devicesFolder, folder]), accuracy: .empty)
        #expect(report.deviceComparisonTable().suffix(2) == [
            "| mobilenet_v1_1.0_224 | mixpc | STM32H743 | no result | - | - | - | - | - | - | - |",
            "| mobilenet_v1_1.0_224 | mixpc | STM32F412 | no | - | - | - | 100 | no plan | no plan | 1048576 / 262144 |",
        ])
    }

    @Test func devicesPlotHasOneMarkerPerResultHollowWhenItDoesNotFit() throws {
        let svg = try report().devicesSVG()
        let plot = try DeviceMarkers(svg)
        #expect(plot.markers.filter { $0.device == "device-stm32h743" }.map(\.hollow) == [false, false])
        #expect(plot.markers.filter { $0.device == "device-stm32f412" }.map(\.hollow) == [false, false, true])
        #expect(plot.titles.contains("mobilenet_v1_1.0_224 int8 on STM32F412: no latency, does not fit"))
        #expect(plot.titles.contains("mobilenet_v1_0.25_128 mixpc on STM32F412: 44.000 ms"))
    }

    @Test func writesDevicesPlotOnlyForSeveralDevices() throws {
        let several = try Fixtures.scratchFolder()
        let single = try Fixtures.scratchFolder()
        defer {
            try? FileManager.default.removeItem(at: several)
            try? FileManager.default.removeItem(at: single)
        }
        let written = try report().write(to: several, protecting: [])
        #expect(written.map(\.lastPathComponent).contains(ReportFiles.devicesPlot))
        #expect(FileManager.default.fileExists(atPath: several.appendingPathComponent("profiles/mobilenet_v1_0.25_128__int8@stm32f412.csv").path))
        #expect(FileManager.default.fileExists(atPath: several.appendingPathComponent("profiles/mobilenet_v1_0.25_128__int8.csv").path))
        let fixture = Report(collection: try Fixtures.both(), accuracy: try Fixtures.published())
        #expect(!fixture.comparesDevices)
        let singleWritten = try fixture.write(to: single, protecting: [])
        #expect(!singleWritten.map(\.lastPathComponent).contains(ReportFiles.devicesPlot))
        #expect(!FileManager.default.fileExists(atPath: single.appendingPathComponent(ReportFiles.devicesPlot).path))
        let markdown = fixture.markdown()
        #expect(!markdown.contains("## Device comparison") && !markdown.contains(ReportFiles.devicesPlot))
        #expect(markdown.contains("| model | scheme | bits | FLASH B (%) |"), "no device column for one device")
    }
}

/// The markers of `devices.svg` with their device class, fill and title.
final class DeviceMarkers: NSObject, XMLParserDelegate {
    struct Marker {
        var device: String
        var hollow: Bool
    }

    private(set) var markers: [Marker] = []
    private(set) var titles: [String] = []
    private var title: String?

    init(_ svg: String) throws {
        super.init()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = self
        guard parser.parse() else { throw FixtureError(message: "devices.svg is not well-formed XML") }
    }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        let classes = (attributeDict["class"] ?? "").split(separator: " ").map(String.init)
        if classes.first == "marker", classes.count == 2 {
            markers.append(Marker(device: classes[1], hollow: attributeDict["fill"] == "#ffffff"))
        }
        if elementName == "title" { title = "" }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        title?.append(string)
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        if elementName == "title", let text = title {
            titles.append(text)
            title = nil
        }
    }
}
