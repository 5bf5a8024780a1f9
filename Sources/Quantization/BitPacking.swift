/// Packing of sub-byte tensors, exactly as docs/design.md#packing and the C kernels
/// (firmware/kernels/mixq_common.h, "Activation packing") define it.
///
/// Elements are stored in order (HWC, channels innermost), LSB-first: element `i` of a
/// `b`-bit tensor occupies bits `(i * b) % 8 ..< (i * b) % 8 + b` of byte `(i * b) / 8`.
/// So a 4-bit element `i` lives in byte `i / 2` (even `i` in the low nibble) and a 2-bit
/// element `i` in byte `i / 4` at bit `2 * (i % 4)`. Unused bits of the last byte are zero.
public enum BitPacking {
    /// Packs unsigned element values into bytes.
    /// - Throws: `QuantizationError.valueOutOfRange` when a value does not fit `bits`.
    public static func pack(_ values: [Int], bits: BitWidth) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: bits.bytes(forElements: values.count))
        for (i, v) in values.enumerated() {
            guard (0...bits.maxUnsigned).contains(v) else { throw QuantizationError.valueOutOfRange(v, bits: bits) }
            let bit = i * bits.bits
            bytes[bit / 8] |= UInt8(v << (bit % 8))
        }
        return bytes
    }

    /// Unpacks `count` elements.
    /// - Throws: `QuantizationError.sizeMismatch` when `bytes` is shorter than `count` elements need.
    public static func unpack(_ bytes: [UInt8], count: Int, bits: BitWidth) throws -> [Int] {
        let needed = bits.bytes(forElements: count)
        guard bytes.count >= needed else {
            throw QuantizationError.sizeMismatch(what: "packed \(bits) bytes", expected: needed, actual: bytes.count)
        }
        return (0..<count).map { i in
            let bit = i * bits.bits
            return Int(bytes[bit / 8] >> UInt8(bit % 8)) & bits.maxUnsigned
        }
    }
}
