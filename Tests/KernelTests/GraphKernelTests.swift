import Emulator
import FirmwareBuild
import Foundation
import Quantization
import Testing

/// firmware/kernels/add.c and window_pool.c (MixQ's arithmetic for graph steps) on the emulated
/// STM32H743, optimised and plain paths, byte for byte against ReferenceLayers.add and
/// ReferenceLayers.windowPool (Tests/QuantizationTests/GraphLayersTests.swift works examples of
/// both by hand). Every bit combination of inputs and output is covered.
@Suite struct GraphKernelTests {
    @Test func addMatchesTheReferenceForEveryBitCombination() throws {
        var rng = SeededRandom(seed: 0xADD5)
        var cases: [GraphCase] = []
        let widths: [BitWidth] = [.eight, .four, .two]
        var index = 0
        for a in widths {
            for b in widths {
                for y in widths {
                    // Odd counts end inside a packed byte; large ones run the 8-bit word loop.
                    let count = [1, 7, 37, 300][index % 4] + Int(rng.next() % 5)
                    cases.append(try .add(count: count, bits: (a, b, y), style: index, rng: &rng))
                    index += 1
                }
            }
        }
        try GraphKernelRun.check(cases)
    }

    @Test func windowPoolingMatchesTheReference() throws {
        var rng = SeededRandom(seed: 0x9001)
        var cases: [GraphCase] = []
        let widths: [BitWidth] = [.eight, .four, .two]
        var index = 0
        for input in widths {
            for output in widths {
                for kind in [WindowPoolParameters.Kind.average, .maximum] {
                    let window = [(2, 2), (3, 3), (3, 2), (1, 5)][index % 4], stride = [(2, 2), (2, 1), (1, 1), (1, 3)][index % 4]
                    let pad = index % 3 == 0 ? (0, 0, 0, 0) : (window.0 / 2, window.1 / 2, (window.0 - 1) / 2, (window.1 - 1) / 2)
                    let channels = 1 + Int(rng.next() % 11)
                    let g = try ConvolutionGeometry(
                        inputHeight: window.0 + Int(rng.next() % 6), inputWidth: window.1 + Int(rng.next() % 6),
                        inputChannels: channels, outputChannels: channels, kernelHeight: window.0, kernelWidth: window.1,
                        strideHeight: stride.0, strideWidth: stride.1, padTop: pad.0, padLeft: pad.1, padBottom: pad.2,
                        padRight: pad.3)
                    cases.append(try .pool(kind, geometry: g, bits: (input, output), style: index, rng: &rng))
                    index += 1
                }
            }
        }
        // A residual-network size: 16x16x32 at 8 bits, 3x3 stride 2 SAME.
        let large = try ConvolutionGeometry(inputHeight: 16, inputWidth: 16, inputChannels: 32, outputChannels: 32, kernelHeight: 3,
                                            kernelWidth: 3, strideHeight: 2, strideWidth: 2, padTop: 0, padLeft: 0,
                                            padBottom: 1, padRight: 1)
        cases.append(try .pool(.average, geometry: large, bits: (.eight, .eight), style: 2, rng: &rng))
        cases.append(try .pool(.maximum, geometry: large, bits: (.four, .four), style: 2, rng: &rng))
        try GraphKernelRun.check(cases)
    }
}

/// One kernel call with its packed inputs and the Swift reference's packed output.
struct GraphCase: CustomStringConvertible {
    enum Op: UInt32 { case add = 0, pool }

    var op: Op
    var geometry: ConvolutionGeometry
    var bits: [BitWidth]   // input(s), then output
    var zeros: [Int]       // input(s), then output
    var outputRange: ClosedRange<Int>
    var maximum = false
    var addMultipliers: (Int32, Int32) = (0, 0)
    var addShift = 0
    var poolMultipliers: [FixedPointMultiplier] = []
    var input: [UInt8]
    var input2: [UInt8] = []
    var expected: [UInt8]

