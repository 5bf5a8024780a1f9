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

/// Average or maximum pooling over a window: a network step, not a planner entry.
///
/// Its output has the quantization of its input (TFLite's AVERAGE_POOL_2D and MAX_POOL_2D
/// require it), so the planner gives both one bit-width. An average counts only the window
/// positions inside the input (TFLite's rule; docs/design.md#network-graph).
public struct Pool2D: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        case average, maximum
    }
    public var name: String
    public var kind: Kind
    public var input: TensorShape
    public var window: KernelSize
    public var strideHeight: Int
    public var strideWidth: Int
    /// Explicit padding; padded positions are skipped, never read as zeros.
    public var padding: Padding
    public var activation: Activation
    public var output: TensorShape

    /// A pooling step with explicit padding; the output is `(in + pads - window) / stride + 1`.
    /// - Throws: `NetworkError` for non-positive windows or strides, or padding as large as the window.
    public init(name: String, kind: Kind, input: TensorShape, window: KernelSize, strideHeight: Int, strideWidth: Int,
                padding: Padding, activation: Activation = .none) throws(NetworkError) {
        guard !name.isEmpty else { throw .emptyLayerName }
        guard input.isValid else { throw .invalidShape(layer: name, shape: input) }
        guard window.height > 0, window.width > 0 else { throw .invalidKernel(layer: name, kernel: window) }
        guard strideHeight > 0, strideWidth > 0 else { throw .invalidStride(layer: name, stride: min(strideHeight, strideWidth)) }
        guard padding.top >= 0, padding.left >= 0, padding.bottom >= 0, padding.right >= 0,
              padding.top < window.height, padding.bottom < window.height,
              padding.left < window.width, padding.right < window.width else {
            throw .invalidPadding(layer: name, padding: padding, kernel: window)
        }
        let height = input.height + padding.top + padding.bottom, width = input.width + padding.left + padding.right
        guard window.height <= height, window.width <= width else {
            throw .kernelLargerThanInput(layer: name, kernel: window, input: input)
        }
        self.name = name
        self.kind = kind
        self.input = input
        self.window = window
        self.strideHeight = strideHeight
        self.strideWidth = strideWidth
        self.padding = padding
        self.activation = activation
        self.output = TensorShape(height: (height - window.height) / strideHeight + 1,
                                  width: (width - window.width) / strideWidth + 1, channels: input.channels)
    }
}

/// The element-wise sum of two tensors of one shape (a residual connection), each input with
/// its own quantization, then an optional activation.
public struct ElementwiseAdd: Sendable, Hashable, Codable {
    public var name: String
    public var shape: TensorShape
    public var activation: Activation

    public init(name: String, shape: TensorShape, activation: Activation = .none) {
        self.name = name
        self.shape = shape
        self.activation = activation
    }
}

/// Softmax over the channels of the network's final tensor: `exp(beta * x_c) / sum exp(beta * x)`.
public struct Softmax: Sendable, Hashable, Codable {
    public var name: String
    public var shape: TensorShape
    public var beta: Double

    public init(name: String, shape: TensorShape, beta: Double = 1) {
        self.name = name
        self.shape = shape
        self.beta = beta
    }
}

/// A change of shape that moves no byte: HWC storage is the same before and after, so the
/// output shares the input's storage (docs/design.md#network-graph).
public struct Reshape: Sendable, Hashable, Codable {
    public var name: String
    public var input: TensorShape
    public var output: TensorShape

    public init(name: String, input: TensorShape, output: TensorShape) {
        self.name = name
        self.input = input
        self.output = output
    }
}

/// One step of a network in execution order.
public enum NetworkStep: Sendable, Hashable, Codable {
    /// A convolution or fully connected layer: a planner entry.
    case layer(Layer)
    /// Global average pooling: runs between layers, never planned on its own.
    case globalAveragePool(GlobalAveragePool)
    /// Average or maximum pooling over a window.
    case pool(Pool2D)
    /// The sum of two tensors (a residual connection).
    case add(ElementwiseAdd)
    /// Softmax over the final tensor's channels.
    case softmax(Softmax)
    /// A layout no-op: the output shares the input's storage.
    case reshape(Reshape)

