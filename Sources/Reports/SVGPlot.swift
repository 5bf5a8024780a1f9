import Foundation

/// A linear axis with "nice" ticks (steps of 1, 2, 2.5 or 5 times a power of ten) covering a
/// data range, mapped onto a pixel span.
struct PlotAxis {
    var lower: Double
    var upper: Double
    var step: Double
    var pixelStart: Double
    var pixelEnd: Double

    /// An axis covering `[minimum, maximum]` with about `tickCount` intervals.
    init(minimum: Double, maximum: Double, tickCount: Int = 5, pixels: (Double, Double)) {
        var low = minimum, high = maximum
        if !(high > low) {
            let pad = low == 0 ? 1 : abs(low) * 0.1
            low -= pad
            high += pad
        }
        let raw = (high - low) / Double(max(tickCount, 1))
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        self.step = step
        lower = floor(low / step) * step
        upper = ceil(high / step) * step
        pixelStart = pixels.0
        pixelEnd = pixels.1
    }

    func pixel(_ value: Double) -> Double {
        pixelStart + (value - lower) / (upper - lower) * (pixelEnd - pixelStart)
    }

    var ticks: [Double] {
        let count = Int(((upper - lower) / step).rounded())
        return (0...count).map { lower + Double($0) * step }
    }

    /// Tick label with as many decimals as the step needs (0 for 1000, 1 for 2.5, 2 for 0.25).
    func label(_ value: Double) -> String {
        let decimals = (0...6).first { digits in
            let scaled = step * pow(10, Double(digits))
            return abs(scaled - scaled.rounded()) < 1e-6
        } ?? 6
        let text = Format.fixed(value, decimals)
        return Double(text) == 0 ? Format.fixed(0, decimals) : text
    }
}

/// How a scheme's points look, the same in every plot.
struct MarkerStyle {
    enum Shape: String { case circle, square, triangle, diamond, cross, star }
    var shape: Shape
    var color: String

    static func forScheme(_ scheme: String, among schemes: [String]) -> MarkerStyle {
        if ResultStrategy.of(scheme: scheme) == "sensitivity" {
            // The search's results: the colour of their scheme, a star.
            return MarkerStyle(shape: .star, color: forScheme(ResultStrategy.baseScheme(scheme), among: schemes).color)
        }
        switch scheme {
        case "int8": return MarkerStyle(shape: .circle, color: "#1f77b4")
        case "mixpl": return MarkerStyle(shape: .square, color: "#2ca02c")
        case "mixpc": return MarkerStyle(shape: .triangle, color: "#d62728")
        case "float": return MarkerStyle(shape: .diamond, color: "#7f7f7f")
        default:
            let others = ["#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]
            let index = schemes.filter { !SchemeOrder.known.contains($0) }.firstIndex(of: scheme) ?? 0
            return MarkerStyle(shape: .cross, color: others[index % others.count])
        }
    }

    /// One marker element at (x, y); hollow markers have a white fill and a coloured outline.
    func element(x: Double, y: Double, hollow: Bool, cssClass: String, title: String? = nil) -> String {
        let fill = hollow ? "#ffffff" : color
        let style = "class=\"\(cssClass)\" fill=\"\(fill)\" stroke=\"\(color)\" stroke-width=\"1.8\""
        let body = title.map { "<title>\(SVG.escape($0))</title>" } ?? ""
        let r = 5.0
        switch shape {
        case .circle:
            return "<circle \(style) cx=\"\(SVG.n(x))\" cy=\"\(SVG.n(y))\" r=\"\(SVG.n(r))\">\(body)</circle>"
        case .square:
            return "<rect \(style) x=\"\(SVG.n(x - r))\" y=\"\(SVG.n(y - r))\" width=\"\(SVG.n(2 * r))\" height=\"\(SVG.n(2 * r))\">\(body)</rect>"
        case .triangle:
            return "<polygon \(style) points=\"\(SVG.n(x)),\(SVG.n(y - r * 1.2)) \(SVG.n(x + r * 1.1)),\(SVG.n(y + r * 0.8)) \(SVG.n(x - r * 1.1)),\(SVG.n(y + r * 0.8))\">\(body)</polygon>"
        case .diamond:
            return "<polygon \(style) points=\"\(SVG.n(x)),\(SVG.n(y - r * 1.3)) \(SVG.n(x + r)),\(SVG.n(y)) \(SVG.n(x)),\(SVG.n(y + r * 1.3)) \(SVG.n(x - r)),\(SVG.n(y))\">\(body)</polygon>"
        case .star:
            let points = (0..<10).map { k -> String in
                let angle = Double.pi * Double(k) / 5 - Double.pi / 2, radius = k % 2 == 0 ? r * 1.4 : r * 0.6
                return "\(SVG.n(x + radius * cos(angle))),\(SVG.n(y + radius * sin(angle)))"
            }
            return "<polygon \(style) points=\"\(points.joined(separator: " "))\">\(body)</polygon>"
        case .cross:
            return "<path \(style) d=\"M\(SVG.n(x - r)),\(SVG.n(y - r))L\(SVG.n(x + r)),\(SVG.n(y + r))M\(SVG.n(x - r)),\(SVG.n(y + r))L\(SVG.n(x + r)),\(SVG.n(y - r))\">\(body)</path>"
        }
    }
}

/// SVG text helpers: fixed coordinate format, XML escaping, and the frame of a plot.
enum SVG {
    static let width = 760.0, height = 500.0
    /// Plot area: left, top, right, bottom (the legend sits right of it).
    static let left = 80.0, top = 50.0, right = 560.0, bottom = 430.0

