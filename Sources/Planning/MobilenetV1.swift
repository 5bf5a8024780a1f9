/// One member of the MobilenetV1 family (Howard et al. 2017, "MobileNets: Efficient
/// Convolutional Neural Networks for Mobile Vision Applications"), with TF-slim's topology
/// (tensorflow/models research/slim/nets/mobilenet_v1.py, summarised in docs/design.md#mobilenetv1).
///
/// Named as the TF-slim model zoo names its checkpoints: `mobilenet_v1_<alpha>_<resolution>`,
/// e.g. `mobilenet_v1_1.0_224` or `mobilenet_v1_0.25_128`.
public struct MobilenetV1: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The width multiplier alpha: scales every layer's channel count.
    public enum WidthMultiplier: String, Sendable, Hashable, Codable, CaseIterable {
        case quarter = "0.25"
        case half = "0.5"
        case threeQuarters = "0.75"
        case one = "1.0"

        /// Alpha in quarters (1...4), so channel counts are computed exactly in integers.
        public var quarters: Int {
            switch self {
            case .quarter: return 1
            case .half: return 2
            case .threeQuarters: return 3
            case .one: return 4
            }
        }

        /// Channels of a layer whose width at alpha 1.0 is `base`.
        ///
        /// TF-slim: `depth(d) = max(int(d * depth_multiplier), min_depth)` with `min_depth = 8`.
        public func channels(_ base: Int) -> Int { max(base * quarters / 4, 8) }
    }

    /// Input resolution (square images). 128 to 224 are the TF-slim model zoo's; 96 is the
    /// resolution of MLPerf Tiny's visual-wake-words network and TFLM's person-detection example
    /// (MobilenetV1 0.25 at 96x96x3), which the zoo does not publish.
    public enum Resolution: Int, Sendable, Hashable, Codable, CaseIterable {
        case r96 = 96
        case r128 = 128
        case r160 = 160
        case r192 = 192
        case r224 = 224

        /// Whether the TF-slim model zoo publishes this resolution (every one but 96).
        public var isInModelZoo: Bool { self != .r96 }
    }

    public var alpha: WidthMultiplier
    public var resolution: Resolution

    /// ImageNet classes of the classifier (1000, docs/design.md#mobilenetv1; TF-slim checkpoints
    /// have 1001, with a background class).
    public static let classCount = 1000

    public init(alpha: WidthMultiplier, resolution: Resolution) {
        self.alpha = alpha
        self.resolution = resolution
    }

    /// Parses a model name such as `mobilenet_v1_0.25_128` or `mobilenet_v1_0.25_96`.
    /// - Throws: `ModelNameError` listing every valid name when `name` is not one of them.
    public init(name: String) throws(ModelNameError) {
        guard let variant = MobilenetV1.namedVariants.first(where: { $0.name == name }) else {
            throw ModelNameError(name: name, validNames: MobilenetV1.namedVariants.map(\.name))
        }
        self = variant
    }

    /// The 16 variants of the TF-slim model zoo, widest first then largest resolution first (the
    /// model zoo's order): the published figures, plans and `sweep all` cover exactly these.
    public static var allVariants: [MobilenetV1] {
        WidthMultiplier.allCases.reversed().flatMap { alpha in
            Resolution.allCases.reversed().filter(\.isInModelZoo).map { MobilenetV1(alpha: alpha, resolution: $0) }
        }
    }

    /// Every variant MixQ builds by name: the 16 of the model zoo, then the four at 96x96
    /// (`mobilenet_v1_<alpha>_96`, widest first).
    public static var namedVariants: [MobilenetV1] {
        allVariants + WidthMultiplier.allCases.reversed().map { MobilenetV1(alpha: $0, resolution: .r96) }
    }

    /// `mobilenet_v1_<alpha>_<resolution>`.
    public var name: String { "mobilenet_v1_\(alpha.rawValue)_\(resolution.rawValue)" }

    public var description: String { name }

    /// The 13 depthwise-separable blocks: (pointwise output channels at alpha 1.0, stride of the
    /// depthwise layer). docs/design.md#mobilenetv1: channels 64, 128, 128, 256, 256, 512 x6, 1024,
    /// 1024 with stride 2 at blocks 2, 4, 6 and 12.
    static let separableBlocks: [(channels: Int, stride: Int)] = [
        (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
        (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1),
    ]

    /// Builds the network: `Conv2d_0` (3x3/2, 32 channels), 13 pairs
    /// `Conv2d_<i>_depthwise` (3x3) and `Conv2d_<i>_pointwise` (1x1), `AvgPool_1a` (global
    /// average pooling) and the classifier `Conv2d_1c_1x1` (1x1 with bias, no activation).
    /// Names are TF-slim's scope names so a checkpoint's variables can be matched later.
    /// Every convolution uses SAME padding, batch-norm and ReLU6.
    public func network() throws(NetworkError) -> Network {
        try MobilenetV1.topology(name: name, side: resolution.rawValue, inputChannels: 3,
                                 classes: MobilenetV1.classCount, alpha: alpha)
    }

    /// MobilenetV1's layer chain for a `side x side x inputChannels` input and `classes`
    /// outputs: shared by the ImageNet family and `DigitsMobilenetV1`.
    static func topology(name: String, side: Int, inputChannels: Int, classes: Int,
                         alpha: WidthMultiplier) throws(NetworkError) -> Network {
        let input = TensorShape(height: side, width: side, channels: inputChannels)
        var shape = input
        var steps: [NetworkStep] = []

        let stem = try Layer.convolution(name: "Conv2d_0", input: shape,
                                         outputChannels: alpha.channels(32), kernel: .square(3), stride: 2)
        steps.append(.layer(stem))
        shape = stem.output

        for (index, block) in MobilenetV1.separableBlocks.enumerated() {
            let depthwise = try Layer.depthwise(name: "Conv2d_\(index + 1)_depthwise", input: shape,
                                                kernel: .square(3), stride: block.stride)
            let pointwise = try Layer.pointwise(name: "Conv2d_\(index + 1)_pointwise", input: depthwise.output,
                                                outputChannels: alpha.channels(block.channels))
            steps.append(.layer(depthwise))
            steps.append(.layer(pointwise))
            shape = pointwise.output
        }

        let pool = GlobalAveragePool(name: "AvgPool_1a", input: shape)
        steps.append(.globalAveragePool(pool))
        let classifier = try Layer.fullyConnected(name: "Conv2d_1c_1x1", input: pool.output, outputs: classes)
        steps.append(.layer(classifier))
        return try Network(name: name, input: input, steps: steps)
    }
}

