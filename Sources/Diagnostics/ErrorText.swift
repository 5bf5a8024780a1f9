/// Text from a file (an ELF symbol or section name, a model's tensor name, an array header)
/// made safe to print on a terminal line: control characters cannot move the cursor, clear the
/// line or forge another line, and an error quoting a huge value stays one readable line.
public enum ErrorText {
    /// The longest quotation `quoted` keeps, in characters.
    public static let quotationLimit = 200

    /// `text` with every non-printable character (C0 and C1 controls, DEL, line and paragraph
    /// separators) written as a `\n`, `\t`, `\r` or `\u{...}` escape, and backslashes doubled, so
    /// the escaped form reads back unambiguously.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case "\r": result += "\\r"
            case "\\": result += "\\\\"
            case _ where needsEscape(scalar):
                result += "\\u{" + String(scalar.value, radix: 16) + "}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// `escaped(text)`, cut to `limit` characters with a note of how much was left out.
    public static func quoted(_ text: String, limit: Int = quotationLimit) -> String {
        let safe = escaped(text)
        guard safe.count > limit else { return safe }
        return String(safe.prefix(limit)) + "... (\(safe.count - limit) more characters)"
    }

    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        return value < 0x20 || (0x7F...0x9F).contains(value) || value == 0x2028 || value == 0x2029 || value == 0x5C
    }
}
