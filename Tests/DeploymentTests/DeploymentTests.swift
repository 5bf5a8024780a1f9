import Deployment
import Emulator
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

/// The same deployment on every part: built with the part's flags and linker script, run on
/// its core, bit-exact with the host reference (the kernels make no Cortex-M7-only assumption).
@Suite(.serialized) struct PartDeploymentTests {
    @Test(arguments: Part.all)
    func mixedPrecisionDigitNetworkIsBitExactOnEveryPart(part: Part) throws {
        let network = try DigitsMobilenetV1(alpha: .quarter).network()
        // Budgets that cut weights and activations to 4 and 2 bits (as the trained examples).
        var request = DeploymentRequest(network: network, scheme: .mixpc, budget: try MemoryBudget(flash: 96_000, ram: 3_000),
                                        seed: 5)
        request.part = part
        request.clockMHz = part.defaultClockMHz
        request.timing = .pipeline
        request.imagesChecked = 2
        let result = try Deployer.deploy(request, toolchain: Toolchain.locate())
        #expect(result.fits)
        #expect(result.bitExact == true, "\(part.name)")
        #expect(result.conditions?.part == part.name)
        #expect(result.conditions?.flashWaitStates == part.flashWaitStates[part.defaultClockMHz])
        #expect(result.conditions?.flags.contains(part.core == .cortexM4 ? "-mcpu=cortex-m4" : "-mcpu=cortex-m7") ?? false)
        // Every byte the ELF places is inside the part's regions.
        let ramRegions = Set(result.ramUsed.map { Array($0.keys) } ?? [])
        #expect(ramRegions.isSubset(of: Set(part.regions.map(\.name))), "\(ramRegions)")
        #expect((result.totalCycles ?? 0) > 0)
    }
}
