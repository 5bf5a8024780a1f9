import Foundation
import Quantization
import Testing
@testable import Evaluation

/// libjpeg-turbo and libpng through ImageCodecs: the committed files (Fixtures/make_image_folders.py,
/// made with Pillow) decode to Pillow's pixels, refusals name the file, and damaged bytes give
/// an error or an image, never a trap.
struct ImageDecoderTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func file(_ relative: String) throws -> Data {
        try Data(contentsOf: fixtures.appendingPathComponent(relative))
    }

    /// One file of each encoding the fixture script writes (see ENCODINGS there).
    static let samples = ["0/test_0000.png", "0/test_0001.jpg", "0/test_0002.png", "0/test_0003.JPEG", "0/test_0004.png",
                          "0/test_0005.png", "1/test_0105.png", "3/test_0304.png", "3/test_0305.jpeg"]

    @Test func formatIsToldByTheFirstBytes() throws {
        let png = try Self.file("image-folder/0/test_0000.png")
        #expect(ImageDecoder.Format(signature: png) == .png)
        #expect(ImageDecoder.Format(signature: try Self.file("image-folder/0/test_0001.jpg")) == .jpeg)
        #expect(ImageDecoder.Format(signature: Data("README".utf8)) == nil)
        // A PNG named .jpg decodes as the PNG it is.
        #expect(try ImageDecoder.decode(png, path: "named.jpg").width == 32)
        #expect(throws: DatasetError.badImage(path: "x.jpg", reason: "neither a JPEG nor a PNG file (by its first bytes)")) {
            try ImageDecoder.decode(Data("not an image".utf8), path: "x.jpg")
        }
    }

    @Test func everyEncodingDecodesToPillowsGreyPixels() throws {
        // The arrays hold Pillow's decode, converted to grey; the folder's order is class, then name.
        let arrays = try LabelledDataset(contentsOf: Self.fixtures.appendingPathComponent("image-folder-arrays"))
        let folder = try ImageFolder(contentsOf: Self.fixtures.appendingPathComponent("image-folder"),
                                     preprocessing: ImagePreprocessing(input: .init(height: 32, width: 32, channels: 1)))
        #expect(folder.files.count == arrays.count)
        for (index, file) in folder.files.enumerated() {
            #expect(try folder.image(index) == arrays.image(index), "\(file)")
        }
    }

    @Test func channelsAndSizesAreTheFilesOwn() throws {
        // Grey files decode to one channel, colour and palette files to three; alpha is dropped.
        let expected = ["0/test_0000.png": 1, "0/test_0001.jpg": 1, "0/test_0002.png": 3, "0/test_0003.JPEG": 3, "0/test_0004.png": 1,
                        "0/test_0005.png": 3, "1/test_0105.png": 3, "3/test_0304.png": 1, "3/test_0305.jpeg": 3]
        for (name, channels) in expected {
            let image = try ImageDecoder.decode(try Self.file("image-folder/" + name), path: name)
            #expect(image.channels == channels && image.width == 32 && image.height == 32 && image.pixels.count == 1024 * channels, "\(name)")
        }
    }

    @Test func cmykJPEGIsRefusedByName() throws {
        let path = Self.fixtures.appendingPathComponent("bad/cmyk.jpg").path
        #expect(throws: DatasetError.badImage(path: path, reason: "JPEG: CMYK JPEG files are not supported; convert the file to RGB")) {
            try ImageDecoder.decode(try Data(contentsOf: URL(fileURLWithPath: path)), path: path)
        }
    }

    @Test func imagesLargerThanTheLimitAreRefusedBeforeDecoding() throws {
        for name in ["image-folder/0/test_0000.png", "image-folder/0/test_0001.jpg"] {
            do {
                _ = try ImageDecoder.decode(try Self.file(name), path: name, maximumPixels: 1000)
                Issue.record("\(name) decoded past the limit")
            } catch {
                #expect("\(error)".contains("32x32 pixels, more than the 1000 accepted"), "\(error)")
            }
        }
    }

    @Test func truncatedFilesAreErrors() throws {
        for name in Self.samples {
            let data = try Self.file("image-folder/" + name)
            // Cut inside the pixel data: after the headers, before the end. (A PNG's last 12
            // bytes, the IEND chunk, hold no pixel: without them it still decodes, as in Pillow.)
            for length in [data.count / 2, data.count * 3 / 4, data.count - 17] {
                #expect(throws: DatasetError.self, "\(name) cut at \(length)") {
                    try ImageDecoder.decode(data.prefix(length), path: name)
                }
            }
        }
    }

    @Test func damagedBytesNeverTrap() throws {
        // Seeded: every prefix length of one file of each format, and flipped bytes anywhere.
        var generator = SeededRandom(seed: 20)
        var failures = 0, decoded = 0
        for name in Self.samples {
            let data = try Self.file("image-folder/" + name)
            for length in stride(from: 0, to: data.count, by: max(1, data.count / 97)) {
                do { _ = try ImageDecoder.decode(data.prefix(length), path: name); decoded += 1 } catch { failures += 1 }
            }
            for _ in 0..<150 {
                var bytes = [UInt8](data)
                for _ in 0..<(1 + Int(generator.next() % 4)) {
                    let position = Int(generator.next() % UInt64(bytes.count))
                    bytes[position] ^= UInt8(truncatingIfNeeded: generator.next() | 1)
                }
                do {
                    let image = try ImageDecoder.decode(Data(bytes), path: name)
                    #expect(image.pixels.count == image.width * image.height * image.channels)
                    decoded += 1
                } catch {
                    guard case .badImage(let path, _) = error else { Issue.record("\(error)"); continue }
                    #expect(path == name)
                    failures += 1
                }
            }
        }
        print("damaged files: \(failures) refused, \(decoded) decoded")
        #expect(failures > 500, "most damaged files are refused")
    }

    @Test func encodedFilesDecodeBack() throws {
        var generator = SeededRandom(seed: 7)
        for channels in [1, 3] {
            let pixels = (0..<(17 * 9 * channels)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let image = DecodedImage(width: 17, height: 9, channels: channels, pixels: pixels)
            #expect(try ImageDecoder.decode(ImageDecoder.encode(image, as: .png), path: "a.png") == image)
            let jpeg = try ImageDecoder.decode(ImageDecoder.encode(image, as: .jpeg, quality: 95), path: "a.jpg")
            #expect(jpeg.width == 17 && jpeg.height == 9 && jpeg.channels == channels)
        }
    }
}
