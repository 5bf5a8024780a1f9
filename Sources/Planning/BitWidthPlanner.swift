import Quantization

/// The memory-driven bit-width selection of Rusci, Capotondi, Benini (MLSys 2020, section 3),
/// as docs/design.md#planner specifies it.
///
/// Every tensor starts at 8 bits and every cut halves it (8 -> 4 -> 2).
/// 1. Activations: sweep the layers forward; while a layer's input plus output bytes exceed
///    M_RW, cut the tensor with more bits (equal bits: more bytes; equal bytes: the output).
///    The network input and the classifier output are never cut. A forward sweep cuts outputs
///    and a backward sweep cuts inputs; a layer whose next cut belongs to the other direction is
///    left unresolved, and a sweep that leaves unresolved layers is followed by one in the other
///    direction.
/// 2. Weights: while weights plus parameters exceed M_RO, among layers above 2 bits find the
///    largest share of the weight bytes and cut the earliest layer whose share is within
///    5 percentage points of it.
public enum BitWidthPlanner {
    /// Plans the bits of every tensor of `network` under `budget`.
    ///
    /// A pure function: the same arguments always give the same plan.
    /// - Returns: under `int8` the all-8-bit plan, whether or not it fits (see `BitWidthPlan.fits`);
    ///   under `mixpl` and `mixpc` a plan that fits both budgets.
    /// - Throws: `PlanningError` when no assignment of 8, 4 and 2 bits fits under `mixpl` or `mixpc`.
    public static func plan(
        _ network: Network, budget: MemoryBudget, scheme: QuantizationScheme
    ) throws(PlanningError) -> BitWidthPlan {
        var state = PlannerState(network: network, scheme: scheme, budget: budget)
        if scheme.allowsCuts {
            if state.followsPaperSweeps {
                try state.fitActivations()
            }
            // On a graph, or a chain with steps between layers that the sweeps do not see.
            try state.fitLiveTensors()
            try state.fitWeights()
        }
        return state.plan
    }

    /// The plan of bits fixed in advance, for example by a network trained with those bits
    /// (a QONNX file states them): nothing is cut; the planner only accounts the bytes, and the
    /// plan's `fits`, `fitsFlash` and `fitsRAM` say whether the network meets `budget`.
    ///
    /// - Parameters:
    ///   - activationBits: one width per activation group (`activationGroupCount`): on a chain,
    ///     `layers.count + 1` widths, the network input, then each layer's output.
    ///   - weightBits: one width per layer.
    ///   - flavour: one flavour for every layer instead of the scheme's choice, when given.
    ///   - flavours: one flavour per layer (a file's own), when given and `flavour` is not.
    /// - Throws: `PlanningError.bitCountMismatch` when the arrays do not match the layers.
    public static func fixed(
        _ network: Network, activationBits: [BitWidth], weightBits: [BitWidth], budget: MemoryBudget,
        scheme: QuantizationScheme, flavour: RequantizationFlavour? = nil, flavours: [RequantizationFlavour]? = nil
    ) throws(PlanningError) -> BitWidthPlan {
        var state = PlannerState(network: network, scheme: scheme, budget: budget)
        state.layerFlavours = flavours
        guard activationBits.count == state.activationBits.count, weightBits.count == state.layers.count,
              (flavours?.count ?? state.layers.count) == state.layers.count else {
            throw .bitCountMismatch(layers: state.layers.count, activations: activationBits.count, weights: weightBits.count,
                                    expectedActivations: state.activationBits.count)
        }
        state.activationBits = activationBits
        state.weightBits = weightBits
        state.flavourOverride = flavour
        return state.plan
    }

    /// Plans the activation bits of a network whose weight bits are fixed in advance (a
    /// weight-only QONNX file states them): the activations are cut as `plan` cuts them to fit
    /// M_RW; the weights keep `weightBits`, and the plan's `fitsFlash` says whether they meet
    /// M_RO (nothing is cut to make them fit).
    /// - Parameters:
    ///   - flavour: one flavour for every layer instead of the scheme's choice, when given.
    /// - Throws: `PlanningError` when `weightBits` does not have one width per layer or no
    ///   activation bits fit under `mixpl` or `mixpc`.
    public static func plan(
        _ network: Network, budget: MemoryBudget, scheme: QuantizationScheme, weightBits: [BitWidth],
        flavour: RequantizationFlavour? = nil
    ) throws(PlanningError) -> BitWidthPlan {
        var state = PlannerState(network: network, scheme: scheme, budget: budget)
        guard weightBits.count == state.layers.count else {
            throw .bitCountMismatch(layers: state.layers.count, activations: state.activationBits.count, weights: weightBits.count,
                                    expectedActivations: state.activationBits.count)
        }
        state.weightBits = weightBits
        state.flavourOverride = flavour
        if scheme.allowsCuts {
            if state.followsPaperSweeps {
                try state.fitActivations()
            }
            try state.fitLiveTensors()
        }
        return state.plan
    }

