/// How far the integer-only network is from the fake-quantized float network it implements
/// (same weights, same bit-widths, batch-norm and scales in float), over a set of images.
///
/// Two views: *per step*, each step of the float network is fed exactly the integer network's
/// input codes, which isolates the conversion's own error (rounded biases, fixed-point
/// multipliers, integer rounding); *end to end*, both networks run on their own, which adds how
/// the network amplifies 1-LSB differences layer after layer.
public struct ConversionLoss: Sendable, Codable {
    public struct Step: Sendable, Codable {
        public var name: String
        /// `pl_fb`, `pl_icn` or `pc_icn`; nil for pooling.
        public var flavour: String?
        /// Largest difference of one output code, in LSBs of the step's output.
        public var largestDifference: Int
        /// Share of output codes that differ at all.
        public var differingFraction: Double
    }

    public var images: Int
    public var steps: [Step]
    /// Images whose integer logits have the same arg-max as the fake-quantized logits.
    public var top1Agreements: Int
    /// Largest end-to-end difference of one logit, in output LSBs.
    public var largestLogitDifference: Int

    /// Measures the loss on `images` seeded synthetic images.
    public static func measure(_ network: QuantizedNetwork, images: Int, seed: UInt64 = 500) throws(DeploymentError) -> ConversionLoss {
        var largest = [Int](repeating: 0, count: network.steps.count)
        var differing = [Int](repeating: 0, count: network.steps.count)
        var totals = [Int](repeating: 0, count: network.steps.count)
        var agreements = 0
        var logitDifference = 0
        for index in 0..<images {
            let pixels = SyntheticImage.bytes(shape: network.network.input, seed: seed &+ UInt64(index))
            let integer = try HostReference.run(network, pixels: pixels)
            // Each step isolated: the fake-quantized step on the integer network's own inputs.
            let quantization = network.tensorQuantization
            let tensors = [pixels.map(Int.init)] + integer
            for (i, step) in network.steps.enumerated() {
                let reads = network.network.stepInputs[i]
                let isolated = FloatReference.fakeQuantizedStep(step, inputs: reads.map { tensors[$0] },
                                                                inputQuantizations: reads.map { quantization[$0] }).codes
                for (a, b) in zip(integer[i], isolated) where a != b {
                    differing[i] += 1
                    largest[i] = max(largest[i], abs(a - b))
                }
                totals[i] += integer[i].count
            }
            let fake = FloatReference.runFakeQuantized(network, pixels: pixels)
            let logits = integer.last ?? []
            if let codes = fake.logitCodes {
                logitDifference = max(logitDifference, zip(logits, codes).map { abs($0 - $1) }.max() ?? 0)
            }
            if argmax(logits.map(Float.init)) == argmax(fake.logits) { agreements += 1 }
        }
        let names = network.steps.map { step -> (String, String?) in
            if case .layer(let layer) = step { return (layer.layer.name, layer.plan.flavour.rawValue) }
            return (step.name, nil)
        }
        let steps = names.indices.map {
            Step(name: names[$0].0, flavour: names[$0].1, largestDifference: largest[$0],
                 differingFraction: totals[$0] > 0 ? Double(differing[$0]) / Double(totals[$0]) : 0)
        }
        return ConversionLoss(images: images, steps: steps, top1Agreements: agreements,
                              largestLogitDifference: logitDifference)
    }
}

extension ConversionLoss {
    /// Per requantization flavour: the largest isolated difference and the largest share of a
    /// layer's codes that differ, over the layers using that flavour.
    public var byFlavour: [(flavour: String, largestDifference: Int, differingFraction: Double)] {
        let flavours = Set(steps.compactMap(\.flavour)).sorted()
        return flavours.map { flavour in
            let members = steps.filter { $0.flavour == flavour }
            return (flavour, members.map(\.largestDifference).max() ?? 0, members.map(\.differingFraction).max() ?? 0)
        }
    }
}

/// Index of the largest value; the first one on ties.
func argmax(_ values: [Float]) -> Int {
    var best = 0
    for i in values.indices where values[i] > values[best] { best = i }
    return best
}
