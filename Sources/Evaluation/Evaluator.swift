import Deployment
import Dispatch
import Emulator
import FirmwareBuild
import Foundation
import Planning
import Quantization

/// Which images of a dataset one evaluation covers: the first `limit` (all when nil), of those
/// every `count`-th starting at `index - 1` (shard `index` of `count`, 1-based), so shards
/// partition the images and their counts add up.
public struct DatasetShard: Sendable, Hashable, Codable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    public static let whole = DatasetShard(index: 1, count: 1)

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// Parses `i/n` with `1 <= i <= n`.
    public init(parsing text: String) throws(EvaluationError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, (1...n).contains(i) else {
            throw .invalidShard(text)
        }
        self.init(index: i, count: n)
    }

    /// The image indices of this shard among the first `total`.
    public func indices(total: Int) -> [Int] { Array(stride(from: index - 1, to: total, by: count)) }

    public var description: String { "\(index)/\(count)" }
}

/// What to evaluate and how.
public struct EvaluationRequest: Sendable {
    /// The planned and quantized deployment (`Deployer.prepare`).
    public var prepared: PreparedDeployment
    public var dataset: LabelledDataset
    /// Evaluate only the first `limit` images (all when nil).
    public var limit: Int?
    public var shard: DatasetShard
    /// Images of the shard that also run on the emulated target and must match the host
    /// reference byte for byte (0 skips the target).
    public var targetImages: Int
    /// Worker threads for the host evaluation.
    public var jobs: Int
    /// Also run the float (and fake-quantized) reference on every image.
    public var floatReference: Bool
    /// When set, receives every scored image's integer output (`mixq eval --outputs`).
    public var outputs: OutputCollector?
    /// Images not scored (those a sensitivity search calibrated and searched on).
    public var excluded: Set<Int> = []

    public init(prepared: PreparedDeployment, dataset: LabelledDataset, limit: Int? = nil, shard: DatasetShard = .whole,
                targetImages: Int = 20, jobs: Int = ProcessInfo.processInfo.activeProcessorCount, floatReference: Bool = true) {
        self.prepared = prepared
        self.dataset = dataset
        self.limit = limit
        self.shard = shard
        self.targetImages = targetImages
        self.jobs = jobs
        self.floatReference = floatReference
    }
}

/// Every scored image's integer output, gathered from the evaluation's worker threads.
public final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var byIndex: [Int: [UInt8]] = [:]
    /// What the codes mean, set by the evaluation.
    private var quantization = TensorQuantization(scale: 1, zeroPoint: 0, bits: .eight)
    private var fileType: TFLiteTensorType?
    private var shape: [Int] = []

    public init() {}

    func describe(quantization: TensorQuantization, fileType: TFLiteTensorType?, output: TensorShape) {
        lock.lock()
        defer { lock.unlock() }
        self.quantization = quantization
        self.fileType = fileType
        shape = output.height == 1 && output.width == 1 ? [output.channels]
            : output.height == 1 ? [output.width, output.channels] : [output.height, output.width, output.channels]
    }

    /// The outputs as a `.npy` file, N first: a TFLite file's output type (int8 or uint8, the
    /// values its final operator writes); for other models float32, dequantized from the
    /// integer output (`scale * (code - zero point)`).
    public func npyFile() -> Data {
        let rows = outputs
        lock.lock()
        defer { lock.unlock() }
        let dims = [rows.count] + shape
        switch fileType {
        case .int8: return NumPyArray.file(dtype: "|i1", shape: dims, payload: rows.flatMap { $0.codes.map { $0 ^ 0x80 } })
        case .uint8: return NumPyArray.file(dtype: "|u1", shape: dims, payload: rows.flatMap(\.codes))
        case nil:
            let payload = rows.flatMap { row in
                row.codes.flatMap { code -> [UInt8] in
                    let bits = Float(quantization.real(Int(code))).bitPattern.littleEndian
                    return withUnsafeBytes(of: bits) { Array($0) }
                }
            }
            return NumPyArray.file(dtype: "<f4", shape: dims, payload: payload)
        }
    }

    func store(_ codes: [Int32], index: Int) {
        let bytes = codes.map { UInt8(clamping: $0) }
        lock.lock()
        byIndex[index] = bytes
        lock.unlock()
    }

    /// The outputs in dataset order, each as codes (one byte per element).
    public var outputs: [(index: Int, codes: [UInt8])] {
        lock.lock()
        defer { lock.unlock() }
        return byIndex.keys.sorted().map { ($0, byIndex[$0] ?? []) }
    }
}

/// Counts of one evaluation: how many images and how many had the label among the top 1 / top 5.
public struct TopKCounts: Sendable, Hashable, Codable {
    public var top1: Int = 0
    public var top5: Int = 0

    public init(top1: Int = 0, top5: Int = 0) {
        self.top1 = top1
        self.top5 = top5
    }

