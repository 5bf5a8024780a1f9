import Testing
@testable import Quantization

/// A file's truncating average (QONNX Trunc after an average pool) in MixQ's pooling arithmetic:
/// `floor` or `ceil` of `(sum + offset) / 2^k`, worked by hand.
@Suite struct TruncatingPoolTests {
    /// One channel of `pixels` values through `ReferenceLayers.globalAveragePool`.
    func pooled(_ values: [Int], _ parameters: PoolingParameters) throws -> Int {
        try ReferenceLayers.globalAveragePool(input: values, height: 1, width: values.count, channels: 1, parameters: parameters)[0]
    }

    @Test func floorAndCeilingOfTheSumOverAPowerOfTwo() throws {
        let floor = try PoolingParameters.truncating(shift: 2, rounding: .floor, offset: 0, inputZeroPoint: 0, outputZeroPoint: 0,
                                                     inputBits: .four, outputBits: .four)
        let ceil = try PoolingParameters.truncating(shift: 2, rounding: .ceil, offset: 0, inputZeroPoint: 0, outputZeroPoint: 0,
                                                    inputBits: .four, outputBits: .four)
        // 1 + 2 + 3 + 1 = 7: 7 / 4 = 1.75 -> floor 1, ceil 2; 2 + 2 + 2 + 2 = 8: exactly 2 either way;
        // 15 * 4 = 60: 15; 0: 0. Half-up rounding would give 2 for 7 and 6 / 4 = 1.5.
        #expect(try pooled([1, 2, 3, 1], floor) == 1 && pooled([1, 2, 3, 1], ceil) == 2)
        #expect(try pooled([2, 2, 2, 2], floor) == 2 && pooled([2, 2, 2, 2], ceil) == 2)
        #expect(try pooled([1, 2, 2, 1], floor) == 1 && pooled([1, 2, 2, 1], ceil) == 2)
        #expect(try pooled([15, 15, 15, 15], floor) == 15 && pooled([0, 0, 0, 0], ceil) == 0)
        // The multiplier is 2^-2 exactly and the bias -2^1 turns half up into the floor.
        #expect(floor.multiplier.scale == 0.25 && floor.bias == -2 && ceil.bias == 1)
    }

    @Test func offsetsZeroPointsAndTheClamp() throws {
        // Input zero point 8 (signed 4-bit codes): sum (x - 8) of [4, 5, 6, 7] = -10; offset 0;
        // floor(-10 / 4) = -3, + output zero point 8 = 5.
        let signed = try PoolingParameters.truncating(shift: 2, rounding: .floor, offset: 0, inputZeroPoint: 8, outputZeroPoint: 8,
                                                      inputBits: .four, outputBits: .four)
        #expect(try pooled([4, 5, 6, 7], signed) == 5)
        // Shift 0 divides by one: the sum itself, clamped to 4 bits (7 + 9 = 16 -> 15).
        let whole = try PoolingParameters.truncating(shift: 0, rounding: .floor, offset: 0, inputZeroPoint: 0, outputZeroPoint: 0,
                                                     inputBits: .four, outputBits: .four)
        #expect(try pooled([7, 9], whole) == 15 && pooled([3, 4], whole) == 7)
        #expect(throws: QuantizationError.self) {
            try PoolingParameters.truncating(shift: 31, rounding: .floor, offset: 0, inputZeroPoint: 0, outputZeroPoint: 0,
                                             inputBits: .four, outputBits: .four)
        }
    }
}
