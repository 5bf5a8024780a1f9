/// Why bytes cannot be read as a TFLite model, or why a value asked of a model cannot be given.
///
/// Every case names where the reader was (`path`, e.g. `subgraphs[0].tensors[12].quantization.scale`)
/// and, where it applies, the byte offset in the file, so that a user can find the damage with a
/// hex dump. The reader throws these and nothing else; it never traps on any input.
public enum TFLiteError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Fewer bytes than a FlatBuffer header (root offset and file identifier) needs.
    case tooSmall(bytes: Int)
    /// Bytes 4..<8 are not the TFLite file identifier "TFL3".
    case notTFLite(identifier: [UInt8], looksLikeONNX: Bool)
    /// An object (`length` bytes at `offset`) runs past the end of the file.
    case outOfBounds(path: String, offset: Int, length: Int, fileSize: Int)
    /// A vector's element count times its element size exceeds the bytes after its header.
    case vectorTooLong(path: String, offset: Int, count: UInt32, elementSize: Int, bytesAvailable: Int)
    /// A table's vtable is malformed (too small, odd size, or a field outside the table).
    case badVTable(path: String, tableOffset: Int, vtableOffset: Int, reason: String)
    /// A value that is readable but not allowed: an index out of range, an unknown enum value,
    /// a negative dimension, a missing required field.
    case invalidValue(path: String, offset: Int, reason: String)
    /// The file asks the reader to decode far more than its size justifies (objects shared by
    /// many references), which only a hostile file does.
    case decodeBudgetExceeded(path: String, fileSize: Int, budget: Int)
    /// A tensor's constant data does not match what its type and shape ask for.
    case tensorData(tensor: String, reason: String)

    public var description: String {
        switch self {
        case let .tooSmall(bytes):
            return "not a TFLite model: only \(bytes) bytes (a FlatBuffer header with the \"TFL3\" identifier is 8)"
        case let .notTFLite(identifier, looksLikeONNX):
            let shown = identifier.map { (0x20..<0x7F).contains($0) ? String(UnicodeScalar($0)) : "\\x" + hex($0) }.joined()
            let hint = looksLikeONNX
                ? "; its bytes start like an ONNX protobuf (field 1, ir_version) - pass it as an ONNX model"
                : "; convert the network with tf.lite.TFLiteConverter"
            return "not a TFLite model: bytes 4..<8 are \"\(shown)\", not the file identifier \"TFL3\"\(hint)"
        case let .outOfBounds(path, offset, length, fileSize):
            return "TFLite model is truncated or corrupt: \(path) at byte \(offset) (\(length) bytes) runs past the end of the \(fileSize)-byte file"
        case let .vectorTooLong(path, offset, count, elementSize, bytesAvailable):
            return "TFLite model is corrupt: \(path) at byte \(offset) claims \(count) elements of \(elementSize) bytes, but only \(bytesAvailable) bytes follow in the file"
        case let .badVTable(path, tableOffset, vtableOffset, reason):
            return "TFLite model is corrupt: table \(path) at byte \(tableOffset) has a bad vtable at byte \(vtableOffset): \(reason)"
        case let .invalidValue(path, offset, reason):
            return "TFLite model is invalid: \(path) at byte \(offset): \(reason)"
        case let .decodeBudgetExceeded(path, fileSize, budget):
            return "TFLite model is corrupt: decoding \(path) needs more than \(budget) bytes of values for a \(fileSize)-byte file (objects referenced many times over)"
        case let .tensorData(tensor, reason):
            return "TFLite tensor '\(tensor)': \(reason)"
        }
    }
}

private func hex(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
}
