import Deployment
import Dispatch
import Foundation
import Planning
import Quantization

/// The accuracy-aware bit allocation (docs/design.md, "Accuracy-aware search"): starting from every
/// tensor at 8 bits, cut (halve) one tensor at a time until the plan fits, each time the cut with the
/// smallest measured loss of accuracy per byte of excess it removes, and give back earlier cuts that a
/// later one made unnecessary.
///
/// * Every candidate is a plan built by `BitWidthPlanner.fixed` and checked with the planner's own
///   accounting (`BitWidthPlan.fits`): the same RAM and FLASH rule as the paper's.
/// * The excess of a plan is the RAM over the budget summed over the layers that exceed it, plus the
///   FLASH over the budget; a cut is a candidate when it lowers the excess.
/// * A candidate's cost is measured on the calibration images with the integer-only network
///   (`CompiledNetwork`, bit-exact with the kernels) against the float network: the mean
///   Kullback-Leibler divergence of the integer network's softmax from the float network's (also
///   reported: agreement of the two argmaxes). Only the steps after the cut run again: the current
///   plan's intermediate codes are kept per image.
/// * Lazy greedy (Minoux 1978): a cost measured in an earlier round is kept as an estimate; the
///   cheapest candidate is measured again and taken when it stays the cheapest. Costs grow as cuts
///   accumulate, so few candidates are measured per round.
/// * After every cut, an earlier cut whose undoing does not raise the excess is undone when that
///   lowers the measured loss (the later cut made it unnecessary); the same once the plan fits.
public enum SensitivitySearch {
    /// What the search is given besides the model.
    public struct Options: Sendable {
        /// Images (pixels, HWC, as the dataset stores them) the costs are measured on; also the
        /// calibration images of the ranges.
        public var images: [[UInt8]]
        /// How ranges are chosen while searching (and must be chosen when the plan is deployed).
        public var calibration: CalibrationMethod
        /// Worker threads.
        public var jobs: Int
        /// Bytes of intermediate codes kept to restart runs after a cut (fewer steps are kept beyond it).
        public var cacheBytes: Int

        public init(images: [[UInt8]], calibration: CalibrationMethod = .mse,
                    jobs: Int = ProcessInfo.processInfo.activeProcessorCount, cacheBytes: Int = 1 << 29) {
            self.images = images
            self.calibration = calibration
            self.jobs = jobs
            self.cacheBytes = cacheBytes
        }
    }

    /// One event of the search, in order: a cut, or an earlier cut undone.
    public struct Event: Sendable, Hashable {
        public enum Kind: String, Sendable, Hashable { case cut, undo }
        public var kind: Kind
        public var round: Int
        public var summary: String
        public var reason: String
    }

    /// The search's outcome.
    public struct Result: Sendable {
        /// The plan (its `cuts` are the cuts still in effect, in the order made, each explained).
        public var plan: BitWidthPlan
        /// Every cut and undo in order.
        public var events: [Event]
        /// Mean KL divergence from the float network on the calibration images, all 8-bit and final.
        public var initialLoss: Double
        public var finalLoss: Double
        /// Share of calibration images whose argmax agrees with the float network's, all 8-bit and final.
        public var initialAgreement: Double
        public var finalAgreement: Double
        /// Candidate plans measured.
        public var evaluations: Int
        public var images: Int
        public var seconds: Double
        /// Processor time of the whole process during the search (all threads), in seconds: what the
        /// search costs on an idle machine, wall time being inflated when the cores are shared.
        public var cpuSeconds: Double
        /// The statistics the ranges come from (to quantize the chosen plan exactly as measured).
        public var statistics: CalibrationStatistics
    }

    /// Why the search cannot run.
    public enum SearchError: Error, Sendable, CustomStringConvertible {
        case noImages
        case statesItsBits(String)
        case noCandidate(String)

