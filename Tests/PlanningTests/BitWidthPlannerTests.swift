import Planning
import Quantization
import Testing

/// The planner on hand-built networks of 2-4 pointwise layers, each answer worked out by hand.
///
/// Pointwise layers keep the arithmetic simple: a HxWxC tensor is H*W*C bytes at 8 bits, half at 4,
/// a quarter at 2; a pointwise layer from Cin to Cout channels has Cin*Cout weights and, under
/// mixpc (PC+ICN), 10*Cout + 8 parameter bytes.
@Suite struct BitWidthPlannerTests {
    /// A chain of pointwise layers `L0`, `L1`, ... on `side x side` images, starting from
    /// `channels[0]` input channels; layer i outputs `channels[i + 1]`.
    static func chain(side: Int, channels: [Int]) throws -> Network {
        var shape = TensorShape(height: side, width: side, channels: channels[0])
        var steps: [NetworkStep] = []
        for (index, count) in channels.dropFirst().enumerated() {
            let layer = try Layer.pointwise(name: "L\(index)", input: shape, outputChannels: count)
            steps.append(.layer(layer))
            shape = layer.output
        }
        return try Network(name: "hand", input: TensorShape(height: side, width: side, channels: channels[0]), steps: steps)
    }

    static let plentyOfFlash = 1_000_000
    static let plentyOfRAM = 1_000_000

    static func bits(_ plan: BitWidthPlan) -> [Int] {
        // Activation bits along the chain: network input, then every layer's output.
        [plan.layers[0].inputBits.bits] + plan.layers.map(\.outputBits.bits)
    }

    // MARK: Activations

    /// 4x4 images, channels 4 -> 8 -> 16 -> 4, RAM 300 B.
    /// L0: 64 + 128 = 192 fits. L1: 128 + 256 = 384 > 300, equal bits (8), the output has more bytes
    /// -> output 8 -> 4 (256 -> 128 B): 128 + 128 = 256 fits. L2: 128 + 64 = 192 fits. One sweep.
    @Test func equalBitsCutTheLargerTensor() throws {
        let network = try Self.chain(side: 4, channels: [4, 8, 16, 4])
        let plan = try BitWidthPlanner.plan(network, budget: MemoryBudget(flash: Self.plentyOfFlash, ram: 300), scheme: .mixpc)
        #expect(Self.bits(plan) == [8, 8, 4, 8])
        #expect(plan.cuts.map(\.summary) == ["L1 output 8 -> 4 bits (256 -> 128 B)"])
        #expect(plan.cuts.first?.reason.contains("the output has more bytes") == true)
        #expect(plan.layers.map(\.activationBytes) == [192, 256, 192])
        #expect(plan.peakActivationBytes == 256)
        #expect(plan.sweeps.map(\.number) == [1])
        #expect(plan.fits)
    }

    /// 4x4 images, channels 2 -> 8 -> 8 -> 2, RAM 200 B.
    /// L0: 32 + 128 = 160 fits. L1: 128 + 128 = 256 > 200, equal bits and equal bytes -> output
    /// 8 -> 4 (128 -> 64 B): 192 fits. L2: 64 + 32 = 96.
    @Test func equalBitsAndBytesCutTheOutput() throws {
        let network = try Self.chain(side: 4, channels: [2, 8, 8, 2])
        let plan = try BitWidthPlanner.plan(network, budget: MemoryBudget(flash: Self.plentyOfFlash, ram: 200), scheme: .mixpc)
        #expect(Self.bits(plan) == [8, 8, 4, 8])
        #expect(plan.cuts.map(\.summary) == ["L1 output 8 -> 4 bits (128 -> 64 B)"])
        #expect(plan.cuts.first?.reason.contains("equal bits (8) and equal bytes (128 B); the output is cut") == true)
        #expect(plan.layers.map(\.activationBytes) == [160, 192, 96])
    }

