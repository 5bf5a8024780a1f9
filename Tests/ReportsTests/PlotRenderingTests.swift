import Foundation
import Testing
@testable import Reports

/// Every plot the report writes, rendered to PNG by rsvg-convert (toolchain/setup.sh installs
/// librsvg2-bin) and checked on the pixels: each point label alone, and the markers and legend
/// alone, are rendered on a transparent background, and no pixel may be ink in two of them, so
/// a label covers no marker, no legend entry and no other label. The PNG files are kept in
/// `$TMPDIR/mixq-plots` for a look.
@Suite(.serialized) struct PlotRenderingTests {
    /// The plots of the fixture report with measured figures on a second dataset (as
    /// `accuraciesOnDifferentDatasetsAreNeverCompared`), and of the two-device fixtures.
    static func plots() throws -> [(String, String)] {
        let digits = try AccuracyTable(parsing: """
            model,scheme,top1,source,dataset
            mobilenet_v1_0.5_160,int8,99.0,digit test,digits
            mobilenet_v1_0.5_160,mixpl,97.0,digit test,digits
            mobilenet_v1_0.25_128,mixpc,97.4,digit test,digits
            """, path: "digits.csv", origin: .measured)
        let report = Report(collection: try Fixtures.both(), accuracy: try Fixtures.published().overridden(by: digits))
        var plots = report.latencyAccuracyPlots.map { ($0.file, report.latencyAccuracySVG(dataset: $0.dataset)) }
        plots.append(("memory.svg", report.memorySVG()))
        let devices = Report(collection: try ResultsFolder.load(folders: [DeviceComparisonTests.devicesFolder]),
                             accuracy: try Fixtures.publishedAndUser())
        plots.append(("devices.svg", devices.devicesSVG()))
        plots.append(("devices_memory.svg", devices.memorySVG()))
        return plots
    }

    static let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-plots")

    /// Renders `svg` with only the elements `visible` (a CSS selector) shown, on transparent.
    static func render(_ svg: String, visible: String, name: String) throws -> PNGImage {
        let style = "<style>* { visibility: hidden; } \(visible) { visibility: visible; }</style>"
        let shown = visible == "*" ? svg : svg.replacingOccurrences(of: "font-family=\"Helvetica, Arial, sans-serif\">",
                                                                     with: "font-family=\"Helvetica, Arial, sans-serif\">\(style)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let input = folder.appendingPathComponent(name + ".svg"), output = folder.appendingPathComponent(name + ".png")
        try Data(shown.utf8).write(to: input)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/rsvg-convert")
        process.arguments = ["-o", output.path, input.path]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "rsvg-convert failed on \(name)")
        return try PNGImage(contentsOf: output)
    }

    @Test func labelsCoverNoMarkerLegendOrOtherLabel() throws {
        for (file, svg) in try Self.plots() {
            let name = (file as NSString).deletingPathExtension
            let whole = try Self.render(svg, visible: "*", name: name)
            #expect(whole.width == 760 && whole.height == 500)
            let labelCount = svg.components(separatedBy: "class=\"point-label\"").count - 1
            if file == "memory.svg" || file == "devices_memory.svg" { #expect(labelCount > 0, "\(file) labels its points") }
            let others = try Self.render(svg, visible: ".marker, .legend-marker, .legend-text", name: name + "-markers")
            var labels: [PNGImage] = []
            for k in 0..<labelCount {
                labels.append(try Self.render(svg, visible: "#point-label-\(k + 1)", name: name + "-label\(k + 1)"))
            }
            for (i, label) in labels.enumerated() {
                #expect(label.inkCount > 20, "\(file): label \(i + 1) is drawn")
                #expect(label.overlap(with: others) == 0, "\(file): label \(i + 1) covers a marker or the legend")
                for j in labels.indices where j > i {
                    #expect(label.overlap(with: labels[j]) == 0, "\(file): labels \(i + 1) and \(j + 1) overlap")
                }
            }
        }
    }

    /// The x axis fits the latencies (with a margin) instead of starting at 0, and every
    /// marker lies inside the plot area.
    @Test func axesFitTheData() throws {
        let plots = try Self.plots()
        let digits = try #require(plots.first { $0.0.contains("digits") }?.1)
        let summary = try SVGSummary(digits)
        let xs = summary.markerCentres.map(\.x)
        let spread = (xs.max() ?? 0) - (xs.min() ?? 0)
        #expect(spread > 0.5 * (SVG.right - SVG.left), "the points use most of the width: \(xs)")
        #expect(summary.markerCentres.allSatisfy { $0.x > SVG.left && $0.x < SVG.right && $0.y > SVG.top && $0.y < SVG.bottom })
        // The legend names only schemes with a point on the plot.
        let imageNet = try #require(plots.first { $0.0 == "latency_accuracy.svg" }?.1)
        let imageNetSummary = try SVGSummary(imageNet)
        let onPlot = Set(imageNetSummary.markerTitles.compactMap { $0.split(separator: ":").first?.split(separator: " ").last.map(String.init) })
        let legend = Set(imageNet.components(separatedBy: "class=\"legend-text\">").dropFirst().map { String($0.prefix { $0 != "<" }) })
        #expect(legend.intersection(["int8", "mixpl", "mixpc"]) == onPlot, "legend \(legend), points \(onPlot)")
    }
}

/// A PNG as rsvg-convert writes it (8 bits per channel, not interlaced), decoded with
/// the system zlib (PNG specification, ISO/IEC 15948: chunks, zlib-compressed scanlines with
/// per-row filters 0-4).
struct PNGImage {
    var width = 0, height = 0
    var alpha: [UInt8] = []

