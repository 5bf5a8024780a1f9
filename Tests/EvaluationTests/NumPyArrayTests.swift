import Foundation
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

    @Test func rejectsWhatItCannotRead() {
        #expect(error(Data("PK\u{3}\u{4}".utf8)).contains("not a NumPy .npy file"))
        #expect(error(Self.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", payload: [0, 0, 0, 0]))
            .contains("dtype <f4 is not supported"))
        #expect(error(Self.npy("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 2), }", payload: [1, 2, 3, 4]))
            .contains("Fortran-ordered"))
        #expect(error(Self.npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }", payload: [1, 2, 3]))
            .contains("holds 3 data bytes"))
        #expect(error(Self.npy("{'descr': '|u1', 'fortran_order': False, 'shape': (99999999999, 99999999999), }", payload: []))
            .contains("needs too many"))
    }
}
