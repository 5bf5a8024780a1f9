import Deployment
import Emulator
import FirmwareBuild
import Planning
import Quantization
import Testing

/// A residual network (two branches joined by an add with a fused ReLU, windowed max and average
/// pooling, global pooling, a classifier and a final softmax) quantized with MixQ's own
/// arithmetic (docs/design.md#graph-steps-in-mixqs-arithmetic), planned under budgets that cut
/// activations and weights, deployed and checked byte for byte against the host reference.
@Suite(.serialized) struct GraphDeploymentTests {
    static func residualNetwork() throws -> Network {
        let input = TensorShape(height: 16, width: 16, channels: 3)
        let stem = try Layer.convolution(name: "stem", input: input, outputChannels: 8, kernel: .square(3), stride: 1,
                                         activation: .relu)
        let branch1 = try Layer.convolution(name: "branch_a", input: stem.output, outputChannels: 8, kernel: .square(3), stride: 1)
        let branch2 = try Layer.convolution(name: "branch_b", input: branch1.output, outputChannels: 8, kernel: .square(3), stride: 1,
                                            activation: .none)
        let add = ElementwiseAdd(name: "residual_add", shape: stem.output, activation: .relu)
        let maxPool = try Pool2D(name: "max_pool", kind: .maximum, input: stem.output, window: KernelSize(height: 3, width: 3),
                                 strideHeight: 2, strideWidth: 2, padding: Padding(top: 0, left: 0, bottom: 1, right: 1))
        let averagePool = try Pool2D(name: "average_pool", kind: .average, input: maxPool.output,
                                     window: KernelSize(height: 3, width: 2), strideHeight: 2, strideWidth: 2,
                                     padding: Padding(top: 1, left: 0, bottom: 1, right: 0))
        let pooled = GlobalAveragePool(name: "global_pool", input: averagePool.output)
        let classifier = try Layer.fullyConnected(name: "classifier", input: pooled.output, outputs: 10)
        return try Network(name: "tiny_residual", input: input, graph: [
            (.layer(stem), [0]), (.layer(branch1), [1]), (.layer(branch2), [2]), (.add(add), [3, 1]),
            (.pool(maxPool), [4]), (.pool(averagePool), [5]), (.globalAveragePool(pooled), [6]), (.layer(classifier), [7]),
            (.softmax(Softmax(name: "probabilities", shape: classifier.output)), [8]),
        ])
    }

    @Test(arguments: [(QuantizationScheme.mixpc, false), (.mixpl, true)])
    func residualNetworkUnderMixedPrecisionIsBitExact(scheme: QuantizationScheme, plainKernels: Bool) throws {
        let network = try Self.residualNetwork()
        // int8: 6,144 B alive at the add (the stem's output kept for it, the branch and the sum).
        let budget = try MemoryBudget(flash: 1_200, ram: 2_600)
        var request = DeploymentRequest(network: network, scheme: scheme, budget: budget, seed: 7, plainKernels: plainKernels,
                                        imagesChecked: 3)
        request.calibration = (0..<4).map { SyntheticImage.bytes(shape: network.input, seed: 40 + UInt64($0)) }
        let prepared = try Deployer.prepare(request)
        #expect(prepared.plan.fits)
        #expect(prepared.plan.cuts.contains { $0.tensor != .weights }, "the RAM budget cuts activations")
        #expect(prepared.plan.cuts.contains { $0.tensor == .weights }, "the FLASH budget cuts weights")
        let quantized = try #require(prepared.quantized)
        #expect(quantized.omittedSteps == ["probabilities"])
        #expect(quantized.network.steps.count == network.steps.count - 1)
        // The add and the pools carry the plan's bits; the pools keep their input's quantization.
        for (index, step) in quantized.steps.enumerated() {
            #expect(step.outputQuantization.bits == prepared.plan.tensorBits[index + 1], "\(step.name)")
            if case .windowPool(_, let p, let q) = step {
                #expect(p.inputBits == q.bits && p.inputZeroPoint == q.zeroPoint)
            }
        }
        #expect(quantized.steps.contains { if case .add = $0 { return true } else { return false } })
        let result = try Deployer.run(prepared, toolchain: Toolchain.locate())
        #expect(result.bitExact == true)
        #expect(result.imagesChecked == 3)
        #expect(result.note?.contains("probabilities") == true)
        print("\(scheme) plain \(plainKernels): bits \(prepared.plan.tensorBits.map(\.bits)), \(result.totalCycles ?? 0) cycles")
    }
}
