import Foundation
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
                                        // Output channel c * m + j reads input channel c (depth multiplier m).
                                        let m = outC / inC
                                        let wBase = (ky * kw + kx) * outC
                                        for o in 0..<outC { y[outBase + o] += w[wBase + o] * x[inBase + o / m] }
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

    /// Average (over the window positions inside the input) or maximum pooling, then the activation.
    static func pool(_ pool: Pool2D, input: [Float]) -> [Float] {
        let inShape = pool.input, outShape = pool.output, channels = inShape.channels
        var output = [Float](repeating: 0, count: outShape.elementCount)
        for oy in 0..<outShape.height {
            for ox in 0..<outShape.width {
                let y0 = oy * pool.strideHeight - pool.padding.top, x0 = ox * pool.strideWidth - pool.padding.left
                let ys = max(y0, 0)..<min(y0 + pool.window.height, inShape.height)
                let xs = max(x0, 0)..<min(x0 + pool.window.width, inShape.width)
                for c in 0..<channels {
                    var sum: Double = 0, largest = -Double.infinity
                    for iy in ys {
                        for ix in xs {
                            let v = Double(input[(iy * inShape.width + ix) * channels + c])
                            sum += v
                            largest = max(largest, v)
                        }
                    }
                    let count = Double(ys.count * xs.count)
                    let value = pool.kind == .average ? (count > 0 ? sum / count : 0) : (count > 0 ? largest : 0)
                    output[(oy * outShape.width + ox) * channels + c] = pool.activation.apply(Float(value))
                }
            }
        }
        return output
    }

    /// Element-wise `a + b`, then the activation.
    static func add(_ a: [Float], _ b: [Float], activation: Activation) -> [Float] {
        zip(a, b).map { activation.apply($0 + $1) }
    }

    /// Softmax over the channels of each pixel.
    static func softmax(_ input: [Float], shape: TensorShape, beta: Double) -> [Float] {
        var output = [Float](repeating: 0, count: input.count)
        let n = shape.channels
        for pixel in 0..<(shape.height * shape.width) {
            let slice = input[(pixel * n)..<(pixel * n + n)]
            let largest = Double(slice.max() ?? 0)
            let exps = slice.map { Foundation.exp(beta * (Double($0) - largest)) }
            let total = exps.reduce(0, +)
            for (c, e) in exps.enumerated() { output[pixel * n + c] = Float(e / total) }
        }
        return output
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
