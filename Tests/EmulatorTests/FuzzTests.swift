import Emulator
import Foundation
import Quantization
import Testing

/// Bounded, seeded fuzzing that CI runs on every change: thousands of damaged ELF files through
/// the loader and a short emulator run, and random semihosting calls with random parameter
/// blocks (firmware/tests/semihosting_fuzz.c). Every case must end in a run result or a typed
/// error (`ELFError`, `EmulatorError`); a crash or hang of the host fails the whole test run.
/// Seeds are fixed, so a failure reproduces exactly.
@Suite struct FuzzTests {
    /// What the mutated cases ended in.
    struct Outcomes: CustomStringConvertible {
        var rejected = 0, ran = 0, faulted = 0, budget = 0, otherEmulatorError = 0, outputLimit = 0
        /// Emulator errors other than faults, budget and output limit, by case name.
        var others: [String: Int] = [:]

        var total: Int { rejected + ran + faulted + budget + otherEmulatorError + outputLimit }
        var description: String {
            "\(total) cases: \(rejected) rejected by the loader, \(ran) ran to exit, \(faulted) faulted, "
                + "\(budget) hit the budget, \(outputLimit) hit the output limit, \(otherEmulatorError) other emulator errors "
                + "\(others.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))"
        }

        mutating func record(_ body: () throws -> Void) {
            do {
                try body()
                ran += 1
            } catch is ELFError {
                rejected += 1
            } catch let error as EmulatorError {
                switch error {
                case .fault: faulted += 1
                case .instructionBudgetExhausted: budget += 1
                case .outputLimitExceeded: outputLimit += 1
                case .engine:
                    // Unicorn refusing an operation is a MixQ bug, never the firmware's doing.
                    Issue.record("engine error: \(error)")
                default:
                    otherEmulatorError += 1
                    others[String(describing: error).prefix(while: { $0 != " " }).description, default: 0] += 1
                }
            } catch {
                Issue.record("untyped error: \(error)")
            }
        }
    }

    static let caseCount = 5_000
    static let budget: UInt64 = 20_000

    @Test func mutatedELFFilesNeverCrashTheLoaderOrTheEmulator() throws {
        let built = try FirmwareFixtures.toolchain().build(.testProgram("exit_status"))
        let valid = [UInt8](try Data(contentsOf: built.elf))
        let layout = try ELFLayout(valid)
        var random = SeededRandom(seed: 0x4D69_7851)
        var outcomes = Outcomes()
        let machine = try Machine(part: .stm32h743)
        let options = RunOptions(maxInstructions: Self.budget, maxOutputBytes: 64 << 10, outputTailBytes: 4096)
        let started = ContinuousClock.now
        for _ in 0..<Self.caseCount {
            let bytes = layout.mutate(valid, &random)
            outcomes.record {
                let image = try ELFImage(bytes: bytes)
                _ = SizeReport(image: image, part: .stm32h743)
                for symbol in image.symbols.prefix(8) { _ = image.describe(address: symbol.address &+ 1) }
                _ = try machine.run(image, options: options)
            }
        }
        let elapsed = ContinuousClock.now - started
        print("ELF fuzz: \(outcomes) in \(elapsed)")
        #expect(outcomes.total == Self.caseCount)
        #expect(outcomes.rejected > 0 && outcomes.ran > 0 && outcomes.faulted > 0, "\(outcomes)")
    }

    @Test func randomBytesAreRejected() {
        var random = SeededRandom(seed: 99)
        for index in 0..<2_000 {
            var bytes = (0..<Int(random.next() % 600)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if index % 2 == 0 && bytes.count >= 52 {
                // A plausible ELF32 ARM header over random tables.
                bytes.replaceSubrange(0..<20, with: [0x7F, 0x45, 0x4C, 0x46, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 40, 0])
            }
            do {
                _ = try ELFImage(bytes: bytes)
            } catch is ELFError {
            } catch {
                Issue.record("untyped error: \(error)")
            }
        }
    }

    @Test func randomSemihostingCallsNeverCrashTheHost() throws {
        let image = try FirmwareFixtures.image("semihosting_fuzz")
        let seedAddress = try #require(image.symbol(named: "fuzz_seed")).address
        let machine = try Machine(part: .stm32h743)
        var outcomes = Outcomes()
        let options = RunOptions(maxInstructions: 2_000_000, maxOutputBytes: 256 << 10, outputTailBytes: 4096)
        let seeds = 400
        let started = ContinuousClock.now
        for seed in 1...seeds {
            let bytes = (0..<4).map { UInt8(truncatingIfNeeded: UInt32(truncatingIfNeeded: seed &* 2_654_435_761) >> (8 * UInt32($0))) }
            outcomes.record {
                _ = try machine.run(image, options: options, inputs: [MemoryWrite(address: seedAddress, bytes: bytes)])
            }
            if seed % 20 == 0 {
                var timed = options
                timed.timing = .pipeline
                outcomes.record {
                    _ = try machine.run(image, options: timed, inputs: [MemoryWrite(address: seedAddress, bytes: bytes)])
                }
            }
        }
        let elapsed = ContinuousClock.now - started
        print("semihosting fuzz: \(outcomes) in \(elapsed)")
        #expect(outcomes.rejected == 0)
        #expect(outcomes.ran > 0 && outcomes.faulted > 0, "\(outcomes)")
    }

    /// Code never seen before is not slow: running through zero-filled FLASH (what a damaged
    /// image or a wild jump does) under the pipeline model decodes one block and reuses it.
    @Test func zeroFilledFlashRunsAtSpeed() throws {
        let built = try FirmwareFixtures.toolchain().build(.testProgram("exit_status"))
        var bytes = [UInt8](try Data(contentsOf: built.elf))
        let layout = try ELFLayout(bytes)
        let reset = try #require(layout.fileOffset(ofAddress: 0x0800_0004))
        for i in 0..<4 { bytes[reset + i] = UInt8(truncatingIfNeeded: UInt32(0x0810_0001) >> (8 * UInt32(i))) }
        let image = try ELFImage(bytes: bytes)
        for options in [RunOptions(maxInstructions: 200_000, timing: .off), RunOptions(maxInstructions: 200_000, timing: .pipeline),
                        RunOptions(maxInstructions: 200_000, timing: .full)] {
            let timing = options.timing
            let started = ContinuousClock.now
            do {
                _ = try Machine(part: .stm32h743).run(image, options: options)
                Issue.record("zero-filled FLASH ran to an exit")
            } catch let EmulatorError.instructionBudgetExhausted(budget, pc, _) {
                #expect(budget == 200_000)
                #expect(pc > 0x0810_0000 && pc < 0x0820_0000, "still in the zeros")
            }
            let seconds = Double((ContinuousClock.now - started).components.attoseconds) * 1e-18
                + Double((ContinuousClock.now - started).components.seconds)
            print("zero-filled FLASH, timing \(timing): 200000 instructions in \(String(format: "%.3f", seconds)) s = \(String(format: "%.2f", 0.2 / seconds)) MIPS")
        }
    }
}

/// Where the fields of an ELF32 file are (System V ABI, chapter 4, "ELF Header", "Program
/// Header", "Section Header"), for mutations that hit the parser's decisions.
struct ELFLayout {
    var programHeaders: [Int] = []
    var sectionHeaders: [Int] = []
    /// (file offset, size) of each PT_LOAD's bytes, with its physical address.
    var segments: [(offset: Int, size: Int, address: UInt32)] = []

