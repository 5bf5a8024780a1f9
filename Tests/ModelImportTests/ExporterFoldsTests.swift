import Deployment
import Evaluation
import FirmwareBuild
import Foundation
import ONNXSchema
import Planning
import Quantization
import Testing
@testable import ModelImport

/// The folds of what exporters leave behind (Sources/ModelImport/ONNXExporterFolds.swift): small
/// graphs built here, each compared with the graph the fold should amount to written by hand
/// (the builder reads that one without folds), and graphs the folds must leave to the builder's
/// refusal.
struct ExporterFoldsTests {
    func load(_ graph: ONNXGraph, name: String = "net") throws -> ImportedModel {
        try ONNXImporter.load(data: graph.data(), path: "\(name).onnx", name: name)
    }

    /// A seeded HWC image for `model`'s input.
    func image(_ model: ImportedModel, seed: UInt64 = 3) -> [Float] {
        var random = SeededRandom(seed: seed)
        return (0..<model.network.input.elementCount).map { _ in Float(random.unit()) }
    }

    func output(_ model: ImportedModel, _ image: [Float]) -> [Float] {
        FloatReference.run(model.model, image: image).logits
    }

    func largestDifference(_ a: [Float], _ b: [Float]) -> Float {
        a.count == b.count ? zip(a, b).map { abs($0 - $1) }.max() ?? 0 : .infinity
    }

    static func values(_ count: Int, seed: UInt64, scale: Double = 0.5, offset: Double = 0) -> [Float] {
        var random = SeededRandom(seed: seed)
        return (0..<count).map { _ in Float(offset + scale * random.normal()) }
    }

    /// `... -> GlobalAveragePool -> Flatten -> Gemm` classifier on `channels` channels.
    /// (`quantized`: with 8-bit weights, for a QONNX graph.)
    static func head(_ g: inout ONNXGraph, _ x: String, channels: Int, quantized: Bool = false) {
        let flat = g.node("Flatten", [g.node("GlobalAveragePool", [x])])
        g.tensor("fc", [3, Int64(channels)], values(3 * channels, seed: 99))
        let fc = quantized ? g.quant("fc", scale: [0.01], bits: 8, signed: true, narrow: true) : "fc"
        g.node("Gemm", [flat, fc], name: "fc", attributes: [ONNXGraph.attribute("transB", int: 1)])
    }

    // MARK: Input Transpose

    @Test func inputTransposeOfNHWCDataIsDroppedAndTheSamePixelsReachTheConvolution() throws {
        func graph(nhwc: Bool) -> ONNXGraph {
            var g = ONNXGraph()
            g.input = ("image", nhwc ? [1, 4, 5, 2] : [1, 2, 4, 5])
            let x = nhwc ? g.node("Transpose", ["image"], attributes: [ONNXGraph.attribute("perm", ints: [0, 3, 1, 2])]) : "image"
            g.tensor("w", [3, 2, 3, 3], Self.values(54, seed: 1))
            let conv = g.node("Conv", [x, "w"], name: "conv", attributes: [ONNXGraph.attribute("pads", ints: [1, 1, 1, 1])])
            Self.head(&g, g.node("Relu", [conv]), channels: 3)
            return g
        }
        let folded = try load(graph(nhwc: true)), plain = try load(graph(nhwc: false))
        #expect(folded.network.input == TensorShape(height: 4, width: 5, channels: 2))
        #expect(folded.folded == ["input Transpose [0, 3, 1, 2] (NHWC data; MixQ's images are HWC, the input is read as NCHW)"])
        #expect(plain.folded.isEmpty)
        let x = image(plain)
        #expect(output(folded, x) == output(plain, x))
    }

