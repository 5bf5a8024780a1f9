import Deployment
import Foundation
import Planning
import Quantization
import ONNXSchema
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

    @Test func unsupportedBitWidthsRoundingAndPerChannelActivationsAreRejected() throws {
        #expect(rejection(qonnxGraph(weightBits: 3)).contains("bit width [3.0] is not supported"))
        // One activation scale per channel is taken; a consumer that cannot carry it (pooling to one
        // scale) is one error at quantization.
        let perChannel = try load(qonnxGraph(activationScales: [0.5, 0.25]))
        #expect(perChannel.model.quantization?.layers[0].output?.channelScales == [0.5, 0.25])
        let plan = try Deployer.plan(perChannel.network, model: perChannel.model, budget: MemoryBudget(flash: 10_000, ram: 1_000),
                                     scheme: .mixpc, flavour: nil)
        #expect(throws: DeploymentError.self) { try QuantizedNetwork.quantize(perChannel.model, plan: plan) }
        var g = ONNXGraph()
        let q = g.quant("x", scale: [0.1], bits: 8, signed: false, rounding: "FLOOR")
        g.node("Relu", [q])
        #expect(rejection(g).contains("rounding_mode FLOOR"))
    }

    @Test func unknownAndRejectedOperatorsAreNamed() {
        for (op, expected) in [("Resize", "operator Resize is not supported"), ("BipolarQuant", "BipolarQuant (1-bit)"),
                               ("Trunc", "MixQ runs a QONNX Trunc right after an average pooling")] {
            var g = ONNXGraph()
            g.tensor("w", [1, 1, 1, 1], [1])
            let conv = g.node("Conv", ["x", "w"])
            g.node(op, [conv], name: "the_node", domain: op == "Resize" ? "" : "qonnx.custom_op.general")
            let message = rejection(g)
            #expect(message.contains(expected) && message.contains("node 'the_node'"), "\(message)")
        }
    }

    /// Conv(2x) + Relu feeds both a second Conv (3a - 10) and the Add that joins them; the Relu
    /// after the Add is fused into it.
    @Test func aResidualAddReadsATensorWithTwoConsumers() throws {
        var g = ONNXGraph()
        g.input = ("x", [1, 1, 2, 2])
        g.tensor("wa", [1, 1, 1, 1], [2])
        let a = g.node("Relu", [g.node("Conv", ["x", "wa"], name: "a")])
        g.tensor("wb", [1, 1, 1, 1], [3]); g.tensor("bb", [1], [-10])
        let b = g.node("Conv", [a, "wb", "bb"], name: "b")
        g.node("Relu", [g.node("Add", [a, b], name: "join")])
        let network = try load(g).network
        #expect(network.steps.map(\.kindName) == ["pointwise", "pointwise", "add"])
        #expect(network.stepInputs == [[0], [1], [1, 2]])
        #expect(network.layers[0].activation == .relu && network.layers[1].activation == .none)
        guard case .add(let add) = network.steps[2] else { Issue.record("no add step"); return }
        #expect(add.activation == .relu && add.name == "join")
        // a = [2, 4, 6, 8]; b = 3a - 10 = [-4, 2, 8, 14]; relu(a + b) = [0, 6, 14, 22].
        #expect(close(FloatReference.run(try load(g).model, image: [1, 2, 3, 4]).logits, [0, 6, 14, 22]))
    }

    /// MaxPool 2x2/2 padded at the end of a 3x3 map, then AveragePool 3x3/1 pad 1 (padded
    /// positions left out, ONNX's count_include_pad 0), then Clip(0, 6) on the Add of both.
    @Test func windowedPoolsFollowONNXPaddingRules() throws {
        var g = ONNXGraph()
        g.input = ("x", [1, 1, 3, 3])
        g.tensor("w", [1, 1, 1, 1], [1])
        let conv = g.node("Conv", ["x", "w"])
        let max = g.node("MaxPool", [conv], name: "max", attributes: [
            ONNXGraph.attribute("kernel_shape", ints: [2, 2]), ONNXGraph.attribute("strides", ints: [2, 2]),
            ONNXGraph.attribute("pads", ints: [0, 0, 1, 1])])
        let avg = g.node("AveragePool", [max], name: "avg", attributes: [
            ONNXGraph.attribute("kernel_shape", ints: [3, 3]), ONNXGraph.attribute("pads", ints: [1, 1, 1, 1])])
        g.tensor("lo", [], [0]); g.tensor("hi", [], [6])
        g.node("Clip", [g.node("Add", [max, avg]), "lo", "hi"])
        let network = try load(g).network
        #expect(network.steps.map(\.kindName) == ["pointwise", "maxpool", "avgpool", "add"])
        #expect(network.stepInputs == [[0], [1], [2], [2, 3]])
        guard case .pool(let pool) = network.steps[1] else { Issue.record("no pool step"); return }
        #expect(pool.padding == Padding(top: 0, left: 0, bottom: 1, right: 1) && pool.output == TensorShape(height: 2, width: 2, channels: 1))
        // x = 1...9 row by row: maxima of the windows {0,1}x{0,1}, {0,1}x{2}, {2}x{0,1}, {2}x{2}
        // = [5, 6, 8, 9]; each 3x3 window (pad 1) covers the whole 2x2 map: mean 7; min(6, . + 7).
        #expect(close(FloatReference.run(try load(g).model, image: (1...9).map(Float.init)).logits, [6, 6, 6, 6]))
        var ceil = ONNXGraph()
        ceil.input = ("x", [1, 1, 3, 3])
        ceil.tensor("w", [1, 1, 1, 1], [1])
        ceil.node("MaxPool", [ceil.node("Conv", ["x", "w"])], name: "ceil", attributes: [
            ONNXGraph.attribute("kernel_shape", ints: [2, 2]), ONNXGraph.attribute("strides", ints: [2, 2]),
            ONNXGraph.attribute("ceil_mode", int: 1)])
        #expect(rejection(ceil) == "node 'ceil' (MaxPool): ceil_mode 1 adds a partial window on a 3x3 map; MixQ's windows "
                + "lie within the padded input (ceil_mode 0)")
    }

    /// What a graph can get wrong: each is one line naming the node or tensor.
    @Test func malformedGraphsAreOneErrorLine() throws {
        var unknown = ONNXGraph()
        unknown.tensor("w", [1, 1, 1, 1], [1])
        let conv = unknown.node("Conv", ["x", "w"])
        unknown.node("Add", [conv, "nobody_wrote_this"], name: "join")
        #expect(rejection(unknown) == "node 'join' (Add): it reads 'nobody_wrote_this', which no earlier node writes and no "
                + "initializer holds (ONNX lists nodes in topological order)")

        var shapes = ONNXGraph()
        shapes.input = ("x", [1, 1, 4, 4])
        shapes.tensor("w", [1, 1, 1, 1], [1]); shapes.tensor("s", [1, 1, 1, 1], [1])
        let full = shapes.node("Conv", ["x", "w"])
        let half = shapes.node("Conv", [full, "s"], attributes: [ONNXGraph.attribute("strides", ints: [2, 2])])
        shapes.node("Add", [full, half], name: "mismatch")
        #expect(rejection(shapes) == "node 'mismatch' (Add): inputs of shapes 4x4x1 and 2x2x1 (HWC); MixQ adds two tensors "
                + "of one shape (no broadcasting)")

        var two = ONNXGraph()
        two.tensor("w", [1, 1, 1, 1], [1])
        let first = two.node("Conv", ["x", "w"])
        two.node("Conv", [first, "w"])
        var model = two.model
        var extra = Onnx_ValueInfoProto()
        extra.name = first
        model.graph.output.append(extra)
        do {
            _ = try ONNXImporter.load(data: try model.serializedData(), path: "two.onnx", name: "two")
            Issue.record("two outputs were accepted")
        } catch {
            #expect(String(describing: error) == "the imported network is not valid: the graph has 2 outputs [\"t2\", \"t1\"]; "
                    + "MixQ runs networks with one output")
        }

        var shared = ONNXGraph()
        shared.tensor("w", [1, 1, 1, 1], [1])
        let c = shared.node("Conv", ["x", "w"])
        shared.node("Add", [shared.node("Relu", [c], name: "relu"), c])
        #expect(rejection(shared) == "node 'relu' (Relu): an activation must follow a Conv, Gemm or residual Add (and its "
                + "batch-norm), once, and be the only node reading that output")
    }

    /// A weight in external data (what torch.onnx.export writes by default) is read from the
    /// file beside the model at its offset; a location outside the folder, a missing file or a
    /// range past its end is one error line.
    @Test func externalDataIsReadFromBesideTheModel() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-external-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var weights = Data([0xEE, 0xEE, 0xEE, 0xEE])
        withUnsafeBytes(of: Float(3).bitPattern.littleEndian) { weights.append(contentsOf: $0) }
        try weights.write(to: folder.appendingPathComponent("net.onnx.data"))
        func load(_ entries: [(String, String)]) -> (output: [Float]?, message: String) {
            var g = ONNXGraph()
            g.input = ("x", [1, 1, 1, 2])
            g.tensor("w", [1, 1, 1, 1], [])
            g.node("Conv", ["x", "w"])
            var model = g.model
            model.graph.initializer[0].dataLocation = .external
            model.graph.initializer[0].externalData = entries.map { key, value in
                var entry = Onnx_StringStringEntryProto()
                entry.key = key
                entry.value = value
                return entry
            }
            let url = folder.appendingPathComponent("net.onnx")
            do {
                try model.serializedData().write(to: url)
                let imported = try ModelFile.load(url)
                return (FloatReference.run(imported.model, image: [1, 2]).logits, "accepted")
            } catch {
                return (nil, String(describing: error))
            }
        }
        #expect(load([("location", "net.onnx.data"), ("offset", "4"), ("length", "4")]).output == [3, 6])
        #expect(load([("location", "../net.onnx.data")]).message == "tensor 'w': its external data location ../net.onnx.data "
                + "is not a file name relative to the model's folder")
        #expect(load([("location", "gone.data")]).message.hasPrefix("tensor 'w': its weights are stored in "))
        #expect(load([("location", "gone.data")]).message.hasSuffix("keep the .data file the exporter wrote beside the model"))
        #expect(load([("location", "net.onnx.data"), ("offset", "6"), ("length", "4")]).message
                == "tensor 'w': its external data (offset 6, length 4) lies outside net.onnx.data of 8 bytes")
        #expect(load([("location", "net.onnx.data"), ("offset", "-1")]).message.contains("lies outside"))
        #expect(load([("location", "net.onnx.data")]).message.contains("holds 2 values"))
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

