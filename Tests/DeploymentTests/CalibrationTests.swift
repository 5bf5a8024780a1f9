import Planning
import Quantization
import Testing
@testable import Deployment

/// `CalibrationMethod.mse`: MSE-optimal clipping and bias correction (docs/design.md, "Calibration
/// for sub-byte tensors"), checked against errors and shifts worked out here.
struct CalibrationTests {
    /// The squared quantization error of `values` under `range`, computed here.
    static func squaredError(_ values: [Double], _ range: TensorQuantization) -> Double {
        values.reduce(0) { sum, v in
            let q = range.scale * Double(min(max(Int((v / range.scale).rounded()) + range.zeroPoint, 0), range.bits.maxUnsigned) - range.zeroPoint)
            return sum + (v - q) * (v - q)
        }
    }

    @Test func clippingAnOutlierLowersTheErrorAtTwoBits() {
        // 99 weights spread over [-0.1, 0.1] and one at 1.0: min/max spends the 4 levels on the
        // outlier (scale 0.367, everything small rounds to the zero level).
        let values = (0..<99).map { Double($0 - 49) / 490 } + [1.0]
        let minMax = TensorQuantization.covering(min: -0.1, max: 1.0, bits: .two)
        let clipped = CalibrationStatistics.clippedRange(values, bits: .two)
        #expect(clipped.scale < minMax.scale)
        #expect(Self.squaredError(values, clipped) < Self.squaredError(values, minMax))
        // Without an outlier nothing is clipped: 0, 1, 2, 3 are exact at scale 1.
        let exact = CalibrationStatistics.clippedRange([0, 1, 2, 3], bits: .two)
        #expect(exact.scale == 1 && exact.zeroPoint == 0)
        #expect(Self.squaredError([0, 1, 2, 3], exact) == 0)
    }

    @Test func biasShiftIsTheWeightErrorTimesTheInputMean() throws {
        // A 1x1 pointwise layer, 2 inputs, 1 output: (0.25 - 0.3) * 2 + (-0.75 + 0.7) * 4 = -0.3.
        let layer = try Layer.pointwise(name: "p", input: TensorShape(height: 1, width: 1, channels: 2), outputChannels: 1)
        let shift = CalibrationStatistics.biasShift(layer: layer, values: [0.3, -0.7], dequantized: [0.25, -0.75],
                                                    inputMeans: [2, 4], channelOf: { _ in 0 })
        #expect(shift.count == 1 && abs(shift[0] + 0.3) < 1e-12)
    }

    @Test func mseClipsSubByteActivationsAndKeepsEightBitOnes() throws {
        let network = try DigitsMobilenetV1(alpha: .quarter).network()
        let model = try FloatModel.synthetic(network: network, seed: 3)
        let plan = try BitWidthPlanner.plan(network, budget: MemoryBudget(flash: 96_000, ram: 3_000), scheme: .mixpc)
        let images = (0..<4).map { SyntheticImage.bytes(shape: network.input, seed: 40 + UInt64($0)) }
        let minMax = try QuantizedNetwork.quantize(model, plan: plan, calibration: images)
        let mse = try QuantizedNetwork.quantize(model, plan: plan, calibration: images, method: .mse)
        let statistics = CalibrationStatistics(model: model, images: images.map { model.input.real($0) })
        for (k, (a, b)) in zip(minMax.layers, mse.layers).enumerated() {
            if a.plan.weightBits == .eight {
                #expect(a.weights == b.weights && a.weightQuantization == b.weightQuantization, "layer \(k)")
            }
            if a.output.bits == .eight { #expect(a.output == b.output, "layer \(k)") }
            if a.output.bits < .eight, a.layer.activation == .relu6, k < mse.layers.count - 1 {
                // The clip never exceeds the largest value seen, nor ReLU6's 6.
                #expect(b.output.zeroPoint == 0)
                #expect(b.output.scale * Double(b.output.bits.maxUnsigned) <= min(6, statistics.ranges.map(\.high).max() ?? 6) + 1e-9)
            }
        }
    }
}
