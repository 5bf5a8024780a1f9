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

        public init(weights: [TensorQuantization], output: TensorQuantization?) {
            self.weights = weights
            self.output = output
        }

        /// The weights' bit-width.
        public var weightBits: BitWidth { weights[0].bits }
        /// Whether the weights have one scale per output channel.
        public var isPerChannel: Bool { weights.count > 1 }
    }

    /// One entry per planner layer (`network.layers`), in order.
    public var layers: [Layer]

    public init(layers: [Layer]) { self.layers = layers }

    /// Whether any layer's weights are quantized per output channel.
    public var isPerChannel: Bool { layers.contains { $0.isPerChannel } }

    /// The scheme the file was trained for: per-channel weights `mixpc` (PC+ICN everywhere,
    /// every trained code kept); per-tensor weights `int8` when every tensor is 8-bit, else
    /// `mixpl`. Under `int8` and `mixpl` a layer with 8-bit weights and output is PL+FB: batch-norm
    /// is folded into its weights, which are then quantized anew at 8 bits (the paper's MixPL);
    /// `--flavour pl_icn` keeps every trained code instead, at 5n - 8 more parameter bytes per layer.
    public var naturalScheme: QuantizationScheme {
        if isPerChannel { return .mixpc }
        let allEight = layers.allSatisfy { $0.weightBits == .eight && ($0.output?.bits ?? .eight) == .eight }
        return allEight ? .int8 : .mixpl
    }

    /// The fixed plan of the trained bits: the network input at `input.bits`, each layer's
    /// output at its trained bits (8 for logits MixQ calibrates), the weights at theirs.
    /// - Throws: `PlanningError` when the counts do not match the network.
    public func plan(for network: Network, input: TensorQuantization, budget: MemoryBudget,
                     scheme: QuantizationScheme, flavour: RequantizationFlavour?) throws(PlanningError) -> BitWidthPlan {
        let outputs = layers.map { $0.output?.bits ?? .eight }
        return try BitWidthPlanner.fixed(network, activationBits: [input.bits] + outputs, weightBits: layers.map(\.weightBits),
                                         budget: budget, scheme: scheme, flavour: flavour)
    }
}
