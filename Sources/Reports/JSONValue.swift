import Foundation

/// Any JSON value, kept as read so that fields MixQ does not interpret (a plan's `cuts`, the
/// run `conditions`) survive a read-write round trip unchanged.
public enum JSONValue: Codable, Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else if let value = try? container.decode([String: JSONValue].self) {
            self = .object(value)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value):
            // Whole numbers stay integers in the output (cycle counts, byte counts).
            if value.rounded() == value, abs(value) < 9.0e15 {
                try container.encode(Int64(value))
            } else {
                try container.encode(value)
            }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// A stable one-line rendering for reports: strings as they are, whole numbers without a
    /// fraction, arrays joined by spaces, objects as `key=value` pairs in key order.
    public var text: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "on" : "off"
        case .number(let value):
            if value.rounded() == value, abs(value) < 9.0e15 { return String(Int64(value)) }
            return String(value)
        case .string(let value): return value
        case .array(let values): return values.map(\.text).joined(separator: " ")
        case .object(let fields):
            return fields.keys.sorted().map { "\($0)=\(fields[$0]?.text ?? "")" }.joined(separator: ", ")
        }
    }

    /// The value as a number, when it is one.
    public var number: Double? {
        if case .number(let value) = self { return value }
        return nil
    }
}
