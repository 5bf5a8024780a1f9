import Quantization
import Testing

/// firmware/kernels/pool.c on the emulated STM32H743 against ReferenceLayers.globalAveragePool.
@Suite struct PoolKernelTests {
    @Test func everyBitCombinationAndShapeMatchesTheReference() throws {
        var rng = SeededRandom(seed: 0x9001)
        var cases: [LayerCase] = []
        // Input and output bits (pooling has no weights); MobilenetV1's 7x7x1024 and 4x4x256 among
        // random shapes with channel counts that are and are not multiples of the packing widths.
        let shapes = [(7, 7, 1024), (4, 4, 256), (2, 3, 5), (5, 5, 17), (1, 1, 3), (7, 7, 33)]
        for inBits in BitWidth.allCases {
            for outBits in BitWidth.allCases {
                for (index, shape) in shapes.enumerated() {
                    let g = try ConvolutionGeometry(inputHeight: shape.0, inputWidth: shape.1, inputChannels: shape.2,
                                                    outputChannels: shape.2, kernelHeight: shape.0, kernelWidth: shape.1)
                    let style = index == 2 ? CaseStyle(zeroPoints: .maximum, scaleFactor: 8)
                        : index == 3 ? CaseStyle(zeroPoints: .zero) : CaseStyle()
                    cases.append(try LayerCase(kind: .pool, geometry: g, bits: (inBits, .eight, outBits),
                                               flavour: .perLayerFolded, style: style, rng: &rng))
                }
            }
        }
        try KernelCheck.run(cases)
    }
}