        public var description: String {
            switch self {
            case .noImages: return "the sensitivity search needs calibration images (--dataset)"
            case .statesItsBits(let model):
                return "\(model) states its own bit-widths (a QONNX file); the sensitivity search plans float models only"
            case .noCandidate(let detail): return "the sensitivity search found no cut that brings the plan closer to the budgets: \(detail)"
            }
        }
    }

    /// Searches the bits of `model` under `budget` and `scheme` (see the type's documentation).
    /// - Throws: `PlanningError` when no assignment fits (the paper planner's diagnosis),
    ///   `SearchError`, `DeploymentError` when the model cannot be quantized.
    public static func search(_ model: FloatModel, budget: MemoryBudget, scheme: QuantizationScheme,
                              flavour: RequantizationFlavour? = nil, options: Options,
                              log: (String) -> Void = { _ in }) throws -> Result {
        let started = DispatchTime.now()
        let startedCPU = processorSeconds()
        guard !options.images.isEmpty else { throw SearchError.noImages }
        guard model.quantization == nil else { throw SearchError.statesItsBits(model.network.name) }
        // MixQ's integer network ends at the logits (a final softmax is left out), and so do the
        // float reference the costs compare with and the plans.
        var model = model
        model.network = model.network.withoutFinalSoftmax
        let network = model.network
        if scheme.allowsCuts {
            _ = try BitWidthPlanner.plan(network, budget: budget, scheme: scheme)  // the paper's diagnosis when nothing fits
        }
        let statistics = CalibrationStatistics(model: model, images: options.images.map { model.input.real($0) })
        var scorer = try Scorer(model: model, statistics: statistics, options: options)
        let layers = network.layers
        let graph = GraphIndex(network)
        var state = Bits(activations: Array(repeating: .eight, count: graph.groupCount),
                         weights: Array(repeating: .eight, count: layers.count))
        func plan(_ bits: Bits) throws -> BitWidthPlan {
            try BitWidthPlanner.fixed(network, activationBits: bits.activations, weightBits: bits.weights, budget: budget,
                                      scheme: scheme, flavour: flavour)
        }
        var current = try scorer.adopt(plan(state))
        let initial = current
        var events: [Event] = []
        var cuts: [BitWidthCut] = []
        /// Estimated loss after each candidate cut, with the round it was measured in.
        var estimates: [Bits.Tensor: (loss: Double, round: Int)] = [:]
        var round = 0
        log(String(format: "search: all 8-bit: KL %.4f, agreement %.1f%% on %d images", current.loss, current.agreement * 100,
                   options.images.count))

        /// Gives back earlier cuts a later one made unnecessary: undoing one must not raise the
        /// excess, and is kept when it lowers the measured loss; the best such undo first, repeated.
        func undoUnneeded() throws {
            while true {
                let excess = Self.excess(try plan(state), graph: graph)
                var best: (index: Int, bits: Bits, score: Scorer.Score)?
                for (index, cut) in cuts.enumerated() {
                    let tensor = graph.tensor(of: cut)
                    guard state.bits(of: tensor) == cut.bitsAfter else { continue }
                    let undone = state.setting(tensor, to: cut.bitsBefore)
                    guard Self.excess(try plan(undone), graph: graph) <= excess else { continue }
                    let score = try scorer.measure(plan(undone), changedFrom: graph.firstStep(of: tensor))
                    if score.loss < current.loss, score.loss < best?.score.loss ?? .infinity { best = (index, undone, score) }
                }
                guard let best else { return }
                let cut = cuts.remove(at: best.index)
                let tensor = graph.tensor(of: cut)
                let before = current
                current = try scorer.adopt(plan(best.bits), changedFrom: graph.firstStep(of: tensor))
                state = best.bits
                estimates[tensor] = nil
                let reason = String(format: "no longer needed to meet the budgets; KL %.4f -> %.4f, agreement %.1f%% -> %.1f%%",
                                    before.loss, current.loss, before.agreement * 100, current.agreement * 100)
                events.append(Event(kind: .undo, round: round, summary: "\(cut.layerName) \(cut.tensor.rawValue) back to "
                                    + "\(cut.bitsBefore.bits) bits", reason: reason))
                log("search: undo \(cut.summary): \(reason)")
            }
        }

        while scheme.allowsCuts {
            let currentPlan = try plan(state)
            let excess = Self.excess(currentPlan, graph: graph)
            if excess == 0 { break }
            round += 1
            var candidates: [(tensor: Bits.Tensor, bits: Bits, saved: Int)] = []
            for tensor in state.cuttable(fixedGroups: graph.fixedGroups) {
                let next = state.cutting(tensor)
                let saved = excess - Self.excess(try plan(next), graph: graph)
                if saved > 0 { candidates.append((tensor, next, saved)) }
            }
            guard !candidates.isEmpty else {
                throw SearchError.noCandidate(currentPlan.budgetProblems.joined(separator: "; "))
            }
            func key(_ c: (tensor: Bits.Tensor, bits: Bits, saved: Int)) -> Double {
                guard let estimate = estimates[c.tensor] else { return -Double.infinity }
                return (max(estimate.loss - current.loss, 0) + 1e-12) / Double(c.saved)
            }
            var chosen: (tensor: Bits.Tensor, bits: Bits, saved: Int)
            while true {
                let ordered = candidates.sorted { key($0) < key($1) }
                let top = ordered[0]
                if let estimate = estimates[top.tensor], estimate.round == round {
                    chosen = top
                    break
                }
                let score = try scorer.measure(plan(top.bits), changedFrom: graph.firstStep(of: top.tensor))
                estimates[top.tensor] = (score.loss, round)
            }
            let before = current
            let chosenPlan = try plan(chosen.bits)
            current = try scorer.adopt(chosenPlan, changedFrom: graph.firstStep(of: chosen.tensor))
            let measuredCount = candidates.filter { estimates[$0.tensor]?.round == round }.count
            let perByte = max(current.loss - before.loss, 0) / Double(chosen.saved)
            let reason = String(format: "saves %d B of the %d B over the budgets (%@); measured on %d images: KL %.4f -> %.4f, "
                                + "agreement with the float network %.1f%% -> %.1f%%; %.3g per byte saved, the cheapest of %d "
                                + "candidates (%d measured this round)",
                                chosen.saved, excess, Self.overBudget(currentPlan, graph: graph), options.images.count, before.loss, current.loss,
                                before.agreement * 100, current.agreement * 100, perByte, candidates.count, measuredCount)
            let cut = graph.cut(chosen.tensor, from: state, plan: currentPlan, round: round, reason: reason)
            cuts.append(cut)
            events.append(Event(kind: .cut, round: round, summary: cut.summary, reason: reason))
            log("search: round \(round): \(cut.summary): \(reason)")
            state = chosen.bits
            estimates[chosen.tensor] = nil
            try undoUnneeded()
        }
        try undoUnneeded()

        var result = try plan(state)
        result.cuts = cuts
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        return Result(plan: result, events: events, initialLoss: initial.loss, finalLoss: current.loss,
                      initialAgreement: initial.agreement, finalAgreement: current.agreement,
                      evaluations: scorer.evaluations, images: options.images.count, seconds: seconds,
                      cpuSeconds: processorSeconds() - startedCPU, statistics: statistics)
    }

