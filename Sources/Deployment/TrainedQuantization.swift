import Planning
import Quantization

/// The quantization a network was trained with (quantization-aware training states its
/// bit-widths, weight scales and learned activation clips, e.g. in a QONNX file), used instead
/// of the ranges MixQ would choose itself.
///
/// Everything is in MixQ's unsigned-code form `real = scale * (code - zeroPoint)`: a signed
/// `b`-bit integer `q` with zero-point `z` is the code `q + 2^(b-1)` with zero-point
/// `z + 2^(b-1)`, which stands for the same real value.
public struct TrainedQuantization: Sendable {
    /// One planner layer's trained quantization.
    public struct Layer: Sendable {
        /// The weights' quantization: one entry (per tensor) or one per output channel.
        public var weights: [TensorQuantization]
        /// The output activation's quantization; nil when the file leaves it to MixQ (the
        /// classifier's float logits), which then calibrates it.
        public var output: TensorQuantization?

        /// The weight codes exactly as the file stores them (TFLite), in `ReferenceLayers`
        /// order; nil when MixQ computes them from the float weights and `weights`.
        public var codes: [Int]?
        /// The int32 bias exactly as the file stores it (TFLite), in accumulator units.
        public var bias: [Int32]?
        /// The codes the output is clamped to (a file's fused activation); nil for the output
        /// bits' full range.
        public var outputRange: ClosedRange<Int>?

        public init(weights: [TensorQuantization], output: TensorQuantization?, codes: [Int]? = nil, bias: [Int32]? = nil,
                    outputRange: ClosedRange<Int>? = nil) {
            self.weights = weights
            self.output = output
            self.codes = codes
            self.bias = bias
            self.outputRange = outputRange
        }

        /// The weights' bit-width.
        public var weightBits: BitWidth { weights[0].bits }
        /// The flavour that stores the file's parameters as they are: per-channel scales with one
        /// zero point (TFLite's symmetric int8) are PL+ICN's multiplier per channel and one zero
        /// point, with a zero point per channel PC+ICN; one scale makes one multiplier (PL+FB's
        /// layout).
        public var fileFlavour: RequantizationFlavour {
            guard isPerChannel else { return .perLayerFolded }
            return weights.allSatisfy { $0.zeroPoint == weights[0].zeroPoint } ? .perLayerICN : .perChannelICN
        }
        /// Whether the weights have one scale per output channel.
        public var isPerChannel: Bool { weights.count > 1 }
    }

    /// Whose integer arithmetic the file's quantization assumes.
    public enum Arithmetic: String, Sendable {
        /// MixQ's own (docs/design.md#quantization-arithmetic): QONNX files, MixQ's training.
        case mixq
        /// TFLite's (docs/design.md#tflite-arithmetic): its multipliers, rounding and clamps,
        /// so that MixQ's results equal LiteRT's reference kernels byte for byte.
        case tflite
    }

    /// One entry per planner layer (`network.layers`), in order.
    public var layers: [Layer]
    /// Whose arithmetic runs the integer network.
    public var arithmetic: Arithmetic
    /// The quantization of a global average pool's output (by index in `Network.steps`) where
    /// the file requantizes it (a QDQ file's QuantizeLinear after the pool); a pool not listed
    /// keeps its input's.
    public var poolOutputs: [Int: TensorQuantization] = [:]
    /// The quantization of every tensor of the network (index as `Network.tensorShapes`), when
    /// the file states them all (TFLite); nil otherwise.
    public var tensors: [TensorQuantization]?

    /// For `.tflite`: whether the file's tensors are int8 (codes `q + 128`) or uint8.
    public var tfliteType: TFLiteTensorType
    /// For `.tflite`: the layers (indices into `layers`) that are FULLY_CONNECTED operators in
    /// the file, whatever MixQ's layer kind (an FC on an HxWxC map is MixQ's VALID HxW
    /// convolution); TFLite forms their multipliers differently.
    public var fullyConnectedLayers: Set<Int>
    /// For `.tflite`: the file ends in DEQUANTIZE, so its output is float32 (`scale * (q - z)`).
    public var floatOutput = false
    /// A file's truncating averages (QONNX `Trunc` after a global average pool), by the index of
    /// the pooling step in `Network.steps`: the pooled output has the file's quantization.
    public var pools: [Int: PoolTruncation] = [:]
    /// The layers (indices into `layers`) whose output activations the file leaves in float (a
    /// weight-only QONNX file): MixQ chooses their bits under the budgets and calibrates them.
    public var floatActivations: Set<Int> = []

    public init(layers: [Layer], arithmetic: Arithmetic = .mixq, tensors: [TensorQuantization]? = nil,
                tfliteType: TFLiteTensorType = .int8, fullyConnectedLayers: Set<Int> = []) {
        self.layers = layers
        self.arithmetic = arithmetic
        self.tensors = tensors
        self.tfliteType = tfliteType
        self.fullyConnectedLayers = fullyConnectedLayers
    }

    /// Whether any layer's weights are quantized per output channel.
    public var isPerChannel: Bool { layers.contains { $0.isPerChannel } }

