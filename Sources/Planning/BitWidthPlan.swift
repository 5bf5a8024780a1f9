import Quantization

/// The bits, flavour and memory of one planner entry in a `BitWidthPlan`.
public struct LayerPlan: Sendable, Hashable {
    /// The layer as the network defines it (shapes, kernel, stride, padding).
    public var layer: Layer
    /// Bits of the layer's input activation (the previous layer's output, through pooling).
    public var inputBits: BitWidth
    /// Bits of the layer's weights.
    public var weightBits: BitWidth
    /// Bits of the layer's output activation.
    public var outputBits: BitWidth
    /// How the layer requantizes its accumulator, chosen by the scheme from the bits.
    public var flavour: RequantizationFlavour
    /// Packed weight bytes at `weightBits`.
    public var weightBytes: Int
    /// Quantization parameter bytes of `flavour` for the layer's output channels
    /// (docs/design.md#requantization-flavours).
    public var parameterBytes: Int
    /// Packed input activation bytes at `inputBits`.
    public var inputBytes: Int
    /// Packed output activation bytes at `outputBits`.
    public var outputBytes: Int

    /// The layer's name.
    public var name: String { layer.name }
    /// Input plus output activation bytes: what must fit M_RW while the layer runs.
    public var activationBytes: Int { inputBytes + outputBytes }
    /// Weight plus parameter bytes: the layer's share of M_RO.
    public var flashBytes: Int { weightBytes + parameterBytes }
}

/// The RAM one network step needs: the packed bytes of the tensors alive while it runs.
public struct StepMemory: Sendable, Hashable {
    /// The step's name.
    public var name: String
    /// Bytes of every tensor alive during the step (its inputs, its output, and tensors kept for
    /// later steps, such as a residual branch).
    public var liveBytes: Int

    public init(name: String, liveBytes: Int) {
        self.name = name
        self.liveBytes = liveBytes
    }
}

/// The direction of one activation sweep (docs/design.md#planner, step 1).
public enum SweepDirection: String, Sendable, Hashable, Codable {
    /// First layer to last; cuts layer outputs.
    case forward
    /// Last layer to first; cuts layer inputs.
    case backward

    /// The other direction.
    public var flipped: SweepDirection { self == .forward ? .backward : .forward }
}

/// One pass of the activation step over the layers.
public struct ActivationSweep: Sendable, Hashable {
    /// 1 for the first sweep.
    public var number: Int
    /// Forward sweeps cut outputs, backward sweeps cut inputs.
    public var direction: SweepDirection
    /// Layers still over the RAM budget whose next cut belongs to the other direction, in visiting
    /// order. An empty list ends the activation step.
    public var unresolvedLayers: [String]

    public init(number: Int, direction: SweepDirection, unresolvedLayers: [String]) {
        self.number = number
        self.direction = direction
        self.unresolvedLayers = unresolvedLayers
    }
}

/// One halving of one tensor's bit-width, in the order the planner made it.
public struct BitWidthCut: Sendable, Hashable {
    /// Which of a layer's tensors was cut.
    public enum Tensor: String, Sendable, Hashable, Codable {
        /// The layer's input activation (the previous layer's output: the same tensor).
        case input
        /// The layer's output activation (the next layer's input: the same tensor).
        case output
        /// The layer's weights.
        case weights
    }

    /// The planner step that made the cut.
    public enum Step: Sendable, Hashable {
        /// Step 1, during the given sweep.
        case activations(sweep: Int, direction: SweepDirection)
        /// Step 2.
        case weights
        /// Chosen by an accuracy-aware search (not the paper's rule), in the given round; the
        /// reason states the measured cost (`Evaluation.SensitivitySearch`).
        case search(round: Int)
    }

    /// Which planner step made the cut (and, for activations, in which sweep).
    public var step: Step
    /// Index of the layer among the network's planner entries.
    public var layerIndex: Int
    /// Name of the layer whose constraint caused the cut (for activations) or whose weights were cut.
    public var layerName: String
    /// Which of the layer's tensors was cut.
    public var tensor: Tensor
    /// The tensor's bits before the cut.
    public var bitsBefore: BitWidth
    /// The tensor's bits after the cut (always `bitsBefore.halved`).
    public var bitsAfter: BitWidth
    /// The tensor's packed bytes before the cut (for activations: as the layer named here sees it).
    public var bytesBefore: Int
    /// The tensor's packed bytes after the cut.
    public var bytesAfter: Int
    /// Why this tensor was cut, with the numbers that decided it.
    public var reason: String

