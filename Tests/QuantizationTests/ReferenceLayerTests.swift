import Quantization
import Testing

/// The host reference layers on small examples worked out by hand in the comments.
@Suite struct ReferenceLayerTests {
    let unit = try! FixedPointMultiplier(multiplier: 1 << 30, shift: -1)   // scale 1

    @Test func convolutionWithZeroPointsStrideAndPadding() throws {
        // x = [1 2 3; 4 5 6; 7 8 9], zx = 1; one 2x2 filter w = [2 1; 1 3], zw = 1 -> w - zw = [1 0; 0 2];
        // bias 10, scale 1. Stride 1, no padding:
        //   (0,0): 10 + 1*(1-1) + 2*(5-1) = 18    (0,1): 10 + (2-1) + 2*(6-1) = 21
        //   (1,0): 10 + (4-1) + 2*(8-1) = 27      (1,1): 10 + (5-1) + 2*(9-1) = 30
        let p = try RequantizationParameters(flavour: .perLayerFolded, bias: [10], multipliers: [unit], weightZeroPoints: [1],
                                             inputZeroPoint: 1, outputZeroPoint: 0, inputBits: .eight, weightBits: .four,
                                             outputBits: .eight)
        let x = [1, 2, 3, 4, 5, 6, 7, 8, 9], w = [2, 1, 1, 3]
        let valid = try ConvolutionGeometry(inputHeight: 3, inputWidth: 3, inputChannels: 1, outputChannels: 1,
                                            kernelHeight: 2, kernelWidth: 2)
        #expect(try ReferenceLayers.convolution(input: x, weights: w, geometry: valid, parameters: p) == [18, 21, 27, 30])
        // Stride 2 with one row and column of padding after the input (padding reads zx, adds 0):
        //   (0,0): 18   (0,1): 10 + 1*(3-1) = 12   (1,0): 10 + 1*(7-1) = 16   (1,1): 10 + 1*(9-1) = 18
        let padded = try ConvolutionGeometry(inputHeight: 3, inputWidth: 3, inputChannels: 1, outputChannels: 1,
                                             kernelHeight: 2, kernelWidth: 2, strideHeight: 2, strideWidth: 2,
                                             padBottom: 1, padRight: 1)
        #expect(try ReferenceLayers.convolution(input: x, weights: w, geometry: padded, parameters: p) == [18, 12, 16, 18])
    }

    @Test func depthwiseWithPerChannelZeroPointsAndMultipliers() throws {
        // 2x2x2 input (HWC): channel 0 = 1, 2, 3, 4; channel 1 = 4, 3, 2, 1. 2x2 kernel, no padding.
        // Channel 0: w = 1, 1, 1, 1, zw = 0: 1+2+3+4 = 10, bias 0 -> 10, scale 0.5 -> 5, + zy 8 = 13.
        // Channel 1: w = 2, 0, 0, 2, zw = 1 -> 1, -1, -1, 1: 4-3-2+1 = 0, bias 5 -> 5, scale -1 -> -5, + 8 = 3.
        let half = try FixedPointMultiplier(scale: 0.5), minusOne = try FixedPointMultiplier(scale: -1)
        let p = try RequantizationParameters(flavour: .perChannelICN, bias: [0, 5], multipliers: [half, minusOne],
                                             weightZeroPoints: [0, 1], inputZeroPoint: 0, outputZeroPoint: 8,
                                             inputBits: .four, weightBits: .two, outputBits: .four)
        let g = try ConvolutionGeometry(inputHeight: 2, inputWidth: 2, inputChannels: 2, outputChannels: 2,
                                        kernelHeight: 2, kernelWidth: 2)
        let y = try ReferenceLayers.depthwiseConvolution(input: [1, 4, 2, 3, 3, 2, 4, 1], weights: [1, 2, 1, 0, 1, 0, 1, 2],
                                                         geometry: g, parameters: p)
        #expect(y == [13, 3])
    }

    @Test func fullyConnectedClampsBothEnds() throws {
        // x = 3, 0, 2 with zx = 1 -> 2, -1, 1. Rows (zw = 2): [1 2 3] -> -1, 0, 1; [3 3 0] -> 1, 1, -2.
        // Dots: -2 + 0 + 1 = -1 and 2 - 1 - 2 = -1; bias 4, -3 -> 3, -4; scale 1, zy = 1 -> 4, -3;
        // 2-bit output clamps to 3 and 0.
        let p = try RequantizationParameters(flavour: .perLayerFolded, bias: [4, -3], multipliers: [unit],
                                             weightZeroPoints: [2], inputZeroPoint: 1, outputZeroPoint: 1,
                                             inputBits: .two, weightBits: .two, outputBits: .two)
        #expect(try ReferenceLayers.fullyConnected(input: [3, 0, 2], weights: [1, 2, 3, 3, 3, 0], parameters: p) == [3, 0])
    }

