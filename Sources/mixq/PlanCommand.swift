import ArgumentParser
import Deployment
import Evaluation
import Foundation
import Planning

/// `mixq plan`: choose 8/4/2-bit widths for every tensor of a network under FLASH and RAM budgets.
struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Plan mixed 8/4/2-bit quantization of a network (built-in, or --model FILE: ONNX, QONNX or TFLite) under FLASH and RAM budgets.",
        discussion: """
            Runs the memory-driven bit-width selection of Rusci, Capotondi and Benini (MLSys 2020): \
            activations are cut until every layer's input plus output fits the RAM budget, then \
            weights until weights plus quantization parameters fit the FLASH budget. Prints, per \
            layer, the bits of input, weights and output, the weight, parameter and activation \
            bytes, then every cut in order and the totals. Under int8 nothing is cut; the command \
            reports whether the 8-bit network fits and exits 1 when it does not. When no \
            assignment fits, it prints 'error: ...' naming the layer or budget and exits 1.
            """
    )

    @OptionGroup var target: NetworkOptions

    @OptionGroup var choice: StrategyOptions

    @Option(help: "Dataset folder (images.npy, labels.npy, or one subfolder of JPEG/PNG files per class) for --strategy sensitivity.")
    var dataset: String?

    @OptionGroup var imageFolder: ImageFolderOptions

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        let reference = try target.reference()
        let isTrained = reference.model?.quantization != nil
        var plan: BitWidthPlan
        var searched: (SensitivitySearch.Result, LabelledDataset)?
        if choice.planningStrategy == .sensitivity {
            let images = try imageFolder.preprocessing(for: reference.network.input)
            let set = try dataset.map { try EvaluationRun.dataset($0, images: images) }
            var request = try target.request(for: reference)
            // The search's progress on stderr, one line per cut (a large network takes minutes).
            let search = try choice.apply(to: &request, dataset: set) { line in
                if !json { FileHandle.standardError.write(Data("mixq: \(line.prefix(160))\n".utf8)) }
            }
            guard let search, let set else { throw CommandFailure(message: "the sensitivity search did not run") }
            plan = search.plan
            searched = (search, set)
        } else {
            plan = try target.plan(for: reference)
        }
        if json {
            var output = PlanJSON(plan: plan)
            output.strategy = choice.planningStrategy.rawValue
            try JSONOutput.print(output)
        } else {
            if let imported = reference.imported {
                print("imported: \(imported.summary)")
                if !imported.folded.isEmpty { print("folded: " + imported.folded.joined(separator: "; ")) }
            }
            if let (search, set) = searched { print(StrategyOptions.render(search, dataset: set) + "\n") }
            print(PlanTable.render(plan))
        }
        if !plan.fits {
            let problems = plan.budgetProblems
            if isTrained, plan.scheme == .int8, reference.model?.quantization?.arithmetic == .tflite {
                throw CommandFailure(message: "\(plan.networkName) does not fit as its file states it: " + problems.joined(separator: "; ")
                                     + "; raise the budget, or let MixQ cut its bits with --scheme mixpl or mixpc")
            }
            if isTrained, plan.scheme == .int8 || reference.model?.quantization?.arithmetic != .tflite {
                throw CommandFailure(message: "\(plan.networkName) does not fit with the bit-widths its file states: "
                                     + problems.joined(separator: "; ") + "; retrain with fewer bits or raise the budget")
            }
            throw CommandFailure(message: "\(plan.networkName) does not fit under \(plan.scheme) (no cuts): "
                                 + problems.joined(separator: "; ") + "; try --scheme mixpl or mixpc")
        }
    }
}