    /// How many activation bit-widths `fixed` takes for `network`: one per group of tensors
    /// that share a quantization (docs/design.md#network-graph). On a chain of layers and
    /// pooling steps this is `layers.count + 1`: the input, then each layer's output.
    public static func activationGroupCount(_ network: Network) -> Int {
        PlannerState.tensorGroups(network).count
    }

    /// The activation group of every tensor of `network` (indices into `fixed`'s
    /// `activationBits`).
    public static func activationGroups(_ network: Network) -> [Int] {
        PlannerState.tensorGroups(network).groupOf
    }

    /// Plans as `plan(_:budget:scheme:)` does, then gives every layer `flavour` (the parameter
    /// bytes follow the flavour; the bits stay the scheme's).
    public static func plan(
        _ network: Network, budget: MemoryBudget, scheme: QuantizationScheme, flavour: RequantizationFlavour?
    ) throws(PlanningError) -> BitWidthPlan {
        let planned = try plan(network, budget: budget, scheme: scheme)
        guard let flavour else { return planned }
        // One width per activation group, read from the planned tensors (on a chain: the input,
        // then each layer's output; on a graph also the adds' outputs).
        var groupBits = [BitWidth](repeating: .eight, count: activationGroupCount(network))
        for (tensor, group) in activationGroups(network).enumerated() where tensor < planned.tensorBits.count {
            groupBits[group] = planned.tensorBits[tensor]
        }
        var fixedPlan = try fixed(network, activationBits: groupBits,
                                  weightBits: planned.layers.map(\.weightBits), budget: budget, scheme: scheme, flavour: flavour)
        fixedPlan.cuts = planned.cuts
        fixedPlan.sweeps = planned.sweeps
        return fixedPlan
    }
}

/// The planner's working state: the bits of every tensor and the cuts so far.
struct PlannerState {
    let networkName: String
    let network: Network
    let layers: [Layer]
    let scheme: QuantizationScheme
    let budget: MemoryBudget
    /// Bits per activation group: tensors that share a quantization (a pooling or reshape
    /// step's output and its input) form one group (docs/design.md#network-graph). On a chain of
    /// layers and pooling steps, group `k` is layer k's input and group `k + 1` its output: the
    /// output of one layer and the input of the next are one tensor (through pooling, which
    /// keeps the bits).
    var activationBits: [BitWidth]
    var weightBits: [BitWidth]
    var cuts: [BitWidthCut] = []
    var sweeps: [ActivationSweep] = []
    /// One flavour for every layer instead of the scheme's (see `BitWidthPlanner.fixed`).
    var flavourOverride: RequantizationFlavour?
    /// One flavour per layer (a file's own), below `flavourOverride`.
    var layerFlavours: [RequantizationFlavour]?
    /// The group of every tensor.
    let groupOf: [Int]
    /// Layer k's input and output tensors.
    let layerInput: [Int]
    let layerOutput: [Int]
    /// Whether the network is a chain in which the paper's sweeps see every tensor: each layer
    /// reads the previous layer's output group and the groups are the input plus one per layer.
    let followsPaperSweeps: Bool

    init(network: Network, scheme: QuantizationScheme, budget: MemoryBudget) {
        networkName = network.name
        self.network = network
        layers = network.layers
        self.scheme = scheme
        self.budget = budget
        let groups = Self.tensorGroups(network)
        groupOf = groups.groupOf
        var inputs: [Int] = [], outputs: [Int] = []
        for (index, step) in network.steps.enumerated() where step.layer != nil {
            inputs.append(network.stepInputs[index][0])
            outputs.append(Network.outputTensor(ofStep: index))
        }
        layerInput = inputs
        layerOutput = outputs
        followsPaperSweeps = network.isChain && groups.count == layers.count + 1
            && network.steps.allSatisfy { step in
                if case .layer = step { return true }
                if case .globalAveragePool = step { return true }
                return false
            }
        activationBits = Array(repeating: .eight, count: groups.count)
        weightBits = Array(repeating: .eight, count: layers.count)
    }

