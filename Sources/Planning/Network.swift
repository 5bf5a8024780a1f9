/// Global average pooling: a network step that is not a planner entry (docs/design.md#planner).
///
/// It averages each channel over the spatial extent, turning `HxWxC` into `1x1xC`. Its output
/// carries the bit-width of its input, so the classifier's input has the bits of the last
/// pointwise layer's output.
public struct GlobalAveragePool: Sendable, Hashable, Codable {
    public var name: String
    public var input: TensorShape
    public var output: TensorShape { TensorShape(height: 1, width: 1, channels: input.channels) }

    public init(name: String, input: TensorShape) {
        self.name = name
        self.input = input
    }
}

/// One step of a network in execution order.
public enum NetworkStep: Sendable, Hashable, Codable {
    /// A convolution or fully connected layer: a planner entry.
    case layer(Layer)
    /// Global average pooling: runs between layers, never planned on its own.
    case globalAveragePool(GlobalAveragePool)

    public var name: String {
        switch self {
        case .layer(let layer): return layer.name
        case .globalAveragePool(let pool): return pool.name
        }
    }

    public var input: TensorShape {
        switch self {
        case .layer(let layer): return layer.input
        case .globalAveragePool(let pool): return pool.input
        }
    }

    public var output: TensorShape {
        switch self {
        case .layer(let layer): return layer.output
        case .globalAveragePool(let pool): return pool.output
        }
    }
}

/// A feed-forward chain of layers and pooling steps: what the planner plans, what code
/// generation emits and what the host reference runs.
///
/// The constructor checks that every step's input shape is the previous step's output and
/// that names are unique, so consumers can rely on a consistent chain.
public struct Network: Sendable, Hashable, Codable {
    /// The model's name, e.g. `mobilenet_v1_1.0_224`.
    public var name: String
    /// The network input (8-bit, never cut by the planner).
    public var input: TensorShape
    /// The steps in execution order.
    public private(set) var steps: [NetworkStep]

    /// Builds a network, checking the chain of shapes.
    /// - Throws: `NetworkError` when the chain is empty, has no layer, a step's input does not
    ///   match the previous output, or two steps share a name.
    public init(name: String, input: TensorShape, steps: [NetworkStep]) throws(NetworkError) {
        guard input.isValid else { throw .invalidShape(layer: "network input", shape: input) }
        guard steps.contains(where: { if case .layer = $0 { return true } else { return false } }) else {
            throw .noLayers(network: name)
        }
        var expected = input
        var seen = Set<String>()
        for step in steps {
            guard step.input == expected else {
                throw .shapeMismatch(step: step.name, expected: expected, found: step.input)
            }
            guard seen.insert(step.name).inserted else { throw .duplicateName(step.name) }
            expected = step.output
        }
        self.name = name
        self.input = input
        self.steps = steps
    }

    /// The planner entries in order: every convolution and the classifier, no pooling.
    public var layers: [Layer] {
        steps.compactMap { if case .layer(let layer) = $0 { return layer } else { return nil } }
    }

    /// The shape of the network's final output.
    public var output: TensorShape { steps.last?.output ?? input }

    /// Multiply-accumulates of one inference over all layers (pooling adds none).
    public var multiplyAccumulates: Int { layers.reduce(0) { $0 + $1.multiplyAccumulates } }

    /// Weight elements over all layers.
    public var weightCount: Int { layers.reduce(0) { $0 + $1.weightCount } }

    /// Parameters over all layers as the TF-slim model zoo counts them (`Layer.parameterCount`:
    /// weights, biases, three batch-norm values per normalized channel).
    public var parameterCount: Int { layers.reduce(0) { $0 + $1.parameterCount } }
}

/// A network or layer that cannot exist as described.
public enum NetworkError: Error, Sendable, Equatable, CustomStringConvertible {
    case emptyLayerName
    case invalidShape(layer: String, shape: TensorShape)
    case invalidChannelCount(layer: String, channels: Int)
    case invalidKernel(layer: String, kernel: KernelSize)
    case invalidStride(layer: String, stride: Int)
    case invalidPadding(layer: String, padding: Padding, kernel: KernelSize)
    case kernelLargerThanInput(layer: String, kernel: KernelSize, input: TensorShape)
    case fullyConnectedNeedsVector(layer: String, input: TensorShape)
    case shapeMismatch(step: String, expected: TensorShape, found: TensorShape)
    case duplicateName(String)
    case noLayers(network: String)

    public var description: String {
        switch self {
        case .emptyLayerName:
            return "a layer needs a non-empty name"
        case .invalidShape(let layer, let shape):
            return "\(layer): shape \(shape) has a non-positive dimension"
        case .invalidChannelCount(let layer, let channels):
            return "\(layer): output channels must be positive, got \(channels)"
        case .invalidKernel(let layer, let kernel):
            return "\(layer): kernel \(kernel) must be positive in both dimensions"
        case .invalidStride(let layer, let stride):
            return "\(layer): stride must be positive, got \(stride)"
        case .invalidPadding(let layer, let padding, let kernel):
            return "\(layer): padding \(padding) must be non-negative and smaller than the kernel \(kernel) on each side"
        case .kernelLargerThanInput(let layer, let kernel, let input):
            return "\(layer): kernel \(kernel) is larger than the input \(input) with VALID padding"
        case .fullyConnectedNeedsVector(let layer, let input):
            return "\(layer): a fully connected layer takes a 1x1xC input, got \(input); pool first"
        case .shapeMismatch(let step, let expected, let found):
            return "\(step): input shape \(found) does not match the previous step's output \(expected)"
        case .duplicateName(let name):
            return "two steps are named '\(name)'; names must be unique"
        case .noLayers(let network):
            return "network '\(network)' has no convolution or fully connected layer to plan"
        }
    }
}
