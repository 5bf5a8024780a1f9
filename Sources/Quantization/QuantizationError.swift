/// Why a quantization step rejected its input. Every case names what to change.
public enum QuantizationError: Error, Equatable, CustomStringConvertible {
    /// A real scale that no (M0, N0) pair can represent.
    case scaleOutOfRange(Double)
    /// A value that must be finite was NaN or infinite.
    case notFinite(what: String)
    /// A zero-point outside the unsigned range of its bit width.
    case zeroPointOutOfRange(Int, bits: BitWidth)
    /// An element value outside the unsigned range of its bit width.
    case valueOutOfRange(Int, bits: BitWidth)
    /// Two sizes that must agree do not.
    case sizeMismatch(what: String, expected: Int, actual: Int)
    /// A layer geometry that is empty or inconsistent.
    case invalidGeometry(String)
    /// Batch-norm gamma is zero, so ICN cannot express the channel.
    case zeroGamma(channel: Int)

    public var description: String {
        switch self {
        case .scaleOutOfRange(let s):
            return "requantization scale \(s) is outside [0, 2^30); check the input, weight and output scales"
        case .notFinite(let what):
            return "\(what) is not a finite number; check the float model for NaN or infinity"
        case .zeroPointOutOfRange(let z, let bits):
            return "zero-point \(z) does not fit \(bits) unsigned (0...\(bits.maxUnsigned))"
        case .valueOutOfRange(let v, let bits):
            return "value \(v) does not fit \(bits) unsigned (0...\(bits.maxUnsigned))"
        case .sizeMismatch(let what, let expected, let actual):
            return "\(what): expected \(expected) elements, got \(actual)"
        case .invalidGeometry(let why):
            return "invalid layer geometry: \(why)"
        case .zeroGamma(let c):
            return "batch-norm gamma of channel \(c) is zero: ICN cannot represent a constant channel; use PL+FB for this layer"
        }
    }
}
