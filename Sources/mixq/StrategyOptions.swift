import ArgumentParser
import Deployment
import Evaluation
import Foundation

/// `--strategy`, `--search-images` and `--calibration` of plan, deploy and eval: how a float
/// model's bits and ranges are chosen (docs/design.md, "Accuracy-aware search").
struct StrategyOptions: ParsableArguments {
    @Option(help: "How bits are chosen: paper (the memory-driven rule of the paper) or sensitivity (cut the tensors that cost the least accuracy per byte, measured on --dataset images; needs --dataset).")
    var strategy: String = PlanningStrategy.paper.rawValue

    @Option(help: "With --strategy sensitivity: N images spread evenly over --dataset (every (count/N)-th) calibrate the ranges and measure every candidate cut; accuracy is scored on the other images.")
    var searchImages: Int = StrategyOptions.defaultSearchImages

    @Option(help: "Calibration of a float model's ranges: minmax (ReLU6 clip [0, 6], min/max weights: the paper's) or mse (tensors below 8 bits clipped at their MSE-optimal range, bias correction of layers with sub-byte weights). Default: minmax under --strategy paper, mse under sensitivity.")
    var calibration: String?

    static let defaultSearchImages = 300

    func validate() throws {
        guard PlanningStrategy(rawValue: strategy) != nil else {
            throw ValidationError("--strategy must be paper or sensitivity (got \(strategy))")
        }
        if let calibration, CalibrationMethod(rawValue: calibration) == nil {
            throw ValidationError("--calibration must be minmax or mse (got \(calibration))")
        }
        guard searchImages >= 1 else { throw ValidationError("--search-images must be at least 1") }
    }

    var planningStrategy: PlanningStrategy { PlanningStrategy(rawValue: strategy) ?? .paper }
    var method: CalibrationMethod { calibration.flatMap(CalibrationMethod.init(rawValue:)) ?? planningStrategy.defaultCalibration }

    /// The images of `dataset` the search calibrates and searches on (none under `paper`).
    func searchIndices(of dataset: LabelledDataset) -> [Int] {
        planningStrategy == .sensitivity ? Self.searchIndices(of: dataset, searchImages: searchImages) : []
    }

    /// Sets the strategy and calibration of `request`; under `sensitivity` runs the search (see
    /// `StrategyOptions.apply(_:method:searchImages:to:dataset:jobs:log:)`).
    func apply(to request: inout DeploymentRequest, dataset: LabelledDataset?, jobs: Int = ProcessInfo.processInfo.activeProcessorCount,
               log: (String) -> Void = { _ in }) throws -> SensitivitySearch.Result? {
        try Self.apply(planningStrategy, method: method, searchImages: searchImages, to: &request, dataset: dataset, jobs: jobs, log: log)
    }

    /// The images of `dataset` the search calibrates and searches on: `searchImages` of them (at most all
    /// but one) spread evenly, the last of every `count / searchImages`, so a dataset sorted by class
    /// gives every class its share.
    static func searchIndices(of dataset: LabelledDataset, searchImages: Int) -> [Int] {
        let count = dataset.count, n = min(searchImages, max(count - 1, 0))
        return n == 0 ? [] : (0..<n).map { ($0 + 1) * count / n - 1 }
    }

    /// Sets the strategy and calibration of `request`; under `sensitivity` runs the search on
    /// `searchIndices(of:searchImages:)` of `dataset` and makes its plan, calibration images and statistics the request's.
    /// - Returns: the search, under `sensitivity`.
    static func apply(_ strategy: PlanningStrategy, method: CalibrationMethod, searchImages: Int, to request: inout DeploymentRequest,
                      dataset: LabelledDataset?, jobs: Int, log: (String) -> Void = { _ in }) throws -> SensitivitySearch.Result? {
        request.strategy = strategy
        request.calibrationMethod = method
        guard strategy == .sensitivity else { return nil }
        guard let dataset else {
            throw CommandFailure(message: "--strategy sensitivity needs --dataset: the images it measures every candidate cut on")
        }
        guard dataset.shape == request.network.input else {
            throw CommandFailure(message: "--strategy sensitivity: the images of \(dataset.path) are \(dataset.shape), "
                                 + "\(request.network.name) takes \(request.network.input)")
        }
        // A TFLite file under MixQ's own arithmetic is searched as the float model of its dequantized weights.
        let requantized = request.model?.quantization.map {
            Deployer.usesMixQArithmetic($0, scheme: request.scheme, flavour: request.flavour)
        }
        guard requantized ?? true else {
            throw CommandFailure(message: "--strategy sensitivity plans float models; \(request.network.name) states its own bit-widths")
        }
        let images = try searchIndices(of: dataset, searchImages: searchImages).map { index throws(DatasetError) in try dataset.image(index) }
        let model = try request.model ?? FloatModel.synthetic(network: request.network, seed: request.seed)
        var searched = model
        searched.quantization = nil
        let result: SensitivitySearch.Result
        do {
            result = try SensitivitySearch.search(searched, budget: request.budget, scheme: request.scheme, flavour: request.flavour,
                                                  options: .init(images: images, calibration: method, jobs: jobs), log: log)
        } catch {
            throw CommandFailure(error)
        }
        request.model = model
        request.chosenPlan = result.plan
        request.calibration = images
        request.calibrationStatistics = result.statistics
        return result
    }

    /// The lines `plan` prints about a search: every cut and undo, then the totals.
    static func render(_ search: SensitivitySearch.Result, dataset: LabelledDataset) -> String {
        var lines = ["sensitivity search on \(search.images) images of \(dataset.path) spread over it (calibration and search; "
                     + "the other \(dataset.count - search.images) are left for scoring):"]
        for event in search.events {
            lines.append("  [\(event.kind == .cut ? "round \(event.round)" : "undo")] \(event.summary): \(event.reason)")
        }
        lines.append(String(format: "search: KL from the float network %.4f (all 8-bit) -> %.4f; argmax agreement %.1f%% -> %.1f%%; "
                            + "%d candidate plans measured in %.1f s (%.1f s of processor time on %d threads)",
                            search.initialLoss, search.finalLoss, search.initialAgreement * 100, search.finalAgreement * 100,
                            search.evaluations, search.seconds, search.cpuSeconds, ProcessInfo.processInfo.activeProcessorCount))
        return lines.joined(separator: "\n")
    }
}