    public var name: String {
        switch self {
        case .layer(let layer): return layer.name
        case .globalAveragePool(let pool): return pool.name
        case .pool(let pool): return pool.name
        case .add(let add): return add.name
        case .softmax(let softmax): return softmax.name
        case .reshape(let reshape): return reshape.name
        }
    }

    /// The shape of the (first) input.
    public var input: TensorShape { inputShapes[0] }

    /// The shapes of the step's inputs, in order (two for `add`, one otherwise).
    public var inputShapes: [TensorShape] {
        switch self {
        case .layer(let layer): return [layer.input]
        case .globalAveragePool(let pool): return [pool.input]
        case .pool(let pool): return [pool.input]
        case .add(let add): return [add.shape, add.shape]
        case .softmax(let softmax): return [softmax.shape]
        case .reshape(let reshape): return [reshape.input]
        }
    }

    public var output: TensorShape {
        switch self {
        case .layer(let layer): return layer.output
        case .globalAveragePool(let pool): return pool.output
        case .pool(let pool): return pool.output
        case .add(let add): return add.shape
        case .softmax(let softmax): return softmax.shape
        case .reshape(let reshape): return reshape.output
        }
    }

    /// What the step computes, as result files name it: the layer kind (`conv`, `depthwise`,
    /// `pointwise`, `fc`), `pool` (global average pooling, as before), `avgpool`, `maxpool`,
    /// `add`, `softmax` or `reshape`.
    public var kindName: String {
        switch self {
        case .layer(let layer): return layer.kind.rawValue
        case .globalAveragePool: return "pool"
        case .pool(let pool): return pool.kind == .average ? "avgpool" : "maxpool"
        case .add: return "add"
        case .softmax: return "softmax"
        case .reshape: return "reshape"
        }
    }

    /// The layer, for planner entries.
    public var layer: Layer? {
        if case .layer(let layer) = self { return layer }
        return nil
    }

    /// Whether the step's output must have its input's quantization and bits (pooling,
    /// reshape): the planner gives both one bit-width.
    public var keepsInputQuantization: Bool {
        switch self {
        case .globalAveragePool, .pool, .reshape: return true
        case .layer, .add, .softmax: return false
        }
    }
}

/// A graph of tensors and steps in one execution order (docs/design.md#network-graph): what the
/// planner plans, what code generation emits and what the host reference runs.
///
/// Tensor 0 is the network input; step `i` writes tensor `i + 1` and reads `stepInputs[i]`, tensors
/// written before it. The last step's output is the network output. The constructors check that
/// every input exists and has the shape the step expects, and that names are unique, so consumers
/// can rely on a consistent graph.
public struct Network: Sendable, Hashable, Codable {
    /// The model's name, e.g. `mobilenet_v1_1.0_224`.
    public var name: String
    /// The network input (tensor 0; 8-bit, never cut by the planner).
    public var input: TensorShape
    /// The steps in execution order.
    public private(set) var steps: [NetworkStep]
    /// The tensors each step reads, in the step's input order.
    public private(set) var stepInputs: [[Int]]

    /// Builds a chain: every step reads the previous step's output.
    /// - Throws: `NetworkError` when the chain is empty, has no layer, a step's input does not
    ///   match the previous output, or two steps share a name.
    public init(name: String, input: TensorShape, steps: [NetworkStep]) throws(NetworkError) {
        guard input.isValid else { throw .invalidShape(layer: "network input", shape: input) }
        guard steps.contains(where: { $0.layer != nil }) else { throw .noLayers(network: name) }
        for step in steps where step.inputShapes.count != 1 {
            throw .wrongInputCount(step: step.name, expected: step.inputShapes.count, found: 1)
        }
        try self.init(name: name, input: input, graph: steps.enumerated().map { ($1, [$0]) })
    }

