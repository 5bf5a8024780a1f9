import Deployment
import FirmwareBuild
import Foundation
import Planning
import Quantization
import Testing
@testable import Evaluation

/// The fast host path against the plain host reference, and whole evaluations of the digit
/// model with seeded synthetic weights.
@Suite(.serialized) struct EvaluatorTests {
    /// The digit network under budgets that cut weights and activations to 4 and 2 bits.
    static func prepared(_ scheme: QuantizationScheme, seed: UInt64 = 4) throws -> PreparedDeployment {
        let network = try DigitsMobilenetV1(alpha: .quarter).network()
        let budget = scheme == .int8 ? try MemoryBudget(flash: 400_000, ram: 64_000) : try MemoryBudget(flash: 100_000, ram: 4_000)
        return try Deployer.prepare(DeploymentRequest(network: network, scheme: scheme, budget: budget, seed: seed))
    }

    @Test(arguments: [QuantizationScheme.int8, .mixpl, .mixpc])
    func compiledNetworkMatchesTheHostReference(scheme: QuantizationScheme) throws {
        let prepared = try Self.prepared(scheme)
        let quantized = try #require(prepared.quantized)
        if scheme != .int8 {
            let bits = Set(prepared.plan.layers.flatMap { [$0.weightBits, $0.outputBits] })
            #expect(bits.contains(.two) && bits.contains(.four), "the budgets cut tensors to 4 and 2 bits")
        }
        let compiled = CompiledNetwork(quantized)
        for seed in 0..<4 {
            let pixels = SyntheticImage.bytes(shape: quantized.network.input, seed: 77 + UInt64(seed))
            let expected = try HostReference.run(quantized, pixels: pixels).last ?? []
            #expect(compiled.logits(pixels).map(Int.init) == expected)
        }
    }

    @Test func topKBreaksTiesTowardsTheLowerClass() {
        #expect(TopK.contains([1, 3, 3, 0], label: 1) == (true, true))
        #expect(TopK.contains([1, 3, 3, 0], label: 2) == (false, true))
        #expect(TopK.contains([9, 8, 7, 6, 5, 4], label: 5) == (false, false))
        #expect(TopK.contains([9, 8, 7, 6, 5, 4], label: 4) == (false, true))
        #expect(TopK.contains([1, 2], label: 5) == (false, false))
    }

    /// Labels are the host reference's own arg-max (worked out independently of the fast path),
    /// except every fourth, which is shifted: Top-1 must be exactly 3/4.
    static func dataset(for quantized: QuantizedNetwork, images: Int) throws -> LabelledDataset {
        var pixels: [UInt8] = [], labels: [Int] = []
        for index in 0..<images {
            let image = SyntheticImage.bytes(shape: quantized.network.input, seed: 300 + UInt64(index))
            let logits = try HostReference.run(quantized, pixels: image).last ?? []
            var best = 0
            for (k, v) in logits.enumerated() where v > logits[best] { best = k }
            pixels += image
            labels.append(index % 4 == 3 ? (best + 1) % logits.count : best)
        }
        return try LabelledDataset(path: "synthetic", shape: quantized.network.input, pixels: pixels, labels: labels)
    }

    @Test func evaluationCountsShardsAndChecksTheTarget() throws {
        let prepared = try Self.prepared(.mixpc)
        let quantized = try #require(prepared.quantized)
        let data = try Self.dataset(for: quantized, images: 24)
        let whole = try Evaluator.evaluate(EvaluationRequest(prepared: prepared, dataset: data, targetImages: 3, jobs: 2),
                                           toolchain: Toolchain.locate())
        #expect(whole.images == 24 && whole.integer.top1 == 18)
        #expect(whole.top1 == 0.75)
        #expect(whole.targetImages == 3 && whole.targetBitExact == true)
        #expect(whole.deployment?.bitExact == true && whole.deployment?.imagesChecked == 3)
        #expect(whole.float != nil && whole.floatReference.hasPrefix("float"))

        var shards: [EvaluationResult] = []
        for index in 1...3 {
            shards.append(try Evaluator.evaluate(EvaluationRequest(prepared: prepared, dataset: data, shard: DatasetShard(index: index, count: 3),
                                                                   targetImages: 0, jobs: 1, floatReference: false), toolchain: nil))
        }
        #expect(shards.map(\.images).reduce(0, +) == 24)
        #expect(shards.map(\.integer.top1).reduce(0, +) == 18)
        #expect(shards[1].fileName == "\(whole.model)__mixpc.eval-2-of-3.json")
        let limited = try Evaluator.evaluate(EvaluationRequest(prepared: prepared, dataset: data, limit: 8, targetImages: 0,
                                                               floatReference: false), toolchain: nil)
        #expect(limited.images == 8 && limited.integer.top1 == 6)
    }

    @Test func aDatasetOfTheWrongShapeOrClassesIsRejected() throws {
        let prepared = try Self.prepared(.mixpc)
        let wrongShape = try LabelledDataset(path: "d", shape: TensorShape(height: 28, width: 28, channels: 1),
                                             pixels: [UInt8](repeating: 0, count: 784), labels: [1])
        #expect(throws: EvaluationError.datasetMismatch("the images are 28x28x1, the network mnist_mobilenet_v1_0.25_32 takes 32x32x1")) {
            try Evaluator.evaluate(EvaluationRequest(prepared: prepared, dataset: wrongShape, targetImages: 0), toolchain: nil)
        }
        let wrongLabel = try LabelledDataset(path: "d", shape: TensorShape(height: 32, width: 32, channels: 1),
                                             pixels: [UInt8](repeating: 0, count: 1024), labels: [10])
        #expect(throws: EvaluationError.datasetMismatch("label 10 of image 0 is not one of the network's 10 classes")) {
            try Evaluator.evaluate(EvaluationRequest(prepared: prepared, dataset: wrongLabel, targetImages: 0), toolchain: nil)
        }
        #expect(throws: EvaluationError.invalidShard("3/2")) { try DatasetShard(parsing: "3/2") }
    }

    @Test func resultJSONHasTheContractKeys() throws {
        let prepared = try Self.prepared(.mixpc)
        let data = try Self.dataset(for: try #require(prepared.quantized), images: 4)
        let result = try Evaluator.evaluate(EvaluationRequest(prepared: prepared, dataset: data, targetImages: 0), toolchain: nil)
        let object = try #require(try JSONSerialization.jsonObject(with: result.json()) as? [String: Any])
        for key in ["top1", "top5", "float_top1", "images", "target_images", "target_bit_exact", "input_preprocessing", "model_source"] {
            #expect(object.keys.contains(key), "missing \(key)")
        }
        #expect(object["top1"] as? Double == 0.75)
        let decoded = try EvaluationResult.decode(result.json())
        #expect(decoded.integer == result.integer && decoded.shard == result.shard)
    }
}
