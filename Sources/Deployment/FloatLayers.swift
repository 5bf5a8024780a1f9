import Planning
import Quantization

/// Float versions of the network's operations, used to calibrate synthetic batch-norm
/// statistics and by the fake-quantized reference. Tensors are HWC `[Float]`.
enum FloatLayers {
    /// The layer's convolution (or matrix product) without normalization or activation.
    static func linear(_ layer: Layer, weights: [Float], input: [Float]) -> [Float] {
        let inShape = layer.input, outShape = layer.output
        let (kh, kw, stride) = (layer.kernel.height, layer.kernel.width, layer.stride)
        let (top, left) = (layer.padding.top, layer.padding.left)
        let inC = inShape.channels, outC = outShape.channels
        var output = [Float](repeating: 0, count: outShape.elementCount)
        input.withUnsafeBufferPointer { x in
            weights.withUnsafeBufferPointer { w in
                output.withUnsafeMutableBufferPointer { y in
                    for oy in 0..<outShape.height {
                        for ox in 0..<outShape.width {
                            let outBase = (oy * outShape.width + ox) * outC
                            for ky in 0..<kh {
                                let iy = oy * stride + ky - top
                                guard iy >= 0, iy < inShape.height else { continue }
                                for kx in 0..<kw {
                                    let ix = ox * stride + kx - left
                                    guard ix >= 0, ix < inShape.width else { continue }
                                    let inBase = (iy * inShape.width + ix) * inC
                                    if layer.kind == .depthwise {
                                        let wBase = (ky * kw + kx) * inC
                                        for c in 0..<inC { y[outBase + c] += w[wBase + c] * x[inBase + c] }
                                    } else {
                                        for o in 0..<outC {
                                            let wBase = ((o * kh + ky) * kw + kx) * inC
                                            var sum: Float = 0
                                            for c in 0..<inC { sum += w[wBase + c] * x[inBase + c] }
                                            y[outBase + o] += sum
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return output
    }

    /// `a[c] * v + d[c]` per channel, then the activation.
    static func normalize(_ values: [Float], a: [Double], d: [Double], activation: Activation) -> [Float] {
        let n = a.count
        return values.enumerated().map { i, v in
            activation.apply(Float(a[i % n] * Double(v) + d[i % n]))
        }
    }

    static func globalAveragePool(_ input: [Float], shape: TensorShape) -> [Float] {
        var sums = [Double](repeating: 0, count: shape.channels)
        for (i, v) in input.enumerated() { sums[i % shape.channels] += Double(v) }
        let pixels = Double(shape.height * shape.width)
        return sums.map { Float($0 / pixels) }
    }
}

/// Seeded synthetic input images. The 8-bit image is the primary one; the float image is
/// exactly `byte / 255`, so the float and integer networks see the same picture.
public enum SyntheticImage {
    /// HWC bytes: a smooth random colour gradient plus per-pixel noise, like a natural image's
    /// mix of low-frequency content and texture.
    public static func bytes(shape: TensorShape, seed: UInt64) -> [UInt8] {
        var random = SeededRandom(seed: seed)
        let base = (0..<shape.channels).map { _ in random.unit() }
        let slopeY = (0..<shape.channels).map { _ in random.unit() - 0.5 }
        let slopeX = (0..<shape.channels).map { _ in random.unit() - 0.5 }
        var pixels = [UInt8](repeating: 0, count: shape.elementCount)
        for y in 0..<shape.height {
            for x in 0..<shape.width {
                for c in 0..<shape.channels {
                    let smooth = base[c] + slopeY[c] * Double(y) / Double(shape.height) + slopeX[c] * Double(x) / Double(shape.width)
                    let value = smooth + 0.25 * (random.unit() - 0.5)
                    pixels[(y * shape.width + x) * shape.channels + c] = UInt8(min(max((value * 255).rounded(), 0), 255))
                }
            }
        }
        return pixels
    }

    public static func float(shape: TensorShape, seed: UInt64) -> [Float] {
        bytes(shape: shape, seed: seed).map { Float($0) / 255 }
    }
}
