// MixQ's own integer arithmetic for the graph steps beside the layers: the element-wise add of
// two tensors and windowed average/maximum pooling, at 8, 4 or 2 bits, with the single rounding
// rule of FixedPointMultiplier (docs/design.md#graph-steps-in-mixqs-arithmetic). The C kernels
// firmware/kernels/add.c and window_pool.c compute the same values bit for bit.

/// Integer parameters of MixQ's element-wise add `y = x1 + x2` (then a fused ReLU/ReLU6 as an
/// output clamp), each input with its own bits, scale and zero point.
///
/// With `d_i = x_i - z_i` and one shared total shift `s`:
///
///     y = clamp(floor((d1 * m1 + d2 * m2 + 2^(s-1)) / 2^s) + zy, outputRange)
///
/// where `m_i = round(S_i / S_y * 2^s)`: both terms are summed exactly in 64 bits and rounded
/// once, half up, as every MixQ requantization is. `|d_i| <= 255` and `|m_i| < 2^31`, so the sum
/// stays below 2^40.
public struct AddParameters: Equatable, Sendable {
    /// `m1` and `m2`, Q(s) multipliers of the two inputs' offsets from their zero points.
    public let input1Multiplier: Int32
    public let input2Multiplier: Int32
    /// The total right shift `s`, in `1...62`.
    public let shift: Int
    public let input1ZeroPoint: Int
    public let input2ZeroPoint: Int
    public let outputZeroPoint: Int
    public let input1Bits: BitWidth
    public let input2Bits: BitWidth
    public let outputBits: BitWidth
    /// The output clamp in codes: the whole range of `outputBits` unless a fused activation narrows it.
    public let outputRange: ClosedRange<Int>

    /// Parameters from their integer parts.
    /// - Throws: `QuantizationError` when a zero point does not fit its bits, the shift is outside
    ///   `1...62`, a multiplier is `Int32.min` or the clamp leaves the output's range.
    public init(input1Multiplier: Int32, input2Multiplier: Int32, shift: Int, input1ZeroPoint: Int, input1Bits: BitWidth,
                input2ZeroPoint: Int, input2Bits: BitWidth, outputZeroPoint: Int, outputBits: BitWidth,
                outputRange: ClosedRange<Int>? = nil) throws {
        guard (1...62).contains(shift), input1Multiplier != .min, input2Multiplier != .min else {
            throw QuantizationError.scaleOutOfRange(Double(max(abs(Int64(input1Multiplier)), abs(Int64(input2Multiplier))))
                                                    / Double(sign: .plus, exponent: min(max(shift, 0), 62), significand: 1))
        }
        let range = try checkedClamp(outputRange, outputBits: outputBits,
                                     zeroPoints: [(input1ZeroPoint, input1Bits), (input2ZeroPoint, input2Bits), (outputZeroPoint, outputBits)])
        self.input1Multiplier = input1Multiplier
        self.input2Multiplier = input2Multiplier
        self.shift = shift
        self.input1ZeroPoint = input1ZeroPoint
        self.input2ZeroPoint = input2ZeroPoint
        self.outputZeroPoint = outputZeroPoint
        self.input1Bits = input1Bits
        self.input2Bits = input2Bits
        self.outputBits = outputBits
        self.outputRange = range
    }

    /// Parameters from the real scales: the larger ratio `max(S1, S2) / S_y` is converted as
    /// `FixedPointMultiplier(scale:)` does (its `M0` and `s = 31 + N0`), the smaller one is
    /// `round(S / S_y * 2^s)` (to nearest, ties away from zero) at the same shift.
    /// - Throws: `QuantizationError` for scales that are not positive and finite, a ratio of
    ///   2^30 or more, or the checks of `init`.
    public static func scaled(input1Scale: Double, input1ZeroPoint: Int, input1Bits: BitWidth,
                              input2Scale: Double, input2ZeroPoint: Int, input2Bits: BitWidth,
                              outputScale: Double, outputZeroPoint: Int, outputBits: BitWidth,
                              outputRange: ClosedRange<Int>? = nil) throws -> AddParameters {
        for scale in [input1Scale, input2Scale, outputScale] where !(scale.isFinite && scale > 0) {
            throw QuantizationError.scaleOutOfRange(scale)
        }
        let ratio1 = input1Scale / outputScale, ratio2 = input2Scale / outputScale
        let larger = try FixedPointMultiplier(scale: max(ratio1, ratio2))
        let s = larger.totalShift
        func multiplier(_ ratio: Double) -> Int32 {
            ratio == max(ratio1, ratio2) ? larger.multiplier
                : Int32((ratio * Double(sign: .plus, exponent: s, significand: 1)).rounded(.toNearestOrAwayFromZero))
        }
        return try AddParameters(input1Multiplier: multiplier(ratio1), input2Multiplier: multiplier(ratio2), shift: s,
                                 input1ZeroPoint: input1ZeroPoint, input1Bits: input1Bits, input2ZeroPoint: input2ZeroPoint,
                                 input2Bits: input2Bits, outputZeroPoint: outputZeroPoint, outputBits: outputBits,
                                 outputRange: outputRange)
    }