    @Test func inputTransposeAfterAPerTensorQuantIsDroppedToo() throws {
        var g = ONNXGraph()
        g.input = ("image", [1, 3, 3, 1])
        let q = g.quant("image", scale: [1.0 / 255], bits: 8, signed: false)
        let t = g.node("Transpose", [q], attributes: [ONNXGraph.attribute("perm", ints: [0, 3, 1, 2])])
        g.rawTensor("w", [2, 1, 3, 3], Self.values(18, seed: 2))
        let wq = g.quant("w", scale: [0.05], bits: 8, signed: true, narrow: true)
        let conv = g.node("Conv", [t, wq])
        Self.head(&g, g.quant(g.node("Relu", [conv]), scale: [0.05], bits: 8, signed: false), channels: 2, quantized: true)
        let imported = try load(g)
        #expect(imported.network.input == TensorShape(height: 3, width: 3, channels: 1))
        #expect(imported.folded.count == 1 && imported.folded[0].hasPrefix("input Transpose"))
    }

    // MARK: Mul/Add after a layer

    /// Conv(w, b) -> Mul(m) -> Add(a) against Conv(m w, m b + a), the batch-norm worked into
    /// the weights by hand.
    @Test func mulAddAfterAConvolutionIsItsBatchNorm() throws {
        let (w, b, m, a) = (Self.values(16 * 3 * 9, seed: 3), Self.values(16, seed: 4),
                            Self.values(16, seed: 5, scale: 0.3, offset: 1), Self.values(16, seed: 6))
        func graph(folded: Bool) -> ONNXGraph {
            var g = ONNXGraph()
            g.input = ("x", [1, 3, 6, 6])
            if folded {
                g.tensor("w", [16, 3, 3, 3], w); g.tensor("b", [16], b)
                g.tensor("m", [1, 16, 1, 1], m); g.tensor("a", [1, 16, 1, 1], a)
                let conv = g.node("Conv", ["x", "w", "b"], name: "conv", attributes: [ONNXGraph.attribute("strides", ints: [2, 2])])
                let y = g.node("Add", [g.node("Mul", [conv, "m"]), "a"])
                Self.head(&g, g.node("Relu", [y]), channels: 16)
            } else {
                g.tensor("w", [16, 3, 3, 3], w.indices.map { w[$0] * m[$0 / 27] })
                g.tensor("b", [16], (0..<16).map { b[$0] * m[$0] + a[$0] })
                let conv = g.node("Conv", ["x", "w", "b"], name: "conv", attributes: [ONNXGraph.attribute("strides", ints: [2, 2])])
                Self.head(&g, g.node("Relu", [conv]), channels: 16)
            }
            return g
        }
        let folded = try load(graph(folded: true)), byHand = try load(graph(folded: false))
        #expect(folded.folded == ["1x Mul/Add by constants after a convolution or Gemm/MatMul as its batch-norm"])
        #expect(folded.network.layers[0].usesBatchNorm && folded.network.layers[0].activation == .relu)
        let x = image(byHand)
        #expect(largestDifference(output(folded, x), output(byHand, x)) < 1e-4)
    }

