import Foundation
import Planning
import Testing
@testable import Evaluation

/// The resampling, crop and channel rules of `ImagePreprocessing`, worked by hand, and the
/// resize checked against Pillow's BILINEAR on committed files (Fixtures/make_image_folders.py).
struct ImagePreprocessingTests {
    static func row(_ values: [UInt8]) -> DecodedImage {
        DecodedImage(width: values.count, height: 1, channels: 1, pixels: values)
    }

    @Test func shrinkingAveragesUnderAWidenedTriangle() {
        // 4 -> 2 pixels, s = 2, radius 2. Output 0 sits at source 1.0 (centre (0 + 0.5) * 2):
        // pixels 0, 1, 2 at distances 0.5, 0.5, 1.5 weigh 0.75, 0.75, 0.25, normalised by 1.75:
        // (0 * 0.75 + 70 * 0.75 + 140 * 0.25) / 1.75 = 50. Output 1 at 3.0: pixels 1, 2, 3 weigh
        // 0.25, 0.75, 0.75: (17.5 + 105 + 157.5) / 1.75 = 160.
        let out = ImagePreprocessing.resample(Self.row([0, 70, 140, 210]), height: 1, width: 2, rows: 0..<1, columns: 0..<2)
        #expect(out == [50, 160])
    }

    @Test func enlargingIsPlainBilinearWithHalfPixelCentres() {
        // 2 -> 4 pixels, s = 0.5: outputs at source 0.25, 0.75, 1.25, 1.75 (centres at j + 0.5):
        // edges copy (the other tap weighs 0), inner ones 0.75/0.25 and 0.25/0.75 mixes.
        let out = ImagePreprocessing.resample(Self.row([0, 100]), height: 1, width: 4, rows: 0..<1, columns: 0..<4)
        #expect(out == [0, 25, 75, 100])
        // Rounding is half away from zero, once: 0.25 * 1 + 0.75 * 2 = 1.75 -> 2; 0.75 * 1 + 0.25 * 2 = 1.25 -> 1.
        #expect(ImagePreprocessing.resample(Self.row([1, 2]), height: 1, width: 4, rows: 0..<1, columns: 0..<4) == [1, 1, 2, 2])
    }

    @Test func sameSizeIsTheIdentity() {
        let pixels = (0..<(5 * 7 * 3)).map { UInt8($0 * 37 % 256) }
        let image = DecodedImage(width: 5, height: 7, channels: 3, pixels: pixels)
        #expect(ImagePreprocessing.resample(image, height: 7, width: 5, rows: 0..<7, columns: 0..<5) == pixels)
    }

    @Test func shorterSideThenTorchvisionsCentreCrop() throws {
        let preprocessing = try ImagePreprocessing(input: TensorShape(height: 224, width: 224, channels: 3), resize: 256)
        // A 500 x 375 (width x height) photograph: height 256, width 256 * 500 / 375 = 341.33 -> 341.
        #expect(preprocessing.resizedSize(height: 375, width: 500) == (256, 341))
        #expect(preprocessing.resizedSize(height: 500, width: 375) == (341, 256))
        // Crop origins round((341 - 224) / 2) = round(58.5) = 58 (half to even), round(16) = 16;
        // round((343 - 224) / 2) = round(59.5) = 60.
        #expect(ImagePreprocessing.cropOrigin(resized: 341, crop: 224) == 58)
        #expect(ImagePreprocessing.cropOrigin(resized: 256, crop: 224) == 16)
        #expect(ImagePreprocessing.cropOrigin(resized: 343, crop: 224) == 60)
        #expect(try ImagePreprocessing(input: TensorShape(height: 224, width: 224, channels: 3)).resize == 224)
    }

    @Test func coloursBecomeRec601Luma() {
        // (19595 R + 38470 G + 7471 B + 32768) >> 16: red 255 -> 5029493 >> 16 = 76,
        // green -> 9842618 >> 16 = 150, blue -> 1937873 >> 16 = 29, grey v -> v.
        let rgb = DecodedImage(width: 4, height: 1, channels: 3, pixels: [255, 0, 0, 0, 255, 0, 0, 0, 255, 93, 93, 93])
        #expect(ImagePreprocessing.converting(rgb, toChannels: 1).pixels == [76, 150, 29, 93])
        let grey = DecodedImage(width: 2, height: 1, channels: 1, pixels: [7, 200])
        #expect(ImagePreprocessing.converting(grey, toChannels: 3).pixels == [7, 7, 7, 200, 200, 200])
    }

    @Test func badSettingsAreRefused() {
        #expect(throws: DatasetError.self) { try ImagePreprocessing(input: TensorShape(height: 224, width: 224, channels: 3), resize: 200) }
        #expect(throws: DatasetError.self) { try ImagePreprocessing(input: TensorShape(height: 1, width: 1, channels: 40)) }
    }

    @Test func resizeAgreesWithPillowWithinOneStep() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
        let expected = try NumPyArray(contentsOf: fixtures.appendingPathComponent("resize-expected.npy"))
        let folder = try ImageFolder(contentsOf: fixtures.appendingPathComponent("resize-folder"),
                                     preprocessing: ImagePreprocessing(input: TensorShape(height: 32, width: 32, channels: 3), resize: 36))
        #expect(folder.files.count == 3 && expected.shape == [3, 32, 32, 3])
        var differing = 0
        for index in 0..<3 {
            let ours = try folder.image(index), pillow = expected.bytes(in: (index * 3072)..<((index + 1) * 3072))
            for (a, b) in zip(ours, pillow) {
                #expect(abs(Int(a) - Int(b)) <= 1, "\(folder.files[index])")
                if a != b { differing += 1 }
            }
        }
        print("resize: \(differing) of \(3 * 3072) values differ from Pillow's BILINEAR by one step")
    }
}
