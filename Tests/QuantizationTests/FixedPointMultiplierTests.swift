import Quantization
import Testing

/// Scale conversion and the rounding rule, on values worked out by hand.
@Suite struct FixedPointMultiplierTests {
    @Test func convertsScalesFrexpStyle() throws {
        // 0.75 = 0.75 * 2^0 -> M0 = 0.75 * 2^31 = 1_610_612_736, N0 = 0.
        let threeQuarters = try FixedPointMultiplier(scale: 0.75)
        #expect(threeQuarters.multiplier == 1_610_612_736 && threeQuarters.shift == 0)
        // 0.1 = 0.8 * 2^-3 -> M0 = round(0.8 * 2^31) = round(1_717_986_918.4) = 1_717_986_918, N0 = 3.
        let tenth = try FixedPointMultiplier(scale: 0.1)
        #expect(tenth.multiplier == 1_717_986_918 && tenth.shift == 3)
        // 1.0 = 0.5 * 2^1 -> M0 = 2^30, N0 = -1 (total shift 30).
        let one = try FixedPointMultiplier(scale: 1.0)
        #expect(one.multiplier == 1 << 30 && one.shift == -1 && one.totalShift == 30)
        // -0.25 = -(0.5 * 2^-1) -> M0 = -2^30, N0 = 1.
        let negative = try FixedPointMultiplier(scale: -0.25)
        #expect(negative.multiplier == -(1 << 30) && negative.shift == 1)
    }

    @Test func renormalisesWhenRoundingReachesTwoToThe31() throws {
        // 1 - 2^-33 = f * 2^0 with f * 2^31 = 2^31 - 0.25, which rounds to 2^31: stored as 2^30 with N0 = -1.
        let m = try FixedPointMultiplier(scale: 1 - 0x1p-33)
        #expect(m.multiplier == 1 << 30 && m.shift == -1)
    }

    @Test func tinyScalesKeepTheLargestShift() throws {
        // 2^-40 needs N0 = 39 > 31: N0 = 31 and M0 = 2^-40 * 2^62 = 2^22.
        let m = try FixedPointMultiplier(scale: 0x1p-40)
        #expect(m.multiplier == 1 << 22 && m.shift == 31 && m.scale == 0x1p-40)
        let zero = try FixedPointMultiplier(scale: 0)
        #expect(zero.scaled(123_456) == 0)
    }

    @Test func rejectsScalesItCannotRepresent() {
        #expect(throws: QuantizationError.self) { try FixedPointMultiplier(scale: 0x1p30) }
        #expect(throws: QuantizationError.self) { try FixedPointMultiplier(scale: .nan) }
        #expect(throws: QuantizationError.self) { try FixedPointMultiplier(scale: .infinity) }
        #expect(throws: QuantizationError.self) { try FixedPointMultiplier(multiplier: 5, shift: 32) }
        #expect(throws: QuantizationError.self) { try FixedPointMultiplier(multiplier: Int32.min, shift: 0) }
    }

    @Test func roundsHalfUpTowardsPositiveInfinity() throws {
        let half = try FixedPointMultiplier(multiplier: 1 << 30, shift: 0)   // 0.5
        #expect(half.scaled(10) == 5)     // 5.0
        #expect(half.scaled(3) == 2)      // 1.5 -> 2
        #expect(half.scaled(-3) == -1)    // -1.5 -> -1 (half up, not away from zero)
        #expect(half.scaled(-5) == -2)    // -2.5 -> -2
        #expect(half.scaled(-4) == -2)    // -2.0
        #expect(half.scaled(0) == 0)
        // N0 = -1: a total shift of 30 and scale 1 returns the accumulator unchanged.
        let one = try FixedPointMultiplier(multiplier: 1 << 30, shift: -1)
        #expect(one.scaled(7) == 7 && one.scaled(-7) == -7)
    }

    @Test func usesTheExactMultiplierNotTheRealScale() throws {
        // M0 = 1_717_986_918, N0 = 3 is 0.0999999999767: 25 * it = 2.4999999994 -> 2 (not 3).
        let tenth = try FixedPointMultiplier(multiplier: 1_717_986_918, shift: 3)
        #expect(tenth.scaled(25) == 2)
        #expect(tenth.scaled(16) == 2)    // 1.6 -> 2
        #expect(tenth.scaled(15) == 1)    // 1.4999999997 -> 1
        #expect(tenth.scaled(-16) == -2)  // -1.6 -> -2
    }

    @Test func extremeProductsDoNotOverflow() throws {
        // Int32.min * (2^31 - 1) + 2^61 = -2^61 + 2^31; >> 62 = floor(-0.4999...) = -1.
        let m = try FixedPointMultiplier(multiplier: Int32.max, shift: 31)
        #expect(m.scaled(Int32.min) == -1)
        // Int32.max * Int32.max >> 1 (N0 = -30): (2^62 - 2^32 + 1 + 1) / 2 = 2^61 - 2^31 + 1.
        let big = try FixedPointMultiplier(multiplier: Int32.max, shift: -30)
        #expect(big.scaled(Int32.max) == (Int64(1) << 61) - (Int64(1) << 31) + 1)
    }

    @Test func requantizeAddsTheZeroPointAndClamps() throws {
        let half = try FixedPointMultiplier(multiplier: 1 << 30, shift: 0)
        #expect(RequantizationParameters.requantize(600, multiplier: half, outputZeroPoint: 10, outputBits: .eight) == 255)
        #expect(RequantizationParameters.requantize(-100, multiplier: half, outputZeroPoint: 10, outputBits: .eight) == 0)
        #expect(RequantizationParameters.requantize(20, multiplier: half, outputZeroPoint: 3, outputBits: .four) == 13)
        #expect(RequantizationParameters.requantize(30, multiplier: half, outputZeroPoint: 3, outputBits: .four) == 15)
        #expect(RequantizationParameters.requantize(5, multiplier: half, outputZeroPoint: 1, outputBits: .two) == 3)
    }
}