    init(contentsOf url: URL) throws {
        let bytes = [UInt8](try Data(contentsOf: url))
        try #require(bytes.count > 8 && bytes[1...3] == [0x50, 0x4E, 0x47])
        var offset = 8
        var compressed: [UInt8] = []
        var bitDepth = 0, colorType = 0
        func word(_ at: Int) -> Int { Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3]) }
        while offset + 8 <= bytes.count {
            let length = word(offset)
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let data = Array(bytes[(offset + 8)..<(offset + 8 + length)])
            if type == "IHDR" {
                width = word(offset + 8); height = word(offset + 12)
                bitDepth = Int(data[8]); colorType = Int(data[9])
            } else if type == "IDAT" {
                compressed += data
            }
            offset += 12 + length
        }
        // Colour types (PNG 11.2.2): 0 grey, 2 RGB, 4 grey + alpha, 6 RGBA; an opaque image comes as 2.
        let channels = [0: 1, 2: 3, 4: 2, 6: 4][colorType] ?? 0
        try #require(bitDepth == 8 && channels > 0, "8-bit grey or RGB(A) expected, got depth \(bitDepth) type \(colorType)")
        let hasAlpha = colorType == 4 || colorType == 6
        let stride = width * channels
        var raw = [UInt8](repeating: 0, count: height * (stride + 1))
        var rawLength = UInt(raw.count)
        let status = compressed.withUnsafeBufferPointer { source in
            raw.withUnsafeMutableBufferPointer { target in
                Zlib.uncompress(target.baseAddress!, &rawLength, source.baseAddress!, UInt(source.count))
            }
        }
        try #require(status == 0 && Int(rawLength) == raw.count, "zlib status \(status)")
        var previous = [UInt8](repeating: 0, count: stride)
        alpha = []
        alpha.reserveCapacity(width * height)
        for row in 0..<height {
            let start = row * (stride + 1)
            let filter = raw[start]
            var line = Array(raw[(start + 1)...(start + stride)])
            for i in 0..<stride {
                let a = i >= channels ? Int(line[i - channels]) : 0, b = Int(previous[i])
                let c = i >= channels ? Int(previous[i - channels]) : 0
                let predictor: Int
                switch filter {
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                case 4:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c
                default: predictor = 0
                }
                line[i] = UInt8(truncatingIfNeeded: Int(line[i]) + predictor)
            }
            for x in 0..<width { alpha.append(hasAlpha ? line[x * channels + channels - 1] : 255) }
            previous = line
        }
    }

    /// Pixels drawn with at least half opacity.
    var inkCount: Int { alpha.filter { $0 >= 128 }.count }

    func overlap(with other: PNGImage) -> Int {
        zip(alpha, other.alpha).filter { $0 >= 128 && $1 >= 128 }.count
    }
}

/// zlib's `uncompress`, from the system library (it has no Swift module on Linux).
enum Zlib {
    typealias Uncompress = @convention(c) (UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt>, UnsafePointer<UInt8>, UInt) -> Int32
    static let uncompress: Uncompress = {
        guard let library = dlopen("libz.so.1", RTLD_NOW) ?? dlopen("libz.dylib", RTLD_NOW),
              let symbol = dlsym(library, "uncompress") else { fatalError("zlib not found") }
        return unsafeBitCast(symbol, to: Uncompress.self)
    }()
}
