import Deployment
import Foundation
import ModelImport
import Planning
import Quantization
import Testing
@testable import Evaluation

/// The accuracy-aware search (docs/design.md, "Accuracy-aware search") on the committed float digit
/// model: its plans meet the budgets under the planner's own accounting, and on images it never saw it
/// keeps more accuracy than the paper's rule with min/max calibration.
@Suite(.serialized) struct SensitivitySearchTests {
    static let root = TrainedExampleTests.root

    static func floatModel() throws -> ModelReference {
        try ModelReference(root.appendingPathComponent("data/models/mnist_mobilenet_v1_0.25_32__float.onnx").path)
    }

    /// Integer-only Top-1 of `request` on the images of `data` not in `excluded`.
    static func top1(_ request: DeploymentRequest, data: LabelledDataset, excluded: [Int]) throws -> Double {
        let prepared = try Deployer.prepare(request)
        var evaluation = EvaluationRequest(prepared: prepared, dataset: data, targetImages: 0, jobs: 2, floatReference: false)
        evaluation.excluded = Set(excluded)
        let result = try Evaluator.evaluate(evaluation, toolchain: nil)
        #expect(result.images == data.count - excluded.count)
        return result.top1
    }

    @Test(arguments: [QuantizationScheme.mixpl, .mixpc])
    func searchFitsTheBudgetsAndBeatsThePaperRuleOnUnseenImages(scheme: QuantizationScheme) throws {
        let reference = try Self.floatModel()
        guard let model = reference.model else { Issue.record("no float model"); return }
        let data = try TrainedExampleTests.testSet()
        let budget = try MemoryBudget(flash: 96_000, ram: 3_000)
        // Search on every 10th image (the set is sorted by class), score on the other 900.
        let searchIndices = stride(from: 9, to: 1000, by: 10).map { $0 }
        let searchImages = try searchIndices.map { try data.image($0) }
        let search = try SensitivitySearch.search(model, budget: budget, scheme: scheme,
                                                  options: .init(images: searchImages, jobs: 2))
        let plan = search.plan
        #expect(plan.fits)
        // The planner's accounting of the same bits.
        let recount = try BitWidthPlanner.fixed(reference.network, activationBits: [plan.layers[0].inputBits] + plan.layers.map(\.outputBits),
                                                weightBits: plan.layers.map(\.weightBits), budget: budget, scheme: scheme)
        #expect(recount.flashBytes == plan.flashBytes && recount.peakActivationBytes == plan.peakActivationBytes && recount.fits)
        #expect(plan.layers[0].inputBits == .eight && plan.layers.last?.outputBits == .eight)
        #expect(!plan.cuts.isEmpty && plan.cuts.allSatisfy { if case .search = $0.step { true } else { false } })
        #expect(plan.cuts.allSatisfy { $0.reason.contains("KL") && $0.reason.contains("saves") })

        var searched = DeploymentRequest(network: reference.network, scheme: scheme, budget: budget, model: model)
        searched.chosenPlan = plan
        searched.calibration = searchImages
        searched.calibrationMethod = .mse
        searched.calibrationStatistics = search.statistics
        var paper = DeploymentRequest(network: reference.network, scheme: scheme, budget: budget, model: model)
        paper.calibration = searchImages
        let searchedTop1 = try Self.top1(searched, data: data, excluded: searchIndices)
        let paperTop1 = try Self.top1(paper, data: data, excluded: searchIndices)
        print("\(scheme) 96k/3k on 900 unseen images: sensitivity \(searchedTop1), paper \(paperTop1); "
              + "\(search.evaluations) candidates in \(search.seconds) s")
        #expect(searchedTop1 > paperTop1 + 0.1)
    }

    @Test func searchNeedsImagesAndAFloatModel() throws {
        let reference = try Self.floatModel()
        guard let model = reference.model else { Issue.record("no float model"); return }
        #expect(throws: SensitivitySearch.SearchError.self) {
            try SensitivitySearch.search(model, budget: try MemoryBudget(flash: 96_000, ram: 3_000), scheme: .mixpc,
                                         options: .init(images: []))
        }
        // Budgets nothing meets: the paper planner's diagnosis.
        #expect(throws: PlanningError.self) {
            try SensitivitySearch.search(model, budget: try MemoryBudget(flash: 1_000, ram: 3_000), scheme: .mixpc,
                                         options: .init(images: [[UInt8](repeating: 0, count: 1024)]))
        }
    }

    /// A graph (the ResNet-8 TFLite file's residual network, its dequantized weights as a float
    /// model): the search counts the tensors alive at each step, as the planner does on graphs, and
    /// its plan fits under the planner's own accounting and quantizes with MixQ's graph steps.
    @Test func searchPlansAResidualGraph() throws {
        let imported = try TFLiteImporter.load(contentsOf: FileRequantizationTests.fixtures.appendingPathComponent("resnet8_int8.tflite"))
        var model = imported.model
        model.quantization = nil
        let inputs = try NumPyArray(contentsOf: FileRequantizationTests.fixtures.appendingPathComponent("resnet8_int8.inputs.npy"))
        let size = inputs.count / inputs.shape[0]
        let images = (0..<4).map { n in inputs.values[(n * size)..<((n + 1) * size)].map { UInt8($0 + 128) } }
        let int8 = try BitWidthPlanner.plan(imported.network.withoutFinalSoftmax, budget: MemoryBudget(flash: 1 << 30, ram: 1 << 30),
                                            scheme: .int8)
        let budget = try MemoryBudget(flash: int8.flashBytes * 7 / 10, ram: int8.peakActivationBytes * 7 / 10)
        let search = try SensitivitySearch.search(model, budget: budget, scheme: .mixpc, options: .init(images: images, jobs: 2))
        let plan = search.plan
        #expect(plan.fits)
        #expect(!plan.cuts.isEmpty && plan.cuts.allSatisfy { $0.reason.contains("KL") })
        // The planner's accounting of the same bits, one width per activation group.
        let network = imported.network.withoutFinalSoftmax
        var groupBits = [BitWidth](repeating: .eight, count: BitWidthPlanner.activationGroupCount(network))
        for (tensor, group) in BitWidthPlanner.activationGroups(network).enumerated() { groupBits[group] = plan.tensorBits[tensor] }
        let recount = try BitWidthPlanner.fixed(network, activationBits: groupBits, weightBits: plan.layers.map(\.weightBits),
                                                budget: budget, scheme: .mixpc)
        #expect(recount.fits && recount.peakActivationBytes == plan.peakActivationBytes && recount.flashBytes == plan.flashBytes)
        #expect(plan.tensorBits.first == .eight && plan.tensorBits.last == .eight)
        var request = DeploymentRequest(network: imported.network, scheme: .mixpc, budget: budget, model: imported.model)
        request.chosenPlan = plan
        request.calibration = images
        request.calibrationMethod = .mse
        request.calibrationStatistics = search.statistics
        let prepared = try Deployer.prepare(request)
        #expect(prepared.quantized?.steps.contains { if case .add = $0 { return true } else { return false } } == true)
        print("resnet8 search at 70%: bits \(plan.tensorBits.map(\.bits)), weights \(plan.layers.map(\.weightBits.bits)), "
              + "KL \(search.initialLoss) -> \(search.finalLoss), \(search.evaluations) candidates in \(search.seconds) s")
    }
}
