import Deployment
import Evaluation
import FirmwareBuild
import Foundation
import ModelImport
import Planning
import Quantization
import Testing

/// tf2onnx's exports of Keras networks (Fixtures/onnx-exports, made by make_onnx_exports.py)
/// import as written: MixQ's float host reference equals onnxruntime's outputs stored beside them
/// on all 16 inputs, and the int8 network deploys bit-exact on the emulated target.
@Suite struct ExporterFoldsFixtureTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/onnx-exports")

    static func load(_ name: String) throws -> ImportedModel {
        try ONNXImporter.load(contentsOf: directory.appendingPathComponent("\(name).onnx"))
    }

    /// Row `sample` of a float32 `.npy` array (N first).
    static func row(_ array: NumPyArray, _ sample: Int) -> [Float] {
        let per = array.count / array.shape[0]
        return array.floats(in: (sample * per)..<((sample + 1) * per))
    }

    /// Largest |MixQ - onnxruntime| over every output of every input, relative to the largest
    /// |onnxruntime| output; `softmax` applies the final Softmax MixQ's network leaves out
    /// (Top-1 does not need it).
    static func largestRelativeDifference(_ name: String, inputs: String, softmax: Bool) throws -> (Float, Int) {
        let imported = try load(name)
        let x = try NumPyArray(contentsOf: directory.appendingPathComponent("\(inputs).inputs.npy"))
        let y = try NumPyArray(contentsOf: directory.appendingPathComponent("\(name).outputs.npy"))
        #expect(x.shape[0] == 16 && y.shape[0] == 16 && x.isFloat32 && y.isFloat32)
        var worst: Float = 0, top1 = 0
        let scale = max(y.floats(in: 0..<y.count).map(abs).max() ?? 1, 1e-6)
        for sample in 0..<x.shape[0] {
            var mixq = FloatReference.run(imported.model, image: row(x, sample)).logits
            if softmax {
                let top = mixq.max() ?? 0
                let e = mixq.map { Foundation.exp(Double($0 - top)) }
                let sum = e.reduce(0, +)
                mixq = e.map { Float($0 / sum) }
            }
            let reference = row(y, sample)
            #expect(mixq.count == reference.count)
            worst = max(worst, zip(mixq, reference).map { abs($0 - $1) }.max() ?? .infinity)
            if mixq.indices.max(by: { mixq[$0] < mixq[$1] }) == reference.indices.max(by: { reference[$0] < reference[$1] }) {
                top1 += 1
            }
        }
        return (worst / scale, top1)
    }

    @Test func smallKerasCNNImportsWithItsFoldsListed() throws {
        let imported = try Self.load("small_cnn_float")
        #expect(imported.folded == [
            "input Transpose [0, 3, 1, 2] (NHWC data; MixQ's images are HWC, the input is read as NCHW)",
            "3x Mul/Add by constants after a convolution or Gemm/MatMul as its batch-norm",
        ])
        #expect(imported.network.input == TensorShape(height: 32, width: 32, channels: 3))
        #expect(imported.network.layers.map(\.kind) == [.conv, .depthwise, .pointwise, .conv, .fc])
        #expect(imported.network.layers.map(\.usesBatchNorm) == [true, true, true, false, false])
        // The MatMul's Add is its bias, read by the builder, not folded.
        #expect(imported.network.layers.last?.hasBias == true)
        // deploy and eval print the weights' source: the file and its folds.
        let reference = try ModelReference(Self.directory.appendingPathComponent("small_cnn_float.onnx").path)
        #expect(reference.source?.hasSuffix("(folded: " + imported.folded.joined(separator: "; ") + ")") == true)
    }

    @Test func kerasMobileNetImportsWithItsFoldsListed() throws {
        let imported = try Self.load("mobilenet_v1_025_96_float")
        #expect(imported.folded == [
            "input Transpose [0, 3, 1, 2] (NHWC data; MixQ's images are HWC, the input is read as NCHW)",
            "13x Mul/Add by constants after a convolution or Gemm/MatMul as its batch-norm",
            "4x Pad (zeros, spatial) into the next Conv's padding",
            "27x Clip(0, 6) as ReLU6",
            "1x Reshape/Squeeze/Unsqueeze that moves no data removed",
        ])
        let layers = imported.network.layers
        #expect(layers.count == 28 && layers.filter { $0.kind == .depthwise }.count == 13)
        #expect(layers.dropLast().allSatisfy { $0.activation == .relu6 })
        // Keras' ZeroPadding2D(((0, 1), (0, 1))) before the stride-2 depthwise layers.
        #expect(layers.filter { $0.kind == .depthwise && $0.stride == 2 }.map(\.padding)
                == [Padding](repeating: Padding(top: 0, left: 0, bottom: 1, right: 1), count: 4))
    }

    /// Keras' Flatten of an NHWC map (no pooling before the classifier), as tf2onnx writes it.
    @Test func kerasFlattenOfAMapImportsWithItsFoldsListed() throws {
        let imported = try Self.load("keras_flatten_cnn")
        #expect(imported.folded == [
            "input Transpose [0, 3, 1, 2] (NHWC data; MixQ's images are HWC, the input is read as NCHW)",
            "1x Reshape target computed from known shapes (Shape, Gather, Slice, Concat) evaluated",
            "1x Transpose [0, 2, 3, 1] before a flatten (Keras' Flatten of an NHWC map) into the classifier's weight order",
        ])
        // The Dense reads the 4x4x4 map: a VALID 4x4 convolution.
        #expect(imported.network.layers.map(\.kind) == [.conv, .conv, .conv])
        #expect(imported.network.layers.last?.kernel == KernelSize(height: 4, width: 4))
    }

    /// Float32 sums in another order: MixQ and onnxruntime agree to 1e-5 of the largest output.
    @Test(arguments: [("small_cnn_float", "small_cnn", false), ("mobilenet_v1_025_96_float", "mobilenet_v1_025_96_float", true),
                      ("keras_flatten_cnn", "keras_flatten_cnn", false)])
    func floatHostReferenceEqualsONNXRuntime(model: String, inputs: String, softmax: Bool) throws {
        let (difference, top1) = try Self.largestRelativeDifference(model, inputs: inputs, softmax: softmax)
        #expect(difference < 1e-5, "\(model): largest difference \(difference) of the largest output")
        #expect(top1 == 16)
    }

    /// The small CNN under `--scheme int8`, calibrated on its 16 inputs, on the emulated STM32H743.
    @Test func smallCNNDeploysBitExactUnderInt8() throws {
        let imported = try Self.load("small_cnn_float")
        let x = try NumPyArray(contentsOf: Self.directory.appendingPathComponent("small_cnn.inputs.npy"))
        // The float network sees pixel / 255 (the default encoding): inputs back to pixels.
        let pixels = (0..<x.shape[0]).map { Self.row(x, $0).map { UInt8(min(max(($0 * 255).rounded(), 0), 255)) } }
        var request = DeploymentRequest(network: imported.network, scheme: .int8, budget: try MemoryBudget(flash: 2_000_000, ram: 500_000),
                                        model: imported.model, timing: .off)
        request.images = Array(pixels.prefix(3))
        request.calibration = pixels
        request.modelSource = imported.summary
        let result = try Deployer.deploy(request, toolchain: Toolchain.locate())
        #expect(result.fits && result.bitExact == true && result.imagesChecked == 3)
    }
}
