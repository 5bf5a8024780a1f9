import Quantization
import Testing

/// firmware/kernels/fc.c on the emulated STM32H743 against ReferenceLayers.fullyConnected.
@Suite struct FullyConnectedKernelTests {
    static func geometry(inputs: Int, outputs: Int) throws -> ConvolutionGeometry {
        try ConvolutionGeometry(inputHeight: 1, inputWidth: 1, inputChannels: inputs, outputChannels: outputs,
                                kernelHeight: 1, kernelWidth: 1)
    }

    @Test func everyBitCombinationAndFlavourMatchesTheReference() throws {
        var rng = SeededRandom(seed: 0xFC)
        var cases: [LayerCase] = []
        for bits in allBitCombinations {
            for flavour in RequantizationFlavour.allCases {
                let g = try Self.geometry(inputs: Int.random(in: 1...70, using: &rng), outputs: Int.random(in: 1...13, using: &rng))
                cases.append(try LayerCase(kind: .fc, geometry: g, bits: bits, flavour: flavour, rng: &rng))
            }
        }
        try KernelCheck.run(cases)
    }

    /// Saturation and extreme zero-points, and the MobilenetV1 classifiers: 256 -> 1000
    /// (alpha 0.25) and 1024 -> 1000 (alpha 1; 2-bit weights so the matrix fits the test arena).
    @Test func edgeCasesAndMobilenetShapesMatchTheReference() throws {
        var rng = SeededRandom(seed: 0xFCED)
        var cases: [LayerCase] = []
        let g = try Self.geometry(inputs: 48, outputs: 10)
        for (style, bits) in [(CaseStyle(scaleFactor: 64, biasFactor: 4), (BitWidth.two, BitWidth.eight, BitWidth.eight)),
                              (CaseStyle(zeroPoints: .maximum), (.eight, .two, .four)),
                              (CaseStyle(zeroPoints: .zero), (.four, .four, .two))] {
            for flavour in RequantizationFlavour.allCases {
                cases.append(try LayerCase(kind: .fc, geometry: g, bits: bits, flavour: flavour, style: style, rng: &rng))
            }
        }
        cases.append(try LayerCase(kind: .fc, geometry: Self.geometry(inputs: 256, outputs: 1000), bits: (.four, .two, .eight),
                                   flavour: .perChannelICN, rng: &rng))
        cases.append(try LayerCase(kind: .fc, geometry: Self.geometry(inputs: 1024, outputs: 1000), bits: (.eight, .two, .eight),
                                   flavour: .perLayerFolded, rng: &rng))
        // The first three cases (one per flavour) are the saturation style: both ends must occur.
        #expect(cases.prefix(3).map { $0.saturatesBothEnds } == [true, true, true])
        try KernelCheck.run(cases)
    }
}