    /// tf2onnx's QDQ files quantize the batch-norm factor: Mul by DequantizeLinear(int8), Add
    /// of a `Constant` node, Sub and Div by scalars, after a depthwise convolution.
    @Test func constantOperandsMayBeExpressionsAndConstantNodes() throws {
        let codes: [Int32] = [-128, -60, 5, 90], scale: Float = 0.02, zero: Int32 = -100
        let factor = codes.map { Float($0 - zero) * scale }
        let (w, shift) = (Self.values(36, seed: 7), Self.values(4, seed: 8))
        func graph(folded: Bool) -> ONNXGraph {
            var g = ONNXGraph()
            g.input = ("x", [1, 4, 5, 5])
            if folded {
                g.tensor("w", [4, 1, 3, 3], w)
                let conv = g.node("Conv", ["x", "w"], name: "dw", attributes: [ONNXGraph.attribute("group", int: 4),
                                                                             ONNXGraph.attribute("pads", ints: [1, 1, 1, 1])])
                g.initializers.append(Self.int8Tensor("mq", [1, 4, 1, 1], codes))
                g.tensor("ms", [], [scale]); g.initializers.append(Self.int8Tensor("mz", [], [zero]))
                let dq = g.node("DequantizeLinear", ["mq", "ms", "mz"])
                let mul = g.node("Mul", [dq, conv])
                let constant = g.node("Constant", [], attributes: [Self.tensorAttribute("value", dims: [4, 1, 1], shift)])
                g.tensor("two", [], [2]); g.tensor("half", [], [0.5])
                let y = g.node("Div", [g.node("Sub", [g.node("Add", [mul, constant]), "half"]), "two"])
                Self.head(&g, g.node("Relu", [y]), channels: 4)
            } else {
                g.tensor("w", [4, 1, 3, 3], w.indices.map { w[$0] * factor[$0 / 9] / 2 })
                g.tensor("b", [4], (0..<4).map { (shift[$0] - 0.5) / 2 })
                let conv = g.node("Conv", ["x", "w", "b"], name: "dw", attributes: [ONNXGraph.attribute("group", int: 4),
                                                                                  ONNXGraph.attribute("pads", ints: [1, 1, 1, 1])])
                Self.head(&g, g.node("Relu", [conv]), channels: 4)
            }
            return g
        }
        let folded = try load(graph(folded: true)), byHand = try load(graph(folded: false))
        // The DequantizeLinear of the factor is read by QDQLowering first (ONNXQDQ.swift).
        #expect(folded.folded == ["DequantizeLinear of integer initializers: 1 bias or constant dequantized",
                                  "1x Mul/Add by constants after a convolution or Gemm/MatMul as its batch-norm"])
        #expect(folded.network.layers.map(\.kind) == [.depthwise, .fc])
        let x = image(byHand)
        #expect(largestDifference(output(folded, x), output(byHand, x)) < 1e-5)
    }

    /// In a QONNX file the weights' trained quantization stands: the factor goes into the
    /// batch-norm, not into the weights.
    @Test func aQuantizedLayerKeepsItsWeightCodes() throws {
        func graph(mul: Bool) -> ONNXGraph {
            var g = ONNXGraph()
            g.input = ("x", [1, 2, 4, 4])
            let x = g.quant("x", scale: [1.0 / 255], bits: 8, signed: false)
            g.rawTensor("w", [4, 2, 3, 3], Self.values(72, seed: 9))
            let wq = g.quant("w", scale: [0.01, 0.02, 0.03, 0.04], scaleDims: [4, 1, 1, 1], bits: 4, signed: true, narrow: true)
            var y = g.node("Conv", [x, wq], name: "conv")
            if mul {
                g.tensor("m", [4, 1, 1], [1.5, 0.5, 2, 1])
                y = g.node("Mul", [y, "m"])
            }
            Self.head(&g, g.quant(g.node("Relu", [y]), scale: [0.1], bits: 4, signed: false), channels: 4, quantized: true)
            return g
        }
        let folded = try load(graph(mul: true)), plain = try load(graph(mul: false))
        #expect(folded.format == "QONNX" && folded.folded.count == 1)
        #expect(folded.model.quantization?.layers.first?.weights == plain.model.quantization?.layers.first?.weights)
        #expect(folded.model.layers[0].weights == plain.model.layers[0].weights)
        #expect(folded.model.layers[0].gamma == [1.5, 0.5, 2, 1])
    }

    // MARK: Pad

    @Test func zeroPadBeforeAConvolutionBecomesItsPadding() throws {
        let w = Self.values(2 * 2 * 9, seed: 10)
        func graph(pad: Bool, opset10: Bool = false) -> ONNXGraph {
            var g = ONNXGraph()
            g.input = ("x", [1, 2, 7, 7])
            g.tensor("w", [2, 2, 3, 3], w)
            var x = "x", convAttributes = [ONNXGraph.attribute("strides", ints: [2, 2])]
            if pad {
                // Keras' ZeroPadding2D(((0, 1), (0, 1))) before a VALID stride-2 convolution.
                if opset10 {
                    x = g.node("Pad", ["x"], attributes: [ONNXGraph.attribute("pads", ints: [0, 0, 0, 0, 0, 0, 1, 1]),
                                                          ONNXGraph.attribute("mode", string: "constant")])
                } else {
                    g.tensor("pads", [8], [0, 0, 0, 0, 0, 0, 1, 1])
                    x = g.node("Pad", ["x", g.node("Cast", ["pads"], attributes: [ONNXGraph.attribute("to", int: 7)])])
                }
                convAttributes.append(ONNXGraph.attribute("auto_pad", string: "VALID"))
            } else {
                convAttributes.append(ONNXGraph.attribute("pads", ints: [0, 0, 1, 1]))
            }
            let conv = g.node("Conv", [x, "w"], name: "conv", attributes: convAttributes)
            Self.head(&g, conv, channels: 2)
            return g
        }
        let plain = try load(graph(pad: false))
        for opset10 in [false, true] {
            let folded = try load(graph(pad: true, opset10: opset10))
            #expect(folded.network.layers[0].padding == Padding(top: 0, left: 0, bottom: 1, right: 1))
            #expect(folded.folded.contains("1x Pad (zeros, spatial) into the next Conv's padding"))
            #expect(folded.folded.contains("1x Cast of a constant evaluated") == !opset10)
            let x = image(plain)
            #expect(output(folded, x) == output(plain, x))
        }
    }

    // MARK: Reshape, Identity, Dropout, Cast, Clip

    /// Keras' head: GlobalAveragePool -> Reshape [1, C, 1, 1] -> 1x1 Conv -> Reshape [-1, K],
    /// with Squeeze/Unsqueeze pairs, Identity and Dropout in between.
    @Test func reshapesThatMoveNoDataAndIdentitiesAreRemoved() throws {
        let (w, fc) = (Self.values(4 * 3 * 9, seed: 11), Self.values(5 * 4, seed: 12))
        func graph(exported: Bool) -> ONNXGraph {
            var g = ONNXGraph()
            g.input = ("x", [1, 3, 4, 4])
            g.tensor("w", [4, 3, 3, 3], w)
            var y = g.node("GlobalAveragePool", [g.node("Relu", [g.node("Conv", ["x", "w"], name: "conv")])])
            g.tensor("fc", [5, 4, 1, 1], fc)
            if exported {
                g.tensor("to_vector", [2], [-1, 4]); g.tensor("to_map", [4], [-1, 4, 1, 1])
                y = g.node("Reshape", [g.node("Identity", [y]), "to_vector"])
                y = g.node("Dropout", [y])
                y = g.node("Reshape", [y, "to_map"])
                g.tensor("axes", [2], [2, 3])
                y = g.node("Unsqueeze", [g.node("Squeeze", [y, "axes"]), "axes"])
                y = g.node("Conv", [y, "fc"], name: "classifier")
                g.tensor("to_logits", [2], [-1, 5])
                g.node("Softmax", [g.node("Reshape", [y, "to_logits"])])
            } else {
                y = g.node("Conv", [y, "fc"], name: "classifier")
                g.node("Softmax", [y])
            }
            return g
        }
        let exported = try load(graph(exported: true)), plain = try load(graph(exported: false))
        #expect(exported.folded == ["2x Identity/Dropout removed", "2x Reshape/Squeeze/Unsqueeze that moves no data removed"])
        #expect(exported.network.layers.map(\.kind) == plain.network.layers.map(\.kind))
        let x = image(plain)
        #expect(output(exported, x) == output(plain, x))
    }

    /// float16 weights through `Cast`, `Clip` bounds as attributes (opset 6), `Constant` nodes
    /// and a missing maximum.
    @Test func castOfHalfPrecisionWeightsAndClipBounds() throws {
        // Half-precision bit patterns of 0.5, -0.25, 1, 0.125, -1.5, 2 (IEEE 754 binary16).
        let halves: [(bits: Int32, value: Float)] = [(0x3800, 0.5), (-19456, -0.25), (0x3C00, 1), (0x3000, 0.125),
                                                     (-16896, -1.5), (0x4000, 2)]
        let weights = (0..<54).map { halves[$0 % 6] }
        func graph(exported: Bool) -> ONNXGraph {
            var g = ONNXGraph()
            g.input = ("x", [1, 3, 4, 4])
            var w = "w"
            if exported {
                var t = Onnx_TensorProto()
                t.name = "w16"; t.dims = [2, 3, 3, 3]; t.dataType = Int32(Onnx_TensorProto.DataType.float16.rawValue)
                t.int32Data = weights.map { $0.bits & 0xFFFF }
                g.initializers.append(t)
                w = g.node("Cast", ["w16"], attributes: [ONNXGraph.attribute("to", int: 1)])
            } else {
                g.tensor("w", [2, 3, 3, 3], weights.map(\.value))
            }
            var y = g.node("Conv", ["x", w], name: "conv", attributes: [ONNXGraph.attribute("pads", ints: [1, 1, 1, 1])])
            if exported {
                y = g.node("Clip", [y], attributes: [ONNXGraph.attribute("min", float: 0), ONNXGraph.attribute("max", float: 6)])
            } else {
                g.tensor("lo", [], [0]); g.tensor("hi", [], [6])
                y = g.node("Clip", [y, "lo", "hi"])
            }
            g.tensor("w2", [2, 2, 1, 1], [1, -1, 0.5, 2])
            y = g.node("Conv", [y, "w2"], name: "pw")
            if exported {
                let low = g.node("Constant", [], attributes: [Self.tensorAttribute("value", dims: [], [0])])
                y = g.node("Clip", [y, low])
            } else {
                y = g.node("Relu", [y])
            }
            Self.head(&g, y, channels: 2)
            return g
        }
        let exported = try load(graph(exported: true)), plain = try load(graph(exported: false))
        #expect(exported.folded == ["1x Cast of a constant evaluated", "1x Clip(0, 6) as ReLU6", "1x Clip(0, inf) as ReLU"])
        #expect(exported.network.layers.map(\.activation) == [.relu6, .relu, .none])
        #expect(plain.folded == ["1x Clip(0, 6) as ReLU6"])
        let x = image(plain)
        #expect(output(exported, x) == output(plain, x))
    }

    // MARK: Keras' Flatten of an NHWC map

    /// tf2onnx's Keras `Flatten` after a convolution: `Transpose [0, 2, 3, 1]`, a target computed
    /// with `Shape`, `Slice`, `Concat`, `Cast`, then `Reshape` and `MatMul`. With an identity
    /// 1x1 convolution and an identity `MatMul`, the output is the input in H, W, C order:
    /// MixQ's HWC image itself.
    /// (`gather`: the shape read before the `Transpose` and permuted by `Gather`, as tf2onnx
    /// writes it; else read after it.)
    @Test(arguments: [false, true])
    func transposeBeforeAFlattenGoesIntoTheClassifiersWeightOrder(gather: Bool) throws {
        var g = ONNXGraph()
        g.input = ("x", [1, 2, 3, 2])  // C 2, H 3, W 2
        g.tensor("eye2", [2, 2, 1, 1], [1, 0, 0, 1])
        let conv = g.node("Conv", ["x", "eye2"], name: "conv")
        let map = g.node("Relu", [conv])
        let nhwc = g.node("Transpose", [map], attributes: [ONNXGraph.attribute("perm", ints: [0, 2, 3, 1])])
        var shape = g.node("Shape", [gather ? map : nhwc])
        if gather {
            g.tensor("perm", [4], [0, 2, 3, 1])
            shape = g.node("Gather", [shape, g.node("Cast", ["perm"], attributes: [ONNXGraph.attribute("to", int: 7)])])
        }
        g.tensor("zero", [1], [0]); g.tensor("one", [1], [1]); g.tensor("features", [1], [12])
        let batch = g.node("Slice", [shape, g.node("Cast", ["zero"], attributes: [ONNXGraph.attribute("to", int: 7)]),
                                     g.node("Cast", ["one"], attributes: [ONNXGraph.attribute("to", int: 7)])])
        let target = g.node("Concat", [batch, g.node("Cast", ["features"], attributes: [ONNXGraph.attribute("to", int: 7)])],
                            attributes: [ONNXGraph.attribute("axis", int: 0)])
        let flat = g.node("Reshape", [nhwc, target])
        g.tensor("eye12", [12, 12], (0..<144).map { $0 / 12 == $0 % 12 ? 1 : 0 })
        g.node("MatMul", [flat, "eye12"], name: "classifier")
        let imported = try load(g)
        #expect(imported.folded == ["\(gather ? 4 : 3)x Cast of a constant evaluated",
                                    "1x Reshape target computed from known shapes (Shape, Gather, Slice, Concat) evaluated",
                                    "1x Transpose [0, 2, 3, 1] before a flatten (Keras' Flatten of an NHWC map) into the classifier's weight order"])
        #expect(imported.network.layers.map(\.kind) == [.pointwise, .conv])
        let x = image(imported)
        #expect(output(imported, x) == x)
    }

    // MARK: Refusals

    @Test func whatTheFoldsCannotProveSafeIsLeftToTheBuildersRefusal() throws {
        func refused(_ build: (inout ONNXGraph, String) -> String) -> String? {
            var g = ONNXGraph()
            g.input = ("x", [1, 4, 4, 4])
            g.tensor("w", [4, 4, 1, 1], Self.values(16, seed: 13))
            let y = build(&g, "x")
            Self.head(&g, g.node("Conv", [y, "w"], name: "conv"), channels: 4)
            do {
                _ = try load(g)
                return nil
            } catch {
                return String(describing: error)
            }
        }
        // Pad with a non-zero value, and a reflecting Pad.
        let padValue = refused { g, x in
            g.tensor("pads", [8], [0, 0, 1, 1, 0, 0, 1, 1]); g.tensor("value", [], [0.5])
            return g.node("Pad", [x, g.node("Cast", ["pads"], attributes: [ONNXGraph.attribute("to", int: 7)]), "value"])
        }
        #expect(padValue?.contains("operator Pad is not supported") == true)
        let reflect = refused { g, x in
            g.tensor("pads", [8], [0, 0, 1, 1, 0, 0, 1, 1])
            return g.node("Pad", [x, g.node("Cast", ["pads"], attributes: [ONNXGraph.attribute("to", int: 7)])],
                          attributes: [ONNXGraph.attribute("mode", string: "reflect")])
        }
        #expect(reflect?.contains("operator Pad is not supported") == true)
        // A Reshape that moves channels into space: [1, 4, 4, 4] -> [1, 4, 2, 8] is not a layout no-op in HWC.
        let reorder = refused { g, x in
            g.tensor("shape", [4], [1, 4, 2, 8])
            return g.node("Reshape", [x, "shape"])
        }
        #expect(reorder?.contains("Reshape") == true)
        // Mul by a non-constant (the conv output times itself) and by a spatial constant.
        let square = refused { g, x in
            g.tensor("w0", [4, 4, 1, 1], Self.values(16, seed: 14))
            let conv = g.node("Conv", [x, "w0"])
            return g.node("Mul", [conv, conv])
        }
        #expect(square != nil)
        let spatial = refused { g, x in
            g.tensor("w0", [4, 4, 1, 1], Self.values(16, seed: 14)); g.tensor("s", [1, 1, 4, 4], Self.values(16, seed: 15))
            return g.node("Mul", [g.node("Conv", [x, "w0"]), "s"])
        }
        #expect(spatial?.contains("Mul") == true)
        // A Transpose that is not NHWC -> NCHW on the input.
        let transpose = refused { g, x in g.node("Transpose", [x], attributes: [ONNXGraph.attribute("perm", ints: [0, 1, 3, 2])]) }
        #expect(transpose?.contains("Transpose") == true)
    }

    // MARK: Helpers

    static func int8Tensor(_ name: String, _ dims: [Int64], _ values: [Int32]) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = dims
        t.dataType = Int32(Onnx_TensorProto.DataType.int8.rawValue)
        t.int32Data = values
        return t
    }

    static func tensorAttribute(_ name: String, dims: [Int64], _ values: [Float]) -> Onnx_AttributeProto {
        var t = Onnx_TensorProto()
        t.dims = dims
        t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        t.floatData = values
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .tensor
        a.t = t
        return a
    }
}