    /// User plus system processor time of this process so far (getrusage(2)).
    static func processorSeconds() -> Double {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// RAM over the budget summed over the layers that exceed it (on a graph: over the steps, each
    /// with the bytes of the tensors alive while it runs), plus FLASH over the budget.
    static func excess(_ plan: BitWidthPlan, graph: GraphIndex) -> Int {
        ramUse(plan, graph: graph).reduce(0) { $0 + max($1.bytes - plan.budget.ram, 0) } + max(plan.flashBytes - plan.budget.flash, 0)
    }

    /// The RAM figure of every layer (a chain: its input plus output, the paper's rule) or of every
    /// step (a graph: its live tensors, docs/design.md#network-graph).
    static func ramUse(_ plan: BitWidthPlan, graph: GraphIndex) -> [(name: String, bytes: Int)] {
        graph.network.isChain ? plan.layers.map { (name: $0.name, bytes: $0.activationBytes) }
            : plan.steps.map { (name: $0.name, bytes: $0.liveBytes) }
    }

    /// What is over the budgets, briefly.
    static func overBudget(_ plan: BitWidthPlan, graph: GraphIndex) -> String {
        var parts: [String] = []
        let over = ramUse(plan, graph: graph).filter { $0.bytes > plan.budget.ram }.map(\.name)
        if !over.isEmpty { parts.append("RAM at " + over.joined(separator: ", ")) }
        if plan.flashBytes > plan.budget.flash { parts.append("FLASH by \(plan.flashBytes - plan.budget.flash) B") }
        return parts.joined(separator: "; ")
    }
}

/// A bit assignment: one width per activation group (`BitWidthPlanner.activationGroups`; on a
/// chain the network input, then each layer's output) and one per layer's weights.
struct Bits: Hashable, Sendable {
    var activations: [BitWidth]
    var weights: [BitWidth]

