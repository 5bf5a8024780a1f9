import Quantization
import Testing

/// firmware/kernels/pointwise.c on the emulated STM32H743 against ReferenceLayers.pointwiseConvolution.
@Suite struct PointwiseKernelTests {
    static func geometry(pixels: (Int, Int), inputChannels: Int, outputChannels: Int) throws -> ConvolutionGeometry {
        try ConvolutionGeometry(inputHeight: pixels.0, inputWidth: pixels.1, inputChannels: inputChannels,
                                outputChannels: outputChannels, kernelHeight: 1, kernelWidth: 1)
    }

    @Test func everyBitCombinationAndFlavourMatchesTheReference() throws {
        var rng = SeededRandom(seed: 0x9017)
        var cases: [LayerCase] = []
        for bits in allBitCombinations {
            for flavour in RequantizationFlavour.allCases {
                let g = try Self.geometry(pixels: (Int.random(in: 1...5, using: &rng), Int.random(in: 1...5, using: &rng)),
                                          inputChannels: Int.random(in: 1...40, using: &rng),
                                          outputChannels: Int.random(in: 1...9, using: &rng))
                cases.append(try LayerCase(kind: .pointwise, geometry: g, bits: bits, flavour: flavour, rng: &rng))
            }
        }
        try KernelCheck.run(cases)
    }

    @Test func edgeCasesMatchTheReference() throws {
        var rng = SeededRandom(seed: 0x90ED)
        var cases: [LayerCase] = []
        let g = try Self.geometry(pixels: (3, 3), inputChannels: 32, outputChannels: 16)
        for (style, bits) in [(CaseStyle(scaleFactor: 64, biasFactor: 4), (BitWidth.eight, BitWidth.eight, BitWidth.eight)),
                              (CaseStyle(zeroPoints: .maximum), (.two, .two, .two)),
                              (CaseStyle(zeroPoints: .zero), (.four, .four, .four)),
                              (CaseStyle(zeroPoints: .maximum, scaleFactor: 5000), (.eight, .four, .two))] {
            for flavour in RequantizationFlavour.allCases {
                cases.append(try LayerCase(kind: .pointwise, geometry: g, bits: bits, flavour: flavour, style: style, rng: &rng))
            }
        }
        // Channel counts around the packing widths (4, 8, 16 elements per word, 2 rows per step).
        for (inC, outC) in [(1, 1), (3, 2), (4, 3), (7, 5), (8, 8), (15, 1), (16, 17), (17, 4), (31, 3), (33, 6)] {
            let odd = try Self.geometry(pixels: (1, 3), inputChannels: inC, outputChannels: outC)
            cases.append(try LayerCase(kind: .pointwise, geometry: odd, bits: (.two, .four, .two), flavour: .perChannelICN,
                                       rng: &rng))
            cases.append(try LayerCase(kind: .pointwise, geometry: odd, bits: (.four, .two, .four), flavour: .perLayerFolded,
                                       rng: &rng))
        }
        // The first three cases (one per flavour) are the saturation style: both ends must occur.
        #expect(cases.prefix(3).map { $0.saturatesBothEnds } == [true, true, true])
        try KernelCheck.run(cases)
    }

    /// The expanded-weight path (mixq_gemm16.h) at the narrow network's shapes: 8 -> 16, 16 -> 32,
    /// 32 -> 64 and 128 -> 128 (the largest matrix it takes), odd pixel counts, every weight width
    /// (all expand to the same int16 rows), per-channel zero-points, the SMMLAR rounding form
    /// (N0 = 1 on every channel), and 128 -> 130 (too large: the existing core) beside them.
    @Test func expandedWeightPathMatchesTheReference() throws {
        var rng = SeededRandom(seed: 0x9016)
        var cases: [LayerCase] = []
        for (pixels, inC, outC) in [((3, 5), 8, 16), ((5, 5), 16, 32), ((1, 7), 32, 64), ((3, 3), 128, 128), ((1, 3), 128, 130)] {
            let g = try Self.geometry(pixels: pixels, inputChannels: inC, outputChannels: outC)
            for bits in [(BitWidth.eight, BitWidth.eight, BitWidth.eight), (.four, .two, .eight), (.two, .four, .two)] {
                cases.append(try LayerCase(kind: .pointwise, geometry: g, bits: bits, flavour: .perChannelICN, rng: &rng))
                cases.append(try LayerCase(kind: .pointwise, geometry: g, bits: bits, flavour: .perLayerICN,
                                           style: CaseStyle(biasFactor: 0.01, scaleRange: 0.25...0.49), rng: &rng))
            }
        }
        try KernelCheck.run(cases, paths: [.optimized])
    }

    /// MobilenetV1 pointwise extremes: the first pointwise layer at 128/alpha 0.25 (64x64, 8 -> 16)
    /// and the widest at alpha 1 (1024 -> 1024, on 3x3 pixels to keep the test quick), plus 112-wide
    /// rows of the first alpha-1 layer (32 -> 64). The 1024 x 1024 matrix has 2-bit weights so it
    /// fits the test arena.
    @Test func mobilenetShapesMatchTheReference() throws {
        var rng = SeededRandom(seed: 0x901A)
        let shapes: [((Int, Int), Int, Int, (BitWidth, BitWidth, BitWidth))] = [
            ((64, 64), 8, 16, (.eight, .four, .two)), ((3, 3), 1024, 1024, (.four, .two, .eight)),
            ((2, 112), 32, 64, (.two, .eight, .four)),
        ]
        var cases: [LayerCase] = []
        for (index, (pixels, inC, outC, bits)) in shapes.enumerated() {
            let g = try Self.geometry(pixels: pixels, inputChannels: inC, outputChannels: outC)
            cases.append(try LayerCase(kind: .pointwise, geometry: g, bits: bits,
                                       flavour: RequantizationFlavour.allCases[index % 3], rng: &rng))
        }
        try KernelCheck.run(cases, paths: [.optimized])
    }
}
