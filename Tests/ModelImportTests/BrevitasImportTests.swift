import Deployment
import Evaluation
import FirmwareBuild
import Foundation
import Planning
import Quantization
import Testing
@testable import ModelImport

/// Brevitas' own exports (Fixtures/onnx-exports/make_brevitas_exports.py, run by hand: CI has no
/// PyTorch) imported as exported, checked against the QONNX reference execution
/// (`qonnx.core.onnx_exec.execute_onnx`) the script stored with them.
@Suite(.serialized) struct BrevitasImportTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/onnx-exports")
    /// The fixtures' preprocessing (make_brevitas_exports.py: PIXEL_MEAN, PIXEL_SCALE): the QONNX
    /// executor saw `float32((pixel - 115) * scale)`, computed in double.
    static let pixelMean = 115.0
    static let pixelScale = 1.0 / (0.226 * 255.0)

    struct Fixture {
        var imported: ImportedModel
        /// HWC bytes of each test image.
        var images: [[UInt8]]
        /// The QONNX reference execution's logits of each image.
        var reference: [[Float]]
    }

    static func fixture(_ name: String) throws -> Fixture {
        let imported = try ONNXImporter.load(contentsOf: directory.appendingPathComponent("\(name).onnx"),
                                             inputMean: pixelMean, inputScale: pixelScale)
        let pixels = try NumPyArray(contentsOf: directory.appendingPathComponent("\(name).pixels.npy"))
        let outputs = try NumPyArray(contentsOf: directory.appendingPathComponent("\(name).outputs.npy"))
        let count = pixels.shape[0], imageSize = pixels.count / count, classes = outputs.count / count
        let bytes = try #require(pixels.bytes)
        return Fixture(imported: imported,
                       images: (0..<count).map { Array(bytes[($0 * imageSize)..<(($0 + 1) * imageSize)]) },
                       reference: (0..<count).map { outputs.floats(in: ($0 * classes)..<(($0 + 1) * classes)) })
    }

    /// The fixture's float inputs are the pixels as MixQ's input encoding reads them, bit for bit,
    /// so the QONNX executor and MixQ start from the same values.
    @Test func inputsAreThePixelsPreprocessed() throws {
        let name = "brevitas_mobilenet_v1_w025_4b"
        let fixture = try Self.fixture(name)
        let inputs = try NumPyArray(contentsOf: Self.directory.appendingPathComponent("\(name).inputs.npy"))
        let encoding = fixture.imported.model.input
        #expect(encoding.isIdentity && encoding.quantization.zeroPoint == 115)
        let (h, w, c) = (32, 32, 3)
        for (n, image) in fixture.images.enumerated() {
            let nchw = inputs.floats(in: (n * c * h * w)..<((n + 1) * c * h * w))
            for y in 0..<h {
                for x in 0..<w {
                    for ch in 0..<c where nchw[(ch * h + y) * w + x] != encoding.real(pixel: image[(y * w + x) * c + ch]) {
                        Issue.record("image \(n) (\(y), \(x), \(ch)) differs")
                        return
                    }
                }
            }
        }
    }

    /// brevitas_examples' MobileNet (4-bit, per-channel activation scales, TruncAvgPool2d, an
    /// Int32Bias) imports with the file's quantization: its fake-quantized network equals the QONNX
    /// reference execution on all 16 images. Its integer-only network computes every step within
    /// one code of the fake-quantized step on the same input (the truncating pool and the
    /// classifier exactly); ICN's integer biases (rounded to accumulator units) flip some 4-bit
    /// codes, and the flips compound over 27 layers, so its logits are not within one output step
    /// of QONNX's (measured: up to 38 steps); the top class is compared instead.
    @Test func mobileNetMatchesTheQONNXReference() throws {
        let fixture = try Self.fixture("brevitas_mobilenet_v1_w025_4b")
        let model = fixture.imported.model
        let trained = try #require(model.quantization)
        #expect(fixture.imported.format == "QONNX")
        #expect(trained.naturalScheme == .mixpc)
        #expect(trained.pools.count == 1)
        #expect(trained.layers.last?.bias != nil)
        // The first layer and 11 of the 13 pointwise layers state one activation scale per channel (the
        // last stage's two per tensor); every one feeds a depthwise layer.
        #expect(trained.layers.first?.output?.isPerChannel == true)
        #expect(trained.layers.filter { $0.output?.isPerChannel == true }.count == 12)
        let plan = try Deployer.plan(model.network, model: model, budget: try MemoryBudget(flash: 2_000_000, ram: 500_000),
                                     scheme: trained.naturalScheme, flavour: nil)
        let network = try QuantizedNetwork.quantize(model, plan: plan, calibration: fixture.images)
        var largestDifference: Float = 0, largestStepError = 0, topClassAgreement = 0
        for (image, reference) in zip(fixture.images, fixture.reference) {
            let fake = FloatReference.runFakeQuantized(network, pixels: image)
            largestDifference = max(largestDifference, zip(fake.logits, reference).map { abs($0 - $1) }.max() ?? .infinity)
            // Each integer step on the fake-quantized network's input codes.
            var input = image.map(Int.init)
            for (index, step) in network.steps.enumerated() {
                let codes = try HostReference.step(step, inputs: [input])
                let error = zip(codes, fake.stepCodes[index]).map { abs($0 - $1) }.max() ?? .max
                largestStepError = max(largestStepError, error)
                if case .pool = step { #expect(error == 0, "the truncating average is exact") }
                input = fake.stepCodes[index]
            }
            let logits = try #require(try HostReference.run(network, pixels: image).last)
            let top = logits.indices.max { logits[$0] < logits[$1] }
            topClassAgreement += top == reference.indices.max { reference[$0] < reference[$1] } ? 1 : 0
        }
        // Float32 sums in another order than onnxruntime's: equal to float rounding.
        #expect(largestDifference <= 1e-4, "fake-quantized vs QONNX: \(largestDifference)")
        #expect(largestStepError <= 1)
        #expect(topClassAgreement >= 12, "integer-only top class equal to QONNX's on \(topClassAgreement) of 16")
    }

    /// The same network on the emulated STM32H743: bit-exact with the host reference.
    @Test func mobileNetDeploysBitExact() throws {
        let fixture = try Self.fixture("brevitas_mobilenet_v1_w025_4b")
        let model = fixture.imported.model
        var request = DeploymentRequest(network: model.network, scheme: try #require(model.quantization).naturalScheme,
                                        budget: try MemoryBudget(flash: 2_000_000, ram: 500_000), model: model,
                                        imagesChecked: 4, conversionImages: 2)
        request.images = Array(fixture.images.prefix(4))
        request.calibration = fixture.images
        let result = try Deployer.deploy(request, toolchain: Toolchain.locate())
        #expect(result.fits && result.bitExact == true && result.imagesChecked == 4)
    }

    /// A weight-only QONNX file (Quant on weights, float activations): the file's 4-bit weights
    /// stand, the planner chooses the activations' bits under the RAM budget, and MixQ calibrates
    /// them on the images; the integer network then agrees with the QONNX reference's top class.
    @Test func weightOnlyFilePlansAndCalibratesActivations() throws {
        let fixture = try Self.fixture("brevitas_weight_only_4b")
        let model = fixture.imported.model
        let trained = try #require(model.quantization)
        #expect(trained.floatActivations == [0, 1])
        #expect(model.network.layers.map(\.kind) == [.conv, .conv, .fc])
        // 20 kB: conv1's 3 kB input and 16 kB 8-bit output fit, conv2's 16 kB input and 8 kB output
        // do not: its input (conv1's output, the larger) is cut to 4 bits.
        let plan = try Deployer.plan(model.network, model: model, budget: try MemoryBudget(flash: 100_000, ram: 20_000),
                                     scheme: trained.naturalScheme, flavour: nil)
        #expect(plan.fits)
        #expect(plan.layers.map(\.weightBits) == [.four, .four, .four])
        #expect(plan.layers.map(\.outputBits) == [.four, .eight, .eight])
        let network = try QuantizedNetwork.quantize(model, plan: plan, calibration: fixture.images)
        var agree = 0
        for (image, reference) in zip(fixture.images, fixture.reference) {
            let codes = try #require(try HostReference.run(network, pixels: image).last)
            agree += codes.indices.max { codes[$0] < codes[$1] } == reference.indices.max { reference[$0] < reference[$1] } ? 1 : 0
        }
        #expect(agree >= 14, "top class equal to the QONNX reference's on \(agree) of 16 images")
    }
}
