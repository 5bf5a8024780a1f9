import Foundation
import Planning

/// How a decoded image of any size becomes the network's input, as ImageNet models are
/// evaluated (torchvision's `Resize(N)` then `CenterCrop`, Keras's preprocessing likewise):
///
/// 1. **Channels.** A grey file feeds a 3-channel model with its value repeated; a colour file
///    feeds a 1-channel model through ITU-R BT.601 luma in 16-bit fixed point,
///    `L = (19595 R + 38470 G + 7471 B + 32768) >> 16` (the weights 0.299, 0.587, 0.114 of
///    Rec. 601, as Pillow's `convert("L")`).
/// 2. **Resize** so the shorter side is `resize` pixels and the longer `resize * long / short`
///    rounded down (torchvision's `Resize(int)` rule), by **antialiased bilinear** resampling:
///    output pixel `i` sits at source coordinate `(i + 0.5) * s - 0.5` with `s = in / out`
///    (pixel centres aligned, the "half-pixel" convention); its value is the average of the
///    source pixels `j` weighted by the triangle `max(0, 1 - |j + 0.5 - (i + 0.5) * s| / r)`,
///    radius `r = max(s, 1)`, normalised by the weights' sum (so edges are not darkened). When
///    enlarging this is plain bilinear interpolation; when shrinking the triangle widens to
///    cover every source pixel, as Pillow's `BILINEAR` does (Pillow rounds to 8 bits between
///    the horizontal and vertical passes; MixQ keeps the intermediate in floating point and
///    rounds once, half away from zero, so the two can differ by one step).
/// 3. **Centre crop** to the input's height and width: the top-left corner at
///    `round((resized - crop) / 2)`, rounding halves to even (torchvision's `CenterCrop`).
///
/// The resulting bytes are the pixels; the model's own preprocessing (`--input-mean`,
/// `--input-scale`) then applies to them as to `images.npy`.
public struct ImagePreprocessing: Sendable, Hashable, CustomStringConvertible {
    /// The network's input (height, width, channels: 1 or 3).
    public var input: TensorShape
    /// The shorter side after resizing, at least the input's larger side.
    public var resize: Int

    /// `resize` defaults to the input's larger side: the image is scaled to just cover the input.
    /// - Throws: `DatasetError.doesNotMatch` when the input has neither 1 nor 3 channels or
    ///   `resize` is smaller than the input's larger side (the crop would not fit).
    public init(input: TensorShape, resize: Int? = nil) throws(DatasetError) {
        guard input.channels == 1 || input.channels == 3, input.height > 0, input.width > 0 else {
            throw .doesNotMatch("image folders feed networks with a 1- or 3-channel image input; this one takes \(input)")
        }
        let side = max(input.height, input.width)
        let resize = resize ?? side
        guard resize >= side, resize <= 1 << 16 else {
            throw .doesNotMatch("--resize \(resize) must be between the input's larger side \(side) and 65536 "
                                + "(the shorter side is scaled to it, then the \(input.height)x\(input.width) centre is cropped)")
        }
        self.input = input
        self.resize = resize
    }

    public var description: String {
        "shorter side to \(resize) (antialiased bilinear), centre crop \(input.height)x\(input.width), "
            + (input.channels == 1 ? "grey" : "RGB")
    }

    /// The network input (HWC bytes) of `image`.
    public func apply(to image: DecodedImage) -> [UInt8] {
        let matched = Self.converting(image, toChannels: input.channels)
        let (height, width) = resizedSize(height: matched.height, width: matched.width)
        let top = Self.cropOrigin(resized: height, crop: input.height)
        let left = Self.cropOrigin(resized: width, crop: input.width)
        return Self.resample(matched, height: height, width: width, rows: top..<(top + input.height),
                             columns: left..<(left + input.width))
    }

    /// The size after resizing: the shorter side `resize`, the longer one scaled and rounded down.
    func resizedSize(height: Int, width: Int) -> (height: Int, width: Int) {
        if height <= width {
            return (resize, max(resize, resize * width / max(height, 1)))
        }
        return (max(resize, resize * height / max(width, 1)), resize)
    }