    var description: String {
        let g = geometry
        return "\(op)\(maximum ? " max" : "") bits \(bits.map(\.bits)) zeros \(zeros) \(g.inputHeight)x\(g.inputWidth)x\(g.inputChannels) -> "
            + "\(g.outputHeight)x\(g.outputWidth) k\(g.kernelHeight)x\(g.kernelWidth) s\(g.strideHeight)x\(g.strideWidth) "
            + "pad\(g.padTop),\(g.padLeft),\(g.padBottom),\(g.padRight) range \(outputRange)"
    }

    /// Codes at `bits`: style 0 all at the bottom, 1 all at the top, otherwise random.
    static func codes(_ count: Int, bits: BitWidth, style: Int, rng: inout SeededRandom) -> [Int] {
        (0..<count).map { _ in style == 0 ? 0 : style == 1 ? bits.maxUnsigned : Int(rng.next() % UInt64(bits.maxUnsigned + 1)) }
    }

    static func zero(_ bits: BitWidth, rng: inout SeededRandom) -> Int { Int(rng.next() % UInt64(bits.maxUnsigned + 1)) }

    /// The clamp of style's activation: none, ReLU (from the zero point) or a ReLU6-like top.
    static func range(zero: Int, bits: BitWidth, style: Int) -> ClosedRange<Int> {
        switch style % 3 {
        case 1: return zero...bits.maxUnsigned
        case 2: return zero...max(zero, bits.maxUnsigned - bits.maxUnsigned / 4)
        default: return 0...bits.maxUnsigned
        }
    }

    static func add(count: Int, bits: (BitWidth, BitWidth, BitWidth), style: Int, rng: inout SeededRandom) throws -> GraphCase {
        let z1 = zero(bits.0, rng: &rng), z2 = zero(bits.1, rng: &rng), zy = zero(bits.2, rng: &rng)
        // Ratios from 0.05 to about 20 (sub-byte inputs feeding an 8-bit output scale up).
        let p = try AddParameters.scaled(input1Scale: 0.01 + rng.unit() * 0.5, input1ZeroPoint: z1, input1Bits: bits.0,
                                         input2Scale: 0.01 + rng.unit() * 0.5, input2ZeroPoint: z2, input2Bits: bits.1,
                                         outputScale: 0.02 + rng.unit() * 0.3, outputZeroPoint: zy, outputBits: bits.2,
                                         outputRange: range(zero: zy, bits: bits.2, style: style))
        let a = codes(count, bits: bits.0, style: style, rng: &rng), b = codes(count, bits: bits.1, style: style + 2, rng: &rng)
        let g = try ConvolutionGeometry(inputHeight: 1, inputWidth: 1, inputChannels: count, outputChannels: count,
                                        kernelHeight: 1, kernelWidth: 1)
        return GraphCase(op: .add, geometry: g, bits: [bits.0, bits.1, bits.2], zeros: [z1, z2, zy], outputRange: p.outputRange,
                         addMultipliers: (p.input1Multiplier, p.input2Multiplier), addShift: p.shift,
                         input: try BitPacking.pack(a, bits: bits.0), input2: try BitPacking.pack(b, bits: bits.1),
                         expected: try BitPacking.pack(try ReferenceLayers.add(a, b, parameters: p), bits: bits.2))
    }

    static func pool(_ kind: WindowPoolParameters.Kind, geometry g: ConvolutionGeometry, bits: (BitWidth, BitWidth), style: Int,
                     rng: inout SeededRandom) throws -> GraphCase {
        let zx = zero(bits.0, rng: &rng), zy = zero(bits.1, rng: &rng)
        let p = try WindowPoolParameters.scaled(kind: kind, windowPositions: g.kernelHeight * g.kernelWidth,
                                                inputScale: 0.01 + rng.unit() * 0.5, inputZeroPoint: zx, inputBits: bits.0,
                                                outputScale: 0.02 + rng.unit() * 0.3, outputZeroPoint: zy, outputBits: bits.1,
                                                outputRange: range(zero: zy, bits: bits.1, style: style))
        let x = codes(g.inputElements, bits: bits.0, style: style, rng: &rng)
        return GraphCase(op: .pool, geometry: g, bits: [bits.0, bits.1], zeros: [zx, zy], outputRange: p.outputRange,
                         maximum: kind == .maximum, poolMultipliers: p.multipliers, input: try BitPacking.pack(x, bits: bits.0),
                         expected: try BitPacking.pack(try ReferenceLayers.windowPool(input: x, geometry: g, parameters: p),
                                                       bits: bits.1))
    }
}