    @Test func pointwiseIsAOneByOneConvolution() throws {
        // Two pixels of two channels: (1, 2) and (3, 0); one output with w = (2, 1), zw = 0, bias 0, scale 1.
        // Pixel 0: 2 + 2 = 4; pixel 1: 6 + 0 = 6.
        let p = try RequantizationParameters(flavour: .perLayerICN, bias: [0], multipliers: [unit], weightZeroPoints: [0],
                                             inputZeroPoint: 0, outputZeroPoint: 0, inputBits: .eight, weightBits: .eight,
                                             outputBits: .eight)
        let y = try ReferenceLayers.pointwiseConvolution(input: [1, 2, 3, 0], height: 1, width: 2, inputChannels: 2,
                                                         weights: [2, 1], parameters: p)
        #expect(y == [4, 6])
    }

    @Test func globalAveragePoolRoundsHalfUp() throws {
        // 2x2 pixels, channels (1,2) (3,4) (5,8) (7,8), zx = 1: sums 16 - 4 = 12 and 22 - 4 = 18;
        // scale 1/4: 3 and 4.5 -> 5.
        let quarter = try FixedPointMultiplier(scale: 0.25)
        let p = try PoolingParameters(multiplier: quarter, inputZeroPoint: 1, outputZeroPoint: 0, inputBits: .four,
                                      outputBits: .four)
        let y = try ReferenceLayers.globalAveragePool(input: [1, 2, 3, 4, 5, 8, 7, 8], height: 2, width: 2, channels: 2,
                                                      parameters: p)
        #expect(y == [3, 5])
    }

    @Test func samePaddingMatchesTensorFlow() throws {
        // 224 / stride 2 -> 112; total padding (111 * 2 + 3 - 224) = 1: 0 before, 1 after.
        let first = try ConvolutionGeometry.same(inputHeight: 224, inputWidth: 224, inputChannels: 3, outputChannels: 32,
                                                 kernel: 3, stride: 2)
        #expect(first.outputHeight == 112 && first.padTop == 0 && first.padBottom == 1)
        #expect(first.macs == 112 * 112 * 32 * 27)
        // 7 / stride 1 -> 7; total padding 2: 1 before, 1 after.
        let last = try ConvolutionGeometry.same(inputHeight: 7, inputWidth: 7, inputChannels: 1024, outputChannels: 1024,
                                                kernel: 3, stride: 1)
        #expect(last.outputWidth == 7 && last.padLeft == 1 && last.padRight == 1)
    }

    @Test func rejectsInconsistentInput() throws {
        #expect(throws: QuantizationError.self) {
            try ConvolutionGeometry(inputHeight: 3, inputWidth: 3, inputChannels: 1, outputChannels: 1, kernelHeight: 2,
                                    kernelWidth: 2, strideHeight: 0)
        }
        #expect(throws: QuantizationError.self) {
            try RequantizationParameters(flavour: .perLayerICN, bias: [0, 0], multipliers: [unit], weightZeroPoints: [0],
                                         inputZeroPoint: 0, outputZeroPoint: 0, inputBits: .eight, weightBits: .eight,
                                         outputBits: .eight)
        }
        #expect(throws: QuantizationError.zeroPointOutOfRange(16, bits: .four)) {
            try RequantizationParameters(flavour: .perLayerFolded, bias: [0], multipliers: [unit], weightZeroPoints: [16],
                                         inputZeroPoint: 0, outputZeroPoint: 0, inputBits: .eight, weightBits: .four,
                                         outputBits: .eight)
        }
        let p = try RequantizationParameters(flavour: .perLayerFolded, bias: [0], multipliers: [unit], weightZeroPoints: [0],
                                             inputZeroPoint: 0, outputZeroPoint: 0, inputBits: .two, weightBits: .eight,
                                             outputBits: .eight)
        #expect(throws: QuantizationError.valueOutOfRange(4, bits: .two)) {
            try ReferenceLayers.fullyConnected(input: [4], weights: [1], parameters: p)
        }
    }
}