    init(_ bytes: [UInt8]) throws {
        func word(_ offset: Int) -> Int { Int(UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24) }
        func half(_ offset: Int) -> Int { Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 }
        let phoff = word(28), phnum = half(44), shoff = word(32), shnum = half(48)
        programHeaders = (0..<phnum).map { phoff + 32 * $0 }
        sectionHeaders = (0..<shnum).map { shoff + 40 * $0 }
        for header in programHeaders where word(header) == 1 {
            segments.append((word(header + 4), word(header + 16), UInt32(word(header + 12))))
        }
    }

    func fileOffset(ofAddress address: UInt32) -> Int? {
        segments.first { address >= $0.address && Int(address - $0.address) < $0.size }.map { $0.offset + Int(address - $0.address) }
    }

    static let interesting: [UInt32] = [0, 1, 2, 3, 4, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF,
                                        0xFFFF_FFFE, 0x0800_0000, 0x0820_0000, 0x2000_0000, 0x2400_0000, 0xE000_0000]

    func mutate(_ valid: [UInt8], _ random: inout SeededRandom) -> [UInt8] {
        var bytes = valid
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        func value(near size: Int) -> UInt32 {
            random.next() % 3 == 0 ? UInt32(truncatingIfNeeded: size) &+ UInt32(truncatingIfNeeded: Int(random.next() % 5) - 2)
                : random.next() % 2 == 0 ? pick(Self.interesting) : UInt32(truncatingIfNeeded: random.next())
        }
        func put(_ offset: Int, _ value: UInt32, width: Int = 4) {
            guard offset >= 0 && offset + width <= bytes.count else { return }
            for i in 0..<width { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
        }
        let mutations = 1 + Int(random.next() % 3)
        for _ in 0..<mutations {
            switch random.next() % 8 {
            case 0:  // ELF header field
                let field = pick([(16, 2), (18, 2), (24, 4), (28, 4), (32, 4), (42, 2), (44, 2), (46, 2), (48, 2), (50, 2)])
                put(field.0, value(near: bytes.count), width: field.1)
            case 1 where !programHeaders.isEmpty:  // program header field
                put(pick(programHeaders) + 4 * Int(random.next() % 8), value(near: bytes.count))
            case 2 where !sectionHeaders.isEmpty:  // section header field
                put(pick(sectionHeaders) + 4 * Int(random.next() % 10), value(near: bytes.count))
            case 3:  // truncation
                bytes = Array(bytes.prefix(Int(random.next() % UInt64(bytes.count))))
            case 4 where !segments.isEmpty:  // vector table: initial SP or reset vector
                if let base = fileOffset(ofAddress: 0x0800_0000) {
                    put(base + 4 * Int(random.next() % 2), random.next() % 2 == 0
                        ? 0x0800_0001 | UInt32(truncatingIfNeeded: random.next() % 0x20_0000) : UInt32(truncatingIfNeeded: random.next()))
                }
            case 5 where !segments.isEmpty:  // code and data bytes: random instructions run
                let segment = pick(segments)
                if segment.size > 0 {
                    for _ in 0..<(1 + Int(random.next() % 16)) {
                        put(segment.offset + Int(random.next() % UInt64(segment.size)), UInt32(truncatingIfNeeded: random.next()), width: 1)
                    }
                }
            default:  // byte flips, biased toward the first 4 KiB
                for _ in 0..<(1 + Int(random.next() % 8)) {
                    let limit = random.next() % 2 == 0 ? min(bytes.count, 4096) : bytes.count
                    guard limit > 0 else { break }
                    bytes[Int(random.next() % UInt64(limit))] = UInt8(truncatingIfNeeded: random.next())
                }
            }
        }
        return bytes
    }
}