    static func n(_ value: Double) -> String { Format.fixed(value, 1) }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "'", with: "&apos;")
    }

    static func text(_ content: String, x: Double, y: Double, anchor: String = "start", size: Int = 12,
                     extra: String = "") -> String {
        "<text x=\"\(n(x))\" y=\"\(n(y))\" text-anchor=\"\(anchor)\" font-size=\"\(size)\"\(extra.isEmpty ? "" : " " + extra)>\(escape(content))</text>"
    }

    /// Document start, title, axes with ticks, grid and labels.
    /// `xTicks` false: no numeric x ticks (a plot whose columns are categories labels them itself).
    static func frame(title: String, xAxis: PlotAxis, yAxis: PlotAxis, xLabel: String, yLabel: String,
                      xTicks: Bool = true) -> [String] {
        var lines = [
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(n(width))\" height=\"\(n(height))\" viewBox=\"0 0 \(n(width)) \(n(height))\" font-family=\"Helvetica, Arial, sans-serif\">",
            "<rect x=\"0\" y=\"0\" width=\"\(n(width))\" height=\"\(n(height))\" fill=\"#ffffff\"/>",
            text(title, x: (left + right) / 2, y: 28, anchor: "middle", size: 15, extra: "font-weight=\"bold\""),
        ]
        for tick in xTicks ? xAxis.ticks : [] {
            let x = xAxis.pixel(tick)
            lines.append("<line x1=\"\(n(x))\" y1=\"\(n(top))\" x2=\"\(n(x))\" y2=\"\(n(bottom))\" stroke=\"#e6e6e6\"/>")
            lines.append("<line x1=\"\(n(x))\" y1=\"\(n(bottom))\" x2=\"\(n(x))\" y2=\"\(n(bottom + 5))\" stroke=\"#000000\"/>")
            lines.append(text(xAxis.label(tick), x: x, y: bottom + 19, anchor: "middle", size: 11))
        }
        for tick in yAxis.ticks {
            let y = yAxis.pixel(tick)
            lines.append("<line x1=\"\(n(left))\" y1=\"\(n(y))\" x2=\"\(n(right))\" y2=\"\(n(y))\" stroke=\"#e6e6e6\"/>")
            lines.append("<line x1=\"\(n(left - 5))\" y1=\"\(n(y))\" x2=\"\(n(left))\" y2=\"\(n(y))\" stroke=\"#000000\"/>")
            lines.append(text(yAxis.label(tick), x: left - 8, y: y + 4, anchor: "end", size: 11))
        }
        lines.append("<rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(right - left))\" height=\"\(n(bottom - top))\" fill=\"none\" stroke=\"#000000\"/>")
        if !xLabel.isEmpty {
            lines.append(text(xLabel, x: (left + right) / 2, y: bottom + 45, anchor: "middle", size: 13))
        }
        lines.append(text(yLabel, x: 22, y: (top + bottom) / 2, anchor: "middle", size: 13,
                          extra: "transform=\"rotate(-90 22 \(n((top + bottom) / 2)))\""))
        return lines
    }

    /// Legend entries right of the plot area, one per scheme, then free-form notes.
    /// A legend line after the schemes: text, and optionally a marker drawn at a given y.
    struct LegendNote {
        var text: String
        var marker: ((Double) -> String)?

        init(text: String, marker: ((Double) -> String)? = nil) {
            self.text = text
            self.marker = marker
        }
    }

    static func legend(schemes: [String], notes: [LegendNote]) -> [String] {
        var lines: [String] = []
        var y = top + 10
        let x = right + 25
        for scheme in schemes {
            let style = MarkerStyle.forScheme(scheme, among: schemes)
            lines.append(style.element(x: x, y: y, hollow: false, cssClass: "legend-marker"))
            lines.append(text(scheme, x: x + 14, y: y + 4, extra: "class=\"legend-text\""))
            y += 22
        }
        for note in notes {
            if let marker = note.marker { lines.append(marker(y)) }
            lines.append(text(note.text, x: x + 14, y: y + 4, size: 11, extra: "class=\"legend-text\""))
            y += 22
        }
        return lines
    }
}

/// An axis range fitted to data: the values' span with a margin on each side (8% of the span,
/// or 5% of the value when all values are equal), never below `floor` (latencies and bytes
/// are not negative). An axis from 0 would squeeze points between 4.4 and 4.7 ms into a sliver.
enum AxisFit {
    static func range(of values: [Double], floor: Double? = 0) -> (Double, Double)? {
        guard let low = values.min(), let high = values.max() else { return nil }
        let span = high - low
        let pad = span > 0 ? span * 0.08 : Swift.max(abs(high) * 0.05, 1e-3)
        var lower = low - pad
        if let floor { lower = Swift.max(lower, floor) }
        return (lower, high + pad)
    }
}

