/// How a layer turns its int32 accumulator back into a narrow unsigned activation.
///
/// Names and parameter layouts follow Rusci, Capotondi, Benini, "Memory-Driven Mixed
/// Low Precision Quantization for Enabling Deep Network Inference on Microcontrollers"
/// (MLSys 2020), section 4, as summarised in docs/design.md#requantization-flavours.
public enum RequantizationFlavour: String, CaseIterable, Sendable, Codable, CustomStringConvertible {
    /// Per-layer weight range, batch-norm folded into weights and bias; one multiplier per layer.
    case perLayerFolded = "pl_fb"
    /// Per-layer weight zero-point; batch-norm kept as a per-channel integer multiplier and shift.
    case perLayerICN = "pl_icn"
    /// Per-channel weight zero-point and per-channel integer multiplier and shift.
    case perChannelICN = "pc_icn"

    /// Bytes of quantization parameters a layer with `outputChannels` output channels stores
    /// in FLASH beside its weights (docs/design.md#requantization-flavours):
    /// PL+FB `4n + 20`; PL+ICN `9n + 12` (M0 4n, N0 n, bias 4n, three zero-points);
    /// PC+ICN `10n + 8`.
    public func parameterBytes(outputChannels n: Int) -> Int {
        switch self {
        case .perLayerFolded: return 4 * n + 20
        case .perLayerICN: return 9 * n + 12
        case .perChannelICN: return 10 * n + 8
        }
    }

    /// The short name used in papers and tables ("PL+FB", "PL+ICN", "PC+ICN").
    public var description: String {
        switch self {
        case .perLayerFolded: return "PL+FB"
        case .perLayerICN: return "PL+ICN"
        case .perChannelICN: return "PC+ICN"
        }
    }
}