    /// Builds a graph: each step with the tensors it reads (0 is the network input, `i + 1` the
    /// output of step `i`).
    /// - Throws: `NetworkError` when a step reads a tensor not yet written, a shape does not
    ///   match, two steps share a name, there is no step, or a softmax is not the last step. (A
    ///   graph of pooling steps alone is valid: a file may hold one.)
    public init(name: String, input: TensorShape, graph: [(step: NetworkStep, inputs: [Int])]) throws(NetworkError) {
        guard input.isValid else { throw .invalidShape(layer: "network input", shape: input) }
        guard !graph.isEmpty else { throw .noLayers(network: name) }
        var shapes = [input]
        var seen = Set<String>()
        for (index, (step, inputs)) in graph.enumerated() {
            guard inputs.count == step.inputShapes.count else {
                throw .wrongInputCount(step: step.name, expected: step.inputShapes.count, found: inputs.count)
            }
            for (tensor, expected) in zip(inputs, step.inputShapes) {
                guard tensor >= 0, tensor < shapes.count else { throw .unknownTensor(step: step.name, tensor: tensor) }
                guard shapes[tensor] == expected else {
                    throw .shapeMismatch(step: step.name, expected: shapes[tensor], found: expected)
                }
            }
            if case .softmax = step, index != graph.count - 1 { throw .softmaxNotLast(step: step.name) }
            if case .reshape(let reshape) = step, reshape.input.elementCount != reshape.output.elementCount {
                throw .reshapeChangesSize(step: step.name, input: reshape.input, output: reshape.output)
            }
            guard step.output.isValid else { throw .invalidShape(layer: step.name, shape: step.output) }
            guard seen.insert(step.name).inserted else { throw .duplicateName(step.name) }
            shapes.append(step.output)
        }
        self.name = name
        self.input = input
        self.steps = graph.map(\.step)
        self.stepInputs = graph.map(\.inputs)
    }

    /// The planner entries in order: every convolution and the classifier, no pooling.
    public var layers: [Layer] { steps.compactMap(\.layer) }

    /// The shape of the network's final output.
    public var output: TensorShape { steps.last?.output ?? input }

    /// For each step, its index among the planner entries (`layers`), nil for other steps.
    public var layerIndexOfStep: [Int?] {
        var next = 0
        return steps.map { step in
            guard step.layer != nil else { return nil }
            defer { next += 1 }
            return next
        }
    }

    /// Whether every step reads exactly the previous step's output.
    public var isChain: Bool { stepInputs.enumerated().allSatisfy { $1 == [$0] } }

    /// Every tensor's shape: the input, then each step's output.
    public var tensorShapes: [TensorShape] { [input] + steps.map(\.output) }

    /// Index of the tensor step `index` writes.
    public static func outputTensor(ofStep index: Int) -> Int { index + 1 }

    /// The tensor whose storage tensor `t` uses: itself, or for a reshape's output the storage
    /// of its input (a reshape moves no byte).
    public func storage(of tensor: Int) -> Int {
        var t = tensor
        while t > 0, case .reshape = steps[t - 1] { t = stepInputs[t - 1][0] }
        return t
    }

    /// The last step during which each tensor's storage must be kept, indexed by tensor: the
    /// last step that reads it, at least the step that writes it (tensor `t` is written by step
    /// `t - 1`; the input is there for step 0), and `steps.count` for the network output.
    public var lastUse: [Int] {
        var last = (0...steps.count).map { max($0 - 1, 0) }
        for (index, inputs) in stepInputs.enumerated() {
            for tensor in inputs { last[storage(of: tensor)] = max(last[storage(of: tensor)], index) }
        }
        last[storage(of: steps.count)] = steps.count
        return last
    }

    /// The storage tensors alive while step `index` runs: those written before or by it whose
    /// last reader is this step or later (docs/design.md#network-graph). On a chain these are
    /// the step's input and output.
    public func liveTensors(atStep index: Int) -> [Int] {
        let last = lastUse
        let output = Network.outputTensor(ofStep: index)
        return (0...output).filter { storage(of: $0) == $0 && last[$0] >= index }
    }

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
    case wrongInputCount(step: String, expected: Int, found: Int)
    case unknownTensor(step: String, tensor: Int)
    case softmaxNotLast(step: String)
    case reshapeChangesSize(step: String, input: TensorShape, output: TensorShape)

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
        case .wrongInputCount(let step, let expected, let found):
            return "\(step): takes \(expected) input tensor(s), given \(found)"
        case .unknownTensor(let step, let tensor):
            return "\(step): reads tensor \(tensor), which no earlier step writes"
        case .softmaxNotLast(let step):
            return "\(step): a softmax must be the network's last step"
        case .reshapeChangesSize(let step, let input, let output):
            return "\(step): a reshape keeps the element count, but \(input) has \(input.elementCount) and \(output) \(output.elementCount)"
        }
    }
}
