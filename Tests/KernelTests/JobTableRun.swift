import Emulator
import Quantization
import Testing

/// The parts of a job-table kernel test that do not depend on the family (firmware/tests/kernel_tfl.c
/// and kernel_graph.c): tensors placed in one arena, the table and the arena written before reset,
/// the table read back, every output compared byte for byte with the bytes after it untouched.
struct JobTableRun {
    static let guardBytes = 8
    static let guardPattern: UInt8 = 0xA5

    /// The arena's bytes, each tensor at a 32-byte boundary.
    private(set) var arena: [UInt8] = []

    /// Appends `bytes` at the next 32-byte boundary; returns their offset.
    mutating func place(_ bytes: [UInt8]) -> UInt32 {
        while arena.count % 32 != 0 { arena.append(0) }
        let offset = arena.count
        arena += bytes
        return UInt32(offset)
    }

    /// An output of `count` bytes followed by guard bytes, all holding the guard pattern.
    mutating func placeOutput(count: Int) -> UInt32 {
        place([UInt8](repeating: Self.guardPattern, count: count + Self.guardBytes))
    }

    /// A geometry as the job tables store it (`mixq_conv_shape`'s fields in order): in_h, in_w,
    /// in_c, out_h, out_w, out_c, kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left.
    static func shapeWords(_ g: ConvolutionGeometry) -> [UInt32] {
        [g.inputHeight, g.inputWidth, g.inputChannels, g.outputHeight, g.outputWidth, g.outputChannels, g.kernelHeight,
         g.kernelWidth, g.strideHeight, g.strideWidth, g.padTop, g.padLeft].map { UInt32($0) }
    }

    /// Little-endian bytes of `values`.
    static func littleEndian<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        values.flatMap { v in (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: v >> ($0 * 8)) } }
    }

    /// What a run left behind: the machine (to read outputs) and the table as the firmware rewrote it.
    struct Outcome {
        var machine: Machine
        var table: [UInt8]
        var arenaAddress: UInt32

        /// The little-endian word at byte `offset` of the table.
        func word(at offset: Int) -> UInt32 {
            UInt32(table[offset]) | UInt32(table[offset + 1]) << 8 | UInt32(table[offset + 2]) << 16 | UInt32(table[offset + 3]) << 24
        }

        /// Compares the output at arena offset `output` with `expected` and checks its guard bytes.
        func check(output: UInt32, expected: [UInt8], label: String) throws {
            let bytes = try machine.readMemory(at: arenaAddress + output, count: expected.count + JobTableRun.guardBytes)
            #expect(bytes[expected.count...].allSatisfy { $0 == JobTableRun.guardPattern }, "wrote past the output: \(label)")
            let got = Array(bytes[..<expected.count])
            if got != expected {
                let bad = zip(got, expected).enumerated().filter { $0.element.0 != $0.element.1 }
                let first = bad.prefix(4).map { "[\($0.offset)] got \($0.element.0) want \($0.element.1)" }
                Issue.record("\(bad.count) of \(expected.count) output bytes differ (\(first.joined(separator: ", "))): \(label)")
            }
        }
    }

    /// Writes `table` at the symbol `tableSymbol` and the arena at `arenaSymbol` of `image`, runs it
    /// on the emulated STM32H743 and reads the table back; nil (with the issue recorded) when the
    /// arena is too large or a symbol is missing.
    func run(_ image: ELFImage, table: [UInt8], tableSymbol: String, arenaSymbol: String, arenaBytes: Int) throws -> Outcome? {
        guard arena.count <= arenaBytes else {
            Issue.record("\(arena.count) bytes of tensors exceed the \(arenaBytes)-byte arena")
            return nil
        }
        guard let tableAddress = image.symbol(named: tableSymbol)?.address, let arenaAddress = image.symbol(named: arenaSymbol)?.address else {
            Issue.record("the firmware lacks \(tableSymbol) or \(arenaSymbol)")
            return nil
        }
        let machine = try Machine(part: .stm32h743)
        let result = try machine.run(image, options: RunOptions(maxInstructions: 4_000_000_000), inputs: [
            MemoryWrite(address: tableAddress, bytes: table),
            MemoryWrite(address: arenaAddress, bytes: arena),
        ])
        #expect(result.exitStatus == 0, "the firmware exited with \(result.exitStatus): \(result.stdout)\(result.stderr)")
        return Outcome(machine: machine, table: try machine.readMemory(at: tableAddress, count: table.count), arenaAddress: arenaAddress)
    }
}
