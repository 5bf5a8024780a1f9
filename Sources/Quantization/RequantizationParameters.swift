/// The integer parameters one layer needs to turn its accumulators into output activations.
///
/// Integer form of output channel `c` (docs/design.md#quantization-arithmetic):
///
///     acc = bias[c] + sum_k (w_k - zw[c]) * (x_k - zx)
///     y   = clamp(M[c].scaled(acc) + zy, 0, 2^outputBits - 1)
///
/// `rounding` picks how `M[c]` scales the accumulator (`RoundingRule`): MixQ's single rounding
/// (the default) or TFLite's; `outputRange` narrows the clamp (a file's fused RELU/RELU6;
/// default the full unsigned range, so the clamp above).
///
/// What each flavour stores (`RequantizationFlavour`):
/// - PL+FB: one multiplier, one weight zero-point, `bias[c]` per channel.
/// - PL+ICN: `M0[c]`, `N0[c]` and `bias[c]` per channel, one weight zero-point.
/// - PC+ICN: `M0[c]`, `N0[c]`, `bias[c]` and the weight zero-point `zw[c]` per channel.
public struct RequantizationParameters: Equatable, Sendable {
    /// How an accumulator is scaled by a `FixedPointMultiplier`.
    public enum RoundingRule: String, Equatable, Hashable, Sendable, Codable {
        /// MixQ's single rounding, half up (`FixedPointMultiplier.scaled`, docs/design.md#rounding-rule).
        case halfUp
        /// TFLite's: saturating rounding doubling high multiply, then rounding divide by a power of
        /// two, with a left shift first for scales of 1 or more (`FixedPointMultiplier.tfliteScaled`,
        /// docs/design.md#tflite-arithmetic). Multipliers should come from `FixedPointMultiplier.tflite(scale:)`.
        case tflite
        /// LiteRT's reference FULLY_CONNECTED: `round(Double(acc) * realScales[c])`, rounding half away
        /// from zero, in IEEE double (docs/design.md#tflite-arithmetic).
        case tfliteFloatingPoint
    }

    public let flavour: RequantizationFlavour
    /// Int32 bias per output channel, in accumulator units.
    public let bias: [Int32]
    /// One multiplier (PL+FB) or one per output channel (ICN flavours).
    public let multipliers: [FixedPointMultiplier]
    /// One weight zero-point (PL flavours) or one per output channel (PC+ICN).
    public let weightZeroPoints: [Int]
    /// Zero-point of the input activations.
    public let inputZeroPoint: Int
    /// Zero-point of the output activations.
    public let outputZeroPoint: Int
    /// Bits of the weights.
    public let weightBits: BitWidth
    /// Bits of the input activations.
    public let inputBits: BitWidth
    /// Bits of the output activations.
    public let outputBits: BitWidth
    /// How the multiplier rounds (`.halfUp` unless the layer comes from a TFLite file).
    public let rounding: RoundingRule
    /// The output clamp in unsigned codes: `0...2^outputBits - 1` unless a fused activation narrows it.
    public let outputRange: ClosedRange<Int>
    /// The effective scales in double, one per multiplier, for `.tfliteFloatingPoint` (empty otherwise).
    public let realScales: [Double]