/// Lays the cases out for firmware/tests/kernel_graph.c (33 words per job, `graph_job`), runs them
/// on the emulated STM32H743 and compares every output byte; the firmware is built once per run.
enum GraphKernelRun {
    static let maxJobs = 128
    static let arenaBytes = 440 * 1024
    static let wordsPerJob = 33

    static func image() throws -> ELFImage {
        let spec = FirmwareSpec(name: "kernel_graph", sources: ["tests/kernel_graph.c", "kernels/add.c", "kernels/window_pool.c"],
                                includeDirectories: ["kernels"])
        return try ELFImage(contentsOf: Toolchain.locate().build(spec).elf)
    }

    static func check(_ cases: [GraphCase]) throws {
        var jobs: [(GraphCase, UInt32)] = []
        for c in cases { jobs += [(c, 0), (c, 1)] }   // optimised, plain
        let image = try image()
        var start = 0
        while start < jobs.count {
            let end = min(start + maxJobs, jobs.count)
            try run(Array(jobs[start..<end]), image: image)
            start = end
        }
    }

    static func run(_ jobs: [(GraphCase, UInt32)], image: ELFImage) throws {
        var layout = JobTableRun()
        var table = JobTableRun.littleEndian([UInt32(jobs.count)])
        var outputs: [UInt32] = []
        for (c, path) in jobs {
            let g = c.geometry
            let input = layout.place(c.input), input2 = layout.place(c.input2)
            let multiplier = layout.place(JobTableRun.littleEndian(c.poolMultipliers.map(\.multiplier)))
            let shifts = layout.place(JobTableRun.littleEndian(c.poolMultipliers.map { Int8($0.shift) }))
            let output = layout.placeOutput(count: c.expected.count)
            outputs.append(output)
            let inputBits = c.bits[0], input2Bits = c.op == .add ? c.bits[1] : c.bits[0], outputBits = c.bits[c.bits.count - 1]
            let input2Zero = c.op == .add ? c.zeros[1] : 0, outputZero = c.zeros[c.zeros.count - 1]
            let words: [UInt32] = [c.op.rawValue, path] + JobTableRun.shapeWords(g) + [
                UInt32(inputBits.bits), UInt32(input2Bits.bits), UInt32(outputBits.bits),
                UInt32(c.zeros[0]), UInt32(input2Zero), UInt32(outputZero),
                UInt32(c.outputRange.lowerBound), UInt32(c.outputRange.upperBound), c.maximum ? 1 : 0,
                UInt32(bitPattern: c.addMultipliers.0), UInt32(bitPattern: c.addMultipliers.1), UInt32(c.addShift),
                input, input2, multiplier, shifts, output,
                0xDEAD_BEEF, 0,
            ]
            table += JobTableRun.littleEndian(words)
        }
        guard let outcome = try layout.run(image, table: table, tableSymbol: "graph_jobs", arenaSymbol: "graph_arena",
                                           arenaBytes: arenaBytes) else { return }
        for (index, (c, path)) in jobs.enumerated() {
            let status = Int32(bitPattern: outcome.word(at: 4 + index * wordsPerJob * 4 + 31 * 4))
            let label = "\(path == 0 ? "optimised" : "plain") \(c)"
            #expect(status == 0, "status \(status): \(label)")
            try outcome.check(output: outputs[index], expected: c.expected, label: label)
        }
    }
}