    public init(step: Step, layerIndex: Int, layerName: String, tensor: Tensor, bitsBefore: BitWidth, bitsAfter: BitWidth,
                bytesBefore: Int, bytesAfter: Int, reason: String) {
        self.step = step
        self.layerIndex = layerIndex
        self.layerName = layerName
        self.tensor = tensor
        self.bitsBefore = bitsBefore
        self.bitsAfter = bitsAfter
        self.bytesBefore = bytesBefore
        self.bytesAfter = bytesAfter
        self.reason = reason
    }

    /// `"Conv2d_0 output 8 -> 4 bits (401408 -> 200704 B)"`.
    public var summary: String {
        "\(layerName) \(tensor.rawValue) \(bitsBefore.bits) -> \(bitsAfter.bits) bits (\(bytesBefore) -> \(bytesAfter) B)"
    }
}

/// A bit-width assignment for every tensor of a network under two memory budgets, with the
/// cuts that produced it (docs/design.md#planner).
///
/// Made by `BitWidthPlanner.plan(_:budget:scheme:)`. Under `mixpl` and `mixpc` a plan always fits
/// (the planner throws otherwise); under `int8` nothing is cut and `fits` says whether the 8-bit
/// network fits.
public struct BitWidthPlan: Sendable, Hashable {
    /// The network's name, e.g. `mobilenet_v1_1.0_224`.
    public var networkName: String
    /// The scheme the plan was made for (decides which cuts are allowed and each layer's flavour).
    public var scheme: QuantizationScheme
    /// M_RO and M_RW.
    public var budget: MemoryBudget
    /// One entry per convolution and classifier, in network order.
    public var layers: [LayerPlan]
    /// Every cut in the order it was made: activation cuts first, then weight cuts.
    public var cuts: [BitWidthCut]
    /// The activation sweeps the planner ran (empty under `int8` or when no layer needed a cut).
    public var sweeps: [ActivationSweep]
    /// Every step of the network with the bytes of the tensors alive while it runs
    /// (docs/design.md#network-graph); empty for a plan made without its network.
    public var steps: [StepMemory] = []
    /// The bits of every tensor of the network (the input, then each step's output).
    public var tensorBits: [BitWidth] = []

    /// Packed weight bytes of all layers.
    public var weightBytes: Int { layers.reduce(0) { $0 + $1.weightBytes } }
    /// Quantization parameter bytes of all layers.
    public var parameterBytes: Int { layers.reduce(0) { $0 + $1.parameterBytes } }
    /// Weights plus parameters: the planner's FLASH accounting, compared with M_RO.
    public var flashBytes: Int { weightBytes + parameterBytes }
    /// The largest bytes of the tensors alive at any step, compared with M_RW
    /// (docs/design.md#network-graph). On a chain these are a layer's input plus output, the
    /// paper's figure: global average pooling reads the last pointwise output and writes a 1x1xC
    /// vector at the same bits, never more than that pointwise layer's own input plus output in
    /// MobilenetV1.
    public var peakActivationBytes: Int {
        max(steps.map(\.liveBytes).max() ?? 0, layers.map(\.activationBytes).max() ?? 0)
    }
    /// The first step (a layer on chains) whose live tensors reach `peakActivationBytes`.
    public var peakActivationLayer: String? {
        layers.first { $0.activationBytes == peakActivationBytes }?.name
            ?? steps.first { $0.liveBytes == peakActivationBytes }?.name
    }
    /// Whether weights plus parameters fit M_RO.
    public var fitsFlash: Bool { flashBytes <= budget.flash }
    /// Whether every layer's input plus output fits M_RW.
    public var fitsRAM: Bool { peakActivationBytes <= budget.ram }
    /// Whether both budgets are met.
    public var fits: Bool { fitsFlash && fitsRAM }

    /// What exceeds the budgets, one phrase per region, with the bytes needed and by how many
    /// they are over; empty when the plan fits.
    public var budgetProblems: [String] {
        var problems: [String] = []
        if !fitsFlash {
            problems.append("FLASH needs \(flashBytes) B, \(flashBytes - budget.flash) B over the budget of \(budget.flash) B")
        }
        if !fitsRAM {
            problems.append("layer \(peakActivationLayer ?? "?") needs \(peakActivationBytes) B of RAM, "
                            + "\(peakActivationBytes - budget.ram) B over the budget of \(budget.ram) B")
        }
        return problems
    }
}