    /// Creates and validates parameters: array lengths must match the flavour, zero-points
    /// must fit their bit widths, `outputRange` (default: the whole unsigned range of `outputBits`)
    /// must lie inside that range.
    /// - Throws: `QuantizationError` naming the array, zero-point or range that does not fit.
    public init(flavour: RequantizationFlavour, bias: [Int32], multipliers: [FixedPointMultiplier],
                weightZeroPoints: [Int], inputZeroPoint: Int, outputZeroPoint: Int,
                inputBits: BitWidth, weightBits: BitWidth, outputBits: BitWidth,
                rounding: RoundingRule = .halfUp, outputRange: ClosedRange<Int>? = nil,
                realScales: [Double] = []) throws {
        let n = bias.count
        guard n > 0 else { throw QuantizationError.invalidGeometry("a layer needs at least one output channel") }
        let perChannelMultiplier = flavour != .perLayerFolded
        let perChannelZero = flavour == .perChannelICN
        let expectedMultipliers = perChannelMultiplier ? n : 1
        guard multipliers.count == expectedMultipliers else {
            throw QuantizationError.sizeMismatch(what: "\(flavour) multipliers", expected: expectedMultipliers,
                                                 actual: multipliers.count)
        }
        let expectedZeros = perChannelZero ? n : 1
        guard weightZeroPoints.count == expectedZeros else {
            throw QuantizationError.sizeMismatch(what: "\(flavour) weight zero-points", expected: expectedZeros,
                                                 actual: weightZeroPoints.count)
        }
        for z in weightZeroPoints where !(0...weightBits.maxUnsigned).contains(z) {
            throw QuantizationError.zeroPointOutOfRange(z, bits: weightBits)
        }
        guard (0...inputBits.maxUnsigned).contains(inputZeroPoint) else {
            throw QuantizationError.zeroPointOutOfRange(inputZeroPoint, bits: inputBits)
        }
        guard (0...outputBits.maxUnsigned).contains(outputZeroPoint) else {
            throw QuantizationError.zeroPointOutOfRange(outputZeroPoint, bits: outputBits)
        }
        let range = outputRange ?? 0...outputBits.maxUnsigned
        guard range.lowerBound >= 0, range.upperBound <= outputBits.maxUnsigned else {
            throw QuantizationError.valueOutOfRange(range.lowerBound < 0 ? range.lowerBound : range.upperBound,
                                                    bits: outputBits)
        }
        if rounding == .tfliteFloatingPoint {
            guard realScales.count == multipliers.count else {
                throw QuantizationError.sizeMismatch(what: "real scales", expected: multipliers.count, actual: realScales.count)
            }
            for s in realScales where !(s.isFinite && s >= 0) { throw QuantizationError.scaleOutOfRange(s) }
        }
        self.rounding = rounding
        self.outputRange = range
        self.realScales = rounding == .tfliteFloatingPoint ? realScales : []
        self.flavour = flavour
        self.bias = bias
        self.multipliers = multipliers
        self.weightZeroPoints = weightZeroPoints
        self.inputZeroPoint = inputZeroPoint
        self.outputZeroPoint = outputZeroPoint
        self.inputBits = inputBits
        self.weightBits = weightBits
        self.outputBits = outputBits
    }

    /// Number of output channels.
    public var outputChannels: Int { bias.count }

    /// The multiplier that applies to output channel `c`.
    public func multiplier(channel c: Int) -> FixedPointMultiplier {
        multipliers.count == 1 ? multipliers[0] : multipliers[c]
    }

    /// The weight zero-point that applies to output channel `c`.
    public func weightZeroPoint(channel c: Int) -> Int {
        weightZeroPoints.count == 1 ? weightZeroPoints[0] : weightZeroPoints[c]
    }

    /// Output activation of channel `c` for a finished accumulator (bias already included).
    public func output(accumulator: Int32, channel c: Int) -> Int {
        let m = multiplier(channel: c)
        switch rounding {
        case .halfUp:
            let r = Self.requantize(accumulator, multiplier: m, outputZeroPoint: outputZeroPoint, outputBits: outputBits)
            return min(max(r, outputRange.lowerBound), outputRange.upperBound)
        case .tflite:
            // int32 as TFLite adds the output zero point (a wrap needs an accumulator beyond any layer).
            let r = Int(m.tfliteScaled(accumulator) &+ Int32(outputZeroPoint))
            return min(max(r, outputRange.lowerBound), outputRange.upperBound)
        case .tfliteFloatingPoint:
            let scale = realScales.count == 1 ? realScales[0] : realScales[c]
            let product = (Double(accumulator) * scale).rounded(.toNearestOrAwayFromZero)
            // Clamped to int32 before the conversion (LiteRT's cast is undefined beyond it).
            let r = Int32(max(min(product, Double(Int32.max)), Double(Int32.min))) &+ Int32(outputZeroPoint)
            return min(max(Int(r), outputRange.lowerBound), outputRange.upperBound)
        }
    }

    /// `clamp(M.scaled(acc) + zy, 0, 2^bits - 1)`, computed in 64-bit so it never overflows.
    public static func requantize(_ accumulator: Int32, multiplier: FixedPointMultiplier, outputZeroPoint: Int,
                                  outputBits: BitWidth) -> Int {
        let r = multiplier.scaled(accumulator) + Int64(outputZeroPoint)
        return Int(min(max(r, 0), Int64(outputBits.maxUnsigned)))
    }
}
