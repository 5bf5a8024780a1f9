import Deployment
import FirmwareBuild
import Planning
import Quantization
import Testing

/// Whole deployments of the smallest MobilenetV1 on the emulated STM32H743: every output byte
/// on the target equals the Swift host reference (bit-exact in each scheme: a goal of
/// docs/design.md#goals-and-how-they-are-measured).
@Suite(.serialized) struct DeploymentTests {
    @Test(arguments: [QuantizationScheme.int8, .mixpl, .mixpc])
    func smallestMobilenetIsBitExactOnTheTarget(scheme: QuantizationScheme) throws {
        let network = try MobilenetV1(name: "mobilenet_v1_0.25_128").network()
        // Budgets that make mixpl/mixpc cut activations and weights of this small model.
        let budget = scheme == .int8 ? MemoryBudget.stm32h743 : try MemoryBudget(flash: 300_000, ram: 60_000)
        let request = DeploymentRequest(network: network, scheme: scheme, budget: budget, seed: 3)
        let result = try Deployer.deploy(request, toolchain: Toolchain.locate())
        #expect(result.fits)
        #expect(result.bitExact == true)
        #expect((result.totalCycles ?? 0) > UInt64(result.macs) / 8, "cycles were measured")
        #expect(result.layers.allSatisfy { $0.cycles != nil })
        if scheme != .int8 {
            #expect(!result.cuts.isEmpty)
            #expect(result.peakActivationBytes <= 60_000)
        }
        print("\(scheme): \(result.totalCycles ?? 0) cycles, bit exact \(result.bitExact ?? false)")
    }
}
