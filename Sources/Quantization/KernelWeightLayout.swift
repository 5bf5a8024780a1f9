/// The weight layouts the C kernels read (firmware/kernels/mixq_common.h, "Weight layout"):
/// the one contract between this packer and the kernels.
///
/// # Matrix weights (convolution, pointwise, fully connected)
///
/// A layer with `rows` output channels and `columns = kernelHeight * kernelWidth * inputChannels`
/// weights per channel (ordered `ky, kx, ci`, the im2col order). Each row is a sequence of
/// little-endian 32-bit words; a word holds `e * 4` weights where `e = 8 / bits` (4, 8 or 16
/// weights). Within a word, weight `k` of the word's block sits at slot `p = (k % 4) * e + k / 4`,
/// slots packed LSB-first (`bits` wide). The last word of a row is zero-padded, so every row is
/// `R = rowBytes(columns:bits:)` long. Rows are stored in pairs `(0, 1), (2, 3), ...`: the pair
/// starting at row `c` occupies bytes `c * R ..< c * R + 2 * R` with the two rows' words
/// alternating (row `c` word 0, row `c + 1` word 0, row `c` word 1, ...); an odd last row
/// follows alone, its words in order. The kernels fetch a word of both rows with one LDRD.
///
/// Why this order: the kernels unpack a word with `(word >> (j * bits)) & mask` (mask = the low
/// `bits` of every byte) for `j` in `0..<e`, then `UXTB16` and `UXTB16 ROR 8`; with the slot rule
/// above that yields the 16-bit pairs `(w[4j], w[4j+2])` and `(w[4j+1], w[4j+3])` for any `bits`,
/// matching the input the kernel expands to 16 bits in the order `x0, x2, x1, x3` per group of 4.
/// For 8-bit weights the slot rule is the identity (plain byte order).
///
/// # Depthwise weights
///
/// `kernelHeight * kernelWidth * channels` weights in HWC order (`ky, kx, c`), packed exactly
/// like activations (`BitPacking`), without padding.
public enum KernelWeightLayout {
    /// Weights per 32-bit word at `bits`.
    public static func weightsPerWord(_ bits: BitWidth) -> Int { 32 / bits.bits }

    /// Bytes of one packed matrix row: `columns` rounded up to whole words.
    public static func rowBytes(columns: Int, bits: BitWidth) -> Int {
        let perWord = weightsPerWord(bits)
        return (columns + perWord - 1) / perWord * 4
    }

    /// The slot (in `0..<weightsPerWord`) of weight `k` (in `0..<weightsPerWord`) inside its word.
    public static func slot(ofWeight k: Int, bits: BitWidth) -> Int {
        (k % 4) * bits.elementsPerByte + k / 4
    }

    /// Packs matrix weights (row-major `[rows][columns]`, unsigned values) for the convolution,
    /// pointwise and fully connected kernels.
    /// - Throws: `QuantizationError` when the count is not `rows * columns` or a value does not fit `bits`.
    public static func packMatrix(_ weights: [Int], rows: Int, columns: Int, bits: BitWidth) throws -> [UInt8] {
        guard rows > 0, columns > 0 else {
            throw QuantizationError.invalidGeometry("a weight matrix needs at least one row and one column")
        }
        guard weights.count == rows * columns else {
            throw QuantizationError.sizeMismatch(what: "matrix weights (\(rows) x \(columns))", expected: rows * columns,
                                                 actual: weights.count)
        }
        let perWord = weightsPerWord(bits)
        let stride = rowBytes(columns: columns, bits: bits)
        var bytes = [UInt8](repeating: 0, count: rows * stride)
        for r in 0..<rows {
            let paired = r | 1 < rows   // the row has a partner in its pair
            let pairStart = (r & ~1) * stride
            for k in 0..<columns {
                let v = weights[r * columns + k]
                guard (0...bits.maxUnsigned).contains(v) else { throw QuantizationError.valueOutOfRange(v, bits: bits) }
                let word = k / perWord
                let wordStart = pairStart + (paired ? (2 * word + (r & 1)) * 4 : word * 4)
                let bit = slot(ofWeight: k % perWord, bits: bits) * bits.bits
                bytes[wordStart + bit / 8] |= UInt8(v << (bit % 8))
            }
        }
        return bytes
    }

    /// Packs depthwise weights (`[ky][kx][c]`, unsigned values): the activation packing.
    public static func packDepthwise(_ weights: [Int], bits: BitWidth) throws -> [UInt8] {
        try BitPacking.pack(weights, bits: bits)
    }
}

/// The requantization parameters as the byte arrays the C kernels take
/// (`mixq_requant_params` in firmware/kernels/mixq_common.h), all little-endian.
public struct KernelParameterArrays: Equatable, Sendable {
    /// `int32_t bias[out_channels]`.
    public let bias: [UInt8]
    /// `int32_t multiplier[1 or out_channels]` (M0).
    public let multiplier: [UInt8]
    /// `int8_t shift[1 or out_channels]` (N0).
    public let shift: [UInt8]
    /// `uint8_t weight_zero[1 or out_channels]`.
    public let weightZero: [UInt8]

    /// Serialises validated parameters in the kernels' byte order.
    public init(_ p: RequantizationParameters) {
        bias = p.bias.flatMap { littleEndianBytes(UInt32(bitPattern: $0)) }
        multiplier = p.multipliers.flatMap { littleEndianBytes(UInt32(bitPattern: $0.multiplier)) }
        shift = p.multipliers.map { UInt8(bitPattern: Int8($0.shift)) }
        weightZero = p.weightZeroPoints.map { UInt8($0) }
    }
}

func littleEndianBytes(_ v: UInt32) -> [UInt8] {
    [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)]
}