    mutating func add(_ scores: [Float], label: Int) {
        let (inTop1, inTop5) = TopK.contains(scores, label: label)
        if inTop1 { top1 += 1 }
        if inTop5 { top5 += 1 }
    }

    static func + (a: TopKCounts, b: TopKCounts) -> TopKCounts { TopKCounts(top1: a.top1 + b.top1, top5: a.top5 + b.top5) }
}

/// Top-k membership with a deterministic tie rule: a score ranks above another if it is larger,
/// or equal with a lower class index (integer logits tie more often than float ones).
public enum TopK {
    public static func contains(_ scores: [Float], label: Int) -> (top1: Bool, top5: Bool) {
        guard scores.indices.contains(label) else { return (false, false) }
        let target = scores[label]
        var above = 0
        for (index, score) in scores.enumerated() where score > target || (score == target && index < label) {
            above += 1
        }
        return (above == 0, above < 5)
    }

    /// The Top-1 class of integer outputs: the first index of the largest value (the order
    /// `contains` ranks ties in); nil for an empty output.
    public static func first(_ outputs: [Int32]) -> Int? {
        outputs.indices.max { a, b in (outputs[a], b) < (outputs[b], a) }
    }
}

/// Top-1 and Top-5 of the integer-only network on a labelled dataset, measured on the Swift
/// host reference (bit-exact with the kernels), beside the float network's, with a sample of
/// the images run on the emulated STM32H743 as a check.
public enum Evaluator {
    /// Evaluates `request`; `progress` receives `(images done, images total)` from time to time.
    /// - Throws: `EvaluationError` when the dataset does not match the network or the target's
    ///   output differs from the host reference; the Deployer's errors from the target run.
    public static func evaluate(_ request: EvaluationRequest, toolchain: Toolchain?,
                                progress: @Sendable (Int, Int) -> Void = { _, _ in },
                                deploymentProgress: (String) -> Void = { _ in }) throws -> EvaluationResult {
        let prepared = request.prepared
        guard let quantized = prepared.quantized, let model = prepared.model else {
            throw EvaluationError.doesNotFit(prepared.plan.networkName)
        }
        let network = quantized.network
        // Float inputs (a float-input TFLite file's) become the input's codes as its QUANTIZE makes them.
        let dataset = request.dataset.quantizingFloatInputs(with: model.input.quantization)
        guard dataset.shape == network.input else {
            throw EvaluationError.datasetMismatch("the images are \(dataset.shape), the network \(network.name) takes \(network.input)")
        }
        let classes = network.output.elementCount
        if let bad = dataset.labels.firstIndex(where: { $0 >= classes }) {
            throw EvaluationError.datasetMismatch("label \(dataset.labels[bad]) of image \(bad) is not one of the network's \(classes) classes")
        }
        let total = min(request.limit ?? dataset.count, dataset.count)
        let indices = request.shard.indices(total: total).filter { !request.excluded.contains($0) }
        guard !indices.isEmpty else { throw EvaluationError.noImages(total: total, shard: request.shard.description) }

        let compiled = CompiledNetwork(quantized)
        let fileCompiled = prepared.fileNetwork.map(CompiledNetwork.init)
        request.outputs?.describe(quantization: quantized.logits,
                                  fileType: model.quantization.flatMap { $0.arithmetic == .tflite && !$0.floatOutput ? $0.tfliteType : nil },
                                  output: network.output)
        let isTrained = model.quantization != nil
        let jobs = max(1, min(request.jobs, indices.count))
        let partials = PartialCounts(workers: jobs)
        let started = DispatchTime.now()
        DispatchQueue.concurrentPerform(iterations: jobs) { worker in
            var counts = WorkerCounts()
            var done = 0
            for position in stride(from: worker, to: indices.count, by: jobs) {
                let index = indices[position]
                // An unlabelled set (inputs.npy alone) scores nothing: label -1 is in no top k.
                let label = dataset.hasLabels ? dataset.labels[index] : -1
                let pixels: [UInt8]
                do throws(DatasetError) {
                    pixels = try dataset.image(index)
                } catch {
                    // A file of an image folder that cannot be decoded ends every worker's loop.
                    partials.fail(error)
                    break
                }
                if partials.failure != nil { break }
                let codes = model.input.encode(pixels)
                let output = compiled.logits(codes)
                request.outputs?.store(output, index: index)
                counts.integer.add(output.map(Float.init), label: label)
                if let fileCompiled {
                    let fileOutput = fileCompiled.logits(codes)
                    counts.fileInteger.add(fileOutput.map(Float.init), label: label)
                    if TopK.first(output) == TopK.first(fileOutput) { counts.fileAgreement += 1 }
                }
                if request.floatReference {
                    let fake = FloatReference.runFakeQuantized(quantized, pixels: codes)
                    counts.fakeQuantized.add(fake.logits, label: label)
                    if !isTrained {
                        counts.float.add(FloatReference.run(model, image: model.input.real(pixels)).logits, label: label)
                    }
                }
                done += 1
                if done % 16 == 0 { progress(partials.advance(by: 16), indices.count) }
            }
            progress(partials.advance(by: done % 16), indices.count)
            partials.store(counts, worker: worker)
        }
        let hostSeconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        if let failure = partials.failure { throw failure }
        let counts = partials.total

        var result = EvaluationResult(
            model: network.name, scheme: prepared.request.schemeLabel,
            flavours: Array(Set(prepared.plan.layers.map(\.flavour.rawValue))).sorted(),
            dataset: dataset.path, datasetImages: dataset.count, limit: request.limit, shard: request.shard,
            images: indices.count, integer: counts.integer,
            float: request.floatReference ? (isTrained ? counts.fakeQuantized : counts.float) : nil,
            fakeQuantized: request.floatReference ? counts.fakeQuantized : nil,
            floatReference: !isTrained ? "float (unquantized)"
                : (model.quantization?.floatActivations.isEmpty ?? true) ? "fake-quantized (the file's trained quantization in float)"
                : "fake-quantized (the file's trained weights, MixQ's calibrated activations, in float)",
            inputPreprocessing: (dataset.imageFolder.map { "\($0.preprocessing); " } ?? "") + model.input.description, modelSource: prepared.request.modelSource ?? "synthetic weights",
            targetImages: 0, targetBitExact: nil, hostSeconds: hostSeconds, hostImagesPerSecond: Double(indices.count) / hostSeconds,
            hostMacsPerSecond: Double(indices.count * compiled.multiplyAccumulates) / hostSeconds, deployment: nil)

        result.labelled = dataset.hasLabels
        if fileCompiled != nil {
            result.fileInteger = counts.fileInteger
            result.fileAgreement = counts.fileAgreement
        }
        result.strategy = prepared.request.strategy.rawValue
        let targetCount = min(request.targetImages, indices.count)
        if targetCount > 0 {
            guard let toolchain else { throw EvaluationError.noToolchain }
            var deployment = prepared
            deployment.request.images = try indices.prefix(targetCount).map { index throws(DatasetError) in try dataset.image(index) }
            let outcome = try Deployer.run(deployment, toolchain: toolchain, progress: deploymentProgress)
            result.targetImages = targetCount
            result.targetBitExact = outcome.bitExact ?? false
            result.deployment = outcome
            guard outcome.bitExact == true else {
                throw EvaluationError.targetMismatch(model: network.name, images: targetCount)
            }
        }
        return result
    }

