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

    /// The scheme whose flavours match the file: per-channel weights need PC+ICN (`mixpc`);
    /// per-tensor weights keep their trained codes under PL+ICN, which `mixpl` uses wherever a
    /// layer is below 8 bits.
    public var naturalScheme: QuantizationScheme { isPerChannel ? .mixpc : .mixpl }

    /// The flavour that keeps every trained weight code: PC+ICN for per-channel weights, PL+ICN
    /// for per-tensor ones (PL+FB would fold batch-norm into the weights and quantize them anew).
    public var naturalFlavour: RequantizationFlavour { isPerChannel ? .perChannelICN : .perLayerICN }

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
