import Deployment
import Planning
import Quantization
import Testing

/// The integer-only network (host reference) against the fake-quantized float network: the
/// integer conversion (ICN or folding, rounded biases, fixed-point multipliers) must be nearly
/// lossless, as the method claims; measured here, not assumed.
@Suite struct ConversionTests {
    @Test(arguments: [QuantizationScheme.int8, .mixpl, .mixpc])
    func eachIntegerLayerIsWithinOneLSBOfItsFloatVersion(scheme: QuantizationScheme) throws {
        let network = try MobilenetV1(name: "mobilenet_v1_0.25_128").network()
        let model = try FloatModel.synthetic(network: network, seed: 7)
        // Budgets that force cuts of both kinds on this small model.
        let plan = try BitWidthPlanner.plan(network, budget: try MemoryBudget(flash: 300_000, ram: 60_000), scheme: scheme)
        let quantized = try QuantizedNetwork.quantize(model, plan: plan)
        let loss = try ConversionLoss.measure(quantized, images: 2)
        for step in loss.steps {
            // The bias rounded to whole accumulator units, the Q31 multiplier and float
            // accumulation can move a value that sits near a rounding boundary by one code,
            // never more: each is below half an output LSB.
            #expect(step.largestDifference <= 1, "\(step.name): \(step.largestDifference) LSB")
        }
        let worst = loss.steps.map(\.differingFraction).max() ?? 0
        print("\(scheme): end to end largest logit difference \(loss.largestLogitDifference) LSB, "
              + "top-1 agreement \(loss.top1Agreements)/\(loss.images), at most \(worst * 100)% of a layer's codes off by one")
    }
}
