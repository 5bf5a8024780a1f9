import Quantization
import Testing

/// firmware/kernels/depthwise.c on the emulated STM32H743 against ReferenceLayers.depthwiseConvolution.
@Suite struct DepthwiseKernelTests {
    @Test func everyBitCombinationAndFlavourMatchesTheReference() throws {
        var rng = SeededRandom(seed: 0xD3_97)
        var cases: [LayerCase] = []
        for bits in allBitCombinations {
            for flavour in RequantizationFlavour.allCases {
                let channels = Int.random(in: 1...21, using: &rng)
                let g = try ConvolutionGeometry.same(
                    inputHeight: Int.random(in: 2...7, using: &rng), inputWidth: Int.random(in: 2...7, using: &rng),
                    inputChannels: channels, outputChannels: channels, kernel: 3, stride: Int.random(in: 1...2, using: &rng))
                cases.append(try LayerCase(kind: .depthwise, geometry: g, bits: bits, flavour: flavour, rng: &rng))
            }
        }
        try KernelCheck.run(cases)
    }

    @Test func edgeCasesMatchTheReference() throws {
        var rng = SeededRandom(seed: 0xD3_ED)
        var cases: [LayerCase] = []
        let g = try ConvolutionGeometry.same(inputHeight: 6, inputWidth: 5, inputChannels: 16, outputChannels: 16,
                                             kernel: 3, stride: 1)
        for (style, bits) in [(CaseStyle(scaleFactor: 64, biasFactor: 4), (BitWidth.eight, BitWidth.eight, BitWidth.eight)),
                              (CaseStyle(zeroPoints: .maximum), (.two, .four, .two)),
                              (CaseStyle(zeroPoints: .zero), (.four, .two, .eight)),
                              (CaseStyle(zeroPoints: .maximum, scaleFactor: 5000), (.eight, .two, .four))] {
            for flavour in RequantizationFlavour.allCases {
                cases.append(try LayerCase(kind: .depthwise, geometry: g, bits: bits, flavour: flavour, style: style, rng: &rng))
            }
        }
        // Channel counts around every packing width; a 5x3 kernel with explicit padding; stride 3.
        for channels in [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33] {
            let odd = try ConvolutionGeometry(inputHeight: 7, inputWidth: 8, inputChannels: channels, outputChannels: channels,
                                              kernelHeight: 5, kernelWidth: 3, strideHeight: 1, strideWidth: 3,
                                              padTop: 2, padLeft: 0, padBottom: 1, padRight: 2)
            cases.append(try LayerCase(kind: .depthwise, geometry: odd, bits: (.two, .eight, .four), flavour: .perChannelICN,
                                       rng: &rng))
            cases.append(try LayerCase(kind: .depthwise, geometry: odd, bits: (.four, .four, .two), flavour: .perLayerICN,
                                       rng: &rng))
        }
        // The first three cases (one per flavour) are the saturation style: both ends must occur.
        #expect(cases.prefix(3).map { $0.saturatesBothEnds } == [true, true, true])
        // 3-wide kernels of other heights and odd widths (the paired-tap path), with explicit padding.
        for (kh, strideH, strideW, width) in [(2, 2, 1, 9), (5, 1, 2, 10), (1, 1, 1, 5), (3, 3, 2, 3)] {
            let g = try ConvolutionGeometry(inputHeight: 6, inputWidth: width, inputChannels: 6, outputChannels: 6,
                                            kernelHeight: kh, kernelWidth: 3, strideHeight: strideH, strideWidth: strideW,
                                            padTop: kh / 2, padLeft: 1, padBottom: 0, padRight: 2)
            cases.append(try LayerCase(kind: .depthwise, geometry: g, bits: (.eight, .four, .two), flavour: .perChannelICN,
                                       rng: &rng))
        }
        try KernelCheck.run(cases)
    }

    /// MobilenetV1 depthwise extremes: the smallest (128, alpha 0.25: 64x64x8 stride 1 and the
    /// last 4x4x256) and the largest (224, alpha 1: 112x112x64 stride 2, 7x7x1024). The 112-wide
    /// layer runs on a band of rows (full width and channels) to keep the test quick.
    @Test func mobilenetShapesMatchTheReference() throws {
        var rng = SeededRandom(seed: 0xD3_1A)
        let shapes: [(Int, Int, Int, Int)] = [(64, 64, 8, 1), (4, 4, 256, 1), (9, 112, 64, 2), (7, 7, 1024, 1), (8, 8, 512, 2)]
        var cases: [LayerCase] = []
        for (index, (h, w, c, stride)) in shapes.enumerated() {
            let g = try ConvolutionGeometry.same(inputHeight: h, inputWidth: w, inputChannels: c, outputChannels: c,
                                                 kernel: 3, stride: stride)
            let bits = allBitCombinations[(index * 7) % 27]
            cases.append(try LayerCase(kind: .depthwise, geometry: g, bits: bits,
                                       flavour: RequantizationFlavour.allCases[index % 3], rng: &rng))
        }
        try KernelCheck.run(cases)
    }
}
