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
            lines.append(text(scheme, x: x + 14, y: y + 4))
            y += 22
        }
        for note in notes {
            if let marker = note.marker { lines.append(marker(y)) }
            lines.append(text(note.text, x: x + 14, y: y + 4, size: 11))
            y += 22
        }
        return lines
    }
}
