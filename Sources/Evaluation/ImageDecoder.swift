import Foundation
import ImageCodecs

/// An 8-bit image: `height` rows of `width` pixels of `channels` bytes (1: grey, 3: RGB).
public struct DecodedImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }
}

/// JPEG and PNG files decoded by Debian's libjpeg-turbo and libpng (Sources/ImageCodecs): the
/// format is told by the file's first bytes, not its name (ImageNet holds a PNG named `.JPEG`).
///
/// JPEG: baseline and progressive, grey, YCbCr and RGB, with libjpeg-turbo's defaults (the
/// integer IDCT, fancy upsampling), as Pillow decodes; CMYK and 12-bit files are refused.
/// PNG: every colour type and bit depth; 16-bit samples keep their high byte, palettes are
/// expanded, alpha is dropped. A damaged or truncated file is an error, never a trap.
public enum ImageDecoder {
    /// Decoded images larger than this many pixels (8192 x 8192) are refused before any pixel
    /// is allocated, so that a forged header cannot ask for gigabytes.
    public static let maximumPixels = 1 << 26

    /// Which decoder `bytes` need, from their signature; nil when neither.
    public enum Format: String, Sendable {
        case jpeg = "JPEG", png = "PNG"

        public init?(signature bytes: Data) {
            let head = [UInt8](bytes.prefix(8))
            if head.starts(with: [0xFF, 0xD8, 0xFF]) {
                self = .jpeg
            } else if head == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] {
                self = .png
            } else {
                return nil
            }
        }
    }

    /// Decodes the file's bytes `data`; `path` names the file in errors.
    /// - Throws: `DatasetError.badImage` naming the file and the library's reason.
    public static func decode(_ data: Data, path: String, maximumPixels: Int = maximumPixels) throws(DatasetError) -> DecodedImage {
        guard let format = Format(signature: data) else {
            throw .badImage(path: path, reason: "neither a JPEG nor a PNG file (by its first bytes)")
        }
        var image = mixq_image()
        let status = data.withUnsafeBytes { raw -> Int32 in
            let bytes = raw.bindMemory(to: UInt8.self)
            switch format {
            case .jpeg: return mixq_decode_jpeg(bytes.baseAddress, bytes.count, UInt64(maximumPixels), &image)
            case .png: return mixq_decode_png(bytes.baseAddress, bytes.count, UInt64(maximumPixels), &image)
            }
        }
        defer { mixq_image_free(&image) }
        guard status == 0, let pixels = image.pixels else {
            let reason = withUnsafeBytes(of: image.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            throw .badImage(path: path, reason: "\(format.rawValue): " + (reason.isEmpty ? "cannot be decoded" : reason))
        }
        let width = Int(image.width), height = Int(image.height), channels = Int(image.channels)
        let count = width * height * channels
        return DecodedImage(width: width, height: height, channels: channels,
                            pixels: Array(UnsafeBufferPointer(start: pixels, count: count)))
    }

    /// `image` as a JPEG file of `quality` (1...100) or a PNG file: for generated folders
    /// (tests, `mixq bench dataset`).
    public static func encode(_ image: DecodedImage, as format: Format, quality: Int = 90) throws(DatasetError) -> Data {
        guard image.width > 0, image.height > 0, image.channels == 1 || image.channels == 3,
              image.pixels.count == image.width * image.height * image.channels,
              let width = UInt32(exactly: image.width), let height = UInt32(exactly: image.height) else {
            throw .badImage(path: "(encoding)", reason: "\(image.width)x\(image.height)x\(image.channels) with \(image.pixels.count) bytes")
        }
        var output: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = image.pixels.withUnsafeBufferPointer { pixels in
            switch format {
            case .jpeg:
                return mixq_encode_jpeg(pixels.baseAddress, width, height, UInt32(image.channels), Int32(min(max(quality, 1), 100)),
                                        &output, &size, &message)
            case .png:
                return mixq_encode_png(pixels.baseAddress, width, height, UInt32(image.channels), &output, &size, &message)
            }
        }
        defer { free(output) }
        guard status == 0, let output else {
            throw .badImage(path: "(encoding)", reason: String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return Data(bytes: output, count: size)
    }
}
