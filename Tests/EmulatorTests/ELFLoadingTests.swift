import Emulator
import Foundation
import Quantization
import Testing

/// Malformed ELF files are rejected with an `ELFError` (or, if they parse, fail to run with an
/// `EmulatorError`) and never crash MixQ. Each case starts from a real firmware image and breaks
/// one field, at offsets taken from the ELF32 specification (System V ABI, chapter 4).
@Suite struct ELFLoadingTests {
    static func validBytes() throws -> [UInt8] {
        let built = try FirmwareFixtures.toolchain().build(.testProgram("hello"))
        return [UInt8](try Data(contentsOf: built.elf))
    }

    private func expectELFError(_ bytes: [UInt8], _ check: (ELFError) -> Bool, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try ELFImage(bytes: bytes)
            Issue.record("malformed ELF was accepted", sourceLocation: sourceLocation)
        } catch let error as ELFError {
            #expect(check(error), "unexpected error: \(error)", sourceLocation: sourceLocation)
            #expect(!error.description.isEmpty)
        } catch {
            Issue.record("unexpected error type: \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func validImageParses() throws {
        let image = try ELFImage(bytes: Self.validBytes())
        #expect(image.entry & 1 == 1, "Thumb entry point")
        #expect(image.symbol(named: "main") != nil)
        #expect(image.segments.contains { $0.physicalAddress == 0x0800_0000 })
    }

    @Test(arguments: [0, 3, 40, 51, 52, 60, 200, 1000])
    func truncatedFilesAreRejected(length: Int) throws {
        let bytes = try Self.validBytes()
        expectELFError(Array(bytes.prefix(length))) { error in
            switch error {
            case .tooSmall, .truncated, .notELF, .malformed: return true
            default: return false
            }
        }
    }

    @Test func fileCutBeforeItsSectionTableIsRejected() throws {
        let bytes = try Self.validBytes()
        expectELFError(Array(bytes.prefix(bytes.count - 1))) { if case .truncated = $0 { return true } else { return false } }
    }

    @Test func wrongMachineIsNamed() throws {
        var bytes = try Self.validBytes()
        bytes[18] = 62; bytes[19] = 0  // e_machine = EM_X86_64
        expectELFError(bytes) { $0 == .notARM(machine: 62) }
        #expect(ELFError.notARM(machine: 62).description.contains("x86-64"))
    }

    @Test func wrongClassIsRejected() throws {
        var bytes = try Self.validBytes()
        bytes[4] = 2  // EI_CLASS = ELFCLASS64
        expectELFError(bytes) { $0 == .notClass32(found: 2) }
    }

    @Test func bigEndianAndNonExecutableAreRejected() throws {
        var bigEndian = try Self.validBytes()
        bigEndian[5] = 2
        expectELFError(bigEndian) { $0 == .notLittleEndian }
        var relocatable = try Self.validBytes()
        relocatable[16] = 1  // ET_REL
        expectELFError(relocatable) { $0 == .notExecutable(type: 1) }
    }

    @Test func randomBytesAreNotELF() {
        var generator = SeededRandom(seed: 7)
        for length in [10, 52, 4096] {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            expectELFError(bytes) { $0 == .notELF }
        }
    }

    @Test func absurdSegmentSizesAreRejected() throws {
        let valid = try Self.validBytes()
        let programHeaders = Int(readWord(valid, 28))
        // The first PT_LOAD: p_filesz at +16, p_memsz at +20.
        var hugeMemory = valid
        writeWord(&hugeMemory, programHeaders + 20, 0xFFFF_FF00)
        expectELFError(hugeMemory) { if case .malformed = $0 { return true } else { return false } }

        var hugeFile = valid
        writeWord(&hugeFile, programHeaders + 16, 0x7FFF_FFFF)
        writeWord(&hugeFile, programHeaders + 20, 0x7FFF_FFFF)
        expectELFError(hugeFile) { if case .truncated = $0 { return true } else { return false } }

        // Parses (the bytes exist) but cannot be placed: 1 GiB of memory at the FLASH address.
        var tooBigForThePart = valid
        writeWord(&tooBigForThePart, programHeaders + 20, 0x4000_0000)
        let image = try ELFImage(bytes: tooBigForThePart)
        #expect(throws: EmulatorError.self) { try Machine(part: .stm32h743).run(image) }
    }

    /// Seeded byte flips of a real image: every outcome is an error or a run, never a crash.
    @Test func mutatedImagesNeverCrash() throws {
        let valid = try Self.validBytes()
        var generator = SeededRandom(seed: 2026)
        let machine = try Machine(part: .stm32h743)
        var rejected = 0
        for _ in 0..<150 {
            var bytes = valid
            for _ in 0..<4 {
                // Bias flips toward the headers, where the parser makes decisions.
                let limit = generator.next() % 2 == 0 ? min(bytes.count, 4096) : bytes.count
                let offset = Int(generator.next() % UInt64(limit))
                bytes[offset] = UInt8(truncatingIfNeeded: generator.next())
            }
            do {
                let image = try ELFImage(bytes: bytes)
                _ = try machine.run(image, options: RunOptions(maxInstructions: 2_000_000))
            } catch {
                rejected += 1
            }
        }
        #expect(rejected > 0)
    }
}

private func readWord(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
    UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
}

private func writeWord(_ bytes: inout [UInt8], _ offset: Int, _ value: UInt32) {
    for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
}
