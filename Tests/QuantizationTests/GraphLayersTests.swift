import Testing
@testable import Quantization

/// MixQ's add and windowed pooling (Sources/Quantization/GraphLayers.swift) on examples worked by
/// hand at 8, 4 and 2 bits: every expected code below is computed in the comments from the
/// real values, then rounded half up as docs/design.md#rounding-rule says.
@Suite struct GraphLayersTests {
    // MARK: add

    @Test func addAtEightBitsWithTwoScales() throws {
        // S1 = 0.5, z1 = 10; S2 = 0.25, z2 = 3; S_y = 1, z_y = 5.
        // Ratios 0.5 and 0.25: the larger is M0 = 2^30 with N0 = 0 (s = 31), the other 2^29.
        let p = try AddParameters.scaled(input1Scale: 0.5, input1ZeroPoint: 10, input1Bits: .eight,
                                         input2Scale: 0.25, input2ZeroPoint: 3, input2Bits: .eight,
                                         outputScale: 1, outputZeroPoint: 5, outputBits: .eight)
        #expect(p.shift == 31)
        #expect(p.input1Multiplier == 1 << 30)
        #expect(p.input2Multiplier == 1 << 29)
        let x1 = [15, 13, 7, 10, 255, 0]
        let x2 = [9, 3, 3, 1, 255, 0]
        // 2.5 + 1.5 = 4 -> 9; 1.5 -> 2 -> 7; -1.5 -> -1 -> 4; -0.5 -> 0 -> 5;
        // 122.5 + 63 = 185.5 -> 186 -> 191; -5 - 0.75 = -5.75 -> -6 -> -1, clamped to 0.
        #expect(try ReferenceLayers.add(x1, x2, parameters: p) == [9, 7, 4, 5, 191, 0])
    }

    @Test func addOfFourAndTwoBitInputsToFourBits() throws {
        // Input 1: 4-bit, S = 0.5, z = 2. Input 2: 2-bit, S = 1.5, z = 1. Output: 4-bit, S = 1, z = 3.
        // The larger ratio 1.5 = 0.75 * 2^1: M0 = 0.75 * 2^31 = 1610612736, N0 = -1, s = 30;
        // the other is 0.5 * 2^30 = 536870912.
        let p = try AddParameters.scaled(input1Scale: 0.5, input1ZeroPoint: 2, input1Bits: .four,
                                         input2Scale: 1.5, input2ZeroPoint: 1, input2Bits: .two,
                                         outputScale: 1, outputZeroPoint: 3, outputBits: .four)
        #expect(p.shift == 30)
        #expect(p.input1Multiplier == 536_870_912)
        #expect(p.input2Multiplier == 1_610_612_736)
        // 2.5 + 3 = 5.5 -> 6 -> 9; -1 - 1.5 = -2.5 -> -2 -> 1; 6.5 + 3 = 9.5 -> 10 -> 13; 0 + 0 -> 3.
        #expect(try ReferenceLayers.add([7, 0, 15, 2], [3, 0, 3, 1], parameters: p) == [9, 1, 13, 3])
    }

    @Test func addAtTwoBitsWithAFusedReLU() throws {
        // Both inputs 2-bit with S = 1 (z = 1 and z = 2); output 2-bit, S = 2, z = 1, ReLU: codes 1...3.
        let p = try AddParameters.scaled(input1Scale: 1, input1ZeroPoint: 1, input1Bits: .two,
                                         input2Scale: 1, input2ZeroPoint: 2, input2Bits: .two,
                                         outputScale: 2, outputZeroPoint: 1, outputBits: .two, outputRange: 1...3)
        // (2 + 1) / 2 = 1.5 -> 2 -> 3; (-1 - 2) / 2 = -1.5 -> -1 -> 0, ReLU -> 1;
        // (1 + 0) / 2 = 0.5 -> 1 -> 2; (0 - 1) / 2 = -0.5 -> 0 -> 1.
        #expect(try ReferenceLayers.add([3, 0, 2, 1], [3, 0, 2, 1], parameters: p) == [3, 1, 2, 1])
    }