    /// 4x4 images, channels 16 -> 4 -> 4. L0: 256 + 64 = 320; the input has equal bits and more
    /// bytes but is the network input, so the output is cut.
    /// RAM 300: output 8 -> 4 (64 -> 32 B), 288 fits; L1: 32 + 64 = 96.
    /// RAM 280: then 4 -> 2 (32 -> 16 B), 272 fits.
    /// RAM 260: L0 at its floor is 256 + 16 = 272 > 260: infeasible, and the whole network needs
    /// max(272, L1 floor 16 + 64 = 80) = 272 B.
    @Test func firstLayerOnlyCutsItsOutput() throws {
        let network = try Self.chain(side: 4, channels: [16, 4, 4])
        let one = try BitWidthPlanner.plan(network, budget: MemoryBudget(flash: Self.plentyOfFlash, ram: 300), scheme: .mixpc)
        #expect(Self.bits(one) == [8, 4, 8])
        #expect(one.cuts.map(\.summary) == ["L0 output 8 -> 4 bits (64 -> 32 B)"])
        #expect(one.cuts.first?.reason.contains("the first layer may only cut its output") == true)
        #expect(one.layers.map(\.activationBytes) == [288, 96])

        let two = try BitWidthPlanner.plan(network, budget: MemoryBudget(flash: Self.plentyOfFlash, ram: 280), scheme: .mixpc)
        #expect(Self.bits(two) == [8, 2, 8])
        #expect(two.cuts.map(\.summary) == ["L0 output 8 -> 4 bits (64 -> 32 B)", "L0 output 4 -> 2 bits (32 -> 16 B)"])

        let tooSmall = PlanningError.activationsDoNotFit(
            layer: "L0", input: TensorShape(height: 4, width: 4, channels: 16), inputBits: .eight, inputBytes: 256,
            output: TensorShape(height: 4, width: 4, channels: 4), outputBits: .two, outputBytes: 16,
            isFirst: true, isLast: false, ramBudget: 260, ramNeeded: 272)
        #expect(throws: tooSmall) {
            try BitWidthPlanner.plan(network, budget: MemoryBudget(flash: Self.plentyOfFlash, ram: 260), scheme: .mixpc)
        }
        #expect(tooSmall.bytesNeeded == 272)
        #expect(tooSmall.description.contains("layer L0 needs 272 B"))
        #expect(tooSmall.description.contains("the network input stays 8-bit"))
    }

    /// 2x2 images, channels 4 -> 4 -> 64, RAM 270 B. L0: 16 + 16 fits. L1 (last): 16 + 256 = 272 > 270;
    /// only its input may be cut, which belongs to a backward sweep: sweep 1 (forward) leaves L1
    /// unresolved; sweep 2 (backward) cuts L1's input 8 -> 4 (16 -> 8 B): 264 fits; L0: 16 + 8.
    @Test func lastLayerOnlyCutsItsInputInABackwardSweep() throws {
        let network = try Self.chain(side: 2, channels: [4, 4, 64])
        let plan = try BitWidthPlanner.plan(network, budget: MemoryBudget(flash: Self.plentyOfFlash, ram: 270), scheme: .mixpc)
        #expect(Self.bits(plan) == [8, 4, 8])
        #expect(plan.cuts.map(\.summary) == ["L1 input 8 -> 4 bits (16 -> 8 B)"])
        #expect(plan.cuts.first?.step == .activations(sweep: 2, direction: .backward))
        #expect(plan.cuts.first?.reason.contains("the last layer may only cut its input") == true)
        #expect(plan.sweeps == [
            ActivationSweep(number: 1, direction: .forward, unresolvedLayers: ["L1"]),
            ActivationSweep(number: 2, direction: .backward, unresolvedLayers: []),
        ])
        #expect(plan.layers.map(\.activationBytes) == [24, 264])
    }

    /// 4x4 images, channels 1 -> 16 -> 12 -> 1, RAM 300 B: three sweeps.
    /// Sweep 1 forward: L0 16 + 256 = 272 fits. L1 256 + 192 = 448 > 300, equal bits, the input has
    /// more bytes -> an input cut belongs to the backward direction: L1 unresolved. L2 192 + 16 fits.
    /// Sweep 2 backward: L2 fits. L1: cut input 8 -> 4 (256 -> 128 B): 128 + 192 = 320 > 300; now
    /// the output has more bits (8 vs 4) -> forward: L1 unresolved again. L0: 16 + 128 fits.
    /// Sweep 3 forward: L1 cuts output 8 -> 4 (192 -> 96 B): 224 fits. L2: 96 + 16. Done.
    @Test func unresolvedLayerForcesBackwardThenForwardSweeps() throws {
        let network = try Self.chain(side: 4, channels: [1, 16, 12, 1])
        let plan = try BitWidthPlanner.plan(network, budget: MemoryBudget(flash: Self.plentyOfFlash, ram: 300), scheme: .mixpc)
        #expect(Self.bits(plan) == [8, 4, 4, 8])
        #expect(plan.cuts.map(\.summary) == ["L1 input 8 -> 4 bits (256 -> 128 B)", "L1 output 8 -> 4 bits (192 -> 96 B)"])
        #expect(plan.cuts.map(\.step) == [.activations(sweep: 2, direction: .backward),
                                          .activations(sweep: 3, direction: .forward)])
        #expect(plan.cuts.first?.reason == "input+output 448 B > RAM budget 300 B; "
                + "equal bits (8); the input has more bytes (input 256 B, output 192 B)")
        #expect(plan.cuts.last?.reason.contains("the output has more bits (input 4, output 8)") == true)
        #expect(plan.sweeps == [
            ActivationSweep(number: 1, direction: .forward, unresolvedLayers: ["L1"]),
            ActivationSweep(number: 2, direction: .backward, unresolvedLayers: ["L1"]),
            ActivationSweep(number: 3, direction: .forward, unresolvedLayers: []),
        ])
        #expect(plan.layers.map(\.activationBytes) == [144, 224, 112])
        #expect(plan.peakActivationBytes == 224)
        #expect(plan.peakActivationLayer == "L1")
    }

    /// 4x4 images, channels 1 -> 64 -> 64 -> 1, RAM 400 B.
    /// L0: 16 + 1024 -> output 8 -> 4 -> 2: 16 + 256 = 272 fits. L1: 256 + 1024, the output has more
    /// bits -> 8 -> 4 (768) -> 2 (512 > 400); both tensors at 2 bits: infeasible. The network needs
    /// max(L0 16 + 256, L1 256 + 256, L2 256 + 16) = 512 B.
    @Test func middleLayerAtTheFloorIsInfeasible() throws {
        let network = try Self.chain(side: 4, channels: [1, 64, 64, 1])
        let shape = TensorShape(height: 4, width: 4, channels: 64)
        let expected = PlanningError.activationsDoNotFit(
            layer: "L1", input: shape, inputBits: .two, inputBytes: 256, output: shape, outputBits: .two, outputBytes: 256,
            isFirst: false, isLast: false, ramBudget: 400, ramNeeded: 512)
        #expect(throws: expected) {
            try BitWidthPlanner.plan(network, budget: MemoryBudget(flash: Self.plentyOfFlash, ram: 400), scheme: .mixpc)
        }
        #expect(expected.description.contains("at least 512 B"))
        // With exactly the bytes it needs, the same network plans and every activation ends at 2 bits.
        let plan = try BitWidthPlanner.plan(network, budget: MemoryBudget(flash: Self.plentyOfFlash, ram: 512), scheme: .mixpc)
        #expect(Self.bits(plan) == [8, 2, 2, 8])
        #expect(plan.peakActivationBytes == 512)
    }

    // MARK: Weights

    /// 1x1 images, channels 20 -> 20 -> 21 -> 10: weights 400, 420, 210 B at 8 bits (total 1030);
    /// mixpc parameters 10n + 8: 208 + 218 + 108 = 534. FLASH 1564 > 1060.
    /// 1. Shares 38.8 / 40.8 / 20.4 %: largest L1, L0 within 5 points and earlier -> L0 8 -> 4
    ///    (400 -> 200). FLASH 1364.
    /// 2. Shares 24.1 / 50.6 / 25.3 %: L1 largest, nothing else within 5 points -> L1 8 -> 4
    ///    (420 -> 210). FLASH 1154.
    /// 3. Shares 32.3 / 33.9 / 33.9 %: L0 within 5 points of the largest -> L0 4 -> 2 (200 -> 100).
    ///    FLASH 1054 <= 1060: done.
    @Test func weightsAreCutByShareWithTheFivePointRule() throws {
        let network = try Self.chain(side: 1, channels: [20, 20, 21, 10])
        let plan = try BitWidthPlanner.plan(network, budget: MemoryBudget(flash: 1060, ram: Self.plentyOfRAM), scheme: .mixpc)
        #expect(plan.cuts.map(\.summary) == [
            "L0 weights 8 -> 4 bits (400 -> 200 B)",
            "L1 weights 8 -> 4 bits (420 -> 210 B)",
            "L0 weights 4 -> 2 bits (200 -> 100 B)",
        ])
        #expect(plan.cuts.allSatisfy { $0.step == .weights })
        #expect(plan.cuts[0].reason.contains("L0 (38.8%) is the earliest layer within 5 points"))
        #expect(plan.cuts[1].reason.contains("L1 has the largest share of the weight bytes (50.6%)"))
        #expect(plan.layers.map(\.weightBits.bits) == [2, 4, 8])
        #expect(plan.layers.map(\.weightBytes) == [100, 210, 210])
        #expect(plan.parameterBytes == 534)
        #expect(plan.flashBytes == 1054)
        #expect(plan.layers.allSatisfy { $0.flavour == .perChannelICN })
    }

    /// The 5-point window is inclusive. 1x1 images, channels 9 -> 10 -> 10 -> 1: weights 90, 100, 10
    /// (total 200): shares 45 % and 50 %, exactly 5 points apart -> the earlier L0 is cut.
    /// Channels 7 -> 5 -> 8 -> 3: weights 35, 40, 24 (total 99): 35.35 % vs 40.40 %, 5.05 points
    /// apart -> L1 is cut. In both, a budget one byte under the 8-bit FLASH forces exactly one cut
    /// (parameters 108 + 108 + 18 = 234 and 58 + 88 + 38 = 184).
    @Test func fivePointWindowIsInclusive() throws {
        let exact = try Self.chain(side: 1, channels: [9, 10, 10, 1])
        let exactPlan = try BitWidthPlanner.plan(exact, budget: MemoryBudget(flash: 200 + 234 - 1, ram: Self.plentyOfRAM), scheme: .mixpc)
        #expect(exactPlan.cuts.map(\.summary) == ["L0 weights 8 -> 4 bits (90 -> 45 B)"])

        let over = try Self.chain(side: 1, channels: [7, 5, 8, 3])
        let overPlan = try BitWidthPlanner.plan(over, budget: MemoryBudget(flash: 99 + 184 - 1, ram: Self.plentyOfRAM), scheme: .mixpc)
        #expect(overPlan.cuts.map(\.summary) == ["L1 weights 8 -> 4 bits (40 -> 20 B)"])
    }

    /// Channels 9 -> 10 -> 10 -> 1 at 2 bits: 90, 100, 10 weights pack into 23, 25, 3 bytes (51);
    /// with 234 parameter bytes the floor is 285 B. A 284 B budget is infeasible; 285 B plans with
    /// every weight tensor at 2 bits.
    @Test func weightsBelowTheFloorAreInfeasible() throws {
        let network = try Self.chain(side: 1, channels: [9, 10, 10, 1])
        let expected = PlanningError.weightsDoNotFit(weightBytes: 51, parameterBytes: 234, flashBudget: 284)
        #expect(throws: expected) {
            try BitWidthPlanner.plan(network, budget: MemoryBudget(flash: 284, ram: Self.plentyOfRAM), scheme: .mixpc)
        }
        #expect(expected.bytesNeeded == 285)
        #expect(expected.description.contains("need 285 B"))
        let plan = try BitWidthPlanner.plan(network, budget: MemoryBudget(flash: 285, ram: Self.plentyOfRAM), scheme: .mixpc)
        #expect(plan.layers.map(\.weightBits) == [.two, .two, .two])
        #expect(plan.flashBytes == 285)
    }

    /// MixPL charges PL+FB (4n + 20) while weights and output are 8-bit and PL+ICN (9n + 12) after a
    /// cut. 1x1 images, channels 4 -> 4 -> 2: weights 16 + 8, parameters 36 + 28 = 64, FLASH 88 > 87.
    /// 1. L0 (66.7 %) 8 -> 4: weights 8 + 8, L0 becomes PL+ICN (48): FLASH 8 + 8 + 48 + 28 = 92.
    /// 2. 50 / 50 %: earliest L0 4 -> 2: 4 + 8 + 48 + 28 = 88.
    /// 3. Only L1 above 2 bits: 8 -> 4, PL+ICN (30): 4 + 4 + 48 + 30 = 86 <= 87.
    @Test func mixPLSwitchesFlavourWhenACutLeavesEightBits() throws {
        let network = try Self.chain(side: 1, channels: [4, 4, 2])
        let start = try BitWidthPlanner.plan(network, budget: MemoryBudget(flash: 88, ram: Self.plentyOfRAM), scheme: .mixpl)
        #expect(start.cuts.isEmpty)
        #expect(start.layers.map(\.flavour) == [.perLayerFolded, .perLayerFolded])
        #expect(start.parameterBytes == 64)

        let plan = try BitWidthPlanner.plan(network, budget: MemoryBudget(flash: 87, ram: Self.plentyOfRAM), scheme: .mixpl)
        #expect(plan.cuts.map(\.summary) == [
            "L0 weights 8 -> 4 bits (16 -> 8 B)", "L0 weights 4 -> 2 bits (8 -> 4 B)", "L1 weights 8 -> 4 bits (8 -> 4 B)",
        ])
        #expect(plan.cuts[0].reason.hasSuffix("flavour PL+FB -> PL+ICN"))
        #expect(plan.cuts[0].reason.hasPrefix("weights+parameters 88 B > FLASH budget 87 B"))
        #expect(plan.cuts[1].reason.hasPrefix("weights+parameters 92 B"))
        #expect(plan.layers.map(\.flavour) == [.perLayerICN, .perLayerICN])
        #expect(plan.layers.map(\.parameterBytes) == [48, 30])
        #expect(plan.flashBytes == 86)
    }

    // MARK: int8

    /// Under int8 nothing is cut: the three-sweep network of
    /// `unresolvedLayerForcesBackwardThenForwardSweeps` keeps 448 B at L1 and does not fit 300 B;
    /// FLASH is 16 + 192 + 12 weights plus PL+FB 4n + 20 = 84 + 68 + 24 parameters = 396.
    @Test func int8NeverCutsAndReportsWhetherItFits() throws {
        let network = try Self.chain(side: 4, channels: [1, 16, 12, 1])
        let plan = try BitWidthPlanner.plan(network, budget: MemoryBudget(flash: 396, ram: 300), scheme: .int8)
        #expect(plan.cuts.isEmpty)
        #expect(plan.sweeps.isEmpty)
        #expect(Self.bits(plan) == [8, 8, 8, 8])
        #expect(plan.peakActivationBytes == 448)
        #expect(!plan.fitsRAM)
        #expect(plan.fitsFlash)
        #expect(plan.flashBytes == 396)
        #expect(!plan.fits)
        let roomy = try BitWidthPlanner.plan(network, budget: MemoryBudget(flash: 396, ram: 448), scheme: .int8)
        #expect(roomy.fits)
        let tight = try BitWidthPlanner.plan(network, budget: MemoryBudget(flash: 395, ram: 448), scheme: .int8)
        #expect(!tight.fitsFlash)
    }

    /// A single layer is both first and last: nothing may be cut.
    @Test func singleLayerCannotCutAnything() throws {
        let network = try Self.chain(side: 4, channels: [4, 4])
        #expect(throws: PlanningError.self) {
            try BitWidthPlanner.plan(network, budget: MemoryBudget(flash: Self.plentyOfFlash, ram: 127), scheme: .mixpc)
        }
        let plan = try BitWidthPlanner.plan(network, budget: MemoryBudget(flash: Self.plentyOfFlash, ram: 128), scheme: .mixpc)
        #expect(plan.cuts.isEmpty)
    }
}

