import Dispatch
import Foundation
import Planning
import Quantization

/// How the ranges of a float model's tensors are chosen when the model states none
/// (docs/design.md, "Calibration for sub-byte tensors").
public enum CalibrationMethod: String, Sendable, Hashable, Codable, CaseIterable {
    /// The paper's post-training rule: ReLU6 outputs clip at [0, 6], other outputs cover the range seen on
    /// the calibration images, weights cover their minimum and maximum.
    case minMax = "minmax"
    /// For tensors below 8 bits: the clip that minimises the mean squared quantization error on the
    /// calibration images (activations, per tensor) or over the weights (per tensor under PL, per output
    /// channel under PC), and bias correction of layers with sub-byte weights. 8-bit tensors keep the
    /// min/max rule.
    case mse
}

/// What float runs of a model on calibration images say about its tensors: every step's output range,
/// a histogram of every step's outputs and the mean of every channel, plus the network input's channel
/// means. Computed once and reused by every quantization of the model (the sensitivity search quantizes
/// it many times).
public final class CalibrationStatistics: @unchecked Sendable {
    /// Bins of each step's output histogram, over `[ranges[step].low, ranges[step].high]`.
    public static let histogramBins = 2048

    /// The smallest and largest output value of every step (widened to contain 0).
    public let ranges: [(low: Double, high: Double)]
    /// Counts of every step's output values in `histogramBins` equal bins over its range.
    public let histograms: [[Double]]
    /// The mean of every channel of every step's output.
    public let channelMeans: [[Double]]
    /// The mean of every channel of the network input (as the float network sees it).
    public let inputChannelMeans: [Double]
    /// Bins of each channel's histogram, over the step's range.
    public static let channelHistogramBins = 256
    /// Counts of every channel's output values of every step in `channelHistogramBins` bins over the step's range.
    public let channelHistograms: [[[Double]]]
    /// Images the statistics were measured on.
    public let images: Int

    private let lock = NSLock()
    private var weightRanges: [String: [TensorQuantization]] = [:]

