import Quantization
import Testing

/// TFLite's fixed-point primitives on hand-worked values (the definitions in
/// docs/design.md#tflite-arithmetic); Tests/QuantizationTests/TFLiteVectorTests.swift checks
/// the whole ops against LiteRT.
@Suite struct TFLiteArithmeticTests {
    @Test func doublingHighMultiplyRoundsAndSaturates() {
        // 2^30 * 2^30 * 2 / 2^32 = 2^29.
        #expect(TFLiteArithmetic.saturatingRoundingDoublingHighMultiply(1 << 30, 1 << 30) == 1 << 29)
        // 3 * 0.5 = 1.5 -> 2, but -1.5 -> -1: the nudge 1 - 2^30 makes negative ties go toward zero.
        #expect(TFLiteArithmetic.saturatingRoundingDoublingHighMultiply(3, 1 << 30) == 2)
        #expect(TFLiteArithmetic.saturatingRoundingDoublingHighMultiply(-3, 1 << 30) == -1)
        #expect(TFLiteArithmetic.saturatingRoundingDoublingHighMultiply(-5, 1 << 29) == -1)   // -1.25
        #expect(TFLiteArithmetic.saturatingRoundingDoublingHighMultiply(Int32.min, Int32.min) == Int32.max)
        #expect(TFLiteArithmetic.saturatingRoundingDoublingHighMultiply(Int32.min, Int32.max) == Int32.min + 1)
    }

    @Test func roundingDivideByPowerOfTwoRoundsHalfAwayFromZero() {
        #expect(TFLiteArithmetic.roundingDivideByPowerOfTwo(5, 1) == 3)     // 2.5
        #expect(TFLiteArithmetic.roundingDivideByPowerOfTwo(-5, 1) == -3)   // -2.5
        #expect(TFLiteArithmetic.roundingDivideByPowerOfTwo(-3, 1) == -2)   // -1.5
        #expect(TFLiteArithmetic.roundingDivideByPowerOfTwo(-1, 1) == -1)   // -0.5
        #expect(TFLiteArithmetic.roundingDivideByPowerOfTwo(7, 2) == 2)     // 1.75
        #expect(TFLiteArithmetic.roundingDivideByPowerOfTwo(-6, 2) == -2)   // -1.5
        #expect(TFLiteArithmetic.roundingDivideByPowerOfTwo(-5, 2) == -1)   // -1.25
        #expect(TFLiteArithmetic.roundingDivideByPowerOfTwo(Int32.max, 31) == 1)
        #expect(TFLiteArithmetic.roundingDivideByPowerOfTwo(Int32.min, 31) == -1)
        #expect(TFLiteArithmetic.roundingDivideByPowerOfTwo(123, 0) == 123)
    }

    @Test func scaleDecompositionFollowsFrexpWithTFLitesEdgeCases() throws {
        let one = try FixedPointMultiplier.tflite(scale: 1)
        #expect(one.multiplier == 1 << 30 && one.tfliteShift == 1)
        let three = try FixedPointMultiplier.tflite(scale: 3)   // 0.75 * 2^2
        #expect(three.multiplier == 1_610_612_736 && three.tfliteShift == 2)
        let small = try FixedPointMultiplier.tflite(scale: 0.1)  // 0.8 * 2^-3
        #expect(small.multiplier == 1_717_986_918 && small.tfliteShift == -3)
        // f * 2^31 rounds up to 2^31: renormalised to 2^30 with the exponent one higher.
        let almostOne = try FixedPointMultiplier.tflite(scale: 1 - 0x1p-40)
        #expect(almostOne.multiplier == 1 << 30 && almostOne.tfliteShift == 1)
        // Below 2^-32: zero; from 2^30 up: saturated at (2^31 - 1, 30).
        let tiny = try FixedPointMultiplier.tflite(scale: 0x1p-40)
        #expect(tiny.multiplier == 0 && tiny.tfliteShift == 0 && tiny.tfliteScaled(Int32.max) == 0)
        let huge = try FixedPointMultiplier.tflite(scale: 0x1p40)
        #expect(huge.multiplier == Int32.max && huge.tfliteShift == 30)
        #expect(throws: QuantizationError.self) { try FixedPointMultiplier.tflite(scale: -1) }
        #expect(throws: QuantizationError.self) { try FixedPointMultiplier.tflite(scale: .nan) }
    }

