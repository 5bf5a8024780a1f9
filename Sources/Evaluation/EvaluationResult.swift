import Deployment
import Foundation

/// What one evaluation measured. Its JSON (snake_case keys) is the contract of
/// `mixq eval --json` and of the `<model>__<scheme>.eval[-i-of-n].json` files `mixq eval --out`
/// writes for `mixq report` (docs/results-format.md).
public struct EvaluationResult: Sendable, Codable {
    public var model: String
    /// The scheme (or the one flavour every layer used, e.g. `pc_icn` for a QONNX file).
    public var scheme: String
    /// The requantization flavours the layers used.
    public var flavours: [String]
    /// The dataset folder.
    public var dataset: String
    /// Images in the dataset.
    public var datasetImages: Int
    /// `--limit`: only the first `limit` images were considered.
    public var limit: Int?
    public var shard: DatasetShard
    /// Images this evaluation (this shard) scored.
    public var images: Int
    /// Counts of the integer-only network (Swift host reference, bit-exact with the kernels).
    public var integer: TopKCounts
    /// Counts of the float reference: the unquantized network for a float model, the
    /// fake-quantized one for a QONNX model (what its training measured).
    public var float: TopKCounts?
    /// Counts of the fake-quantized network (every tensor at its bits, batch-norm in float).
    public var fakeQuantized: TopKCounts?
    /// What `float` is.
    public var floatReference: String
    /// How pixels became the network's input (`InputEncoding.description`).
    public var inputPreprocessing: String
    /// Where the weights came from.
    public var modelSource: String
    /// Images that also ran on the emulated STM32H743.
    public var targetImages: Int
    /// Whether every one of them matched the host reference byte for byte (nil: none ran).
    public var targetBitExact: Bool?
    /// Host evaluation wall time and speed (not a timed target figure: the host's own).
    public var hostSeconds: Double
    public var hostImagesPerSecond: Double
    public var hostMacsPerSecond: Double
    /// The target run (cycles, memory, conditions), when images ran on the target.
    public var deployment: DeploymentResult?
    /// How the bits were chosen (`paper`, `sensitivity`); nil in files from before strategies.
    public var strategy: String?
    /// Images at the end of the dataset that calibrated and searched the plan and were not scored
    /// (the sensitivity strategy); nil when none were held out.
    public var searchImages: Int?
    /// Top-1/Top-5 of a TFLite file's own integer network on the same images, when MixQ
    /// re-quantized the file (`PreparedDeployment.fileNetwork`); nil otherwise.
    public var fileInteger: TopKCounts?
    /// Images on which the integer network's Top-1 class equals the file's own network's (with
    /// `fileInteger`; measured with or without labels).
    public var fileAgreement: Int?

    /// Top-1 of the integer network, a fraction in 0...1.
    public var top1: Double { fraction(integer.top1) }
    public var top5: Double { fraction(integer.top5) }
    public var floatTop1: Double? { float.map { fraction($0.top1) } }
    public var floatTop5: Double? { float.map { fraction($0.top5) } }
    public var fakeQuantizedTop1: Double? { fakeQuantized.map { fraction($0.top1) } }
    /// Top-1 of the file's own integer network (`fileInteger`).
    public var fileIntegerTop1: Double? { fileInteger.map { fraction($0.top1) } }

    func fraction(_ count: Int) -> Double { images > 0 ? Double(count) / Double(images) : 0 }

    /// The file name `mixq eval --out` writes: `<model>__<scheme>.eval.json`, or with
    /// `-<i>-of-<n>` for shard i of n.
    public var fileName: String { Self.fileName(model: model, scheme: scheme, shard: shard) }

    /// The evaluation file of `model` under `scheme` for `shard`.
    /// Whether the dataset had labels; without them (`inputs.npy` alone) Top-1 and Top-5 are
    /// not measured and their counts are 0.
    public var labelled = true

    public static func fileName(model: String, scheme: String, shard: DatasetShard = .whole) -> String {
        "\(model)__\(scheme).eval" + (shard.count > 1 ? "-\(shard.index)-of-\(shard.count)" : "") + ".json"
    }

    enum CodingKeys: String, CodingKey {
        case model, scheme, flavours, dataset, datasetImages, limit, shard, images, integer, float, fakeQuantized,
             floatReference, inputPreprocessing, modelSource, targetImages, targetBitExact, hostSeconds,
             hostImagesPerSecond, hostMacsPerSecond, deployment, labelled, strategy, searchImages, fileInteger, fileAgreement
        case top1, top5, floatTop1, floatTop5, fakeQuantizedTop1, fileIntegerTop1
    }