    /// One output code from two input codes.
    @inline(__always)
    public func output(_ x1: Int, _ x2: Int) -> Int {
        let sum = Int64(x1 - input1ZeroPoint) * Int64(input1Multiplier) + Int64(x2 - input2ZeroPoint) * Int64(input2Multiplier)
        let r = (sum + (Int64(1) << (shift - 1))) >> shift
        return Int(min(max(r + Int64(outputZeroPoint), Int64(outputRange.lowerBound)), Int64(outputRange.upperBound)))
    }
}

/// Integer parameters of MixQ's windowed pooling (any window, stride and padding; positions
/// outside the input are skipped, never read as zeros).
///
/// Average over the `n` window positions inside the input:
/// `y = clamp(M[n].scaled(sum (x - zx)) + zy, outputRange)` with `M[n] = S_x / (n S_y)`, one
/// multiplier per possible count (`multipliers[n - 1]`), as the global pool folds `1 / pixels`.
/// Maximum: `y = clamp(M.scaled(max(x) - zx) + zy, outputRange)` with `M = S_x / S_y`.
public struct WindowPoolParameters: Equatable, Sendable {
    public enum Kind: String, Sendable, Hashable {
        case average, maximum
    }

    public let kind: Kind
    /// Average: one per count of valid positions, `multipliers[n - 1]` for `n`; maximum: one.
    public let multipliers: [FixedPointMultiplier]
    public let inputZeroPoint: Int
    public let outputZeroPoint: Int
    public let inputBits: BitWidth
    public let outputBits: BitWidth
    /// The output clamp in codes (a fused activation narrows the whole range).
    public let outputRange: ClosedRange<Int>

    /// - Throws: `QuantizationError` when a zero point does not fit its bits, the clamp leaves the
    ///   output's range, or a maximum pool has other than one multiplier.
    public init(kind: Kind, multipliers: [FixedPointMultiplier], inputZeroPoint: Int, inputBits: BitWidth,
                outputZeroPoint: Int, outputBits: BitWidth, outputRange: ClosedRange<Int>? = nil) throws {
        guard !multipliers.isEmpty, kind == .average || multipliers.count == 1 else {
            throw QuantizationError.sizeMismatch(what: "pooling multipliers", expected: 1, actual: multipliers.count)
        }
        let range = try checkedClamp(outputRange, outputBits: outputBits,
                                     zeroPoints: [(inputZeroPoint, inputBits), (outputZeroPoint, outputBits)])
        self.kind = kind
        self.multipliers = multipliers
        self.inputZeroPoint = inputZeroPoint
        self.outputZeroPoint = outputZeroPoint
        self.inputBits = inputBits
        self.outputBits = outputBits
        self.outputRange = range
    }

    /// Parameters from the scales, for a window of `windowPositions` positions.
    public static func scaled(kind: Kind, windowPositions: Int, inputScale: Double, inputZeroPoint: Int, inputBits: BitWidth,
                              outputScale: Double, outputZeroPoint: Int, outputBits: BitWidth,
                              outputRange: ClosedRange<Int>? = nil) throws -> WindowPoolParameters {
        guard inputScale.isFinite, inputScale > 0, outputScale.isFinite, outputScale > 0 else {
            throw QuantizationError.scaleOutOfRange(inputScale / outputScale)
        }
        guard windowPositions > 0, windowPositions <= 65_536 else {
            throw QuantizationError.invalidGeometry("a pooling window of \(windowPositions) positions")
        }
        let ratio = inputScale / outputScale
        let multipliers = kind == .maximum ? [try FixedPointMultiplier(scale: ratio)]
            : try (1...windowPositions).map { try FixedPointMultiplier(scale: ratio / Double($0)) }
        return try WindowPoolParameters(kind: kind, multipliers: multipliers, inputZeroPoint: inputZeroPoint, inputBits: inputBits,
                                        outputZeroPoint: outputZeroPoint, outputBits: outputBits, outputRange: outputRange)
    }