    @Test func multiplyByQuantizedMultiplierShiftsLeftForLargeScales() throws {
        #expect(try FixedPointMultiplier.tflite(scale: 1).tfliteScaled(5) == 5)
        #expect(try FixedPointMultiplier.tflite(scale: 3).tfliteScaled(5) == 15)
        #expect(try FixedPointMultiplier.tflite(scale: 3).tfliteScaled(-7) == -21)
        // -6 * 0.25 = -1.5: TFLite rounds away from zero (-2), MixQ's single rounding half up (-1).
        let quarter = try FixedPointMultiplier.tflite(scale: 0.25)
        #expect(quarter.tfliteScaled(-6) == -2)
        #expect(try FixedPointMultiplier(scale: 0.25).scaled(-6) == -1)
        // Double rounding: 2 * 0.1875 = 0.375, but 2 * 0.75 = 1.5 rounds to 2 in the high multiply,
        // then 2 / 4 = 0.5 rounds to 1. MixQ's single rounding gives 0.
        #expect(try FixedPointMultiplier.tflite(scale: 0.1875).tfliteScaled(2) == 1)
        #expect(try FixedPointMultiplier(scale: 0.1875).scaled(2) == 0)
    }

    @Test func fusedActivationsClampInCodes() {
        // int8 output, scale 6/255, zero point -128 (code 0): RELU6's top is 0 + round(255.0) = 255.
        let scale: Float = 6.0 / 255.0
        #expect(TFLiteActivation.relu6.outputRange(scale: scale, zeroPoint: 0) == 0...255)
        // A wider output (scale 0.05, zero point code 100): RELU keeps 100...255, RELU6 100...220.
        #expect(TFLiteActivation.relu.outputRange(scale: 0.05, zeroPoint: 100) == 100...255)
        #expect(TFLiteActivation.relu6.outputRange(scale: 0.05, zeroPoint: 100) == 100...220)
        #expect(TFLiteActivation.reluN1To1.outputRange(scale: 0.05, zeroPoint: 100) == 80...120)
        #expect(TFLiteActivation.none.outputRange(scale: 0.05, zeroPoint: 100) == 0...255)
    }

    @Test func requantizationDefaultsKeepMixQsRounding() throws {
        let m = try FixedPointMultiplier(scale: 0.25)
        let p = try RequantizationParameters(flavour: .perLayerFolded, bias: [0], multipliers: [m], weightZeroPoints: [0],
                                             inputZeroPoint: 0, outputZeroPoint: 10, inputBits: .eight, weightBits: .eight,
                                             outputBits: .four)
        #expect(p.rounding == .halfUp && p.outputRange == 0...15)
        #expect(p.output(accumulator: -6, channel: 0) == 9)     // -1.5 -> -1, + 10
        let t = try RequantizationParameters(flavour: .perLayerFolded, bias: [0], multipliers: [m], weightZeroPoints: [0],
                                             inputZeroPoint: 0, outputZeroPoint: 10, inputBits: .eight, weightBits: .eight,
                                             outputBits: .four, rounding: .tflite, outputRange: 9...12)
        #expect(t.output(accumulator: -6, channel: 0) == 9)     // -2 + 10 = 8, clamped to 9
        #expect(t.output(accumulator: 14, channel: 0) == 12)    // 3.5 -> 4, + 10 = 14, clamped to 12
        #expect(throws: QuantizationError.self) {
            try RequantizationParameters(flavour: .perLayerFolded, bias: [0], multipliers: [m], weightZeroPoints: [0],
                                         inputZeroPoint: 0, outputZeroPoint: 0, inputBits: .eight, weightBits: .eight,
                                         outputBits: .four, outputRange: 0...16)
        }
    }

    @Test func depthwiseWithADepthMultiplierOrdersOutputsAsTFLite() throws {
        // 1x1 input with 2 channels (codes 3 and 5), 1x1 kernel, M = 2: outputs c * 2 + m.
        let g = try ConvolutionGeometry(inputHeight: 1, inputWidth: 1, inputChannels: 2, outputChannels: 4,
                                        kernelHeight: 1, kernelWidth: 1)
        let p = try RequantizationParameters(flavour: .perLayerFolded, bias: [0, 0, 0, 0],
                                             multipliers: [FixedPointMultiplier(scale: 1.0 / 8)], weightZeroPoints: [0],
                                             inputZeroPoint: 0, outputZeroPoint: 0, inputBits: .eight, weightBits: .eight,
                                             outputBits: .eight)
        let y = try ReferenceLayers.depthwiseConvolution(input: [3, 5], weights: [8, 16, 24, 32], geometry: g, parameters: p)
        #expect(y == [3, 6, 15, 20])
    }
}