    enum Tensor: Hashable, Sendable {
        /// `activations[group]`.
        case activation(Int)
        case weights(Int)
    }

    /// Tensors above 2 bits that may be cut: every layer's weights and every activation group but
    /// the network input's and output's.
    func cuttable(fixedGroups: Set<Int>) -> [Tensor] {
        activations.indices.filter { !fixedGroups.contains($0) && activations[$0] > .two }.map { Tensor.activation($0) }
            + weights.indices.filter { weights[$0] > .two }.map { Tensor.weights($0) }
    }

    func bits(of tensor: Tensor) -> BitWidth {
        switch tensor {
        case .activation(let index): return activations[index]
        case .weights(let k): return weights[k]
        }
    }

    func setting(_ tensor: Tensor, to bits: BitWidth) -> Bits {
        var next = self
        switch tensor {
        case .activation(let index): next.activations[index] = bits
        case .weights(let k): next.weights[k] = bits
        }
        return next
    }

    func cutting(_ tensor: Tensor) -> Bits { setting(tensor, to: bits(of: tensor).halved ?? bits(of: tensor)) }
}

/// Where the tensors of a `Bits` assignment sit in the network: activation groups, the layers
/// that read and write them, the steps that compute them.
struct GraphIndex {
    let network: Network
    let groupOf: [Int]
    let groupCount: Int
    /// Layer k's input and output tensors and step.
    let layerInput: [Int], layerOutput: [Int], layerStep: [Int]

    init(_ network: Network) {
        self.network = network
        groupOf = BitWidthPlanner.activationGroups(network)
        groupCount = BitWidthPlanner.activationGroupCount(network)
        var inputs: [Int] = [], outputs: [Int] = [], steps: [Int] = []
        for (index, step) in network.steps.enumerated() where step.layer != nil {
            inputs.append(network.stepInputs[index][0])
            outputs.append(Network.outputTensor(ofStep: index))
            steps.append(index)
        }
        layerInput = inputs
        layerOutput = outputs
        layerStep = steps
    }

    /// The network input's and output's groups: never cut.
    var fixedGroups: Set<Int> { [groupOf[0], groupOf[network.steps.count]] }

    /// The first tensor of a group (the one that starts it).
    func firstTensor(ofGroup group: Int) -> Int { groupOf.firstIndex(of: group) ?? 0 }

    /// The first step whose integer arithmetic the tensor's bits change: the step that writes the
    /// activation group (its output scale), or the step of the layer the weights belong to.
    func firstStep(of tensor: Bits.Tensor) -> Int {
        switch tensor {
        case .activation(let group): return max(firstTensor(ofGroup: group) - 1, 0)
        case .weights(let k): return layerStep.indices.contains(k) ? layerStep[k] : 0
        }
    }