    /// Tensors grouped by shared quantization: a step that keeps its input's quantization puts
    /// its output in its input's group; every other step's output starts a new group.
    static func tensorGroups(_ network: Network) -> (groupOf: [Int], count: Int) {
        var groupOf = [0]
        var count = 1
        for (index, step) in network.steps.enumerated() {
            if step.keepsInputQuantization {
                groupOf.append(groupOf[network.stepInputs[index][0]])
            } else {
                groupOf.append(count)
                count += 1
            }
        }
        return (groupOf, count)
    }

    var lastIndex: Int { layers.count - 1 }

    func bits(ofTensor t: Int) -> BitWidth { activationBits[groupOf[t]] }
    func tensorBytes(_ t: Int) -> Int { network.tensorShapes[t].bytes(at: bits(ofTensor: t)) }
    func inputBytes(_ k: Int) -> Int { layers[k].input.bytes(at: bits(ofTensor: layerInput[k])) }
    func outputBytes(_ k: Int) -> Int { layers[k].output.bytes(at: bits(ofTensor: layerOutput[k])) }
    func activationBytes(_ k: Int) -> Int { inputBytes(k) + outputBytes(k) }
    func weightBytes(_ k: Int) -> Int { layers[k].weightBytes(at: weightBits[k]) }
    func flavour(_ k: Int) -> RequantizationFlavour {
        flavourOverride ?? layerFlavours?[k] ?? scheme.flavour(weightBits: weightBits[k], outputBits: bits(ofTensor: layerOutput[k]))
    }
    func parameterBytes(_ k: Int) -> Int { flavour(k).parameterBytes(outputChannels: layers[k].outputChannels) }
    var totalWeightBytes: Int { layers.indices.reduce(0) { $0 + weightBytes($1) } }
    var flashBytes: Int { layers.indices.reduce(0) { $0 + weightBytes($1) + parameterBytes($1) } }

    /// Packed bytes of the tensors alive while each step runs (docs/design.md#network-graph).
    var stepLiveBytes: [Int] {
        network.steps.indices.map { index in network.liveTensors(atStep: index).reduce(0) { $0 + tensorBytes($1) } }
    }

    var plan: BitWidthPlan {
        BitWidthPlan(
            networkName: networkName, scheme: scheme, budget: budget,
            layers: layers.indices.map { k in
                LayerPlan(layer: layers[k], inputBits: bits(ofTensor: layerInput[k]), weightBits: weightBits[k],
                          outputBits: bits(ofTensor: layerOutput[k]), flavour: flavour(k),
                          weightBytes: weightBytes(k), parameterBytes: parameterBytes(k),
                          inputBytes: inputBytes(k), outputBytes: outputBytes(k))
            },
            cuts: cuts, sweeps: sweeps,
            steps: network.steps.indices.map { index in
                StepMemory(name: network.steps[index].name, liveBytes: stepLiveBytes[index])
            },
            tensorBits: network.tensorShapes.indices.map { bits(ofTensor: $0) })
    }

    // MARK: Step 1: activations

    /// Which activation tensor of layer `k` the rule cuts next, and why; `nil` when neither
    /// tensor may be cut (at the 2-bit floor, the network input, or the classifier output).
    func activationChoice(_ k: Int) -> (tensor: BitWidthCut.Tensor, why: String)? {
        let inputBits = activationBits[k], outputBits = activationBits[k + 1]
        let inputCuttable = k > 0 && inputBits.halved != nil
        let outputCuttable = k < lastIndex && outputBits.halved != nil
        switch (inputCuttable, outputCuttable) {
        case (false, false):
            return nil
        case (true, false):
            let why = k == lastIndex ? "the last layer may only cut its input"
                                     : "the output is at the 2-bit floor"
            return (.input, why)
        case (false, true):
            let why = k == 0 ? "the first layer may only cut its output"
                             : "the input is at the 2-bit floor"
            return (.output, why)
        case (true, true):
            if inputBits != outputBits {
                let tensor: BitWidthCut.Tensor = inputBits > outputBits ? .input : .output
                return (tensor, "the \(tensor.rawValue) has more bits (input \(inputBits.bits), output \(outputBits.bits))")
            }
            let inBytes = inputBytes(k), outBytes = outputBytes(k)
            if inBytes != outBytes {
                let tensor: BitWidthCut.Tensor = inBytes > outBytes ? .input : .output
                return (tensor, "equal bits (\(inputBits.bits)); the \(tensor.rawValue) has more bytes "
                            + "(input \(inBytes) B, output \(outBytes) B)")
            }
            return (.output, "equal bits (\(inputBits.bits)) and equal bytes (\(inBytes) B); the output is cut")
        }
    }

