import Quantization
import Testing

/// firmware/kernels/conv.c on the emulated STM32H743 against ReferenceLayers.convolution.
@Suite struct ConvKernelTests {
    @Test func everyBitCombinationAndFlavourMatchesTheReference() throws {
        var rng = SeededRandom(seed: 0xC0_417)
        var cases: [LayerCase] = []
        for bits in allBitCombinations {
            for flavour in RequantizationFlavour.allCases {
                let stride = Int.random(in: 1...2, using: &rng)
                let g = try ConvolutionGeometry.same(
                    inputHeight: Int.random(in: 3...7, using: &rng), inputWidth: Int.random(in: 3...7, using: &rng),
                    inputChannels: Int.random(in: 1...9, using: &rng), outputChannels: Int.random(in: 1...7, using: &rng),
                    kernel: 3, stride: stride)
                cases.append(try LayerCase(kind: .conv, geometry: g, bits: bits, flavour: flavour, rng: &rng))
            }
        }
        try KernelCheck.run(cases)
    }

    @Test func edgeCasesMatchTheReference() throws {
        var rng = SeededRandom(seed: 0xED_6E)
        var cases: [LayerCase] = []
        let rgb = try ConvolutionGeometry.same(inputHeight: 16, inputWidth: 16, inputChannels: 3, outputChannels: 8,
                                               kernel: 3, stride: 2)
        // Saturation at both ends, zero-points at both extremes, scales >= 0.5 (N0 < 0).
        for (style, seedBits) in [(CaseStyle(scaleFactor: 64, biasFactor: 4), (BitWidth.eight, BitWidth.eight, BitWidth.two)),
                                  (CaseStyle(zeroPoints: .maximum), (.four, .two, .four)),
                                  (CaseStyle(zeroPoints: .zero), (.two, .four, .eight)),
                                  (CaseStyle(zeroPoints: .maximum, scaleFactor: 5000), (.eight, .eight, .eight))] {
            for flavour in RequantizationFlavour.allCases {
                cases.append(try LayerCase(kind: .conv, geometry: rgb, bits: seedBits, flavour: flavour, style: style, rng: &rng))
            }
        }
        // Explicit, asymmetric padding, a 1x3 kernel, stride 3, channel counts around the packing widths.
        for inC in [1, 4, 8, 15, 16, 17] {
            let g = try ConvolutionGeometry(inputHeight: 5, inputWidth: 9, inputChannels: inC, outputChannels: 3,
                                            kernelHeight: 1, kernelWidth: 3, strideHeight: 2, strideWidth: 3,
                                            padTop: 0, padLeft: 2, padBottom: 0, padRight: 1)
            cases.append(try LayerCase(kind: .conv, geometry: g, bits: (.two, .two, .two), flavour: .perChannelICN, rng: &rng))
            cases.append(try LayerCase(kind: .conv, geometry: g, bits: (.four, .eight, .four), flavour: .perLayerICN, rng: &rng))
        }
        // The first three cases (one per flavour) are the saturation style: both ends must occur.
        #expect(cases.prefix(3).map { $0.saturatesBothEnds } == [true, true, true])
        try KernelCheck.run(cases)
    }

    /// Arguments the kernels must reject with MIXQ_ERROR_ARGUMENT (-1) without writing anything:
    /// a 3-bit input width (descriptor word 13) and a weight pointer that is not word aligned
    /// (word 20, the weight offset, set to arena byte 1).
    @Test func invalidArgumentsAreRejectedWithoutWriting() throws {
        var rng = SeededRandom(seed: 0xBAD)
        let g = try ConvolutionGeometry.same(inputHeight: 4, inputWidth: 4, inputChannels: 4, outputChannels: 4,
                                             kernel: 3, stride: 1)
        let c = try LayerCase(kind: .conv, geometry: g, bits: (.eight, .eight, .eight), flavour: .perLayerICN, rng: &rng)
        var badBits = try c.job(.optimized)
        badBits.overrides = [13: 3]
        var badBitsPlain = try c.job(.plain)
        badBitsPlain.overrides = [13: 3]
        var misaligned = try c.job(.optimized)
        misaligned.overrides = [20: 1]
        let results = try KernelFirmware.run(family: "conv", jobs: [badBits, badBitsPlain, misaligned])
        for result in results {
            #expect(result.status == -1)
            #expect((result.output + result.guardBytes).allSatisfy { $0 == KernelFirmware.guardPattern })
        }
    }

    /// The first-layer paths (mixq_gemm16.h, mixq_column_fill_rgb3x3): 3x3 windows over 8-bit
    /// RGB inside the image and at every border, odd output widths (a last single pixel), even
    /// and odd output channel counts (odd ones take the existing core), 2-bit outputs in whole
    /// bytes, and scales in [0.25, 0.5) (N0 = 1 on every channel: the SMMLAR form) beside the
    /// usual ones (SMMLA), with sub-byte weights expanding to the same int16 rows.
    @Test func firstLayerPathsMatchTheReference() throws {
        var rng = SeededRandom(seed: 0xF1_2E7)
        var cases: [LayerCase] = []
        for (side, outC, stride) in [(11, 8, 2), (9, 4, 1), (10, 7, 2), (13, 12, 2)] {
            let g = try ConvolutionGeometry.same(inputHeight: side, inputWidth: side + 2, inputChannels: 3, outputChannels: outC,
                                                 kernel: 3, stride: stride)
            for bits in [(BitWidth.eight, BitWidth.eight, BitWidth.eight), (.eight, .four, .two), (.eight, .two, .four)] {
                cases.append(try LayerCase(kind: .conv, geometry: g, bits: bits, flavour: .perChannelICN, rng: &rng))
                cases.append(try LayerCase(kind: .conv, geometry: g, bits: bits, flavour: .perLayerFolded,
                                           style: CaseStyle(biasFactor: 0.01, scaleRange: 0.25...0.49), rng: &rng))
            }
        }
        #expect(cases.contains { $0.parameters.multipliers.allSatisfy { $0.shift == 1 } })
        try KernelCheck.run(cases)
    }

    /// MobilenetV1's first layer at its smallest (128, alpha 0.25: 8 channels) and largest
    /// (224, alpha 1: 32 channels) configuration; the largest runs the optimized path only.
    @Test func mobilenetFirstLayerShapesMatchTheReference() throws {
        var rng = SeededRandom(seed: 0xF1_257)
        let small = try ConvolutionGeometry.same(inputHeight: 128, inputWidth: 128, inputChannels: 3, outputChannels: 8,
                                                 kernel: 3, stride: 2)
        try KernelCheck.run([try LayerCase(kind: .conv, geometry: small, bits: (.eight, .four, .eight),
                                           flavour: .perChannelICN, rng: &rng)])
        let large = try ConvolutionGeometry.same(inputHeight: 224, inputWidth: 224, inputChannels: 3, outputChannels: 32,
                                                 kernel: 3, stride: 2)
        try KernelCheck.run([try LayerCase(kind: .conv, geometry: large, bits: (.eight, .eight, .two),
                                           flavour: .perLayerFolded, rng: &rng)], paths: [.optimized])
    }
}
