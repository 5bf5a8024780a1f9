/// The precision of one quantized tensor: 8, 4 or 2 bits per element.
///
/// Sub-byte tensors are stored HWC with channels innermost, packed LSB-first
/// (docs/design.md#packing): 4-bit element `i` lives in byte `i / 2` (even `i` in the
/// low nibble), 2-bit element `i` in byte `i / 4` at bit `2 * (i % 4)`.
public enum BitWidth: Int, CaseIterable, Comparable, Sendable, Codable, CustomStringConvertible {
    case two = 2
    case four = 4
    case eight = 8

    /// Number of bits per element.
    public var bits: Int { rawValue }

    /// How many elements share one byte.
    public var elementsPerByte: Int { 8 / rawValue }

    /// Largest unsigned value an element can hold (`2^bits - 1`).
    public var maxUnsigned: Int { (1 << rawValue) - 1 }

    /// Bytes needed to store `count` elements, packed, rounding up to whole bytes; computed
    /// without an intermediate `count * bits`, so it cannot overflow for any `count >= 0`.
    public func bytes(forElements count: Int) -> Int {
        count / 8 * rawValue + (count % 8 * rawValue + 7) / 8
    }

    /// The width after one cut of the planner (8 -> 4 -> 2), or `nil` at the 2-bit floor.
    public var halved: BitWidth? {
        switch self {
        case .eight: return .four
        case .four: return .two
        case .two: return nil
        }
    }

    public var description: String { "\(rawValue)-bit" }

    public static func < (lhs: BitWidth, rhs: BitWidth) -> Bool { lhs.rawValue < rhs.rawValue }
}