    /// The tensor a cut of this search's plans names.
    func tensor(of cut: BitWidthCut) -> Bits.Tensor {
        switch cut.tensor {
        case .input: return .activation(groupOf[layerInput[cut.layerIndex]])
        case .output: return .activation(groupOf[layerOutput[cut.layerIndex]])
        case .weights: return .weights(cut.layerIndex)
        }
    }

    /// The cut of `tensor`, named after the layer that writes its group (else the first that reads it).
    func cut(_ tensor: Bits.Tensor, from state: Bits, plan: BitWidthPlan, round: Int, reason: String) -> BitWidthCut {
        let before = state.bits(of: tensor), after = before.halved ?? before
        switch tensor {
        case .activation(let group):
            let shape = network.tensorShapes[firstTensor(ofGroup: group)]
            let writer = layerOutput.firstIndex { groupOf[$0] == group }
            let k = writer ?? layerInput.firstIndex { groupOf[$0] == group } ?? 0
            return BitWidthCut(step: .search(round: round), layerIndex: k, layerName: plan.layers[k].name,
                               tensor: writer == nil ? .input : .output, bitsBefore: before, bitsAfter: after,
                               bytesBefore: shape.bytes(at: before), bytesAfter: shape.bytes(at: after), reason: reason)
        case .weights(let k):
            let layer = plan.layers[k].layer
            return BitWidthCut(step: .search(round: round), layerIndex: k, layerName: layer.name, tensor: .weights,
                               bitsBefore: before, bitsAfter: after, bytesBefore: layer.weightBytes(at: before),
                               bytesAfter: layer.weightBytes(at: after), reason: reason)
        }
    }
}

/// Measures plans on the calibration images: the integer network's loss against the float network,
/// restarting from the kept intermediate codes of the adopted plan.
struct Scorer {
    struct Score {
        var loss: Double
        var agreement: Double
    }

    let model: FloatModel
    let statistics: CalibrationStatistics
    let options: Options
    typealias Options = SensitivitySearch.Options
    /// The float network's softmax on every image.
    let floatProbabilities: [[Double]]
    let floatArgmax: [Int]
    /// Steps whose outputs are kept (a restart from step `s` starts at the latest kept output before it).
    var keptSteps: Set<Int> = []
    /// `kept[image][step]`: the adopted plan's output codes of a kept step.
    var kept: [[Int: [UInt8]]] = []
    var adoptedCompiled: Candidate?
    var evaluations = 0

    init(model: FloatModel, statistics: CalibrationStatistics, options: Options) throws {
        self.model = model
        self.statistics = statistics
        self.options = options
        let logits = Self.parallelMap(options.images.count, jobs: options.jobs) { i in
            FloatReference.run(model, image: model.input.real(options.images[i])).logits.map(Double.init)
        }
        floatProbabilities = logits.map(Self.softmax)
        floatArgmax = logits.map(Self.argmax)
        // Keep every step's output when it fits `cacheBytes`, else every k-th.
        let stepBytes = model.network.steps.map(\.output.elementCount)
        let perImage = max(stepBytes.reduce(0, +), 1)
        let every = max(1, (perImage * options.images.count + options.cacheBytes - 1) / max(options.cacheBytes, 1))
        // A graph's later steps read several tensors: its runs start from the input.
        keptSteps = model.network.isChain ? Set(stride(from: every - 1, to: stepBytes.count, by: every)) : []
    }

    /// A plan quantized and compiled as deployment will quantize it (same statistics and method).
    struct Candidate: Sendable {
        var compiled: CompiledNetwork
        var logits: TensorQuantization
    }

    func compile(_ plan: BitWidthPlan) throws -> Candidate {
        let quantized = try QuantizedNetwork.quantize(model, plan: plan, method: options.calibration, statistics: statistics)
        return Candidate(compiled: CompiledNetwork(quantized), logits: quantized.logits)
    }