/// Places point labels beside their markers so that no label covers a marker, another label
/// or anything outside the plot area (the legend, the axes). Text extents are estimated from
/// the font size (Helvetica's widest digits and lower-case letters are about 0.6 em), on the
/// generous side; a label with no free position is left out (the marker keeps its tooltip).
struct LabelPlacer {
    struct Box {
        var x0, y0, x1, y1: Double
        func intersects(_ other: Box) -> Bool { x0 < other.x1 && other.x0 < x1 && y0 < other.y1 && other.y0 < y1 }
        func inside(_ other: Box) -> Bool { x0 >= other.x0 && x1 <= other.x1 && y0 >= other.y0 && y1 <= other.y1 }
    }

    let bounds: Box
    private(set) var occupied: [Box] = []
    private var count = 0

    /// Labels stay inside `bounds` (by default the plot area).
    init(bounds: Box = Box(x0: SVG.left + 2, y0: SVG.top + 2, x1: SVG.right - 2, y1: SVG.bottom - 2)) {
        self.bounds = bounds
    }

    /// The half size of a marker's box: the largest marker (a diamond, 1.3 r) plus its stroke.
    static let markerHalfSize = 7.5

    mutating func addMarker(x: Double, y: Double) {
        let h = Self.markerHalfSize
        occupied.append(Box(x0: x - h, y0: y - h, x1: x + h, y1: y + h))
    }

    mutating func addText(_ text: String, x: Double, y: Double, size: Double, anchor: String = "start") {
        occupied.append(Self.box(text, x: x, y: y, size: size, anchor: anchor))
    }

    static func width(_ text: String, size: Double) -> Double { Double(text.count) * size * 0.6 }

    /// The box of `text` drawn at baseline (x, y).
    static func box(_ text: String, x: Double, y: Double, size: Double, anchor: String) -> Box {
        let width = width(text, size: size)
        let x0 = anchor == "end" ? x - width : anchor == "middle" ? x - width / 2 : x
        return Box(x0: x0, y0: y - size * 0.85, x1: x0 + width, y1: y + size * 0.3)
    }

    /// The SVG elements of the labels `(text, x, y)` of points: every label is first tried
    /// next to its point (right, above-right, below-right, left, above-left, below-left, above,
    /// below), and only then farther out, with a thin leader line to its point, so that a
    /// crowded label does not take the place beside another point. Labels with no free
    /// position are left out.
    mutating func labels(_ points: [(text: String, x: Double, y: Double)], size: Double = 10) -> [String] {
        let gap = Self.markerHalfSize + 2
        var placed = [String?](repeating: nil, count: points.count)
        for (level, distance) in [gap, gap + 8, gap + 18, gap + 30, gap + 45, gap + 65, gap + 90].enumerated() {
            for (index, point) in points.enumerated() where placed[index] == nil {
                placed[index] = label(point.text, x: point.x, y: point.y, distance: distance, size: size, leader: level >= 2)
            }
        }
        return placed.compactMap { $0 }
    }

    private mutating func label(_ text: String, x: Double, y: Double, distance: Double, size: Double, leader: Bool) -> String? {
        let candidates: [(Double, Double, String)] = [
            (x + distance, y + size * 0.3, "start"), (x + distance * 0.8, y - distance * 0.8, "start"),
            (x + distance * 0.8, y + distance * 0.8 + size * 0.6, "start"), (x - distance, y + size * 0.3, "end"),
            (x - distance * 0.8, y - distance * 0.8, "end"), (x - distance * 0.8, y + distance * 0.8 + size * 0.6, "end"),
            (x, y - distance, "middle"), (x, y + distance + size * 0.7, "middle"),
        ]
        for (lx, ly, anchor) in candidates {
            let box = Self.box(text, x: lx, y: ly, size: size, anchor: anchor)
            guard box.inside(bounds), !occupied.contains(where: { $0.intersects(box) }) else { continue }
            occupied.append(box)
            count += 1
            let element = SVG.text(text, x: lx, y: ly, anchor: anchor, size: Int(size),
                                   extra: "class=\"point-label\" id=\"point-label-\(count)\"")
            guard leader else { return element }
            // From the marker's edge to the nearest point of the label's box.
            let tx = Swift.min(Swift.max(x, box.x0), box.x1), ty = Swift.min(Swift.max(y, box.y0), box.y1)
            let length = ((tx - x) * (tx - x) + (ty - y) * (ty - y)).squareRoot()
            guard length > Self.markerHalfSize + 1 else { return element }
            let sx = x + (tx - x) / length * (Self.markerHalfSize + 1), sy = y + (ty - y) / length * (Self.markerHalfSize + 1)
            return "<line class=\"leader\" x1=\"\(SVG.n(sx))\" y1=\"\(SVG.n(sy))\" x2=\"\(SVG.n(tx))\" y2=\"\(SVG.n(ty))\" "
                + "stroke=\"#888888\" stroke-width=\"0.8\"/>\n" + element
        }
        return nil
    }
}
