/// Why a model file cannot be brought into MixQ. Each message names the file's node (or
/// tensor) and says what MixQ supports instead.
public enum ImportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file cannot be read.
    case unreadable(path: String, reason: String)
    /// The bytes are not an ONNX model (empty, truncated, or not protobuf).
    case notONNX(path: String, reason: String)
    /// The bytes are not a readable TFLite model (the reader's message says where and why).
    case notTFLite(path: String, reason: String)
    /// The graph has no input, several, or an input whose shape MixQ cannot use.
    case badInput(String)
    /// A node whose operator MixQ does not know, or rejects by name.
    case unsupportedOperator(node: String, op: String, supported: String)
    /// A node MixQ knows, used in a way it does not support (attribute values, shapes, bits).
    case unsupportedUse(node: String, op: String, reason: String)
    /// A tensor the graph needs and does not define, or defines in a form MixQ cannot read.
    case badTensor(name: String, reason: String)
    /// The graph's layers do not form a network MixQ can run (shapes, names, nothing to plan).
    case badNetwork(String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "cannot read the model file \(path): \(reason)"
        case .notONNX(let path, let reason):
            return "\(path) is not an ONNX model: \(reason)"
        case .notTFLite(let path, let reason):
            return "\(path): \(reason)"
        case .badInput(let reason):
            return "the graph's input: \(reason)"
        case .unsupportedOperator(let node, let op, let supported):
            return "node '\(node)': operator \(op) is not supported; MixQ imports \(supported)"
        case .unsupportedUse(let node, let op, let reason):
            return "node '\(node)' (\(op)): \(reason)"
        case .badTensor(let name, let reason):
            return "tensor '\(name)': \(reason)"
        case .badNetwork(let reason):
            return "the imported network is not valid: \(reason)"
        }
    }
}
