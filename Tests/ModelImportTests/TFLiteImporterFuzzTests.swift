import Deployment
import Foundation
import ModelImport
import Planning
import Quantization
import Testing

/// Damaged TFLite files through the whole import path (reader, graph builder, the file's
/// integer network, one host-reference inference): every one either imports or gives an error,
/// never a trap. Seeded, so a failure reproduces.
@Suite struct TFLiteImporterFuzzTests {
    static let files = ["conv_10x4_s2_same_int8", "add_two_scales_int8", "dwconv_mult8_int8", "pad_valid_conv_int8",
                        "softmax_end_int8", "mobilenet_like_uint8_qat"]

    /// Imports, plans, quantizes and runs `bytes`; returns whether it got through.
    static func exercise(_ bytes: [UInt8]) -> Bool {
        do {
            let imported = try TFLiteImporter.importModel(bytes: bytes, path: "fuzzed.tflite")
            let plan = try Deployer.plan(imported.network, model: imported.model, budget: MemoryBudget(flash: 1 << 30, ram: 1 << 30),
                                         scheme: .int8, flavour: nil)
            let network = try QuantizedNetwork.quantize(imported.model, plan: plan)
            // Only small networks run: a mutation may make a shape large but legal.
            guard imported.network.multiplyAccumulates < 5_000_000 else { return true }
            _ = try HostReference.run(network, pixels: [UInt8](repeating: 128, count: imported.network.input.elementCount))
            return true
        } catch {
            #expect(!"\(error)".isEmpty)
            return false
        }
    }

    @Test(arguments: files)
    func mutatedFilesNeverTrap(file: String) throws {
        let url = TFLiteImporterTests.directory.appendingPathComponent("\(file).tflite")
        let original = [UInt8](try Data(contentsOf: url))
        #expect(Self.exercise(original))
        var random = SeededRandom(seed: 0x7F1_17E)
        var imported = 0
        for round in 0..<300 {
            var bytes = original
            let flips = 1 + round % 8
            for _ in 0..<flips {
                let position = Int(random.unit() * Double(bytes.count)) % bytes.count
                switch round % 3 {
                case 0: bytes[position] = UInt8(truncatingIfNeeded: Int(random.unit() * 256))
                case 1: bytes[position] ^= 0x80
                default: bytes[position] = [0x00, 0xFF, 0x7F, 0x80][round % 4]
                }
            }
            if Self.exercise(bytes) { imported += 1 }
        }
        // Most single-byte damage lands in weights, which import fine; some must be refused.
        #expect(imported > 0 && imported < 300, "\(file): \(imported) of 300 mutations imported")
    }

    @Test func truncationsNeverTrap() throws {
        let original = [UInt8](try Data(contentsOf: TFLiteImporterTests.directory.appendingPathComponent("add_two_scales_int8.tflite")))
        for length in stride(from: 0, to: original.count, by: 7) {
            #expect(!Self.exercise(Array(original.prefix(length))), "a \(length)-byte prefix imported")
        }
    }
}