/// MixQ's handwritten-digit example family: MobilenetV1's topology (same 27 convolutions, strides
/// and SAME padding) on 32x32 grey images with 10 classes, for the 28x28 MNIST digits padded
/// by 2 pixels on each side. Named `mnist_mobilenet_v1_<alpha>_32`. Trained checkpoints of it
/// ship in `data/models` (see `training/README.md`).
public struct DigitsMobilenetV1: Sendable, Hashable, Codable, CustomStringConvertible {
    public var alpha: MobilenetV1.WidthMultiplier

    /// Side of the square input image.
    public static let side = 32
    /// Digit classes 0...9.
    public static let classCount = 10

    public init(alpha: MobilenetV1.WidthMultiplier) { self.alpha = alpha }

    /// Every width, narrowest first.
    public static var allVariants: [DigitsMobilenetV1] { MobilenetV1.WidthMultiplier.allCases.map(DigitsMobilenetV1.init) }

    /// `mnist_mobilenet_v1_<alpha>_32`.
    public var name: String { "mnist_mobilenet_v1_\(alpha.rawValue)_\(Self.side)" }
    public var description: String { name }

    public func network() throws(NetworkError) -> Network {
        try MobilenetV1.topology(name: name, side: Self.side, inputChannels: 1, classes: Self.classCount, alpha: alpha)
    }
}

/// The networks MixQ knows by name: the ImageNet MobilenetV1 variants (the model zoo's 16 and
/// the four at 96x96) and the digit family.
public enum BuiltInModels {
    /// Every built-in name, ImageNet family first.
    public static var names: [String] { MobilenetV1.namedVariants.map(\.name) + DigitsMobilenetV1.allVariants.map(\.name) }

    /// The network called `name`.
    /// - Throws: `ModelNameError` listing every valid name.
    public static func network(named name: String) throws -> Network {
        if let variant = MobilenetV1.namedVariants.first(where: { $0.name == name }) { return try variant.network() }
        if let variant = DigitsMobilenetV1.allVariants.first(where: { $0.name == name }) { return try variant.network() }
        throw ModelNameError(name: name, validNames: names)
    }
}

/// A model name that is not one of the known MobilenetV1 variants.
public struct ModelNameError: Error, Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var validNames: [String]

    public init(name: String, validNames: [String]) {
        self.name = name
        self.validNames = validNames
    }

    public var description: String {
        "unknown model '\(name)'; valid models: \(validNames.joined(separator: ", "))"
    }
}
