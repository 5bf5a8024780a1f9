import Quantization
import Testing

/// Activation packing (docs/design.md#packing) and the matrix-weight layout of the C kernels.
@Suite struct PackingTests {
    @Test func packsLSBFirst() throws {
        // 4-bit: element 0 in the low nibble of byte 0, element 2 in the low nibble of byte 1.
        #expect(try BitPacking.pack([1, 2, 3], bits: .four) == [0x21, 0x03])
        // 2-bit: 1 | 2 << 2 | 3 << 4 | 0 << 6 = 0x39, then 3.
        #expect(try BitPacking.pack([1, 2, 3, 0, 3], bits: .two) == [0x39, 0x03])
        #expect(try BitPacking.pack([7, 200], bits: .eight) == [7, 200])
        #expect(try BitPacking.unpack([0x39, 0x03], count: 5, bits: .two) == [1, 2, 3, 0, 3])
        #expect(try BitPacking.unpack([0x21, 0x03], count: 3, bits: .four) == [1, 2, 3])
    }

    @Test func rejectsValuesAndSizesThatDoNotFit() {
        #expect(throws: QuantizationError.valueOutOfRange(4, bits: .two)) { try BitPacking.pack([4], bits: .two) }
        #expect(throws: QuantizationError.self) { try BitPacking.unpack([0], count: 3, bits: .four) }
        #expect(throws: QuantizationError.self) { try KernelWeightLayout.packMatrix([1, 2], rows: 1, columns: 3, bits: .eight) }
    }

    @Test func matrixRowsAreWholeWords() {
        #expect(KernelWeightLayout.rowBytes(columns: 27, bits: .eight) == 28)
        #expect(KernelWeightLayout.rowBytes(columns: 27, bits: .four) == 16)   // 8 per word: 4 words
        #expect(KernelWeightLayout.rowBytes(columns: 27, bits: .two) == 8)     // 16 per word: 2 words
        #expect(KernelWeightLayout.rowBytes(columns: 8, bits: .two) == 4)
    }

    @Test func matrixWeightsFollowTheSlotRule() throws {
        // 8-bit: plain byte order, zero-padded to a word.
        #expect(try KernelWeightLayout.packMatrix([1, 2, 3], rows: 1, columns: 3, bits: .eight) == [1, 2, 3, 0])
        // 4-bit, weights 0...7: slot p holds weight (p % 2) * 4 + p / 2, so the nibbles are
        // 0, 4, 1, 5, 2, 6, 3, 7 -> bytes 0x40, 0x51, 0x62, 0x73.
        #expect(try KernelWeightLayout.packMatrix(Array(0..<8), rows: 1, columns: 8, bits: .four) == [0x40, 0x51, 0x62, 0x73])
        // 2-bit, weight k = k % 4: slot p holds weight (p % 4) * 4 + p / 4, whose value is p / 4,
        // so byte b holds four copies of b: 0x00, 0x55, 0xAA, 0xFF.
        let twoBit = (0..<16).map { $0 % 4 }
        #expect(try KernelWeightLayout.packMatrix(twoBit, rows: 1, columns: 16, bits: .two) == [0x00, 0x55, 0xAA, 0xFF])
        // Two rows of 5 two-bit weights: each row one word; weights 0..4 of row 0 go to slots
        // 0, 4, 8, 12, 1 -> byte 0 = w0 | w4 << 2, byte 1 = w1, byte 2 = w2, byte 3 = w3.
        let rows = try KernelWeightLayout.packMatrix([1, 2, 3, 1, 2, 3, 3, 3, 3, 3], rows: 2, columns: 5, bits: .two)
        #expect(rows == [1 | 2 << 2, 2, 3, 1, 3 | 3 << 2, 3, 3, 3])
    }

    @Test func matrixRowsArePairedWordByWord() throws {
        // Three 8-bit rows of 5 weights (2 words each): rows 0 and 1 alternate words, row 2 follows alone.
        //   row 0 word 0 = 1 2 3 4, row 1 word 0 = 6 7 8 9, row 0 word 1 = 5 0 0 0, row 1 word 1 = 10 0 0 0,
        //   row 2 = 11 12 13 14 | 15 0 0 0.
        let weights = Array(1...15)
        let packed = try KernelWeightLayout.packMatrix(weights, rows: 3, columns: 5, bits: .eight)
        #expect(packed == [1, 2, 3, 4, 6, 7, 8, 9, 5, 0, 0, 0, 10, 0, 0, 0, 11, 12, 13, 14, 15, 0, 0, 0])
    }
}
