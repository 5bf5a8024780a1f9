import Quantization

/// What a planner entry computes. The raw values are the names used in `mixq plan --json`.
public enum LayerKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// A full convolution (every output channel sees every input channel).
    case conv
    /// A depthwise convolution: `depthMultiplier` filters per input channel, output channel
    /// `c * depthMultiplier + m` (TFLite's order), so output channels = input channels x multiplier.
    case depthwise
    /// A 1x1, stride-1 convolution.
    case pointwise
    /// A fully connected classifier on a 1x1xC vector (a 1x1 convolution on a 1x1 image).
    case fc
}

/// The activation function applied after a layer's normalization.
public enum Activation: String, Sendable, Hashable, Codable {
    /// No activation (the classifier's logits).
    case none
    /// `min(max(x, 0), 6)`; in the quantized network this is the learned clip that makes
    /// activations unsigned with zero-point 0 (docs/design.md#quantization-arithmetic).
    case relu6
    /// `max(x, 0)`, unbounded in float; the quantized network clips it at the output's range
    /// (a trained network's learned clip, or the range MixQ calibrates).
    case relu

    /// The activation applied to a float value.
    public func apply(_ x: Float) -> Float {
        switch self {
        case .none: return x
        case .relu6: return min(max(x, 0), 6)
        case .relu: return max(x, 0)
        }
    }
}