    /// Step 1 of docs/design.md#planner: alternate forward and backward sweeps until every layer's
    /// input plus output fits M_RW.
    ///
    /// Termination: a sweep that makes no cut reaches each layer left unresolved by the previous
    /// sweep in the state that sweep left it (cuts made after visiting a layer never touch its
    /// tensors in that direction), so the rule picks the same tensor, which now belongs to this
    /// direction and is cut. Every sweep after the first therefore cuts at least once or ends the
    /// step, and there are at most two cuts per tensor; `maximumSweeps` is that bound.
    mutating func fitActivations() throws(PlanningError) {
        let maximumSweeps = 2 * activationBits.count + 2
        var direction = SweepDirection.forward
        for number in 1...maximumSweeps {
            var unresolved: [String] = []
            let order = direction == .forward ? Array(layers.indices) : Array(layers.indices.reversed())
            for k in order {
                while activationBytes(k) > budget.ram {
                    guard let choice = activationChoice(k) else {
                        throw activationFloorError(k)
                    }
                    let belongsTo: SweepDirection = choice.tensor == .output ? .forward : .backward
                    if belongsTo != direction {
                        unresolved.append(layers[k].name)
                        break
                    }
                    cutActivation(k, tensor: choice.tensor, why: choice.why,
                                  step: .activations(sweep: number, direction: direction))
                }
            }
            if unresolved.isEmpty && cuts.isEmpty && number == 1 {
                return  // everything fit at 8 bits: no sweep to report
            }
            sweeps.append(ActivationSweep(number: number, direction: direction, unresolvedLayers: unresolved))
            if unresolved.isEmpty { return }
            direction = direction.flipped
        }
        throw .sweepsDidNotConverge(sweeps: maximumSweeps)
    }

    mutating func cutActivation(_ k: Int, tensor: BitWidthCut.Tensor, why: String, step: BitWidthCut.Step) {
        let needed = activationBytes(k)
        let index = tensor == .input ? k : k + 1
        let shape = tensor == .input ? layers[k].input : layers[k].output
        let before = activationBits[index]
        guard let after = before.halved else { return }  // activationChoice only offers cuttable tensors
        activationBits[index] = after
        cuts.append(BitWidthCut(
            step: step, layerIndex: k, layerName: layers[k].name, tensor: tensor,
            bitsBefore: before, bitsAfter: after,
            bytesBefore: shape.bytes(at: before), bytesAfter: shape.bytes(at: after),
            reason: "input+output \(needed) B > RAM budget \(budget.ram) B; \(why)"))
    }

    func activationFloorError(_ k: Int) -> PlanningError {
        let layer = layers[k]
        let inputFloor: BitWidth = k == 0 ? activationBits[k] : .two
        let outputFloor: BitWidth = k == lastIndex ? activationBits[k + 1] : .two
        return .activationsDoNotFit(
            layer: layer.name, input: layer.input, inputBits: inputFloor, inputBytes: layer.input.bytes(at: inputFloor),
            output: layer.output, outputBits: outputFloor, outputBytes: layer.output.bytes(at: outputFloor),
            isFirst: k == 0, isLast: k == lastIndex, ramBudget: budget.ram, ramNeeded: minimumRAM)
    }

    /// The smallest M_RW any assignment can meet: the largest input plus output over the layers with
    /// every cuttable tensor at 2 bits (the network input and classifier output stay at 8 bits).
    /// With this much RAM the activation step always succeeds, since it cuts a layer's tensors
    /// down to the floor before giving up.
    var minimumRAM: Int {
        layers.indices.map { k in
            layers[k].input.bytes(at: k == 0 ? .eight : .two)
                + layers[k].output.bytes(at: k == lastIndex ? .eight : .two)
        }.max() ?? 0
    }

    // MARK: Step 1 on a graph

