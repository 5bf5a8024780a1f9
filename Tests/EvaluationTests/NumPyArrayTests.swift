import Foundation
import Quantization
import Testing
@testable import Evaluation

/// `.npy` files written byte by byte as NumPy's format description (numpy.lib.format) lays them out.
struct NumPyArrayTests {
    /// Magic, version, header length, the header dictionary padded to 64 bytes, then `payload`.
    static func npy(_ header: String, payload: [UInt8], version: UInt8 = 1) -> Data {
        let prefix = version == 1 ? 10 : 12
        var text = header
        while (prefix + text.utf8.count + 1) % 64 != 0 { text += " " }
        text += "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
        let length = text.utf8.count
        bytes += version == 1 ? [UInt8(length & 0xFF), UInt8(length >> 8)]
                              : [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF), 0, 0]
        return Data(bytes + Array(text.utf8) + payload)
    }

    @Test func readsBytesAndLittleAndBigEndianIntegers() throws {
        let images = try NumPyArray(data: Self.npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 1, 1), }",
                                                   payload: [0, 255, 7, 9]), path: "i.npy")
        #expect(images.shape == [2, 2, 1, 1] && images.bytes == [0, 255, 7, 9])
        let labels = try NumPyArray(data: Self.npy("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }",
                                                   payload: [3, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),
                                    path: "l.npy")
        #expect(labels.shape == [2] && labels.values == [3, -1])
        let big = try NumPyArray(data: Self.npy("{'descr': '>i4', 'fortran_order': False, 'shape': (1,), }",
                                                payload: [0, 0, 1, 2], version: 2), path: "b.npy")
        #expect(big.values == [258])
        let short = try NumPyArray(data: Self.npy("{'descr': '<i2', 'fortran_order': False, 'shape': (1,), }",
                                                  payload: [0xFE, 0xFF]), path: "s.npy")
        #expect(short.values == [-2])
    }

    func error(_ data: Data) -> String {
        do {
            _ = try NumPyArray(data: data, path: "x.npy")
            return "accepted"
        } catch {
            return String(describing: error)
        }
    }

    /// float32 (a float-input model's inputs) reads back the values NumPy wrote.
    @Test func readsLittleEndianFloat32() throws {
        let values: [Float] = [1.5, -0.25, 3.0e-8]
        let payload = values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
        let array = try NumPyArray(data: Self.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", payload: payload),
                                   path: "floats.npy")
        #expect(array.isFloat32 && array.floats(in: 0..<3) == values)
    }

    @Test func rejectsWhatItCannotRead() {
        #expect(error(Data("PK\u{3}\u{4}".utf8)).contains("not a NumPy .npy file"))
        #expect(error(Self.npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", payload: [0, 0, 0, 0, 0, 0, 0, 0]))
            .contains("dtype <f8 is not supported"))
        #expect(error(Self.npy("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", payload: [0, 0, 0, 0]))
            .contains("dtype >f4 is not supported"))
        #expect(error(Self.npy("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 2), }", payload: [1, 2, 3, 4]))
            .contains("Fortran-ordered"))
        #expect(error(Self.npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }", payload: [1, 2, 3]))
            .contains("holds 3 data bytes"))
        #expect(error(Self.npy("{'descr': '|u1', 'fortran_order': False, 'shape': (99999999999, 99999999999), }", payload: []))
            .contains("has too many elements"))
    }

    /// A folder holding `images` and `labels` as images.npy and labels.npy.
    static func folder(images: Data, labels: Data) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-npy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try images.write(to: url.appendingPathComponent("images.npy"))
        try labels.write(to: url.appendingPathComponent("labels.npy"))
        return url
    }

    static func datasetError(_ url: URL) -> String {
        do {
            let set = try LabelledDataset(contentsOf: url)
            for index in 0..<set.count { _ = try set.image(index) }
            return "accepted"
        } catch {
            return String(describing: error)
        }
    }

    @Test func hugeOrEmptyImageShapesAreRefusedNotTrapped() throws {
        let labels = Self.npy("{'descr': '<i8', 'fortran_order': False, 'shape': (0,), }", payload: [])
        for shape in ["(0, 1099511627776, 1099511627776, 1)", "(0, 0, 28, 1)", "(1099511627776, 1099511627776, 0, 1)"] {
            let images = Self.npy("{'descr': '|u1', 'fortran_order': False, 'shape': \(shape), }", payload: [])
            let url = try Self.folder(images: images, labels: labels)
            defer { try? FileManager.default.removeItem(at: url) }
            let message = Self.datasetError(url)
            #expect(message.contains("too large") || message.contains("must be at least 1"), "\(shape): \(message)")
        }
    }

    @Test func aDirectoryOrFIFOAsImagesIsNamedInWords() throws {
        let labels = Self.npy("{'descr': '<i8', 'fortran_order': False, 'shape': (0,), }", payload: [])
        let url = try Self.folder(images: Data(), labels: labels)
        defer { try? FileManager.default.removeItem(at: url) }
        let images = url.appendingPathComponent("images.npy")
        try FileManager.default.removeItem(at: images)
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: false)
        #expect(Self.datasetError(url).hasSuffix("images.npy: it is a directory"), "\(Self.datasetError(url))")
        try FileManager.default.removeItem(at: images)
        #expect(mkfifo(images.path, 0o600) == 0)
        #expect(Self.datasetError(url).hasSuffix("images.npy: it is a FIFO (named pipe)"), "\(Self.datasetError(url))")
    }

    @Test func imagesAreReadFromTheMappedFileOneAtATime() throws {
        let pixels = (0..<24).map { UInt8($0 * 10) }
        let images = Self.npy("{'descr': '|u1', 'fortran_order': False, 'shape': (3, 2, 2, 2), }", payload: pixels)
        let labels = Self.npy("{'descr': '<i2', 'fortran_order': False, 'shape': (3,), }", payload: [1, 0, 9, 0, 4, 0])
        let url = try Self.folder(images: images, labels: labels)
        defer { try? FileManager.default.removeItem(at: url) }
        let set = try LabelledDataset(contentsOf: url)
        #expect(set.count == 3 && set.labels == [1, 9, 4] && set.imageSize == 8)
        #expect(try set.image(1) == Array(pixels[8..<16]) && set.image(2) == Array(pixels[16..<24]))
    }

    /// Seeded mutations of a valid dataset: header fields (shape with overflowing, zero and
    /// negative dimensions, dtype, version, header length), truncation and random bytes. Each
    /// case is refused with a `DatasetError` or reads every image; a trap fails the run.
    @Test func mutatedArraysNeverTrap() throws {
        let pixels = (0..<(4 * 3 * 3 * 2)).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let header = "{'descr': '|u1', 'fortran_order': False, 'shape': (4, 3, 3, 2), }"
        let validImages = [UInt8](Self.npy(header, payload: pixels))
        let validLabels = [UInt8](Self.npy("{'descr': '<i8', 'fortran_order': False, 'shape': (4,), }",
                                           payload: (0..<4).flatMap { [UInt8($0), 0, 0, 0, 0, 0, 0, 0] }))
        let shapes = ["(4, 3, 3, 2)", "(0, 1099511627776, 1099511627776, 1)", "(9223372036854775807, 2, 1, 1)", "(4, -3, 3, 2)",
                      "(4, 3, 3)", "()", "(4, 3, 3, 2", "(4, 3, 3, 2, 1)", "(4, 0, 3, 2)", "(1, 72, 1, 1)", "(4, 3, 3, 9999999999999)"]
        let dtypes = ["|u1", "<u2", "|i1", "<f4", ">u8", "|u", "", "'|u1"]
        var random = SeededRandom(seed: 0x4E50_5900)
        var accepted = 0, refused = 0
        let directory = try Self.folder(images: Data(), labels: Data())
        defer { try? FileManager.default.removeItem(at: directory) }
        for _ in 0..<600 {
            var images = validImages, labels = validLabels
            switch random.next() % 5 {
            case 0:
                let shape = shapes[Int(random.next() % UInt64(shapes.count))]
                images = [UInt8](Self.npy("{'descr': '|u1', 'fortran_order': False, 'shape': \(shape), }", payload: pixels))
            case 1:
                let dtype = dtypes[Int(random.next() % UInt64(dtypes.count))]
                let target = random.next() % 2 == 0
                let text = "{'descr': '\(dtype)', 'fortran_order': False, 'shape': (4\(target ? ", 3, 3, 2" : ",")), }"
                if target { images = [UInt8](Self.npy(text, payload: pixels)) } else { labels = [UInt8](Self.npy(text, payload: Array(validLabels[64...]))) }
            case 2:
                images = Array(images.prefix(Int(random.next() % UInt64(images.count))))
            case 3:
                for _ in 0..<(1 + Int(random.next() % 6)) {
                    images[Int(random.next() % UInt64(images.count))] = UInt8(truncatingIfNeeded: random.next())
                }
            default:
                // Header length and version bytes.
                let index = [6, 7, 8, 9, 10, 11][Int(random.next() % 6)]
                images[index] = UInt8(truncatingIfNeeded: random.next())
                labels[Int(random.next() % 12)] = UInt8(truncatingIfNeeded: random.next())
            }
            try Data(images).write(to: directory.appendingPathComponent("images.npy"))
            try Data(labels).write(to: directory.appendingPathComponent("labels.npy"))
            if Self.datasetError(directory) == "accepted" { accepted += 1 } else { refused += 1 }
        }
        #expect(accepted > 20 && refused > 200, "accepted \(accepted), refused \(refused)")
    }
}