/// One convolution or fully connected layer: a planner entry (docs/design.md#planner).
///
/// A value type holding everything a code generator or a host reference needs to run the
/// layer, independent of bit-widths (those live in `BitWidthPlan`) and of weight values
/// (those come from a checkpoint or a synthetic generator elsewhere).
/// Build layers with the static factories, which compute the output shape and the explicit
/// padding and reject impossible shapes.
public struct Layer: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Unique name within the network (MobilenetV1 uses TF-slim's scope names).
    public var name: String
    /// What the layer computes (`conv`, `depthwise`, `pointwise`, `fc`).
    public var kind: LayerKind
    /// The input activation shape (HWC).
    public var input: TensorShape
    /// The output activation shape (HWC), computed from the input, kernel, stride and padding.
    public var output: TensorShape
    /// The spatial kernel size (1x1 for pointwise and fully connected layers).
    public var kernel: KernelSize
    /// The same stride on both spatial axes.
    public var stride: Int
    /// Explicit zero padding of the input, already resolved from `PaddingMode`.
    public var padding: Padding
    public var activation: Activation
    /// Whether batch-norm follows the layer (TF-slim: a conv with a normalizer has no bias;
    /// the quantized network folds batch-norm or turns it into ICN parameters).
    public var usesBatchNorm: Bool
    /// Whether the layer adds a learned bias per output channel (the classifier does).
    public var hasBias: Bool

    /// Output channels (`n` in the parameter-byte formulas of docs/design.md#requantization-flavours).
    public var outputChannels: Int { output.channels }

    /// Filters per input channel of a depthwise layer (1 for every other kind).
    public var depthMultiplier: Int { kind == .depthwise ? output.channels / input.channels : 1 }

    /// Number of weight elements.
    public var weightCount: Int {
        switch kind {
        case .depthwise: return kernel.height * kernel.width * output.channels
        case .conv, .pointwise, .fc: return kernel.height * kernel.width * input.channels * output.channels
        }
    }

    /// Weight bytes at `bits` bits per weight, packed over the whole tensor and rounded up
    /// to a byte (the planner's accounting; docs/design.md#packing).
    public func weightBytes(at bits: BitWidth) -> Int {
        bits.bytes(forElements: weightCount)
    }

    /// Number of learned bias elements (0 when the layer has no bias).
    public var biasCount: Int { hasBias ? output.channels : 0 }

    /// Stored batch-norm values per normalized output channel in the parameter count.
    ///
    /// Three is the count under which TF-slim's published "Million Parameters" of all four
    /// MobilenetV1 widths (research/slim/nets/mobilenet_v1.md: 4.24, 2.59, 1.34, 0.47) agree with
    /// the topology to their two decimals: two values per channel give 4.23 and 1.33 for alpha 1.0
    /// and 0.5, four give 4.25, 2.60 and 0.48. It matches batch-norm with a shift but no scale
    /// (beta, moving mean, moving variance). Checked by `MobilenetV1Tests`.
    public static let batchNormValuesPerChannel = 3

    /// Parameters of the layer as the TF-slim model zoo counts them: weights, biases and
    /// `batchNormValuesPerChannel` values per batch-normalized output channel.
    public var parameterCount: Int {
        weightCount + biasCount + (usesBatchNorm ? Layer.batchNormValuesPerChannel * output.channels : 0)
    }

    /// Multiply-accumulates of one inference: one per weight tap per output element,
    /// counting taps that fall on padding (the usual convention, also TensorFlow's).
    public var multiplyAccumulates: Int {
        let outputPixels = output.height * output.width
        switch kind {
        case .depthwise: return outputPixels * output.channels * kernel.height * kernel.width
        case .conv, .pointwise, .fc:
            return outputPixels * output.channels * kernel.height * kernel.width * input.channels
        }
    }

    public var description: String {
        "\(name) (\(kind.rawValue) \(kernel)/\(stride), \(input) -> \(output))"
    }

    // MARK: Factories

    /// A full convolution with `outputChannels` filters of size `kernel`.
    public static func convolution(
        name: String, input: TensorShape, outputChannels: Int, kernel: KernelSize, stride: Int,
        padding: PaddingMode = .same, activation: Activation = .relu6,
        usesBatchNorm: Bool = true, hasBias: Bool = false
    ) throws(NetworkError) -> Layer {
        try make(name: name, kind: .conv, input: input, outputChannels: outputChannels, kernel: kernel,
                 stride: stride, padding: padding, activation: activation,
                 usesBatchNorm: usesBatchNorm, hasBias: hasBias)
    }

    /// A depthwise convolution: `depthMultiplier` `kernel` filters per input channel.
    public static func depthwise(
        name: String, input: TensorShape, kernel: KernelSize, stride: Int,
        padding: PaddingMode = .same, activation: Activation = .relu6,
        usesBatchNorm: Bool = true, hasBias: Bool = false, depthMultiplier: Int = 1
    ) throws(NetworkError) -> Layer {
        guard depthMultiplier > 0 else { throw .invalidChannelCount(layer: name, channels: depthMultiplier) }
        let (channels, overflow) = input.channels.multipliedReportingOverflow(by: depthMultiplier)
        guard !overflow else { throw .invalidChannelCount(layer: name, channels: depthMultiplier) }
        return try make(name: name, kind: .depthwise, input: input, outputChannels: channels, kernel: kernel,
                 stride: stride, padding: padding, activation: activation,
                 usesBatchNorm: usesBatchNorm, hasBias: hasBias)
    }

    /// A 1x1, stride-1 convolution to `outputChannels` channels.
    public static func pointwise(
        name: String, input: TensorShape, outputChannels: Int, activation: Activation = .relu6,
        usesBatchNorm: Bool = true, hasBias: Bool = false
    ) throws(NetworkError) -> Layer {
        try make(name: name, kind: .pointwise, input: input, outputChannels: outputChannels, kernel: .square(1),
                 stride: 1, padding: .valid, activation: activation,
                 usesBatchNorm: usesBatchNorm, hasBias: hasBias)
    }

    /// A fully connected layer on a 1x1xC input (for example after global average pooling),
    /// with a bias and no batch-norm, as TF-slim's MobilenetV1 classifier (`Conv2d_1c_1x1`).
    public static func fullyConnected(
        name: String, input: TensorShape, outputs: Int, activation: Activation = .none,
        hasBias: Bool = true
    ) throws(NetworkError) -> Layer {
        guard input.height == 1, input.width == 1 else {
            throw .fullyConnectedNeedsVector(layer: name, input: input)
        }
        return try make(name: name, kind: .fc, input: input, outputChannels: outputs, kernel: .square(1),
                        stride: 1, padding: .valid, activation: activation,
                        usesBatchNorm: false, hasBias: hasBias)
    }

    /// A layer of any kind with explicit padding, as a model file states it (ONNX `pads`):
    /// the output size is `(input + before + after - kernel) / stride + 1` on each axis.
    /// A depthwise layer's output channels must be a multiple of its input channels (the depth
    /// multiplier); `outputChannels` 0 means the input's count.
    public static func padded(
        name: String, kind: LayerKind, input: TensorShape, outputChannels: Int, kernel: KernelSize, stride: Int,
        padding: Padding, activation: Activation, usesBatchNorm: Bool, hasBias: Bool
    ) throws(NetworkError) -> Layer {
        if kind == .depthwise, outputChannels > 0, outputChannels % max(input.channels, 1) != 0 {
            throw .invalidChannelCount(layer: name, channels: outputChannels)
        }
        return try make(name: name, kind: kind, input: input,
                 outputChannels: kind == .depthwise && outputChannels <= 0 ? input.channels : outputChannels,
                 kernel: kernel, stride: stride, padding: .valid, explicitPadding: padding, activation: activation,
                 usesBatchNorm: usesBatchNorm, hasBias: hasBias)
    }

    private static func make(
        name: String, kind: LayerKind, input: TensorShape, outputChannels: Int, kernel: KernelSize,
        stride: Int, padding mode: PaddingMode, explicitPadding: Padding? = nil, activation: Activation,
        usesBatchNorm: Bool, hasBias: Bool
    ) throws(NetworkError) -> Layer {
        guard !name.isEmpty else { throw .emptyLayerName }
        guard input.isValid else { throw .invalidShape(layer: name, shape: input) }
        guard outputChannels > 0 else { throw .invalidChannelCount(layer: name, channels: outputChannels) }
        guard kernel.height > 0, kernel.width > 0 else { throw .invalidKernel(layer: name, kernel: kernel) }
        guard stride > 0 else { throw .invalidStride(layer: name, stride: stride) }

        let outHeight: Int, outWidth: Int, pad: Padding
        if let explicit = explicitPadding {
            guard explicit.top >= 0, explicit.left >= 0, explicit.bottom >= 0, explicit.right >= 0,
                  explicit.top < kernel.height, explicit.bottom < kernel.height,
                  explicit.left < kernel.width, explicit.right < kernel.width else {
                throw .invalidPadding(layer: name, padding: explicit, kernel: kernel)
            }
            let paddedHeight = input.height + explicit.top + explicit.bottom
            let paddedWidth = input.width + explicit.left + explicit.right
            guard kernel.height <= paddedHeight, kernel.width <= paddedWidth else {
                throw .kernelLargerThanInput(layer: name, kernel: kernel, input: input)
            }
            return Layer(name: name, kind: kind, input: input,
                         output: TensorShape(height: (paddedHeight - kernel.height) / stride + 1,
                                             width: (paddedWidth - kernel.width) / stride + 1, channels: outputChannels),
                         kernel: kernel, stride: stride, padding: explicit, activation: activation,
                         usesBatchNorm: usesBatchNorm, hasBias: hasBias)
        }
        switch mode {
        case .same:
            let v = Padding.sameAxis(input: input.height, kernel: kernel.height, stride: stride)
            let h = Padding.sameAxis(input: input.width, kernel: kernel.width, stride: stride)
            outHeight = v.output
            outWidth = h.output
            pad = Padding(top: v.before, left: h.before, bottom: v.after, right: h.after)
        case .valid:
            guard kernel.height <= input.height, kernel.width <= input.width else {
                throw .kernelLargerThanInput(layer: name, kernel: kernel, input: input)
            }
            outHeight = (input.height - kernel.height) / stride + 1
            outWidth = (input.width - kernel.width) / stride + 1
            pad = .zero
        }
        return Layer(name: name, kind: kind, input: input,
                     output: TensorShape(height: outHeight, width: outWidth, channels: outputChannels),
                     kernel: kernel, stride: stride, padding: pad, activation: activation,
                     usesBatchNorm: usesBatchNorm, hasBias: hasBias)
    }
}