    public init(model: String, scheme: String, flavours: [String], dataset: String, datasetImages: Int, limit: Int?,
                shard: DatasetShard, images: Int, integer: TopKCounts, float: TopKCounts?, fakeQuantized: TopKCounts?,
                floatReference: String, inputPreprocessing: String, modelSource: String, targetImages: Int,
                targetBitExact: Bool?, hostSeconds: Double, hostImagesPerSecond: Double, hostMacsPerSecond: Double,
                deployment: DeploymentResult?) {
        self.model = model
        self.scheme = scheme
        self.flavours = flavours
        self.dataset = dataset
        self.datasetImages = datasetImages
        self.limit = limit
        self.shard = shard
        self.images = images
        self.integer = integer
        self.float = float
        self.fakeQuantized = fakeQuantized
        self.floatReference = floatReference
        self.inputPreprocessing = inputPreprocessing
        self.modelSource = modelSource
        self.targetImages = targetImages
        self.targetBitExact = targetBitExact
        self.hostSeconds = hostSeconds
        self.hostImagesPerSecond = hostImagesPerSecond
        self.hostMacsPerSecond = hostMacsPerSecond
        self.deployment = deployment
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(model: try c.decode(String.self, forKey: .model), scheme: try c.decode(String.self, forKey: .scheme),
                  flavours: try c.decode([String].self, forKey: .flavours), dataset: try c.decode(String.self, forKey: .dataset),
                  datasetImages: try c.decode(Int.self, forKey: .datasetImages), limit: try c.decodeIfPresent(Int.self, forKey: .limit),
                  shard: try c.decode(DatasetShard.self, forKey: .shard), images: try c.decode(Int.self, forKey: .images),
                  integer: try c.decode(TopKCounts.self, forKey: .integer), float: try c.decodeIfPresent(TopKCounts.self, forKey: .float),
                  fakeQuantized: try c.decodeIfPresent(TopKCounts.self, forKey: .fakeQuantized),
                  floatReference: try c.decode(String.self, forKey: .floatReference),
                  inputPreprocessing: try c.decode(String.self, forKey: .inputPreprocessing),
                  modelSource: try c.decode(String.self, forKey: .modelSource), targetImages: try c.decode(Int.self, forKey: .targetImages),
                  targetBitExact: try c.decodeIfPresent(Bool.self, forKey: .targetBitExact),
                  hostSeconds: try c.decode(Double.self, forKey: .hostSeconds),
                  hostImagesPerSecond: try c.decode(Double.self, forKey: .hostImagesPerSecond),
                  hostMacsPerSecond: try c.decode(Double.self, forKey: .hostMacsPerSecond),
                  deployment: try c.decodeIfPresent(DeploymentResult.self, forKey: .deployment))
        labelled = try c.decodeIfPresent(Bool.self, forKey: .labelled) ?? true
        strategy = try c.decodeIfPresent(String.self, forKey: .strategy)
        searchImages = try c.decodeIfPresent(Int.self, forKey: .searchImages)
        fileInteger = try c.decodeIfPresent(TopKCounts.self, forKey: .fileInteger)
        fileAgreement = try c.decodeIfPresent(Int.self, forKey: .fileAgreement)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        // Written only for an unlabelled set, whose Top-1/Top-5 counts are not measurements.
        if !labelled { try c.encode(labelled, forKey: .labelled) }
        try c.encode(scheme, forKey: .scheme)
        try c.encode(flavours, forKey: .flavours)
        try c.encode(dataset, forKey: .dataset)
        try c.encode(datasetImages, forKey: .datasetImages)
        try c.encode(limit, forKey: .limit)
        try c.encode(shard, forKey: .shard)
        try c.encode(images, forKey: .images)
        try c.encode(integer, forKey: .integer)
        try c.encode(float, forKey: .float)
        try c.encode(fakeQuantized, forKey: .fakeQuantized)
        try c.encode(floatReference, forKey: .floatReference)
        try c.encode(inputPreprocessing, forKey: .inputPreprocessing)
        try c.encode(modelSource, forKey: .modelSource)
        try c.encode(targetImages, forKey: .targetImages)
        try c.encode(targetBitExact, forKey: .targetBitExact)
        try c.encode(hostSeconds, forKey: .hostSeconds)
        try c.encode(hostImagesPerSecond, forKey: .hostImagesPerSecond)
        try c.encode(hostMacsPerSecond, forKey: .hostMacsPerSecond)
        try c.encode(deployment, forKey: .deployment)
        try c.encodeIfPresent(strategy, forKey: .strategy)
        try c.encodeIfPresent(searchImages, forKey: .searchImages)
        try c.encode(top1, forKey: .top1)
        try c.encode(top5, forKey: .top5)
        try c.encode(floatTop1, forKey: .floatTop1)
        try c.encode(floatTop5, forKey: .floatTop5)
        try c.encode(fakeQuantizedTop1, forKey: .fakeQuantizedTop1)
        try c.encodeIfPresent(fileInteger, forKey: .fileInteger)
        try c.encodeIfPresent(fileAgreement, forKey: .fileAgreement)
        try c.encodeIfPresent(fileIntegerTop1, forKey: .fileIntegerTop1)
    }

    /// JSON with snake_case keys, sorted, indented.
    public func json() throws -> Data { try DeploymentResult.contractEncoder().encode(self) }

    public static func decode(_ data: Data) throws -> EvaluationResult {
        try DeploymentResult.contractDecoder().decode(EvaluationResult.self, from: data)
    }
}