    /// The scheme the file was trained for: per-channel weights `mixpc` (PC+ICN everywhere,
    /// every trained code kept); per-tensor weights `int8` when every tensor is 8-bit, else
    /// `mixpl`. Under `int8` and `mixpl` a layer with 8-bit weights and output is PL+FB: batch-norm
    /// is folded into its weights, which are then quantized anew at 8 bits (the paper's MixPL);
    /// `--flavour pl_icn` keeps every trained code instead, at 5n - 8 more parameter bytes per layer.
    public var naturalScheme: QuantizationScheme {
        // A TFLite file runs as written: its own per-layer flavours under int8.
        if arithmetic == .tflite { return .int8 }
        if isPerChannel { return .mixpc }
        let allEight = layers.allSatisfy { $0.weightBits == .eight && ($0.output?.bits ?? .eight) == .eight }
        return allEight ? .int8 : .mixpl
    }

    /// The fixed plan of the trained bits: the network input at `input.bits`, each layer's
    /// output at its trained bits (8 for logits MixQ calibrates), the weights at theirs.
    /// - Throws: `PlanningError` when the counts do not match the network.
    public func plan(for network: Network, input: TensorQuantization, budget: MemoryBudget,
                     scheme: QuantizationScheme, flavour: RequantizationFlavour?) throws(PlanningError) -> BitWidthPlan {
        if let tensors {
            // Every tensor stated: one width per activation group, from any tensor of the group.
            let groups = BitWidthPlanner.activationGroups(network)
            var bits = [BitWidth](repeating: .eight, count: BitWidthPlanner.activationGroupCount(network))
            for (tensor, group) in groups.enumerated() where tensor < tensors.count { bits[group] = tensors[tensor].bits }
            return try BitWidthPlanner.fixed(network, activationBits: bits, weightBits: layers.map(\.weightBits),
                                             budget: budget, scheme: scheme, flavour: flavour,
                                             flavours: flavour == nil ? layers.map(\.fileFlavour) : nil)
        }
        if !floatActivations.isEmpty {
            // A weight-only file: its weight bits stand, the planner chooses the activations'.
            return try BitWidthPlanner.plan(network, budget: budget, scheme: scheme, weightBits: layers.map(\.weightBits),
                                            flavour: flavour)
        }
        let outputs = layers.map { $0.output?.bits ?? .eight }
        return try BitWidthPlanner.fixed(network, activationBits: [input.bits] + outputs, weightBits: layers.map(\.weightBits),
                                         budget: budget, scheme: scheme, flavour: flavour)
    }
}

/// A QONNX `Trunc` after an average pool (Brevitas' `TruncAvgPool2d`), as the file states it.
///
/// QONNX custom op `Trunc` (github.com/fastmachinelearning/qonnx, docs/qonnx-custom-ops/trunc_op.md
/// and src/qonnx/custom_op/general/trunc.py), version 2, inputs x, scale, zeropt, input_bit_width,
/// output_scale, output_bit_width; attributes signed, narrow, rounding_mode:
///
///     y = round(x / scale + zeropt)              (half to even)
///     y = y / 2^k,  k = round(log2(output_scale / scale))
///     y = rounding_mode(clamp(y, qmin, qmax))    (FLOOR or CEIL; qmin..qmax of output_bit_width)
///     out = (y - zeropt / 2^k) * output_scale
///
/// Version 1 (five inputs, no output_scale) divides by `2^(input_bit_width - output_bit_width)`,
/// does not clamp and rescales with `(y - zeropt) * scale`.
public struct PoolTruncation: Sendable, Hashable {
    /// The scale and zero point the sum is read with (`scale`, `zeropt`).
    public var scale: Double
    public var zeroPoint: Double
    /// `k`: the rounded value is divided by `2^k`.
    public var shift: Int
    /// How `y / 2^k` becomes an integer.
    public var rounding: PoolingParameters.TruncationRounding
    /// The clamp, in the file's (signed or unsigned) integers; nil for version 1 (no clamp).
    public var clamp: ClosedRange<Int>?
    /// What the output integers mean: `out = (y - outputZeroPoint) * outputScale`.
    public var outputScale: Double
    public var outputZeroPoint: Double
    /// The output in MixQ's unsigned codes (`y + codeOffset`).
    public var output: TensorQuantization
    /// Added to the file's integer `y` to make MixQ's unsigned code: `2^(b-1)` for signed outputs.
    public var codeOffset: Int

    public init(scale: Double, zeroPoint: Double, shift: Int, rounding: PoolingParameters.TruncationRounding,
                clamp: ClosedRange<Int>?, outputScale: Double, outputZeroPoint: Double, output: TensorQuantization,
                codeOffset: Int) {
        self.scale = scale
        self.zeroPoint = zeroPoint
        self.shift = shift
        self.rounding = rounding
        self.clamp = clamp
        self.outputScale = outputScale
        self.outputZeroPoint = outputZeroPoint
        self.output = output
        self.codeOffset = codeOffset
    }

    /// The file's float semantics on one averaged value: the output integer `y` (before MixQ's
    /// code offset) and the real value.
    public func apply(_ x: Double) -> (integer: Int, real: Double) {
        var y = (x / scale + zeroPoint).rounded(.toNearestOrEven) / Double(1 << shift)
        if let clamp { y = min(max(y, Double(clamp.lowerBound)), Double(clamp.upperBound)) }
        y = rounding == .floor ? y.rounded(.down) : y.rounded(.up)
        return (y.clampedToInt(-(1 << 40)...(1 << 40)), (y - outputZeroPoint) * outputScale)
    }
}
