/// How a result's bits were chosen, read from its scheme label: `mixq` names the accuracy-aware
/// search's results `<scheme>+sensitivity` (docs/results-format.md, "Strategies") and the paper's
/// rule's by the scheme alone.
enum ResultStrategy {
    static let sensitivitySuffix = "+sensitivity"

    /// `sensitivity` for `<scheme>+sensitivity`, `paper` otherwise.
    static func of(scheme: String) -> String { scheme.hasSuffix(sensitivitySuffix) ? "sensitivity" : "paper" }

    /// The scheme without the strategy's suffix (`mixpl+sensitivity` -> `mixpl`).
    static func baseScheme(_ scheme: String) -> String {
        scheme.hasSuffix(sensitivitySuffix) ? String(scheme.dropLast(sensitivitySuffix.count)) : scheme
    }
}

extension ReportRow {
    /// How the row's bits were chosen: `paper` (the paper's rule) or `sensitivity` (the search).
    public var strategy: String { ResultStrategy.of(scheme: scheme) }
}