enum PlanTable {
    static func render(_ plan: BitWidthPlan) -> String {
        let pad = SizeTable.pad, lpad = SizeTable.lpad
        var lines = ["\(plan.networkName) under \(plan.scheme): FLASH budget \(plan.budget.flash) B, RAM budget \(plan.budget.ram) B",
                     lpad("#", 3) + "  " + pad("layer", 22) + pad("kind", 10) + pad("in/w/out", 9)
                         + lpad("weights B", 10) + lpad("params B", 9) + lpad("act B", 9) + "  flavour"]
        for (index, layer) in plan.layers.enumerated() {
            let bits = "\(layer.inputBits.bits)/\(layer.weightBits.bits)/\(layer.outputBits.bits)"
            lines.append(lpad("\(index)", 3) + "  " + pad(layer.name, 22) + pad(layer.layer.kind.rawValue, 10) + pad(bits, 9)
                         + lpad("\(layer.weightBytes)", 10) + lpad("\(layer.parameterBytes)", 9)
                         + lpad("\(layer.activationBytes)", 9) + "  \(layer.flavour)"
                         + (layer.activationBytes > plan.budget.ram ? "  OVER RAM" : ""))
        }
        lines.append("")
        if plan.cuts.isEmpty {
            lines.append("cuts: none")
        } else {
            lines.append("cuts, in order:")
            for (index, cut) in plan.cuts.enumerated() {
                let step: String
                switch cut.step {
                case .activations(let sweep, let direction): step = "sweep \(sweep) \(direction.rawValue)"
                case .weights: step = "weights"
                case .search(let round): step = "search round \(round)"
                }
                lines.append(lpad("\(index + 1)", 3) + ". [\(step)] \(cut.summary): \(cut.reason)")
            }
        }
        for sweep in plan.sweeps where !sweep.unresolvedLayers.isEmpty {
            lines.append("sweep \(sweep.number) (\(sweep.direction.rawValue)) left unresolved: "
                         + sweep.unresolvedLayers.joined(separator: ", "))
        }
        lines.append("")
        lines.append("weights \(plan.weightBytes) B + parameters \(plan.parameterBytes) B = FLASH \(plan.flashBytes) B of \(plan.budget.flash) B "
                     + "(\(percent(plan.flashBytes, plan.budget.flash)))" + (plan.fitsFlash ? "" : "  OVER"))
        lines.append("peak activations \(plan.peakActivationBytes) B (\(plan.peakActivationLayer ?? "-")) of RAM \(plan.budget.ram) B "
                     + "(\(percent(plan.peakActivationBytes, plan.budget.ram)))" + (plan.fitsRAM ? "" : "  OVER"))
        lines.append("fits: \(plan.fits ? "yes" : "no")")
        return lines.joined(separator: "\n")
    }

    static func percent(_ part: Int, _ whole: Int) -> String {
        String(format: "%.1f%%", Double(part) * 100 / Double(max(whole, 1)))
    }
}

/// The JSON `mixq plan --json` prints (the plan half of docs/results-format.md, "One result").
struct PlanJSON: Encodable {
    struct Layer: Encodable {
        var name: String
        var kind: String
        var inputBits: Int
        var weightBits: Int
        var outputBits: Int
        var weightBytes: Int
        var activationBytes: Int

        enum CodingKeys: String, CodingKey {
            case name, kind
            case inputBits = "input_bits"
            case weightBits = "weight_bits"
            case outputBits = "output_bits"
            case weightBytes = "weight_bytes"
            case activationBytes = "activation_bytes"
        }
    }

    struct Cut: Encodable {
        var layer: String
        var tensor: String
        var step: String
        var sweep: Int?
        var direction: String?
        var fromBits: Int
        var toBits: Int
        var bytesBefore: Int
        var bytesAfter: Int
        var reason: String

        enum CodingKeys: String, CodingKey {
            case layer, tensor, step, sweep, direction, reason
            case fromBits = "from_bits"
            case toBits = "to_bits"
            case bytesBefore = "bytes_before"
            case bytesAfter = "bytes_after"
        }
    }

    var model: String
    var scheme: String
    var flashBudget: Int
    var ramBudget: Int
    var weightBytes: Int
    var paramBytes: Int
    var flashBytes: Int
    var peakActivationBytes: Int
    var fits: Bool
    var cuts: [Cut]
    var layers: [Layer]
    /// How the bits were chosen: `paper` or `sensitivity`.
    var strategy = "paper"

    enum CodingKeys: String, CodingKey {
        case model, scheme, fits, cuts, layers, strategy
        case flashBudget = "flash_budget"
        case ramBudget = "ram_budget"
        case weightBytes = "weight_bytes"
        case paramBytes = "param_bytes"
        case flashBytes = "flash_bytes"
        case peakActivationBytes = "peak_activation_bytes"
    }

    init(plan: BitWidthPlan) {
        model = plan.networkName
        scheme = plan.scheme.rawValue
        flashBudget = plan.budget.flash
        ramBudget = plan.budget.ram
        weightBytes = plan.weightBytes
        paramBytes = plan.parameterBytes
        flashBytes = plan.flashBytes
        peakActivationBytes = plan.peakActivationBytes
        fits = plan.fits
        cuts = plan.cuts.map { cut in
            var sweep: Int?, direction: String?, step = "weights"
            if case .activations(let number, let sweepDirection) = cut.step {
                step = "activations"
                sweep = number
                direction = sweepDirection.rawValue
            } else if case .search(let round) = cut.step {
                step = "search"
                sweep = round
            }
            return Cut(layer: cut.layerName, tensor: cut.tensor.rawValue, step: step, sweep: sweep,
                       direction: direction, fromBits: cut.bitsBefore.bits, toBits: cut.bitsAfter.bits,
                       bytesBefore: cut.bytesBefore, bytesAfter: cut.bytesAfter, reason: cut.reason)
        }
        layers = plan.layers.map { layer in
            Layer(name: layer.name, kind: layer.layer.kind.rawValue, inputBits: layer.inputBits.bits,
                  weightBits: layer.weightBits.bits, outputBits: layer.outputBits.bits,
                  weightBytes: layer.weightBytes, activationBytes: layer.activationBytes)
        }
    }
}
