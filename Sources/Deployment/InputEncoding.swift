import Foundation
import Quantization

/// How the bytes of an image become the network's 8-bit input codes, and what real value the
/// float network sees for each pixel.
///
/// The float network sees `(pixel - mean) * scale` (the usual preprocessing; a model trained on
/// `pixel / 255` has mean 0 and scale 1/255). The integer network's input codes stand for
/// `quantization.real(code)`. When the two agree exactly (the default, or any integer mean with
/// the quantization's scale equal to `scale`), the codes are the pixels themselves.
public struct InputEncoding: Sendable, Hashable, CustomStringConvertible {
    /// Subtracted from each pixel before scaling.
    public var mean: Double
    /// Multiplies `pixel - mean`.
    public var scale: Double
    /// What the 8-bit input codes mean.
    public var quantization: TensorQuantization
    /// The code of every pixel value 0...255.
    public var codes: [UInt8]

    /// `pixel / 255`, codes equal to the pixels: MixQ's built-in models.
    public static let unitRange = InputEncoding(mean: 0, scale: 1.0 / 255)

    /// Preprocessing for a float model: the codes' quantization has the preprocessing's own
    /// scale and zero-point `mean` when the mean is an integer in 0...255 (then codes are pixels
    /// and nothing is lost); otherwise the range of `(pixel - mean) * scale` over 0...255 at
    /// 8 bits.
    public init(mean: Double, scale: Double) {
        self.mean = mean
        self.scale = scale
        let integerMean = mean.rounded() == mean && (0...255).contains(mean)
        if integerMean, scale > 0 {
            quantization = TensorQuantization(scale: scale, zeroPoint: Int(mean), bits: .eight)
        } else {
            let ends = [(0 - mean) * scale, (255 - mean) * scale]
            quantization = .covering(min: ends.min() ?? 0, max: ends.max() ?? 0, bits: .eight)
        }
        codes = []
        codes = (0...255).map { UInt8(quantization.code((Double($0) - mean) * scale)) }
    }

    /// Preprocessing followed by a stated input quantization (a QONNX file's `Quant` on the
    /// graph input, which rounds half to even).
    public init(mean: Double, scale: Double, quantization: TensorQuantization) {
        self.mean = mean
        self.scale = scale
        self.quantization = quantization
        codes = []
        codes = (0...255).map { pixel in
            let value = ((Double(pixel) - mean) * scale / quantization.scale).rounded(.toNearestOrEven)
            return UInt8((value + Double(quantization.zeroPoint)).clampedToInt(0...quantization.bits.maxUnsigned,
                                                                                nanValue: quantization.zeroPoint))
        }
    }

    /// The real value the float network sees for `pixel`.
    public func real(pixel: UInt8) -> Float { Float((Double(pixel) - mean) * scale) }

    /// The float image the unquantized network sees.
    public func real(_ pixels: [UInt8]) -> [Float] { pixels.map { real(pixel: $0) } }

    /// The integer network's input codes for an image.
    public func encode(_ pixels: [UInt8]) -> [UInt8] { pixels.map { codes[Int($0)] } }

    /// Whether the codes are the pixels unchanged.
    public var isIdentity: Bool { codes.enumerated().allSatisfy { $0.offset == Int($0.element) } }

    /// `"(pixel - 0) * 0.003921569, codes = pixels (scale 0.003921569, zero-point 0)"`.
    public var description: String {
        let codesNote = isIdentity ? "codes = pixels" : "codes = round((pixel - mean) * scale / \(format(quantization.scale)))"
        return "(pixel - \(format(mean))) * \(format(scale)), \(codesNote) (scale \(format(quantization.scale)), "
            + "zero-point \(quantization.zeroPoint))"
    }

    private func format(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e6 ? String(Int(value)) : String(format: "%.9g", value)
    }
}
