import Quantization

/// How a network is quantized: which tensors may be cut below 8 bits and which
/// requantization flavour each layer uses (docs/design.md#planner).
public enum QuantizationScheme: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// Every tensor 8-bit, PL+FB everywhere, no cuts: the planner only reports whether it fits.
    case int8
    /// Mixed precision with per-layer weight quantization: PL+FB where a layer's weights and
    /// output are both 8-bit, PL+ICN elsewhere.
    case mixpl
    /// Mixed precision with per-channel weight quantization: PC+ICN everywhere.
    case mixpc

    /// Parses `int8`, `mixpl` or `mixpc`.
    /// - Throws: `SchemeNameError` listing the valid names.
    public init(name: String) throws(SchemeNameError) {
        guard let scheme = QuantizationScheme(rawValue: name) else {
            throw SchemeNameError(name: name)
        }
        self = scheme
    }

    /// Whether the planner may cut tensors below 8 bits.
    public var allowsCuts: Bool { self != .int8 }

    /// The requantization flavour of a layer with the given weight and output bit-widths.
    public func flavour(weightBits: BitWidth, outputBits: BitWidth) -> RequantizationFlavour {
        switch self {
        case .int8: return .perLayerFolded
        case .mixpl: return weightBits == .eight && outputBits == .eight ? .perLayerFolded : .perLayerICN
        case .mixpc: return .perChannelICN
        }
    }

    public var description: String { rawValue }
}

/// A scheme name that is not `int8`, `mixpl` or `mixpc`.
public struct SchemeNameError: Error, Sendable, Equatable, CustomStringConvertible {
    public var name: String

    public var description: String {
        "unknown scheme '\(name)'; valid schemes: "
            + QuantizationScheme.allCases.map(\.rawValue).joined(separator: ", ")
    }
}