/// Budget parsing: bytes with k/M/Ki/Mi suffixes.
@Suite struct MemoryBudgetTests {
    @Test func suffixesScaleTheNumber() throws {
        #expect(try MemoryBudget.parseBytes("2048000", what: "x") == 2_048_000)
        #expect(try MemoryBudget.parseBytes("2048k", what: "x") == 2_048_000)
        #expect(try MemoryBudget.parseBytes("2M", what: "x") == 2_000_000)
        #expect(try MemoryBudget.parseBytes("512Ki", what: "x") == 524_288)
        #expect(try MemoryBudget.parseBytes("2MiB", what: "x") == 2_097_152)
        #expect(try MemoryBudget.parseBytes(" 512000B ", what: "x") == 512_000)
        #expect(MemoryBudget.stm32h743 == (try MemoryBudget(flash: "2048k", ram: "512k")))
    }

    @Test func badTextIsATypedError() {
        #expect(throws: BudgetError.empty(what: "RAM budget")) { try MemoryBudget.parseBytes("", what: "RAM budget") }
        #expect(throws: BudgetError.malformed(what: "x", text: "2m")) { try MemoryBudget.parseBytes("2m", what: "x") }
        #expect(throws: BudgetError.malformed(what: "x", text: "1.5M")) { try MemoryBudget.parseBytes("1.5M", what: "x") }
        #expect(throws: BudgetError.notPositive(what: "x", text: "-5")) { try MemoryBudget.parseBytes("-5", what: "x") }
        #expect(throws: BudgetError.notPositive(what: "x", text: "0k")) { try MemoryBudget.parseBytes("0k", what: "x") }
        #expect(throws: BudgetError.tooLarge(what: "x", text: "99999999999999999999")) {
            try MemoryBudget.parseBytes("99999999999999999999", what: "x")
        }
        #expect(throws: BudgetError.tooLarge(what: "x", text: "9999999999999Mi")) {
            try MemoryBudget.parseBytes("9999999999999Mi", what: "x")
        }
        #expect(throws: BudgetError.notPositive(what: "FLASH budget", text: "0")) { try MemoryBudget(flash: 0, ram: 1) }
    }
}