    struct WorkerCounts {
        var integer = TopKCounts()
        var float = TopKCounts()
        var fakeQuantized = TopKCounts()
        var fileInteger = TopKCounts()
        var fileAgreement = 0
    }

    /// Per-worker results and a shared progress count.
    final class PartialCounts: @unchecked Sendable {
        private let lock = NSLock()
        private var counts: [WorkerCounts]
        private var done = 0
        private var firstFailure: DatasetError?

        init(workers: Int) { counts = Array(repeating: WorkerCounts(), count: workers) }

        /// Records the first image that could not be read; the others stop at their next image.
        func fail(_ error: DatasetError) {
            lock.lock()
            if firstFailure == nil { firstFailure = error }
            lock.unlock()
        }

        var failure: DatasetError? {
            lock.lock()
            defer { lock.unlock() }
            return firstFailure
        }

        func advance(by images: Int) -> Int {
            lock.lock()
            defer { lock.unlock() }
            done += images
            return done
        }

        func store(_ value: WorkerCounts, worker: Int) {
            lock.lock()
            counts[worker] = value
            lock.unlock()
        }

        var total: WorkerCounts {
            lock.lock()
            defer { lock.unlock() }
            return counts.reduce(into: WorkerCounts()) { sum, next in
                sum.integer = sum.integer + next.integer
                sum.float = sum.float + next.float
                sum.fakeQuantized = sum.fakeQuantized + next.fakeQuantized
                sum.fileInteger = sum.fileInteger + next.fileInteger
                sum.fileAgreement += next.fileAgreement
            }
        }
    }
}

/// Why an evaluation could not run or did not hold.
public enum EvaluationError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidShard(String)
    case datasetMismatch(String)
    case noImages(total: Int, shard: String)
    case doesNotFit(String)
    case noToolchain
    case targetMismatch(model: String, images: Int)

    public var description: String {
        switch self {
        case .invalidShard(let text): return "--shard must be i/n with 1 <= i <= n, got '\(text)'"
        case .datasetMismatch(let reason): return "the dataset does not fit the network: \(reason)"
        case .noImages(let total, let shard): return "shard \(shard) of \(total) images holds no image"
        case .doesNotFit(let model): return "\(model) does not fit the budgets, so it cannot be evaluated"
        case .noToolchain: return "running images on the target needs arm-none-eabi-gcc (toolchain/setup.sh installs it)"
        case .targetMismatch(let model, let images):
            return "\(model): the on-target output differs from the host reference on at least one of \(images) images; "
                + "the accuracy measured on the host does not describe the target"
        }
    }
}