    @Test func addRefusesCodesAndParametersThatDoNotFit() throws {
        let p = try AddParameters.scaled(input1Scale: 1, input1ZeroPoint: 0, input1Bits: .four,
                                         input2Scale: 1, input2ZeroPoint: 0, input2Bits: .four,
                                         outputScale: 1, outputZeroPoint: 0, outputBits: .four)
        #expect(throws: QuantizationError.self) { try ReferenceLayers.add([16], [0], parameters: p) }
        #expect(throws: QuantizationError.self) { try ReferenceLayers.add([1, 2], [0], parameters: p) }
        #expect(throws: QuantizationError.self) {
            try AddParameters.scaled(input1Scale: 1, input1ZeroPoint: 4, input1Bits: .two, input2Scale: 1, input2ZeroPoint: 0,
                                     input2Bits: .two, outputScale: 1, outputZeroPoint: 0, outputBits: .two)
        }
        #expect(throws: QuantizationError.self) {
            try AddParameters.scaled(input1Scale: 0, input1ZeroPoint: 0, input1Bits: .two, input2Scale: 1, input2ZeroPoint: 0,
                                     input2Bits: .two, outputScale: 1, outputZeroPoint: 0, outputBits: .two)
        }
    }

    // MARK: pooling

    @Test func averagePoolAtEightBitsWithPartialWindows() throws {
        // 3x3x1 input, 2x2 window, stride 2, one row and column of padding after: a 2x2 output whose
        // windows hold 4, 2, 2 and 1 input positions. S_x = S_y, z = 4: the average of the codes.
        let g = try ConvolutionGeometry(inputHeight: 3, inputWidth: 3, inputChannels: 1, outputChannels: 1, kernelHeight: 2,
                                        kernelWidth: 2, strideHeight: 2, strideWidth: 2, padBottom: 1, padRight: 1)
        let p = try WindowPoolParameters.scaled(kind: .average, windowPositions: 4, inputScale: 0.1, inputZeroPoint: 4,
                                                inputBits: .eight, outputScale: 0.1, outputZeroPoint: 4, outputBits: .eight)
        let input = [11, 20, 30,
                     40, 50, 61,
                     70, 80, 90]
        // (7 + 16 + 36 + 46) / 4 = 26.25 -> 26 -> 30; (26 + 57) / 2 = 41.5 -> 42 -> 46;
        // (66 + 76) / 2 = 71 -> 75; 86 -> 90.
        #expect(try ReferenceLayers.windowPool(input: input, geometry: g, parameters: p) == [30, 46, 75, 90])
    }

    @Test func averagePoolAtFourBitsRescalesAndRoundsHalfUp() throws {
        // 1x3x1 input at 4 bits (S = 1, z = 8), 1x3 window, stride 1, one column of padding each
        // side; output 4-bit with S = 2, z = 8. M[n] = 1 / (2n).
        let g = try ConvolutionGeometry(inputHeight: 1, inputWidth: 3, inputChannels: 1, outputChannels: 1, kernelHeight: 1,
                                        kernelWidth: 3, padLeft: 1, padRight: 1)
        let p = try WindowPoolParameters.scaled(kind: .average, windowPositions: 3, inputScale: 1, inputZeroPoint: 8,
                                                inputBits: .four, outputScale: 2, outputZeroPoint: 8, outputBits: .four)
        // Offsets -5, -5, 7. First window (2 positions): -10 / 4 = -2.5 -> -2 -> 6; middle (3):
        // -3 / 6 = -0.5 -> 0 -> 8; last (2): 2 / 4 = 0.5 -> 1 -> 9.
        #expect(try ReferenceLayers.windowPool(input: [3, 3, 15], geometry: g, parameters: p) == [6, 8, 9])
    }

    @Test func maximumPoolAtTwoBits() throws {
        // 2x2x2 input at 2 bits (S = 1, z = 1), one 2x2 window. Channel 0 holds 0s, channel 1 is 3, 2, 1, 0.
        let g = try ConvolutionGeometry(inputHeight: 2, inputWidth: 2, inputChannels: 2, outputChannels: 2, kernelHeight: 2,
                                        kernelWidth: 2)
        let input = [0, 3, 0, 2, 0, 1, 0, 0]
        // Same quantization out, fused ReLU (codes 1...3): max 0 -> clamped to 1; max 3 -> 3.
        let same = try WindowPoolParameters.scaled(kind: .maximum, windowPositions: 4, inputScale: 1, inputZeroPoint: 1,
                                                   inputBits: .two, outputScale: 1, outputZeroPoint: 1, outputBits: .two,
                                                   outputRange: 1...3)
        #expect(try ReferenceLayers.windowPool(input: input, geometry: g, parameters: same) == [1, 3])
        // Output S = 2, z = 0: (0 - 1) / 2 = -0.5 -> 0; (3 - 1) / 2 = 1.
        let rescaled = try WindowPoolParameters.scaled(kind: .maximum, windowPositions: 4, inputScale: 1, inputZeroPoint: 1,
                                                       inputBits: .two, outputScale: 2, outputZeroPoint: 0, outputBits: .two)
        #expect(try ReferenceLayers.windowPool(input: input, geometry: g, parameters: rescaled) == [0, 1])
    }

    @Test func poolingRefusesInputsThatDoNotFit() throws {
        let g = try ConvolutionGeometry(inputHeight: 2, inputWidth: 2, inputChannels: 1, outputChannels: 1, kernelHeight: 2,
                                        kernelWidth: 2)
        let p = try WindowPoolParameters.scaled(kind: .average, windowPositions: 4, inputScale: 1, inputZeroPoint: 0,
                                                inputBits: .two, outputScale: 1, outputZeroPoint: 0, outputBits: .two)
        #expect(throws: QuantizationError.self) { try ReferenceLayers.windowPool(input: [0, 1, 2, 4], geometry: g, parameters: p) }
        #expect(throws: QuantizationError.self) { try ReferenceLayers.windowPool(input: [0, 1], geometry: g, parameters: p) }
        let short = try WindowPoolParameters.scaled(kind: .average, windowPositions: 2, inputScale: 1, inputZeroPoint: 0,
                                                    inputBits: .two, outputScale: 1, outputZeroPoint: 0, outputBits: .two)
        #expect(throws: QuantizationError.self) { try ReferenceLayers.windowPool(input: [0, 1, 2, 3], geometry: g, parameters: short) }
    }
}
