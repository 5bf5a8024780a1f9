/// The two memory budgets of docs/design.md#planner: M_RO (FLASH: weights plus quantization
/// parameters) and M_RW (RAM: for every layer, input plus output activation bytes).
public struct MemoryBudget: Sendable, Hashable, Codable, CustomStringConvertible {
    /// M_RO in bytes.
    public let flash: Int
    /// M_RW in bytes.
    public let ram: Int

    /// The paper's setting for the STM32H743: 2,048,000 B FLASH and 512,000 B RAM
    /// (Rusci, Capotondi, Benini, MLSys 2020, section 5; docs/design.md#planner).
    public static let stm32h743 = MemoryBudget(validFlash: 2_048_000, ram: 512_000)

    /// Budgets in bytes; both must be positive.
    /// - Throws: `BudgetError.notPositive` for zero or negative budgets.
    public init(flash: Int, ram: Int) throws(BudgetError) {
        guard flash > 0 else { throw .notPositive(what: "FLASH budget", text: String(flash)) }
        guard ram > 0 else { throw .notPositive(what: "RAM budget", text: String(ram)) }
        self.init(validFlash: flash, ram: ram)
    }

    /// Budgets parsed from text such as `"2048000"`, `"2M"`, `"512k"` or `"512Ki"`
    /// (see `MemoryBudget.parseBytes(_:what:)`).
    public init(flash: String, ram: String) throws(BudgetError) {
        try self.init(validFlash: MemoryBudget.parseBytes(flash, what: "FLASH budget"),
                      ram: MemoryBudget.parseBytes(ram, what: "RAM budget"))
    }

    private init(validFlash flash: Int, ram: Int) {
        self.flash = flash
        self.ram = ram
    }

    public var description: String { "FLASH \(flash) B, RAM \(ram) B" }

    /// The suffixes `parseBytes` accepts and their multipliers. Decimal SI prefixes are
    /// lower-case `k` and upper-case `M` as SI writes them; binary prefixes are IEC's `Ki` and
    /// `Mi`. Nothing else is accepted, so `m` (milli) or `K` is an error rather than a guess.
    public static let suffixes: [(suffix: String, multiplier: Int)] = [
        ("Ki", 1024), ("Mi", 1_048_576), ("k", 1000), ("M", 1_000_000),
    ]

    /// Parses a byte count: a positive decimal integer, optionally followed by one suffix
    /// (`k` = 1000, `M` = 1,000,000, `Ki` = 1024, `Mi` = 1,048,576), optionally followed by
    /// `B`. Examples: `2048000`, `2048000B`, `2048k`, `2M`, `512Ki`, `2MiB`.
    /// Surrounding whitespace is ignored; thousands separators are not accepted.
    /// - Parameter what: names the value in error messages, e.g. `"FLASH budget"`.
    /// - Throws: `BudgetError` for empty text, garbage, a missing number, zero, negative
    ///   values or values too large for `Int`.
    public static func parseBytes(_ text: String, what: String) throws(BudgetError) -> Int {
        var body = Substring(text.trimmingCharacters(in: " \t\n"))
        guard !body.isEmpty else { throw .empty(what: what) }
        if body.hasPrefix("-") { throw .notPositive(what: what, text: text) }
        if body.hasSuffix("B") { body = body.dropLast() }
        var multiplier = 1
        for (suffix, value) in suffixes where body.hasSuffix(suffix) {
            multiplier = value
            body = body.dropLast(suffix.count)
            break
        }
        guard !body.isEmpty, body.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw .malformed(what: what, text: text)
        }
        guard let number = Int(body) else { throw .tooLarge(what: what, text: text) }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { throw .tooLarge(what: what, text: text) }
        guard bytes > 0 else { throw .notPositive(what: what, text: text) }
        return bytes
    }
}

private extension String {
    func trimmingCharacters(in set: String) -> Substring {
        let isTrimmed: (Character) -> Bool = { set.contains($0) }
        guard let start = firstIndex(where: { !isTrimmed($0) }),
              let end = lastIndex(where: { !isTrimmed($0) }) else { return "" }
        return self[start...end]
    }
}

/// A budget the user gave that cannot be used.
public enum BudgetError: Error, Sendable, Equatable, CustomStringConvertible {
    case empty(what: String)
    case malformed(what: String, text: String)
    case notPositive(what: String, text: String)
    case tooLarge(what: String, text: String)

    public var description: String {
        let format = "write bytes as a positive integer with an optional suffix k (1000), M (1,000,000), "
            + "Ki (1024) or Mi (1,048,576), e.g. 2048000, 2048k, 512Ki"
        switch self {
        case .empty(let what):
            return "\(what) is empty; \(format)"
        case .malformed(let what, let text):
            return "\(what) '\(text)' is not a byte count; \(format)"
        case .notPositive(let what, let text):
            return "\(what) '\(text)' must be greater than zero"
        case .tooLarge(let what, let text):
            return "\(what) '\(text)' is too large"
        }
    }
}
