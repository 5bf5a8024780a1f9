import Foundation

extension Report {
    /// `latency_accuracy.svg` (and one more per further dataset): Top-1 on `dataset` against
    /// latency, one marker style per scheme, the dataset's Pareto front as a dashed line,
    /// models that do not fit hollow. Every row with a Top-1 on the dataset gets one marker
    /// (`class="marker"`); rows with a Top-1 but no latency (never ran) sit in a "no latency"
    /// strip at the right edge; rows without a Top-1 cannot be placed and are counted in a note
    /// on the first dataset's plot. `dataset` nil: the first of `datasets` (ImageNet when any
    /// figure is published).
    public func latencyAccuracySVG(dataset: String? = nil) -> String {
        let dataset = dataset ?? datasets.first ?? AccuracyTable.imageNet
        let paretoFront = self.paretoFront(of: dataset)
        // Latencies of different devices are not compared: the plot shows the first device's rows.
        let placed = rows.indices.filter { rows[$0].top1 != nil && rows[$0].top1Dataset == dataset && rows[$0].device == device.name }
        let timed = placed.filter { rows[$0].latencyMs != nil }
        let untimed = placed.filter { rows[$0].latencyMs == nil }
        let latencies = timed.compactMap { rows[$0].latencyMs }
        let top1s = placed.compactMap { rows[$0].top1 }
        let stripWidth = untimed.isEmpty ? 0.0 : 34.0
        let (xLow, xHigh) = AxisFit.range(of: latencies) ?? (0, 1)
        let xAxis = PlotAxis(minimum: xLow, maximum: xHigh, pixels: (SVG.left, SVG.right - stripWidth))
        let (yLow, yHigh) = AxisFit.range(of: top1s, floor: nil) ?? (0, 100)
        let yAxis = PlotAxis(minimum: Swift.max(0, Swift.min(yLow, (top1s.min() ?? 0) - 1)),
                             maximum: Swift.min(100, Swift.max(yHigh, (top1s.max() ?? 100) + 1)), pixels: (SVG.bottom, SVG.top))
        var lines = SVG.frame(title: "\(dataset) Top-1 against latency on \(device.name)", xAxis: xAxis, yAxis: yAxis,
                              xLabel: "latency (ms)" + clockSuffix + (conditionsAgree(on: device.name) ? "" : "; conditions differ, see report.md"),
                              yLabel: "Top-1 (%)")
        if !untimed.isEmpty {
            let x = SVG.right - stripWidth
            lines.append("<rect x=\"\(SVG.n(x))\" y=\"\(SVG.n(SVG.top))\" width=\"\(SVG.n(stripWidth))\" height=\"\(SVG.n(SVG.bottom - SVG.top))\" fill=\"#f2f2f2\" stroke=\"#999999\" stroke-dasharray=\"3,3\"/>")
            lines.append(SVG.text("no latency", x: x + stripWidth / 2, y: SVG.top - 6, anchor: "middle", size: 10,
                                  extra: "fill=\"#666666\""))
        }
        // The legend lists the schemes that have a point on this plot.
        let schemes = self.schemes.filter { scheme in placed.contains { rows[$0].scheme == scheme } }
        var labels = LabelPlacer()
        var markers: [(Double, Double)] = []
        for index in placed {
            guard let top1 = rows[index].top1 else { continue }
            markers.append((rows[index].latencyMs.map { xAxis.pixel($0) } ?? (SVG.right - stripWidth / 2), yAxis.pixel(top1)))
        }
        for (x, y) in markers { labels.addMarker(x: x, y: y) }
        if paretoFront.count > 1 {
            let points = paretoFront.compactMap { index -> String? in
                guard let latency = rows[index].latencyMs, let top1 = rows[index].top1 else { return nil }
                return "\(SVG.n(xAxis.pixel(latency))),\(SVG.n(yAxis.pixel(top1)))"
            }
            lines.append("<polyline class=\"pareto-front\" points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"#444444\" stroke-width=\"1.5\" stroke-dasharray=\"6,4\"/>")
        }
        var pointLabels: [(text: String, x: Double, y: Double)] = []
        for index in placed {
            let row = rows[index]
            guard let top1 = row.top1 else { continue }
            let x = row.latencyMs.map { xAxis.pixel($0) } ?? (SVG.right - stripWidth / 2)
            let y = yAxis.pixel(top1)
            let style = MarkerStyle.forScheme(row.scheme, among: schemes)
            let title = "\(row.model) \(row.scheme): " + (row.latencyMs.map { Format.fixed($0, 3) + " ms" } ?? "no latency")
                + ", Top-1 \(Format.fixed(top1, 1))% (\(row.top1Source))" + (row.fits ? "" : ", does not fit")
            lines.append(style.element(x: x, y: y, hollow: !row.fits, cssClass: "marker", title: title))
            if row.onParetoFront { pointLabels.append(("\(Self.shortName(row.model)) \(row.scheme)", x, y)) }
        }
        lines += labels.labels(pointLabels)
        var notes: [SVG.LegendNote] = [
            SVG.LegendNote(text: "does not fit", marker: Self.hollowLegendMarker),
            SVG.LegendNote(text: "Pareto front (fits)") { y in
                "<line x1=\"\(SVG.n(SVG.right + 17))\" y1=\"\(SVG.n(y))\" x2=\"\(SVG.n(SVG.right + 33))\" y2=\"\(SVG.n(y))\" stroke=\"#444444\" stroke-width=\"1.5\" stroke-dasharray=\"6,4\"/>"
            },
        ]
        // Rows of another dataset's plot are not counted here: "N of M" is out of this plot's rows
        // and the rows no plot can show.
        let shown = rows.filter { $0.device == device.name && ($0.top1 == nil || $0.top1Dataset == dataset) }
        let unplaced = shown.filter { $0.top1 == nil }.count
        if unplaced > 0 && dataset == (datasets.first ?? dataset) {
            notes.append(SVG.LegendNote(text: "\(unplaced) of \(shown.count) results"))
            notes.append(SVG.LegendNote(text: "have no Top-1: not shown"))
        }
        lines += SVG.legend(schemes: schemes, notes: notes)
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }

    /// `memory.svg`: FLASH bytes (weights, parameters and code when built) against peak
    /// activation bytes, with the device's FLASH x RAM box; one marker per row
    /// (`class="marker"`), hollow when the model does not fit.
    public func memorySVG() -> String {
        let mebibyte = 1_048_576.0, kibibyte = 1024.0
        // One device's box: the plot shows the first device's rows (devices.svg compares devices).
        let rows = self.rows.filter { $0.device == device.name }
        let xs = rows.map { Double($0.flashBytes) / mebibyte }
        let ys = rows.map { Double($0.peakActivationBytes) / kibibyte }
        let flashCapacity = Double(device.flash) / mebibyte, ramCapacity = Double(device.ram) / kibibyte
        // From 0: the device's box starts there, and it is what the points are read against.
        let xAxis = PlotAxis(minimum: 0, maximum: max(xs.max() ?? 0, flashCapacity) * 1.08, pixels: (SVG.left, SVG.right))
        let yAxis = PlotAxis(minimum: 0, maximum: max(ys.max() ?? 0, ramCapacity) * 1.08, pixels: (SVG.bottom, SVG.top))
        var lines = SVG.frame(title: "Weights against peak activations on \(device.name)", xAxis: xAxis, yAxis: yAxis,
                              xLabel: "FLASH (MiB): weights + parameters (+ code when built)",
                              yLabel: "peak activations, input + output of one layer (KiB)")
        let boxRight = xAxis.pixel(flashCapacity), boxTop = yAxis.pixel(ramCapacity)
        lines.append("<rect class=\"device-box\" x=\"\(SVG.n(SVG.left))\" y=\"\(SVG.n(boxTop))\" width=\"\(SVG.n(boxRight - SVG.left))\" height=\"\(SVG.n(SVG.bottom - boxTop))\" fill=\"#2ca02c\" fill-opacity=\"0.07\" stroke=\"#2ca02c\" stroke-width=\"1.5\" stroke-dasharray=\"6,4\"/>")
        let boxLabel = "\(device.name): \(device.flash) B FLASH x \(device.ram) B \(device.ramRegion)"
        lines.append(SVG.text(boxLabel, x: SVG.left + 4, y: boxTop - 6, size: 11, extra: "fill=\"#2ca02c\""))
        let schemes = self.schemes.filter { scheme in rows.contains { $0.scheme == scheme } }
        var labels = LabelPlacer()
        labels.addText(boxLabel, x: SVG.left + 4, y: boxTop - 6, size: 11)
        for index in rows.indices { labels.addMarker(x: xAxis.pixel(xs[index]), y: yAxis.pixel(ys[index])) }
        for (index, row) in rows.enumerated() {
            let style = MarkerStyle.forScheme(row.scheme, among: schemes)
            let title = "\(row.model) \(row.scheme): FLASH \(row.flashBytes) B (\(row.flashBasis.rawValue)), "
                + "peak activations \(row.peakActivationBytes) B" + (row.fits ? "" : ", does not fit")
            let (x, y) = (xAxis.pixel(xs[index]), yAxis.pixel(ys[index]))
            lines.append(style.element(x: x, y: y, hollow: !row.fits, cssClass: "marker", title: title))
        }
        lines += labels.labels(rows.indices.map { ("\(Self.shortName(rows[$0].model)) \(rows[$0].scheme)", xAxis.pixel(xs[$0]),
                                                    yAxis.pixel(ys[$0])) })
        let notes: [SVG.LegendNote] = [
            SVG.LegendNote(text: "does not fit", marker: Self.hollowLegendMarker),
            SVG.LegendNote(text: "device FLASH x RAM") { y in
                "<rect x=\"\(SVG.n(SVG.right + 18))\" y=\"\(SVG.n(y - 4))\" width=\"14\" height=\"8\" fill=\"#2ca02c\" fill-opacity=\"0.07\" stroke=\"#2ca02c\" stroke-dasharray=\"3,2\"/>"
            },
        ]
        lines += SVG.legend(schemes: schemes, notes: notes)
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }

    private static func hollowLegendMarker(y: Double) -> String {
        MarkerStyle(shape: .circle, color: "#444444").element(x: SVG.right + 25, y: y, hollow: true, cssClass: "legend-marker")
    }

    /// " at 400 MHz" when every result that ran used one clock, ", clocks differ" otherwise.
    private var clockSuffix: String {
        let clocks = Set(rows.filter { $0.latencyMs != nil && $0.device == device.name }.compactMap(\.clockMHz))
        guard let clock = clocks.first else { return "" }
        return clocks.count == 1 ? " at \(Self.clockText(clock)) MHz" : ", clocks differ"
    }

    /// `mobilenet_v1_0.25_128` -> `0.25_128`, for labels.
    static func shortName(_ model: String) -> String {
        model.hasPrefix("mobilenet_v1_") ? String(model.dropFirst("mobilenet_v1_".count)) : model
    }
}