    /// Step 1 on a graph (docs/design.md#network-graph): visit the steps in order; while the
    /// tensors alive at a step exceed M_RW, cut the live group with the most bits, then the most
    /// bytes alive here, then the one holding the step's output. The network input's and output's
    /// groups are never cut. Cuts only shrink tensors, so steps already visited stay within the
    /// budget and one pass suffices. On a chain of layers the paper's sweeps ran first and this
    /// pass cuts nothing.
    mutating func fitLiveTensors() throws(PlanningError) {
        let fixedGroups: Set<Int> = [groupOf[0], groupOf[network.steps.count]]
        for index in network.steps.indices {
            let output = Network.outputTensor(ofStep: index)
            while true {
                let live = network.liveTensors(atStep: index)
                let needed = live.reduce(0) { $0 + tensorBytes($1) }
                guard needed > budget.ram else { break }
                var bytesByGroup: [Int: Int] = [:]
                for t in live where !fixedGroups.contains(groupOf[t]) && bits(ofTensor: t).halved != nil {
                    bytesByGroup[groupOf[t], default: 0] += tensorBytes(t)
                }
                let outputGroup = groupOf[network.storage(of: output)]
                guard let group = bytesByGroup.keys.max(by: { a, b in
                    (activationBits[a], bytesByGroup[a] ?? 0, a == outputGroup ? 1 : 0, -a)
                        < (activationBits[b], bytesByGroup[b] ?? 0, b == outputGroup ? 1 : 0, -b)
                }) else {
                    throw .liveTensorsDoNotFit(step: network.steps[index].name, bytes: needed, ramBudget: budget.ram)
                }
                let before = activationBits[group]
                guard let after = before.halved else { break }
                activationBits[group] = after
                let tensor = live.first { groupOf[$0] == group } ?? output
                let shape = network.tensorShapes[tensor]
                let (layerIndex, which) = cutSite(ofTensor: tensor)
                cuts.append(BitWidthCut(
                    step: .activations(sweep: sweeps.count + 1, direction: .forward), layerIndex: layerIndex,
                    layerName: layers[layerIndex].name, tensor: which, bitsBefore: before, bitsAfter: after,
                    bytesBefore: shape.bytes(at: before), bytesAfter: shape.bytes(at: after),
                    reason: "tensors alive at \(network.steps[index].name) need \(needed) B > RAM budget \(budget.ram) B; "
                        + "the cut tensor has the most bits (\(before.bits)), then the most bytes alive there"))
            }
        }
    }

    /// The layer a tensor belongs to for reporting a cut: the layer that writes its group, or
    /// else the first layer that reads it.
    func cutSite(ofTensor t: Int) -> (layer: Int, tensor: BitWidthCut.Tensor) {
        if let k = layerOutput.firstIndex(where: { groupOf[$0] == groupOf[t] }) { return (k, .output) }
        if let k = layerInput.firstIndex(where: { groupOf[$0] == groupOf[t] }) { return (k, .input) }
        return (0, .input)
    }

    // MARK: Step 2: weights

    /// Step 2 of docs/design.md#planner: cut weights by share until weights plus parameters fit M_RO.
    mutating func fitWeights() throws(PlanningError) {
        while flashBytes > budget.flash {
            let candidates = layers.indices.filter { weightBits[$0].halved != nil }
            let total = totalWeightBytes
            guard let largest = candidates.max(by: { weightBytes($0) < weightBytes($1) }) else {
                throw .weightsDoNotFit(weightBytes: total, parameterBytes: flashBytes - total,
                                       flashBudget: budget.flash)
            }
            // share(k) >= share(largest) - 5 points  <=>  20 * bytes(k) >= 20 * bytes(largest) - total,
            // exact in integers. `candidates` is in network order, so `first` is the earliest.
            let largestBytes = weightBytes(largest)
            guard let k = candidates.first(where: { 20 * weightBytes($0) >= 20 * largestBytes - total }) else {
                return  // unreachable: `largest` itself satisfies the condition
            }
            let why = k == largest
                ? "\(layers[k].name) has the largest share of the weight bytes (\(percent(largestBytes, of: total)))"
                : "largest share \(layers[largest].name) \(percent(largestBytes, of: total)); "
                    + "\(layers[k].name) (\(percent(weightBytes(k), of: total))) is the earliest layer within 5 points of it"
            let flashBefore = flashBytes
            let before = weightBits[k]
            let bytesBefore = weightBytes(k)
            let flavourBefore = flavour(k)
            guard let after = before.halved else { return }  // candidates are above 2 bits
            weightBits[k] = after
            let flavourNote = flavour(k) == flavourBefore ? "" : "; flavour \(flavourBefore) -> \(flavour(k))"
            cuts.append(BitWidthCut(
                step: .weights, layerIndex: k, layerName: layers[k].name, tensor: .weights,
                bitsBefore: before, bitsAfter: after, bytesBefore: bytesBefore, bytesAfter: weightBytes(k),
                reason: "weights+parameters \(flashBefore) B > FLASH budget \(budget.flash) B; \(why)\(flavourNote)"))
        }
    }

