import Deployment
import Foundation
import Planning
import Quantization
import Testing
@testable import ModelImport

/// Trained float models leave channels whose weights are all near zero (the MLPerf Tiny VWW
/// model has channels at 1e-30). Such a channel quantizes to a zero channel with a valid
/// multiplier under every scheme: a model that plans as fitting never fails at quantization.
@Suite struct ZeroChannelTests {
    /// Conv 3x3 (4 channels; channel 1's weights all 1e-30, its bias 0.5) -> Relu ->
    /// GlobalAveragePool -> Flatten -> Gemm 4 -> 3. Float, as a float model's export.
    static func model() throws -> ImportedModel {
        var random = SeededRandom(seed: 5)
        var g = ONNXGraph()
        g.input = ("image", [1, 3, 6, 6])
        var weights = (0..<(4 * 3 * 9)).map { _ in Float(0.3 * random.normal()) }
        for i in 27..<54 { weights[i] = i % 2 == 0 ? 1e-30 : -1e-30 }
        g.rawTensor("w0", [4, 3, 3, 3], weights)
        g.tensor("c0", [4], [0.1, 0.5, -0.05, 0.2])
        var x = g.node("Conv", ["image", "w0", "c0"], name: "conv0", attributes: [ONNXGraph.attribute("pads", ints: [1, 1, 1, 1])])
        x = g.node("Flatten", [g.node("GlobalAveragePool", [g.node("Relu", [x])])])
        g.rawTensor("fc", [3, 4], (0..<12).map { _ in Float(0.5 * random.normal()) })
        g.tensor("fcb", [3], [0.01, -0.02, 0.03])
        g.node("Gemm", [x, "fc", "fcb"], name: "fc", attributes: [ONNXGraph.attribute("transB", int: 1)])
        return try ONNXImporter.load(data: g.data(), path: "zero_channel.onnx", name: "zero_channel")
    }

    @Test(arguments: [QuantizationScheme.int8, .mixpl, .mixpc])
    func nearZeroChannelQuantizesToAZeroChannel(scheme: QuantizationScheme) throws {
        let model = try Self.model().model
        let plan = try Deployer.plan(model.network, model: model, budget: try MemoryBudget(flash: 100_000, ram: 10_000),
                                     scheme: scheme, flavour: nil)
        #expect(plan.fits)
        let network = try QuantizedNetwork.quantize(model, plan: plan)
        let conv = try #require(network.layers.first)
        let p = conv.parameters
        // Channel 1's weights are all its zero point (it adds nothing) and its multiplier is a real one.
        let perChannel = conv.layer.weightCount / conv.layer.outputChannels
        let zero = conv.weightQuantization.count == 1 ? conv.weightQuantization[0].zeroPoint : conv.weightQuantization[1].zeroPoint
        #expect(conv.weights[perChannel..<(2 * perChannel)].allSatisfy { $0 == zero })
        #expect(p.multiplier(channel: 1).multiplier != 0 && p.multiplier(channel: 1).scale.isFinite)
        // Its output is the constant relu(0.5) on every pixel, as a code of the output's scale.
        let expected = conv.output.code(0.5)
        for seed in 0..<3 as Range<UInt64> {
            let image = SyntheticImage.bytes(shape: model.network.input, seed: seed)
            let codes = try HostReference.run(network, pixels: image)[0]
            let channel1 = stride(from: 1, to: codes.count, by: 4).map { codes[$0] }
            #expect(channel1.allSatisfy { abs($0 - expected) <= 1 }, "\(scheme): \(Set(channel1)) vs \(expected)")
        }
    }
}