    /// Runs the unquantized `model` on `images` (reals, as the float network sees them), on all cores.
    public init(model: FloatModel, images: [[Float]]) {
        let steps = model.network.steps
        let inputChannels = model.network.input.channels
        self.images = images.count
        // Pass 1: ranges and channel sums.
        struct Partial {
            var ranges: [(low: Double, high: Double)]
            var sums: [[Double]]
            var inputSums: [Double]
            var pixels: [Int]
        }
        let outputs = steps.map(\.output)
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, images.count))
        let empty = Partial(ranges: Array(repeating: (0, 0), count: steps.count),
                            sums: outputs.map { [Double](repeating: 0, count: $0.channels) },
                            inputSums: [Double](repeating: 0, count: inputChannels), pixels: outputs.map { _ in 0 })
        let firstPass = Self.parallel(workers: workers, initial: empty) { worker, partial in
            for index in stride(from: worker, to: images.count, by: workers) {
                for (i, v) in images[index].enumerated() { partial.inputSums[i % inputChannels] += Double(v) }
                Self.forEachStepOutput(model, image: images[index]) { step, x in
                    let n = outputs[step].channels
                    for (i, v) in x.enumerated() {
                        let value = Double(v)
                        partial.ranges[step].low = min(partial.ranges[step].low, value)
                        partial.ranges[step].high = max(partial.ranges[step].high, value)
                        partial.sums[step][i % n] += value
                    }
                    partial.pixels[step] += x.count / max(n, 1)
                }
            }
        }
        var ranges = empty.ranges, sums = empty.sums, inputSums = empty.inputSums, pixels = empty.pixels
        for partial in firstPass {
            for s in steps.indices {
                ranges[s].low = min(ranges[s].low, partial.ranges[s].low)
                ranges[s].high = max(ranges[s].high, partial.ranges[s].high)
                pixels[s] += partial.pixels[s]
                for c in sums[s].indices { sums[s][c] += partial.sums[s][c] }
            }
            for c in inputSums.indices { inputSums[c] += partial.inputSums[c] }
        }
        self.ranges = ranges
        channelMeans = steps.indices.map { s in sums[s].map { $0 / Double(max(pixels[s], 1)) } }
        let inputPixels = Double(max(images.count * model.network.input.height * model.network.input.width, 1))
        inputChannelMeans = inputSums.map { $0 / inputPixels }

        // Pass 2: histograms over the ranges now known (the float run is repeated rather than every
        // output kept).
        let bins = Self.histogramBins
        let measuredRanges = ranges
        struct Histograms {
            var tensor: [[Double]]
            var channels: [[[Double]]]
        }
        let channelBins = Self.channelHistogramBins
        let emptyHistograms = Histograms(tensor: steps.map { _ in [Double](repeating: 0, count: bins) },
                                         channels: outputs.map { Array(repeating: [Double](repeating: 0, count: channelBins), count: $0.channels) })
        let histogramPass = Self.parallel(workers: workers, initial: emptyHistograms) { worker, partial in
            for index in stride(from: worker, to: images.count, by: workers) {
                Self.forEachStepOutput(model, image: images[index]) { step, x in
                    let (low, high) = measuredRanges[step]
                    guard high > low else { return }
                    let width = (high - low) / Double(bins), channelWidth = (high - low) / Double(channelBins)
                    let n = outputs[step].channels
                    for (i, v) in x.enumerated() {
                        let bin = Int((Double(v) - low) / width)
                        partial.tensor[step][min(max(bin, 0), bins - 1)] += 1
                        let channelBin = Int((Double(v) - low) / channelWidth)
                        partial.channels[step][i % n][min(max(channelBin, 0), channelBins - 1)] += 1
                    }
                }
            }
        }
        var histograms = emptyHistograms
        for partial in histogramPass {
            for s in steps.indices {
                for b in 0..<bins { histograms.tensor[s][b] += partial.tensor[s][b] }
                for c in histograms.channels[s].indices {
                    for b in 0..<channelBins { histograms.channels[s][c][b] += partial.channels[s][c][b] }
                }
            }
        }
        self.histograms = histograms.tensor
        channelHistograms = histograms.channels
    }

    /// `body(worker, &partial)` on `workers` threads, each from its own copy of `initial`.
    private static func parallel<Partial: Sendable>(workers: Int, initial: Partial,
                                          _ body: @Sendable (Int, inout Partial) -> Void) -> [Partial] {
        let results = LockedArray(Array(repeating: Optional<Partial>.none, count: workers))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var partial = initial
            body(worker, &partial)
            results.set(worker, partial)
        }
        return results.values.compactMap { $0 }
    }

    /// Calls `body(step index, output)` for every step of the unquantized model on `image`.
    static func forEachStepOutput(_ model: FloatModel, image: [Float], _ body: (Int, [Float]) -> Void) {
        let layerIndex = model.network.layerIndexOfStep
        _ = GraphExecution.run(model.network, input: image, compute: { index, step, inputs in
            FloatReference.floatStep(step, model, layerIndex: layerIndex[index], inputs: inputs)
        }, observe: body)
    }

    // MARK: Activations

    /// The unsigned clip `[0, c]` at `bits` (zero-point 0) that minimises the squared quantization
    /// error of step `step`'s outputs on the calibration images, for a ReLU or ReLU6 output. The
    /// candidates are 200 clips evenly spaced up to the largest value seen; each bin of the histogram
    /// counts as its centre.
    public func clippedActivation(step: Int, bits: BitWidth) -> TensorQuantization {
        let (low, high) = ranges[step]
        guard high > 0 else { return TensorQuantization(scale: 1, zeroPoint: 0, bits: bits) }
        let histogram = histograms[step]
        let width = (high - low) / Double(histogram.count)
        let levels = Double(bits.maxUnsigned)
        var best = (error: Double.infinity, clip: high)
        let candidates = 200
        for k in 1...candidates {
            let clip = high * Double(k) / Double(candidates)
            let scale = clip / levels
            var error = 0.0
            for (b, count) in histogram.enumerated() where count > 0 {
                let value = low + (Double(b) + 0.5) * width
                let code = min(max((value / scale).rounded(), 0), levels)
                let difference = value - code * scale
                error += count * difference * difference
            }
            if error < best.error { best = (error, clip) }
        }
        return TensorQuantization(scale: best.clip / levels, zeroPoint: 0, bits: bits)
    }

    // MARK: Weights

    /// The weight range of layer `layerIndex` at `bits`: one range (`perChannel` false) or one per output
    /// channel, each the asymmetric range `[alpha * min, alpha * max]` (widened to contain 0) with the
    /// `alpha` in {1.00, 0.99, ..., 0.30} that minimises the squared quantization error of the weights
    /// it covers. Memoised per layer, bits, granularity and folding, so repeated quantizations are cheap.
    func clippedWeights(layerIndex: Int, values: [Double], channelOf: (Int) -> Int, channels: Int, perChannel: Bool,
                        folded: Bool, bits: BitWidth) -> [TensorQuantization] {
        let key = "\(layerIndex)/\(bits.bits)/\(perChannel)/\(folded)"
        lock.lock()
        let known = weightRanges[key]
        lock.unlock()
        if let known { return known }
        var groups = [[Double]](repeating: [], count: perChannel ? channels : 1)
        for (i, v) in values.enumerated() { groups[perChannel ? channelOf(i) : 0].append(v) }
        let ranges = groups.map { Self.clippedRange($0, bits: bits) }
        lock.lock()
        weightRanges[key] = ranges
        lock.unlock()
        return ranges
    }

    /// The MSE-optimal scaled min/max range of `values` at `bits` (see `clippedWeights`).
    static func clippedRange(_ values: [Double], bits: BitWidth) -> TensorQuantization {
        let low = values.min() ?? 0, high = values.max() ?? 0
        var best = (error: Double.infinity, range: TensorQuantization.covering(min: low, max: high, bits: bits))
        for step in 0...70 {
            let alpha = 1 - Double(step) / 100
            let range = TensorQuantization.covering(min: alpha * low, max: alpha * high, bits: bits)
            var error = 0.0
            for v in values {
                let difference = v - range.real(range.code(v))
                error += difference * difference
            }
            if error < best.error { best = (error, range) }
        }
        return best.range
    }

    // MARK: Bias correction

    /// The per-channel shift to subtract from a layer's `d` so that its output's expected value is the
    /// float network's: `sum_k (wq_k * E[xq_k] - w_k * E[x_k])`, with `E[x]` the mean of each input channel
    /// on the calibration images and `E[xq]` the mean of its quantized values (Nagel et al., ICCV 2019,
    /// section 4.2, "bias correction", for the weights' error, measured here instead of derived from
    /// batch-norm statistics; the input's quantization error as in Finkelstein, Almog, Grobman, "Fighting
    /// Quantization Bias With Bias", arXiv:1906.03193, 2019). Padding is not modelled.
    /// - Parameters:
    ///   - values: the weights as quantized (batch-norm folded in under PL+FB).
    ///   - dequantized: their quantized values.
    ///   - inputMeans: the mean of each input channel.
    ///   - quantizedInputMeans: the mean of each input channel's quantized values (`inputMeans` when nil).
    static func biasShift(layer: Layer, values: [Double], dequantized: [Double], inputMeans: [Double],
                          quantizedInputMeans: [Double]? = nil, channelOf: (Int) -> Int) -> [Double] {
        var shift = [Double](repeating: 0, count: layer.outputChannels)
        let inputChannels = layer.input.channels
        let quantizedMeans = quantizedInputMeans ?? inputMeans
        guard inputMeans.count == inputChannels, quantizedMeans.count == inputChannels else { return shift }
        for i in values.indices {
            let c = i % inputChannels
            shift[channelOf(i)] += dequantized[i] * quantizedMeans[c] - values[i] * inputMeans[c]
        }
        return shift
    }

    /// The mean of each input channel of step `step` (the previous step's output, or the network input).
    public func inputMeans(ofStep step: Int) -> [Double] { step == 0 ? inputChannelMeans : channelMeans[step - 1] }

    /// The mean of each input channel of step `step` after quantization by `quantization` (dequantized),
    /// from the channel histograms (each bin counts as its centre); the network input's codes are exact.
    public func quantizedInputMeans(ofStep step: Int, quantization: TensorQuantization) -> [Double] {
        guard step > 0 else { return inputChannelMeans }
        let (low, high) = ranges[step - 1]
        let bins = Self.channelHistogramBins
        let width = (high - low) / Double(bins)
        return channelHistograms[step - 1].enumerated().map { c, histogram in
            var sum = 0.0, count = 0.0
            for (b, n) in histogram.enumerated() where n > 0 {
                sum += n * quantization.real(quantization.code(low + (Double(b) + 0.5) * width))
                count += n
            }
            return count > 0 ? sum / count : channelMeans[step - 1][c]
        }
    }
}

/// An array written by several threads, one slot each (the parallel loops of the calibration and the
/// sensitivity search collect their results in one).
public final class LockedArray<Element>: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Element]

    public init(_ values: [Element]) { storage = values }

    public func set(_ index: Int, _ value: Element) {
        lock.lock()
        storage[index] = value
        lock.unlock()
    }

    public var values: [Element] {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }
}
