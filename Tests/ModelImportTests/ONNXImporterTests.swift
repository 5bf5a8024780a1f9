import Deployment
import Foundation
import Planning
import Quantization
import Testing
@testable import ModelImport

/// Small ONNX and QONNX graphs built in the test, with outputs worked out by hand.
struct ONNXImporterTests {
    func load(_ graph: ONNXGraph, name: String = "net") throws -> ImportedModel {
        try ONNXImporter.load(data: graph.data(), path: "\(name).onnx", name: name)
    }

    func close(_ a: [Float], _ b: [Float], tolerance: Float = 1e-3) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }
    }

    /// Conv 3x3/1 pad 1 -> BatchNormalization -> Relu -> GlobalAveragePool -> Flatten -> Gemm.
    @Test func convolutionBatchNormPoolAndGemmMatchAHandComputation() throws {
        var g = ONNXGraph()
        g.rawTensor("w", [1, 1, 3, 3], (0..<9).map(Float.init))  // w[ky][kx] = 3 ky + kx
        let conv = g.node("Conv", ["x", "w"], name: "/features/conv0/Conv",
                          attributes: [ONNXGraph.attribute("pads", ints: [1, 1, 1, 1]), ONNXGraph.attribute("kernel_shape", ints: [3, 3])])
        g.tensor("gamma", [1], [2]); g.tensor("beta", [1], [1]); g.tensor("mean", [1], [3]); g.tensor("var", [1], [4 - 1e-5])
        let bn = g.node("BatchNormalization", [conv, "gamma", "beta", "mean", "var"])
        let relu = g.node("Relu", [bn])
        let pool = g.node("GlobalAveragePool", [relu])
        let flat = g.node("Flatten", [pool])
        g.tensor("fc", [2, 1], [1, -2]); g.tensor("fcb", [2], [0.5, 100])
        g.node("Gemm", [flat, "fc", "fcb"], name: "classifier", attributes: [ONNXGraph.attribute("transB", int: 1)])
        let imported = try load(g)
        let network = imported.network
        #expect(network.layers.map(\.kind) == [.conv, .fc])
        #expect(network.layers.map(\.name) == ["features_conv0_Conv", "classifier"])
        #expect(network.layers[0].padding == Padding(top: 1, left: 1, bottom: 1, right: 1))
        #expect(network.layers[0].activation == .relu)
        #expect(imported.format == "ONNX" && imported.model.quantization == nil)
        // Conv outputs 67, 57, 37, 27 (worked out tap by tap); batch-norm a = 2 / sqrt(4) = 1,
        // d = 1 - 3: 65, 55, 35, 25; mean 45; classifier [45 + 0.5, -90 + 100].
        let output = FloatReference.run(imported.model, image: [1, 2, 3, 4]).logits
        #expect(close(output, [45.5, 10]))
    }

    /// NCHW -> HWC for two channels, depthwise and pointwise layers, a Conv bias, MatMul + Add.
    @Test func channelsDepthwisePointwiseAndMatMulFollowTheONNXLayout() throws {
        var g = ONNXGraph()
        g.input = ("x", [1, 2, 1, 2])  // channel 0: [1, 2], channel 1: [10, 20]
        g.tensor("dw", [2, 1, 1, 2], [1, 1, 1, -1])
        let dw = g.node("Conv", ["x", "dw"], attributes: [ONNXGraph.attribute("group", int: 2)])
        g.tensor("pw", [3, 2, 1, 1], [1, 0, 0, 1, 2, 3]); g.tensor("pwb", [3], [1, 1, 1])
        let pw = g.node("Conv", [dw, "pw", "pwb"])
        let flat = g.node("Flatten", [pw])
        g.tensor("m", [3, 2], [1, 0, 0, 1, 1, 1])
        let mm = g.node("MatMul", [flat, "m"])
        g.tensor("mb", [2], [1, 2])
        let add = g.node("Add", [mm, "mb"])
        g.node("Softmax", [add])
        let imported = try load(g)
        #expect(imported.network.layers.map(\.kind) == [.depthwise, .pointwise, .fc])
        #expect(imported.network.input == TensorShape(height: 1, width: 2, channels: 2))
        // Depthwise [1 + 2, 10 - 20] = [3, -10]; pointwise [3, -10, 6 - 30] + 1 = [4, -9, -23];
        // MatMul [4 - 23, -9 - 23] + [1, 2] = [-18, -30]. Softmax is not needed for Top-1.
        let output = FloatReference.run(imported.model, image: [1, 10, 2, 20]).logits
        #expect(close(output, [-18, -30]))
    }

    /// Flatten of a 1x2x2 map: ONNX orders the vector channel-major, MixQ runs it as a 1x2 conv.
    @Test func flattenOfAMapBecomesAWholeMapConvolution() throws {
        var g = ONNXGraph()
        g.input = ("x", [1, 2, 1, 2])
        let flat = g.node("Flatten", ["x"])
        g.tensor("w", [1, 4], [1, 2, 3, 4])  // ONNX order: c0x0, c0x1, c1x0, c1x1
        g.node("Gemm", [flat, "w"], attributes: [ONNXGraph.attribute("transB", int: 1)])
        let imported = try load(g)
        #expect(imported.network.layers.first?.kind == .conv)
        #expect(imported.network.layers.first?.kernel == KernelSize(height: 1, width: 2))
        // 1*1 + 2*2 + 3*10 + 4*20 = 115.
        #expect(close(FloatReference.run(imported.model, image: [1, 10, 2, 20]).logits, [115]))
    }

    /// `auto_pad = SAME_UPPER` pads bottom/right more for stride 2 on an even size (TensorFlow's SAME).
    @Test func samePaddingFollowsTheONNXRule() throws {
        var g = ONNXGraph()
        g.input = ("x", [1, 1, 4, 4])
        g.tensor("w", [1, 1, 3, 3], [Float](repeating: 1, count: 9))
        let conv = g.node("Conv", ["x", "w"], attributes: [ONNXGraph.attribute("strides", ints: [2, 2]),
                                                           ONNXGraph.attribute("auto_pad", string: "SAME_UPPER")])
        let pool = g.node("GlobalAveragePool", [conv])
        g.tensor("fc", [1, 1], [1])
        g.node("Gemm", [g.node("Flatten", [pool]), "fc"], attributes: [ONNXGraph.attribute("transB", int: 1)])
        let layer = try #require(try load(g).network.layers.first)
        #expect(layer.padding == Padding(top: 0, left: 0, bottom: 1, right: 1))
        #expect(layer.output == TensorShape(height: 2, width: 2, channels: 1))
    }

    /// A QONNX graph: its Quant nodes become the trained quantization, in MixQ's unsigned codes.
    func qonnxGraph(weightBits: Float = 4, activationScales: [Float] = [0.5]) -> ONNXGraph {
        var g = ONNXGraph()
        let x = g.quant("x", scale: [1.0 / 255], bits: 8, signed: false)
        g.tensor("w", [2, 1, 1, 1], [0.3, -0.61])
        let wq = g.quant("w", scale: [0.1, 0.2], scaleDims: [2, 1, 1, 1], bits: weightBits, signed: true, narrow: true)
        let conv = g.node("Conv", [x, wq])
        let relu = g.node("Relu", [conv])
        let act = g.quant(relu, scale: activationScales, scaleDims: activationScales.count > 1 ? [1, 2, 1, 1] : [], bits: 4, signed: false)
        let pool = g.node("GlobalAveragePool", [act])
        g.tensor("fc", [1, 2], [0.5, -0.25])
        let fq = g.quant("fc", scale: [0.01], bits: 8, signed: true, narrow: true)
        g.node("Gemm", [g.node("Flatten", [pool]), fq], attributes: [ONNXGraph.attribute("transB", int: 1)])
        return g
    }

    @Test func qonnxQuantNodesBecomeTheTrainedQuantization() throws {
        let imported = try load(qonnxGraph())
        #expect(imported.format == "QONNX")
        let trained = try #require(imported.model.quantization)
        // 0.3 / 0.1 = 3 and -0.61 / 0.2 = -3.05 -> -3 (4-bit signed narrow: -7...7); codes +8.
        #expect(trained.layers[0].weights == [TensorQuantization(scale: 0.1.roundedToFloat, zeroPoint: 8, bits: .four),
                                              TensorQuantization(scale: 0.2.roundedToFloat, zeroPoint: 8, bits: .four)])
        #expect(trained.layers[0].output == TensorQuantization(scale: 0.5, zeroPoint: 0, bits: .four))
        #expect(trained.layers[1].weights.count == 1 && trained.layers[1].weights[0].zeroPoint == 128)
        #expect(trained.layers[1].output == nil, "float logits: MixQ calibrates them")
        #expect(trained.isPerChannel && trained.naturalScheme == .mixpc)
        // The float weights are the dequantized ones: 3 * 0.1 and -3 * 0.2.
        #expect(close(imported.model.layers[0].weights, [0.3, -0.6], tolerance: 1e-6))
        // The input Quant (1/255, zero-point 0) makes the codes the pixels.
        #expect(imported.model.input.isIdentity)
        #expect(abs(imported.model.input.quantization.scale - 1.0 / 255) < 1e-9)
    }

    @Test func aFilesBitsAreCheckedAgainstTheBudget() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-tiny-\(UUID().uuidString).onnx")
        try qonnxGraph().data().write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let reference = try ModelReference(url.path)
        #expect(reference.network.name == url.deletingPathExtension().lastPathComponent)
        #expect(reference.defaultScheme == .mixpc && reference.defaultFlavour == nil)
        let fits = try reference.plan(budget: MemoryBudget(flash: 10_000, ram: 1_000), scheme: .mixpc, flavour: .perChannelICN)
        #expect(fits.fits && fits.cuts.isEmpty)
        #expect(fits.layers.map(\.weightBits) == [.four, .eight] && fits.layers.map(\.outputBits) == [.four, .eight])
        // Conv: 2 four-bit weights = 1 B + PC+ICN 10*2 + 8; classifier 2 B + 10*1 + 8.
        #expect(fits.flashBytes == 1 + 28 + 2 + 18)
        let tight = try reference.plan(budget: MemoryBudget(flash: 40, ram: 1_000), scheme: .mixpc, flavour: .perChannelICN)
        #expect(!tight.fitsFlash && tight.flashBytes - tight.budget.flash == 9)
    }

    // MARK: Rejected input

    func rejection(_ graph: ONNXGraph) -> String {
        do {
            _ = try load(graph)
            return "accepted"
        } catch {
            return String(describing: error)
        }
    }

    @Test func unsupportedBitWidthsRoundingAndPerChannelActivationsAreRejected() {
        #expect(rejection(qonnxGraph(weightBits: 3)).contains("bit width [3.0] is not supported"))
        #expect(rejection(qonnxGraph(activationScales: [0.5, 0.25])).contains("activation scales must be per tensor"))
        var g = ONNXGraph()
        let q = g.quant("x", scale: [0.1], bits: 8, signed: false, rounding: "FLOOR")
        g.node("Relu", [q])
        #expect(rejection(g).contains("rounding_mode FLOOR"))
    }

    @Test func unknownAndRejectedOperatorsAreNamed() {
        for (op, expected) in [("MaxPool", "operator MaxPool is not supported"), ("BipolarQuant", "BipolarQuant (1-bit)"),
                               ("Trunc", "Trunc (Brevitas' quantized average pooling)")] {
            var g = ONNXGraph()
            g.tensor("w", [1, 1, 1, 1], [1])
            let conv = g.node("Conv", ["x", "w"])
            g.node(op, [conv], name: "the_node", domain: op == "MaxPool" ? "" : "qonnx.custom_op.general")
            let message = rejection(g)
            #expect(message.contains(expected) && message.contains("node 'the_node'"), "\(message)")
        }
    }

    @Test func branchesAndResidualAddsAreRejected() {
        var g = ONNXGraph()
        g.tensor("w", [1, 1, 1, 1], [1])
        let conv = g.node("Conv", ["x", "w"])
        let relu = g.node("Relu", [conv])
        g.node("Add", [relu, conv])
        #expect(rejection(g).contains("feed-forward chains only"))
    }

    @Test func depthMultipliersAndDilationsAreRejected() {
        var g = ONNXGraph()
        g.input = ("x", [1, 2, 4, 4])
        g.tensor("w", [4, 1, 3, 3], [Float](repeating: 1, count: 36))
        g.node("Conv", ["x", "w"], attributes: [ONNXGraph.attribute("group", int: 2)])
        #expect(rejection(g).contains("depth multiplier 1"))
        var d = ONNXGraph()
        d.input = ("x", [1, 1, 4, 4])
        d.tensor("w", [1, 1, 3, 3], [Float](repeating: 1, count: 9))
        d.node("Conv", ["x", "w"], attributes: [ONNXGraph.attribute("dilations", ints: [2, 2])])
        #expect(rejection(d).contains("dilations [2, 2]"))
    }

    @Test func emptyGarbageAndTruncatedFilesAreNotONNX() throws {
        func message(_ data: Data) -> String {
            do {
                _ = try ONNXImporter.load(data: data, path: "bad.onnx", name: "bad")
                return "accepted"
            } catch {
                return String(describing: error)
            }
        }
        #expect(message(Data()) == "bad.onnx is not an ONNX model: the file is empty")
        var random = SeededRandom(seed: 7)
        let garbage = Data((0..<500).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        #expect(message(garbage).hasPrefix("bad.onnx is not an ONNX model"))
        let whole = try qonnxGraph().data()
        for cut in [1, whole.count / 3, whole.count / 2, whole.count - 1] {
            #expect(message(whole.prefix(cut)).hasPrefix("bad.onnx is not an ONNX model"), "cut at \(cut)")
        }
    }

    @Test func aMissingFileIsOneClearError() {
        do {
            _ = try ONNXImporter.load(contentsOf: URL(fileURLWithPath: "/nonexistent/model.onnx"))
            Issue.record("a missing file was accepted")
        } catch {
            #expect(String(describing: error) == "cannot read the model file /nonexistent/model.onnx: no such file")
        }
    }
}

extension Double {
    /// The value as a Float32 scale in a file holds it.
    var roundedToFloat: Double { Double(Float(self)) }
}