    /// The loss of `plan`, which differs from the adopted plan from step `changedFrom` on.
    mutating func measure(_ plan: BitWidthPlan, changedFrom: Int) throws -> Score {
        evaluations += 1
        return run(try compile(plan), from: changedFrom, keep: false).score
    }

    /// Makes `plan` the adopted one (keeping its intermediate codes) and returns its loss.
    mutating func adopt(_ plan: BitWidthPlan, changedFrom: Int = 0) throws -> Score {
        evaluations += 1
        let compiled = try compile(plan)
        let outcome = run(compiled, from: adoptedCompiled == nil ? 0 : changedFrom, keep: true)
        adoptedCompiled = compiled
        for (image, outputs) in outcome.kept.enumerated() {
            if kept.count <= image { kept.append([:]) }
            for (step, codes) in outputs { kept[image][step] = codes }
        }
        return outcome.score
    }

    /// Runs `compiled` on every image from step `from` (restarting at the latest kept output of the
    /// adopted plan before it).
    func run(_ candidate: Candidate, from: Int, keep: Bool) -> (score: Score, kept: [[Int: [UInt8]]]) {
        let images = options.images
        let compiled = candidate.compiled
        let restart = keptSteps.filter { $0 < from }.max()
        let outcomes = Self.parallelMap(images.count, jobs: options.jobs) { i -> (Double, Bool, [Int: [UInt8]]) in
            var x: [Int32]
            var first: Int
            if let restart, let codes = kept.indices.contains(i) ? kept[i][restart] : nil {
                x = codes.map(Int32.init)
                first = restart + 1
            } else {
                x = model.input.encode(images[i]).map(Int32.init)
                first = 0
            }
            var outputs: [Int: [UInt8]] = [:]
            if model.network.isChain {
                for step in first..<compiled.steps.count {
                    x = compiled.run(step: step, x)
                    if keep, keptSteps.contains(step) { outputs[step] = x.map { UInt8(clamping: $0) } }
                }
            } else {
                x = compiled.logits(x.map { UInt8(clamping: $0) })
            }
            let logits = x.map { candidate.logits.real(Int($0)) }
            let p = Self.softmax(logits)
            var kl = 0.0
            for (f, q) in zip(floatProbabilities[i], p) where f > 0 { kl += f * (log(f) - log(max(q, 1e-12))) }
            return (kl, Self.argmax(logits) == floatArgmax[i], outputs)
        }
        let count = Double(max(images.count, 1))
        let score = Score(loss: outcomes.reduce(0) { $0 + $1.0 } / count,
                          agreement: Double(outcomes.filter(\.1).count) / count)
        return (score, keep ? outcomes.map(\.2) : [])
    }

    static func softmax(_ logits: [Double]) -> [Double] {
        let top = logits.max() ?? 0
        let e = logits.map { exp($0 - top) }
        let sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }

    /// The index of the largest value, the lowest index among equals (`TopK`'s rule).
    static func argmax(_ values: [Double]) -> Int {
        var best = 0
        for (i, v) in values.enumerated() where v > values[best] { best = i }
        return best
    }

    static func parallelMap<T: Sendable>(_ count: Int, jobs: Int, _ body: @Sendable (Int) -> T) -> [T] {
        let workers = max(1, min(jobs, count))
        let results = LockedArray<T?>(Array(repeating: nil, count: count))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for i in stride(from: worker, to: count, by: workers) { results.set(i, body(i)) }
        }
        return results.values.compactMap { $0 }
    }
}

extension CompiledNetwork {
    /// Step `index` on the codes `x` (the previous step's output).
    func run(step index: Int, _ x: [Int32]) -> [Int32] {
        switch steps[index] {
        case .pool(let pixels, let channels, let p): return Self.pool(x, pixels: pixels, channels: channels, parameters: p)
        case .layer(let layer): return Self.run(layer, x)
        case .reference(let step):
            // Called on chains only (`Scorer.run`), so one input.
            return ((try? HostReference.step(step, inputs: [x.map(Int.init)])) ?? []).map { Int32($0) }
        }
    }
}