    func percent(_ part: Int, of total: Int) -> String {
        let tenths = total == 0 ? 0 : (part * 1000 + total / 2) / total
        return "\(tenths / 10).\(tenths % 10)%"
    }
}

/// Why no bit-width assignment fits the budgets. Each case says what would have to change.
public enum PlanningError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A layer's input plus output exceed M_RW even with every tensor it may cut at 2 bits.
    case activationsDoNotFit(layer: String, input: TensorShape, inputBits: BitWidth, inputBytes: Int,
                             output: TensorShape, outputBits: BitWidth, outputBytes: Int,
                             isFirst: Bool, isLast: Bool, ramBudget: Int, ramNeeded: Int)
    /// Weights plus parameters exceed M_RO with every layer's weights at 2 bits.
    case weightsDoNotFit(weightBytes: Int, parameterBytes: Int, flashBudget: Int)
    /// The activation sweeps did not settle (cannot happen by the argument in
    /// `PlannerState.fitActivations`; reported rather than looping forever).
    case sweepsDidNotConverge(sweeps: Int)
    /// Fixed bits given for a different number of tensors than the network has.
    case bitCountMismatch(layers: Int, activations: Int, weights: Int, expectedActivations: Int)
    /// The tensors alive at a step of a graph exceed M_RW with every cuttable one at 2 bits.
    case liveTensorsDoNotFit(step: String, bytes: Int, ramBudget: Int)

    /// The budget, in bytes, that would make planning succeed: for activations the smallest RAM
    /// budget any assignment meets; for weights the FLASH with every layer's weights at 2 bits
    /// (the least possible under `mixpc`, enough under `mixpl`); 0 when unknown.
    public var bytesNeeded: Int {
        switch self {
        case .activationsDoNotFit(_, _, _, _, _, _, _, _, _, _, let ramNeeded):
            return ramNeeded
        case .weightsDoNotFit(let weightBytes, let parameterBytes, _):
            return weightBytes + parameterBytes
        case .liveTensorsDoNotFit(_, let bytes, _):
            return bytes
        case .sweepsDidNotConverge, .bitCountMismatch:
            return 0
        }
    }

    public var description: String {
        switch self {
        case .activationsDoNotFit(let layer, let input, let inputBits, let inputBytes,
                                  let output, let outputBits, let outputBytes, let isFirst, let isLast, let ram,
                                  let needed):
            var fixed: [String] = []
            if isFirst { fixed.append("the network input stays \(inputBits.bits)-bit") }
            if isLast { fixed.append("the classifier output stays \(outputBits.bits)-bit") }
            let note = fixed.isEmpty ? "" : " (\(fixed.joined(separator: ", ")))"
            return "no bit-width assignment fits the RAM budget: layer \(layer) needs "
                + "\(inputBytes + outputBytes) B for input \(input) at \(inputBits.bits) bits (\(inputBytes) B) "
                + "plus output \(output) at \(outputBits.bits) bits (\(outputBytes) B)\(note), "
                + "more than the RAM budget of \(ram) B; the network needs a RAM budget of at least "
                + "\(needed) B, or choose a smaller model"
        case .weightsDoNotFit(let weights, let parameters, let flash):
            return "no bit-width assignment fits the FLASH budget: with every layer's weights at 2 bits, "
                + "weights (\(weights) B) plus quantization parameters (\(parameters) B) need "
                + "\(weights + parameters) B, more than the FLASH budget of \(flash) B; a FLASH budget of "
                + "\(weights + parameters) B is enough, or choose a smaller model"
        case .sweepsDidNotConverge(let sweeps):
            return "the activation sweeps did not settle after \(sweeps) sweeps (a planner bug; please report it)"
        case .bitCountMismatch(let layers, let activations, let weights, let expected):
            return "fixed bit-widths for \(activations) activations and \(weights) weight tensors given, but the network has "
                + "\(layers) layers (\(expected) activation groups, \(layers) weight tensors)"
        case .liveTensorsDoNotFit(let step, let bytes, let ram):
            return "no bit-width assignment fits the RAM budget: the tensors alive at step \(step) need \(bytes) B "
                + "with every cuttable tensor at 2 bits, more than the RAM budget of \(ram) B; the network needs a RAM "
                + "budget of at least \(bytes) B, or choose a smaller model"
        }
    }
}
