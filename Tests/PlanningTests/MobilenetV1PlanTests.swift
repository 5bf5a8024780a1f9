import Planning
import Quantization
import Testing

/// The planner on the MobilenetV1 family under the paper's budgets (Rusci, Capotondi, Benini,
/// MLSys 2020: 2,048,000 B FLASH and 512,000 B RAM on the STM32H743). The paper's per-layer
/// configuration is not available here, so these tests assert properties that hold for any correct
/// plan, plus figures worked out by hand.
@Suite struct MobilenetV1PlanTests {
    static let paperBudget = MemoryBudget.stm32h743

    static func mobilenet(_ name: String) throws -> Network { try MobilenetV1(name: name).network() }

    /// Replays `plan.cuts` from all-8-bit tensors and checks, cut by cut, that each one halves the
    /// bits its tensor had, was needed when it was made (the layer's input+output over M_RW, or
    /// FLASH over M_RO), and that the replay ends at the plan's bits.
    static func checkCutsReplay(_ plan: BitWidthPlan) {
        let layers = plan.layers.map(\.layer)
        var activation = Array(repeating: BitWidth.eight, count: layers.count + 1)
        var weights = Array(repeating: BitWidth.eight, count: layers.count)
        func flash() -> Int {
            layers.indices.reduce(0) { sum, k in
                sum + layers[k].weightBytes(at: weights[k])
                    + plan.scheme.flavour(weightBits: weights[k], outputBits: activation[k + 1])
                        .parameterBytes(outputChannels: layers[k].outputChannels)
            }
        }
        var seenWeightCut = false
        for cut in plan.cuts {
            let k = cut.layerIndex
            #expect(layers[k].name == cut.layerName)
            #expect(cut.bitsBefore.halved == cut.bitsAfter, "\(cut.summary)")
            switch cut.tensor {
            case .input, .output:
                #expect(!seenWeightCut, "activation cut after a weight cut: \(cut.summary)")
                let needed = layers[k].input.bytes(at: activation[k]) + layers[k].output.bytes(at: activation[k + 1])
                #expect(needed > plan.budget.ram, "unneeded cut \(cut.summary)")
                let index = cut.tensor == .input ? k : k + 1
                #expect(index != 0 && index != layers.count, "network input or classifier output cut")
                #expect(activation[index] == cut.bitsBefore)
                activation[index] = cut.bitsAfter
            case .weights:
                seenWeightCut = true
                #expect(flash() > plan.budget.flash, "unneeded cut \(cut.summary)")
                #expect(weights[k] == cut.bitsBefore)
                weights[k] = cut.bitsAfter
            }
        }
        #expect(activation == [plan.layers[0].inputBits] + plan.layers.map(\.outputBits))
        #expect(weights == plan.layers.map(\.weightBits))
        #expect(flash() == plan.flashBytes)
    }

    /// The properties of a plan under the paper's budgets that follow from docs/design.md#planner.
    static func checkPaperPlan(_ plan: BitWidthPlan, scheme: QuantizationScheme) {
        #expect(plan.fits)
        #expect(plan.flashBytes <= 2_048_000)
        for layer in plan.layers {
            #expect(layer.activationBytes <= 512_000, "\(layer.name)")
            // Recomputed from shapes and the formulas, not from the planner's state.
            #expect(layer.weightBytes == (layer.layer.weightCount * layer.weightBits.bits + 7) / 8)
            #expect(layer.inputBytes == (layer.layer.input.elementCount * layer.inputBits.bits + 7) / 8)
            #expect(layer.outputBytes == (layer.layer.output.elementCount * layer.outputBits.bits + 7) / 8)
            let n = layer.layer.outputChannels
            switch scheme {
            case .mixpc:
                #expect(layer.parameterBytes == 10 * n + 8)
            case .mixpl:
                let folded = layer.weightBits == .eight && layer.outputBits == .eight
                #expect(layer.parameterBytes == (folded ? 4 * n + 20 : 9 * n + 12), "\(layer.name)")
            case .int8:
                #expect(layer.parameterBytes == 4 * n + 20)
            }
        }
        // One tensor between neighbours; the network input and the logits stay 8-bit.
        #expect(plan.layers.first?.inputBits == .eight)
        #expect(plan.layers.last?.outputBits == .eight)
        for (a, b) in zip(plan.layers, plan.layers.dropFirst()) {
            #expect(a.outputBits == b.inputBits, "\(a.name) -> \(b.name)")
        }
        checkCutsReplay(plan)
        // The last weight cut was the one that brought FLASH under the budget: undoing it would not fit.
        if let last = plan.cuts.last, last.tensor == .weights {
            let k = last.layerIndex
            let undone = plan.flashBytes - last.bytesAfter + last.bytesBefore
                - plan.layers[k].parameterBytes
                + plan.scheme.flavour(weightBits: last.bitsBefore, outputBits: plan.layers[k].outputBits)
                    .parameterBytes(outputChannels: plan.layers[k].layer.outputChannels)
            #expect(undone > plan.budget.flash)
        }
    }