    /// One output code from the accumulator (`sum (x - zx)` or `max(x) - zx`) of `count` positions.
    @inline(__always)
    public func output(accumulator: Int32, count: Int) -> Int {
        let m = kind == .maximum ? multipliers[0] : multipliers[min(count, multipliers.count) - 1]
        let r = m.scaled(accumulator) + Int64(outputZeroPoint)
        return Int(min(max(r, Int64(outputRange.lowerBound)), Int64(outputRange.upperBound)))
    }
}

/// The output clamp of a graph step (default: the whole range of `outputBits`), after checking that
/// every zero point fits its bits and the clamp fits the output's.
private func checkedClamp(_ outputRange: ClosedRange<Int>?, outputBits: BitWidth,
                          zeroPoints: [(zero: Int, bits: BitWidth)]) throws -> ClosedRange<Int> {
    for (zero, bits) in zeroPoints where !(0...bits.maxUnsigned).contains(zero) {
        throw QuantizationError.zeroPointOutOfRange(zero, bits: bits)
    }
    let range = outputRange ?? 0...outputBits.maxUnsigned
    guard range.lowerBound >= 0, range.upperBound <= outputBits.maxUnsigned else {
        throw QuantizationError.valueOutOfRange(range.lowerBound < 0 ? range.lowerBound : range.upperBound, bits: outputBits)
    }
    return range
}

extension ReferenceLayers {
    /// MixQ's element-wise add of two code tensors of one size (`AddParameters`).
    /// - Throws: `QuantizationError` when the sizes differ or a code does not fit its bits.
    public static func add(_ a: [Int], _ b: [Int], parameters p: AddParameters) throws -> [Int] {
        try check(a, count: a.count, bits: p.input1Bits, what: "add input 1")
        try check(b, count: a.count, bits: p.input2Bits, what: "add input 2")
        return zip(a, b).map { p.output($0, $1) }
    }

    /// MixQ's windowed average or maximum pooling over `geometry`'s windows (kernel = window,
    /// output channels = input channels; `WindowPoolParameters`).
    /// - Throws: `QuantizationError` when the input size disagrees with the geometry, a code does
    ///   not fit its bits, a window covers no input position, or an average window has more
    ///   positions than multipliers.
    public static func windowPool(input: [Int], geometry g: ConvolutionGeometry, parameters p: WindowPoolParameters) throws -> [Int] {
        guard g.outputChannels == g.inputChannels else {
            throw QuantizationError.invalidGeometry("pooling keeps the channels (\(g.inputChannels) in, \(g.outputChannels) out)")
        }
        guard p.kind == .maximum || p.multipliers.count >= g.kernelHeight * g.kernelWidth else {
            throw QuantizationError.sizeMismatch(what: "average pooling multipliers", expected: g.kernelHeight * g.kernelWidth,
                                                 actual: p.multipliers.count)
        }
        try check(input, count: g.inputElements, bits: p.inputBits, what: "pooling input")
        let channels = g.inputChannels, zx = Int32(p.inputZeroPoint)
        var output = [Int](repeating: 0, count: g.outputElements)
        var o = 0
        for oy in 0..<g.outputHeight {
            for ox in 0..<g.outputWidth {
                let top = oy * g.strideHeight - g.padTop, left = ox * g.strideWidth - g.padLeft
                let ys = max(top, 0)..<max(min(top + g.kernelHeight, g.inputHeight), max(top, 0))
                let xs = max(left, 0)..<max(min(left + g.kernelWidth, g.inputWidth), max(left, 0))
                let count = ys.count * xs.count
                guard count > 0 else { throw QuantizationError.invalidGeometry("a pooling window covers no input") }
                for c in 0..<channels {
                    var sum: Int32 = 0, largest: Int32 = 0
                    for iy in ys {
                        for ix in xs {
                            let x = Int32(input[(iy * g.inputWidth + ix) * channels + c])
                            sum += x - zx
                            largest = max(largest, x)
                        }
                    }
                    output[o] = p.output(accumulator: p.kind == .average ? sum : largest - zx, count: count)
                    o += 1
                }
            }
        }
        return output
    }
}
