import Deployment
import Evaluation
import FirmwareBuild
import Foundation
import Planning
import Quantization
import Testing
@testable import ModelImport

/// A QONNX network imported from a file deploys on the emulated STM32H743 bit-exact with the
/// host reference, under each requantization flavour.
@Suite(.serialized) struct ImportedDeploymentTests {
    /// Quant(input) -> Conv 3x3/2 (4-bit per-channel) -> BN -> Relu -> Quant 4-bit -> depthwise
    /// (8-bit) -> Clip(0,6) -> Quant 2-bit -> pointwise (2-bit) -> Relu -> Quant 8-bit -> pool ->
    /// Gemm (8-bit per-channel weights, float bias).
    static func graph() -> ONNXGraph {
        var random = SeededRandom(seed: 11)
        func values(_ count: Int, _ scale: Double) -> [Float] { (0..<count).map { _ in Float(scale * random.normal()) } }
        var g = ONNXGraph()
        g.input = ("image", [1, 1, 8, 8])
        var x = g.quant("image", scale: [1.0 / 255], bits: 8, signed: false)
        g.rawTensor("w0", [8, 1, 3, 3], values(72, 0.5))
        let w0 = g.quant("w0", scale: (0..<8).map { _ in Float(0.1 + 0.05 * random.unit()) }, scaleDims: [8, 1, 1, 1],
                         bits: 4, signed: true, narrow: true)
        x = g.node("Conv", [x, w0], name: "conv0", attributes: [ONNXGraph.attribute("strides", ints: [2, 2]),
                                                                ONNXGraph.attribute("pads", ints: [1, 1, 1, 1])])
        g.tensor("g0", [8], values(8, 0.1).map { 1 + $0 }); g.tensor("b0", [8], values(8, 0.2))
        g.tensor("m0", [8], values(8, 0.1)); g.tensor("v0", [8], values(8, 0.1).map { 1 + abs($0) })
        x = g.node("BatchNormalization", [x, "g0", "b0", "m0", "v0"])
        x = g.quant(g.node("Relu", [x]), scale: [0.1], bits: 4, signed: false)
        g.rawTensor("w1", [8, 1, 3, 3], values(72, 0.4))
        let w1 = g.quant("w1", scale: [0.01], bits: 8, signed: true, narrow: true)
        g.tensor("c1", [8], values(8, 0.1))
        x = g.node("Conv", [x, w1, "c1"], name: "dw1", attributes: [ONNXGraph.attribute("group", int: 8),
                                                                    ONNXGraph.attribute("pads", ints: [1, 1, 1, 1])])
        g.tensor("lo", [], [0]); g.tensor("hi", [], [6])
        x = g.quant(g.node("Clip", [x, "lo", "hi"]), scale: [0.3], bits: 2, signed: false)
        g.rawTensor("w2", [16, 8, 1, 1], values(128, 0.5))
        let w2 = g.quant("w2", scale: [0.4], bits: 2, signed: true, narrow: true)
        x = g.node("Conv", [x, w2], name: "pw1")
        x = g.quant(g.node("Relu", [x]), scale: [0.02], bits: 8, signed: false)
        x = g.node("Flatten", [g.node("GlobalAveragePool", [x])])
        g.rawTensor("fc", [10, 16], values(160, 0.3))
        let fc = g.quant("fc", scale: (0..<10).map { _ in Float(0.004 + 0.002 * random.unit()) }, scaleDims: [10, 1],
                         bits: 8, signed: true, narrow: true)
        g.tensor("fcb", [10], values(10, 0.1))
        g.node("Gemm", [x, fc, "fcb"], name: "fc", attributes: [ONNXGraph.attribute("transB", int: 1)])
        return g
    }

    @Test(arguments: [RequantizationFlavour.perChannelICN, .perLayerICN, .perLayerFolded])
    func importedQONNXDeploysBitExact(flavour: RequantizationFlavour) throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tiny_qonnx_\(flavour.rawValue).onnx")
        try Self.graph().data().write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let reference = try ModelReference(url.path)
        #expect(reference.network.layers.map(\.kind) == [.conv, .depthwise, .pointwise, .fc])
        var request = DeploymentRequest(network: reference.network, scheme: reference.defaultScheme,
                                        budget: try MemoryBudget(flash: 100_000, ram: 10_000), model: reference.model,
                                        imagesChecked: 3, conversionImages: 2)
        request.flavour = flavour
        request.modelSource = reference.source
        let result = try Deployer.deploy(request, toolchain: Toolchain.locate())
        #expect(result.fits && result.bitExact == true && result.imagesChecked == 3)
        #expect(result.scheme == flavour.rawValue)
        #expect(result.layers.map(\.weightBits) == [4, 8, 2, nil, 8] && result.layers.map(\.outputBits) == [4, 2, 8, 8, 8])
        #expect(result.conditions?.weights.hasPrefix("QONNX file") == true)
        if flavour != .perLayerFolded {
            // Trained codes kept: each step of the integer network is within 1 LSB of its fake-quantized twin.
            #expect((result.conversionLoss?.steps.map(\.largestDifference).max() ?? 99) <= 1)
        }
    }

    /// torchvision's MobileNetV2 as `torch.onnx.export` writes it (Fixtures/onnx-exports): a
    /// float graph with 10 residual adds, quantized by MixQ (all 8-bit, and mixpc under a RAM
    /// budget that forces cuts), calibrated on the fixture's 16 images, deploys on the emulated
    /// STM32H743 with every output byte equal to the host reference's on two of them.
    @Test(arguments: [(QuantizationScheme.int8, 512_000), (.mixpc, 40_000)])
    func torchvisionMobileNetV2DeploysBitExact(scheme: QuantizationScheme, ram: Int) throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/onnx-exports")
        let reference = try ModelReference(folder.appendingPathComponent("torchvision_mobilenet_v2_035_64.onnx").path)
        let network = reference.network
        #expect(network.steps.filter { $0.kindName == "add" }.count == 10)
        // The fixture's inputs are pixels / 255 (NCHW): as bytes in HWC they are the images
        // under the model's default input encoding.
        let inputs = try NumPyArray(contentsOf: folder.appendingPathComponent("torchvision_mobilenet_v2_035_64.inputs.npy"))
        let images = (0..<16).map { sample in
            ONNXGraphExportTests.hwc(inputs, sample: sample, shape: network.input).map { UInt8(($0 * 255).rounded()) }
        }
        var request = DeploymentRequest(network: network, scheme: scheme, budget: try MemoryBudget(flash: 2_048_000, ram: ram),
                                        model: reference.model, imagesChecked: 2, conversionImages: 0)
        request.images = Array(images.prefix(2))
        request.calibration = images
        request.modelSource = reference.source
        let result = try Deployer.deploy(request, toolchain: Toolchain.locate())
        #expect(result.fits && result.bitExact == true && result.imagesChecked == 2, "\(scheme): fits \(result.fits), bit-exact \(String(describing: result.bitExact))")
        if scheme == .mixpc {
            // 61440 B at 8 bits does not fit 40000 B: the planner cut bits.
            #expect(result.layers.contains { $0.outputBits < 8 })
        }
    }
}