    /// Worked by hand for 1.0_224: Conv2d_0 reads 224x224x3 = 150,528 B (8-bit, never cut) and writes
    /// 112x112x32 = 401,408 B: 551,936 > 512,000, so the first cut is its output 8 -> 4 (200,704 B,
    /// 351,232 in total). Conv2d_1_pointwise at 8 bits would need 401,408 + 802,816 = 1,204,224 B.
    @Test(arguments: [QuantizationScheme.mixpl, .mixpc])
    func mobilenet224UnderThePaperBudgets(scheme: QuantizationScheme) throws {
        let plan = try BitWidthPlanner.plan(Self.mobilenet("mobilenet_v1_1.0_224"), budget: Self.paperBudget, scheme: scheme)
        Self.checkPaperPlan(plan, scheme: scheme)
        #expect(plan.cuts.first?.summary == "Conv2d_0 output 8 -> 4 bits (401408 -> 200704 B)")
        #expect(plan.layers[0].activationBytes == 351_232)
        #expect(plan.cuts.contains { $0.tensor == .weights })
        // The classifier and the widest pointwise layers carry most weight bytes, so they are cut.
        let byName = Dictionary(uniqueKeysWithValues: plan.layers.map { ($0.name, $0) })
        #expect(byName["Conv2d_1c_1x1"]?.weightBits != .eight)
        #expect(byName["Conv2d_13_pointwise"]?.weightBits != .eight)
    }

    /// Every variant under both mixed schemes and the paper's budgets: a plan that fits, or, for none
    /// of them, an error (they all fit at 2 bits: the largest floor is 1.0_224's).
    @Test(arguments: [QuantizationScheme.mixpl, .mixpc])
    func everyVariantPlansUnderThePaperBudgets(scheme: QuantizationScheme) throws {
        for variant in MobilenetV1.allVariants {
            let plan = try BitWidthPlanner.plan(try variant.network(), budget: Self.paperBudget, scheme: scheme)
            Self.checkPaperPlan(plan, scheme: scheme)
            // Global average pooling is not a planner entry; its input (the last pointwise output) plus
            // its output (the classifier input) stays within the peak the planner accounted for.
            let lastPointwise = plan.layers[plan.layers.count - 2], classifier = plan.layers[plan.layers.count - 1]
            #expect(lastPointwise.outputBytes + classifier.inputBytes <= plan.peakActivationBytes, "\(variant.name)")
        }
    }

    /// int8 of 1.0_224 does not fit, by hand: Conv2d_1_pointwise needs 1,204,224 B of RAM, and FLASH is
    /// 4,209,088 weights (3,185,088 base + 1024 x 1000 classifier) plus PL+FB parameters.
    @Test func int8MobilenetDoesNotFitThePaperBudgets() throws {
        let network = try Self.mobilenet("mobilenet_v1_1.0_224")
        let plan = try BitWidthPlanner.plan(network, budget: Self.paperBudget, scheme: .int8)
        #expect(plan.cuts.isEmpty)
        #expect(!plan.fits && !plan.fitsRAM && !plan.fitsFlash)
        #expect(plan.peakActivationBytes == 1_204_224)
        #expect(plan.peakActivationLayer == "Conv2d_1_pointwise")
        #expect(plan.weightBytes == 3_185_088 + 1024 * 1000)
        let channels = network.layers.reduce(0) { $0 + $1.outputChannels }
        #expect(plan.parameterBytes == 4 * channels + 20 * 28)
    }

    /// The paper's claim, checked against published figures: its mixed-precision MobilenetV1 reaches
    /// 68.0 % Top-1 under 512 kB / 2 MB, "8 points above the best 8-bit model that fits"
    /// (reference/mixed_precision_results.csv). The best int8 variant that fits under our accounting
    /// must then have a published int8 Top-1 of about 60 % (mobilenet_v1_imagenet.csv). It is 0.5_192
    /// (60.0 %): 0.5_224 needs 602,112 B of RAM at Conv2d_1_pointwise, 0.75 and 1.0 need > 2 MB FLASH.
    /// Both the paper's decimal budgets (docs/design.md#planner) and the binary 2 MiB / 512 KiB
    /// of the results CSV.
    @Test(arguments: zip([2_048_000, 2_097_152], [512_000, 524_288]))
    func bestInt8ModelThatFitsIsEightPointsBelowThePaper(flash: Int, ram: Int) throws {
        let budget = try MemoryBudget(flash: flash, ram: ram)
        let zoo = try ReferenceData.modelZoo()
        var best: ReferenceData.ZooEntry?
        for entry in zoo {
            let plan = try BitWidthPlanner.plan(try Self.mobilenet(entry.model), budget: budget, scheme: .int8)
            if plan.fits, entry.int8Top1 > (best?.int8Top1 ?? -1) { best = entry }
        }
        let paper = try ReferenceData.rows("mixed_precision_results").first { $0["device"] == "STM32H743" }
        let paperTop1 = try #require(Double(paper?["top1"] ?? ""))
        #expect(best?.model == "mobilenet_v1_0.5_192")
        #expect(abs(paperTop1 - (best?.int8Top1 ?? 0) - 8) <= 0.5)
    }
}