    /// torchvision's centre-crop origin: `round((resized - crop) / 2)`, halves to even.
    static func cropOrigin(resized: Int, crop: Int) -> Int {
        Int((Double(resized - crop) / 2).rounded(.toNearestOrEven))
    }

    /// `image` with `channels` (1 or 3) channels: grey repeated, or colour to Rec. 601 luma.
    static func converting(_ image: DecodedImage, toChannels channels: Int) -> DecodedImage {
        guard image.channels != channels else { return image }
        var pixels: [UInt8]
        if channels == 3 {
            pixels = [UInt8](repeating: 0, count: image.pixels.count * 3)
            for (index, value) in image.pixels.enumerated() {
                pixels[3 * index] = value
                pixels[3 * index + 1] = value
                pixels[3 * index + 2] = value
            }
        } else {
            let count = image.pixels.count / 3
            pixels = [UInt8](repeating: 0, count: count)
            for index in 0..<count {
                let r = UInt32(image.pixels[3 * index]), g = UInt32(image.pixels[3 * index + 1]), b = UInt32(image.pixels[3 * index + 2])
                pixels[index] = UInt8((r * 19595 + g * 38470 + b * 7471 + 32768) >> 16)
            }
        }
        return DecodedImage(width: image.width, height: image.height, channels: channels, pixels: pixels)
    }

    /// The taps of one output coordinate: the first source index and the normalised weights.
    struct Taps {
        var first: Int
        var weights: [Double]
    }

    /// The antialiased bilinear taps of output pixels `outputs` when `inSize` pixels become `outSize`.
    static func taps(inSize: Int, outSize: Int, outputs: Range<Int>) -> [Taps] {
        let scale = Double(inSize) / Double(outSize)
        let radius = max(scale, 1)
        return outputs.map { output in
            let centre = (Double(output) + 0.5) * scale
            let first = max(0, Int((centre - radius).rounded(.down)))
            let last = min(inSize - 1, Int((centre + radius).rounded(.up)))
            var weights = (first...max(first, last)).map { max(0, 1 - abs(Double($0) + 0.5 - centre) / radius) }
            let sum = weights.reduce(0, +)
            if sum > 0 { weights = weights.map { $0 / sum } }
            return Taps(first: first, weights: weights)
        }
    }

    /// Rows `rows` and columns `columns` of `image` resized to `height` x `width`: horizontal
    /// pass into floating point, vertical pass, one rounding.
    static func resample(_ image: DecodedImage, height: Int, width: Int, rows: Range<Int>, columns: Range<Int>) -> [UInt8] {
        let channels = image.channels
        let horizontal = taps(inSize: image.width, outSize: width, outputs: columns)
        let vertical = taps(inSize: image.height, outSize: height, outputs: rows)
        // Only the source rows the kept output rows read are resampled horizontally.
        let firstRow = vertical.first?.first ?? 0
        let lastRow = vertical.map { $0.first + $0.weights.count }.max() ?? 0
        var across = [Double](repeating: 0, count: max(0, lastRow - firstRow) * columns.count * channels)
        for y in firstRow..<lastRow {
            let source = y * image.width * channels
            let target = (y - firstRow) * columns.count * channels
            for (x, tap) in horizontal.enumerated() {
                for channel in 0..<channels {
                    var sum = 0.0
                    for (k, weight) in tap.weights.enumerated() {
                        sum += weight * Double(image.pixels[source + (tap.first + k) * channels + channel])
                    }
                    across[target + x * channels + channel] = sum
                }
            }
        }
        var output = [UInt8](repeating: 0, count: rows.count * columns.count * channels)
        let rowLength = columns.count * channels
        for (y, tap) in vertical.enumerated() {
            for position in 0..<rowLength {
                var sum = 0.0
                for (k, weight) in tap.weights.enumerated() {
                    sum += weight * across[(tap.first - firstRow + k) * rowLength + position]
                }
                output[y * rowLength + position] = UInt8(min(max(sum.rounded(.toNearestOrAwayFromZero), 0), 255))
            }
        }
        return output
    }
}
