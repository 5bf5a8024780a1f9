import Deployment
import Evaluation
import FirmwareBuild
import Foundation
import ModelImport
import Planning
import Quantization
import Testing

/// A TFLite file under MixQ's own schemes: the planner cuts the bits of the committed ResNet-8
/// (MLPerf Tiny's image-classification network, int8) under budgets its int8 form exceeds, its
/// dequantized weights are re-quantized and its activations calibrated, the result deploys
/// bit-exact on the emulated STM32H743, and the evaluation reports the loss against the file's
/// own int8 network on the same images.
@Suite(.serialized) struct FileRequantizationTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ModelImportTests/Fixtures/tflite")

    @Test func resnet8UnderMixPCDeploysBitExactAndReportsItsLossAgainstTheFile() throws {
        let imported = try TFLiteImporter.load(contentsOf: Self.fixtures.appendingPathComponent("resnet8_int8.tflite"))
        let network = imported.network, model = imported.model
        #expect(!network.isChain, "ResNet-8 has residual adds")
        try #require(model.input.isIdentity, "the file's int8 input codes are the dataset's bytes")
        // LiteRT's int8 outputs on the fixture's inputs (Fixtures/tflite/make_tflite_fixtures.py):
        // their argmax is the label, so the file's own network scores every image and MixQ's
        // Top-1 is its agreement with the file.
        let inputs = try NumPyArray(contentsOf: Self.fixtures.appendingPathComponent("resnet8_int8.inputs.npy"))
        let outputs = try NumPyArray(contentsOf: Self.fixtures.appendingPathComponent("resnet8_int8.outputs.npy"))
        let samples = inputs.shape[0], classes = outputs.count / outputs.shape[0]
        let labels = (0..<samples).map { n in
            let row = outputs.values[(n * classes)..<((n + 1) * classes)]
            return (row.firstIndex(of: row.max() ?? 0) ?? 0) - n * classes
        }
        let dataset = try LabelledDataset(path: "resnet8_int8.inputs.npy", shape: network.input,
                                          pixels: inputs.values.map { UInt8($0 + 128) }, labels: labels)

        // Budgets at 60% of the int8 network's FLASH and RAM: both force cuts.
        let int8 = try Deployer.plan(network, model: model, budget: MemoryBudget(flash: 1 << 30, ram: 1 << 30), scheme: .int8,
                                     flavour: nil)
        let budget = try MemoryBudget(flash: int8.flashBytes * 6 / 10, ram: int8.peakActivationBytes * 6 / 10)
        var request = DeploymentRequest(network: network, scheme: .mixpc, budget: budget, model: model)
        try request.calibrate(on: dataset, images: samples)
        #expect(request.calibration?.count == samples)
        let prepared = try Deployer.prepare(request)
        #expect(prepared.plan.fits)
        #expect(prepared.plan.cuts.contains { $0.tensor == .weights })
        #expect(prepared.plan.cuts.contains { $0.tensor != .weights })
        #expect(prepared.plan.layers.allSatisfy { $0.flavour == .perChannelICN })
        let quantized = try #require(prepared.quantized)
        #expect(quantized.steps.allSatisfy { step in
            if case .layer(let layer) = step { return layer.parameters.rounding == .halfUp }
            if case .tfliteAdd = step { return false }
            if case .tflitePool = step { return false }
            return true
        }, "MixQ's arithmetic throughout")
        #expect(try #require(prepared.fileNetwork).steps.contains { if case .tfliteAdd = $0 { return true } else { return false } })

        let evaluation = EvaluationRequest(prepared: prepared, dataset: dataset, targetImages: 2, jobs: 2, floatReference: true)
        let result = try Evaluator.evaluate(evaluation, toolchain: Toolchain.locate())
        // The file's own network is LiteRT's, bit for bit: it scores every image.
        #expect(result.fileInteger?.top1 == samples)
        #expect(result.targetBitExact == true)
        // With the file's Top-1 classes as labels, MixQ's Top-1 is its agreement with the file.
        #expect(result.fileAgreement == result.integer.top1)
        #expect(result.integer.top1 <= samples)
        print("resnet8 mixpc at \(budget.flash) B / \(budget.ram) B: bits \(prepared.plan.tensorBits.map(\.bits)), "
              + "weights \(prepared.plan.layers.map(\.weightBits.bits)); Top-1 against the file's int8 \(result.integer.top1)/\(samples), "
              + "float \(result.float?.top1 ?? -1)/\(samples)")
    }

    @Test func plainInt8StillRunsTheFileAsWritten() throws {
        let imported = try TFLiteImporter.load(contentsOf: Self.fixtures.appendingPathComponent("resnet8_int8.tflite"))
        let request = DeploymentRequest(network: imported.network, scheme: .int8, budget: try MemoryBudget(flash: 1 << 30, ram: 1 << 30),
                                        model: imported.model)
        let prepared = try Deployer.prepare(request)
        #expect(prepared.fileNetwork == nil)
        #expect(try #require(prepared.quantized).steps.contains { if case .tfliteAdd = $0 { return true } else { return false } })
    }
}
