import Emulator
import FirmwareBuild
import Foundation
import Quantization
import Testing

/// firmware/kernels/tfl_*.c (TFLite arithmetic) on the emulated STM32H743, both paths, byte for
/// byte against the Swift reference (ReferenceLayers with RequantizationParameters.tflite, and
/// TFLiteLayers), which Tests/QuantizationTests/TFLiteVectorTests.swift checks against LiteRT.
@Suite struct TFLiteKernelTests {
    @Test func convolutionsAndFullyConnectedMatchTheReference() throws {
        var rng = SeededRandom(seed: 0x7F11)
        var cases: [TFLiteCase] = []
        for index in 0..<24 {
            let type: TFLiteTensorType = index % 3 == 2 ? .uint8 : .int8
            let kernelHeight = [1, 3, 10, 5, 2][index % 5], kernelWidth = [1, 3, 4, 3, 1][index % 5]
            let inputHeight = kernelHeight + Int(rng.next() % 6), inputWidth = kernelWidth + Int(rng.next() % 6)
            let channels = 1 + Int(rng.next() % 9), outputs = 1 + Int(rng.next() % 9)
            let g = try ConvolutionGeometry.tflite(
                inputHeight: inputHeight, inputWidth: inputWidth, inputChannels: channels, outputChannels: outputs,
                kernelHeight: kernelHeight, kernelWidth: kernelWidth, strideHeight: 1 + Int(rng.next() % 2),
                strideWidth: 1 + Int(rng.next() % 3), padding: index % 2 == 0 ? .same : .valid)
            cases.append(try .layer(.convolution, type: type, geometry: g, style: index, rng: &rng))
        }
        // Fully connected: per-tensor and per-channel, long rows (large accumulators), odd lengths.
        for (index, (inputs, outputs)) in [(37, 10), (640, 16), (5, 3), (1, 7), (1024, 12), (250, 1)].enumerated() {
            let g = try ConvolutionGeometry(inputHeight: 1, inputWidth: 1, inputChannels: inputs, outputChannels: outputs,
                                            kernelHeight: 1, kernelWidth: 1)
            cases.append(try .layer(.fullyConnected, type: index % 2 == 0 ? .int8 : .uint8, geometry: g, style: index,
                                    rng: &rng))
        }
        try TFLiteKernelRun.check(cases)
    }

    @Test func depthwiseWithDepthMultipliersMatchesTheReference() throws {
        var rng = SeededRandom(seed: 0xD3B7)
        var cases: [TFLiteCase] = []
        for index in 0..<20 {
            // Index % 5 == 4: depth multiplier 1 with channels in fours (the optimised path's register loop).
            let multiplier = [1, 2, 8, 3, 1][index % 5]
            let channels = index % 5 == 2 ? 1 : index % 5 == 4 ? 4 * (1 + Int(rng.next() % 3)) : 1 + Int(rng.next() % 7)
            let kernelHeight = [3, 3, 3, 5, 1][index % 5], kernelWidth = [3, 3, 2, 2, 1][index % 5]
            let g = try ConvolutionGeometry.tflite(
                inputHeight: kernelHeight + Int(rng.next() % 6), inputWidth: kernelWidth + Int(rng.next() % 6),
                inputChannels: channels, outputChannels: channels * multiplier, kernelHeight: kernelHeight,
                kernelWidth: kernelWidth, strideHeight: 1 + Int(rng.next() % 2), strideWidth: 1 + Int(rng.next() % 2),
                padding: index % 2 == 0 ? .same : .valid)
            cases.append(try .layer(.depthwiseConvolution, type: index % 3 == 1 ? .uint8 : .int8, geometry: g,
                                    style: index, rng: &rng))
        }
        try TFLiteKernelRun.check(cases)
    }

    /// One layer of each kind at a MobilenetV1-like size, so the printed cycles (optimised, plain)
    /// mean something; checked like the others.
    @Test func layersOfUsefulSizeMatchTheReference() throws {
        var rng = SeededRandom(seed: 0xB16)
        let conv = try ConvolutionGeometry.tflite(inputHeight: 12, inputWidth: 12, inputChannels: 16, outputChannels: 16,
                                                  kernelHeight: 3, kernelWidth: 3, strideHeight: 1, strideWidth: 1,
                                                  padding: .same)
        let depthwise = try ConvolutionGeometry.tflite(inputHeight: 12, inputWidth: 12, inputChannels: 32,
                                                       outputChannels: 32, kernelHeight: 3, kernelWidth: 3,
                                                       strideHeight: 1, strideWidth: 1, padding: .same)
        let fc = try ConvolutionGeometry(inputHeight: 1, inputWidth: 1, inputChannels: 1024, outputChannels: 12,
                                         kernelHeight: 1, kernelWidth: 1)
        let pool = try ConvolutionGeometry.tflite(inputHeight: 12, inputWidth: 12, inputChannels: 32, outputChannels: 32,
                                                  kernelHeight: 2, kernelWidth: 2, strideHeight: 2, strideWidth: 2,
                                                  padding: .valid)
        try TFLiteKernelRun.check([
            try .layer(.convolution, type: .int8, geometry: conv, style: 5, rng: &rng),
            try .layer(.depthwiseConvolution, type: .int8, geometry: depthwise, style: 5, rng: &rng),
            try .layer(.fullyConnected, type: .int8, geometry: fc, style: 4, rng: &rng),
            try .pool(.average, type: .int8, geometry: pool, style: 5, rng: &rng),
            try .add(type: .int8, count: 12 * 12 * 32, style: 5, rng: &rng),
            try .softmax(type: .int8, rows: 1, depth: 1000, style: 5, rng: &rng),
        ])
    }

    /// The shapes of narrow networks on the optimised paths: the expanded-weight convolution
    /// (3-channel first layer with padded windows, pointwise 8 -> 16 and 16 -> 32, an odd pixel
    /// count, an odd channel count over three chunks of expanded rows, K not a multiple of 4, a
    /// strided 1x1) and the ring depthwise path (3x3 stride 1 and 2, a 5x5 window, VALID), each
    /// with the fast requantization (styles 2, 3: RELU6 clamp, 4: RELU) and with a channel whose
    /// scale is above 1 (style 1), which takes the exact per-output rule instead.
    @Test func narrowNetworkShapesMatchTheReference() throws {
        var rng = SeededRandom(seed: 0x96)
        var cases: [TFLiteCase] = []
        let convolutions: [(Int, Int, Int, Int, Int, Int, TFLitePadding)] = [
            // input h, w, c, outputs, kernel, stride, padding
            (17, 17, 3, 8, 3, 2, .same), (16, 16, 3, 8, 3, 2, .same), (9, 7, 8, 16, 1, 1, .valid),
            (5, 5, 16, 32, 1, 1, .same), (3, 3, 128, 257, 1, 1, .same), (2, 3, 300, 6, 1, 1, .valid),
            (7, 7, 12, 10, 1, 2, .same), (6, 5, 5, 7, 3, 1, .valid),
        ]
        for (index, (h, w, c, outputs, kernel, stride, padding)) in convolutions.enumerated() {
            let g = try ConvolutionGeometry.tflite(inputHeight: h, inputWidth: w, inputChannels: c, outputChannels: outputs,
                                                  kernelHeight: kernel, kernelWidth: kernel, strideHeight: stride,
                                                  strideWidth: stride, padding: padding)
            var shapeCases: [TFLiteCase] = []
            for style in [2, 3, 1, 4] where index < 5 || style == 2 || style == 1 {
                shapeCases.append(try .layer(.convolution, type: index % 3 == 2 ? .uint8 : .int8, geometry: g, style: style,
                                             rng: &rng))
            }
            try TFLiteKernelRun.check(shapeCases)   // one shape per run: the 128 -> 257 layer fills much of the arena
        }
        let depthwise: [(Int, Int, Int, Int, Int, TFLitePadding)] = [
            // input h, w, channels, kernel, stride, padding
            (10, 10, 8, 3, 1, .same), (9, 9, 16, 3, 2, .same), (8, 8, 16, 3, 2, .same), (6, 6, 128, 3, 1, .same),
            (7, 9, 12, 5, 1, .same), (7, 6, 4, 3, 1, .valid), (3, 3, 256, 3, 1, .same),
        ]
        for (index, (h, w, c, kernel, stride, padding)) in depthwise.enumerated() {
            let g = try ConvolutionGeometry.tflite(inputHeight: h, inputWidth: w, inputChannels: c, outputChannels: c,
                                                  kernelHeight: kernel, kernelWidth: kernel, strideHeight: stride,
                                                  strideWidth: stride, padding: padding)
            for style in [2, 3, 1, 4] {
                cases.append(try .layer(.depthwiseConvolution, type: index % 3 == 1 ? .uint8 : .int8, geometry: g,
                                        style: style, rng: &rng))
            }
        }
        try TFLiteKernelRun.check(cases)
    }

    @Test func poolingAddAndSoftmaxMatchTheReference() throws {
        var rng = SeededRandom(seed: 0x5A11)
        var cases: [TFLiteCase] = []
        for index in 0..<16 {
            let window = [(2, 2), (3, 3), (5, 5), (3, 2)][index % 4], stride = [(2, 2), (2, 2), (5, 5), (1, 1)][index % 4]
            let channels = 1 + Int(rng.next() % 9)
            let g = try ConvolutionGeometry.tflite(
                inputHeight: window.0 + Int(rng.next() % 5), inputWidth: window.1 + Int(rng.next() % 5),
                inputChannels: channels, outputChannels: channels, kernelHeight: window.0, kernelWidth: window.1,
                strideHeight: stride.0, strideWidth: stride.1, padding: index % 3 == 0 ? .valid : .same)
            cases.append(try .pool(index % 2 == 0 ? .average : .maximum, type: index % 4 < 2 ? .int8 : .uint8,
                                   geometry: g, style: index, rng: &rng))
        }
        for index in 0..<8 {
            cases.append(try .add(type: index % 2 == 0 ? .int8 : .uint8, count: 1 + Int(rng.next() % 300), style: index,
                                  rng: &rng))
        }
        for index in 0..<8 {
            cases.append(try .softmax(type: index % 2 == 0 ? .int8 : .uint8, rows: 1 + index % 3,
                                      depth: [10, 12, 4, 1000][index % 4], style: index, rng: &rng))
        }
        try TFLiteKernelRun.check(cases)
    }
}

/// One kernel call with its inputs and the Swift reference's output.
struct TFLiteCase: CustomStringConvertible {
    enum Op: UInt32 { case convolution = 0, depthwise, fullyConnected, averagePool, maximumPool, add, softmax }

    var op: Op
    var type: TFLiteTensorType
    var geometry: ConvolutionGeometry
    var depthMultiplier = 1
    var perChannel = false
    var inputZero = 0, weightZero = 0, outputZero = 0
    var outputRange = 0...255
    var scaleBits: UInt32 = 0
    var input: [UInt8]
    var input2: [UInt8] = []
    var weights: [UInt8] = []
    var bias: [Int32] = []
    var multipliers: [Int32] = []
    var shifts: [Int8] = []
    /// LiteRT's reference FULLY_CONNECTED requantizes in double (`.tfliteFloatingPoint`).
    var realScales: [Double] = []
    var expected: [UInt8]

    var description: String {
        let g = geometry
        return "\(op) \(type) \(g.inputHeight)x\(g.inputWidth)x\(g.inputChannels) -> \(g.outputHeight)x\(g.outputWidth)x"
            + "\(g.outputChannels) k\(g.kernelHeight)x\(g.kernelWidth) s\(g.strideHeight)x\(g.strideWidth) "
            + "pad\(g.padTop),\(g.padLeft) M\(depthMultiplier) range \(outputRange)"
    }

    static func bytes(_ values: [Int]) -> [UInt8] { values.map { UInt8($0) } }

    static func codes(_ count: Int, style: Int, rng: inout SeededRandom) -> [Int] {
        // Style 0: every code at the bottom (int8 -128), 1: at the top (127), else random.
        (0..<count).map { _ in style == 0 ? 0 : style == 1 ? 255 : Int(rng.next() % 256) }
    }

    /// A convolution, depthwise or fully connected layer with random scales: some channels get an
    /// effective scale above 1 (TFLite's left shift), style 3 a fused RELU6, style 4 a RELU.
    static func layer(_ kind: TFLiteLayerKind, type: TFLiteTensorType, geometry g: ConvolutionGeometry, style: Int,
                      rng: inout SeededRandom) throws -> TFLiteCase {
        let outputs = g.outputChannels
        let perChannel = type == .int8 && (kind != .fullyConnected || style % 4 == 0)
        let inputScale = Float(0.01 + rng.unit() * 0.05)
        let weightScales: [Float] = (0..<(perChannel ? outputs : 1)).map { c in
            // Mostly small; channel 1 of every fourth case large enough for a multiplier above 1.
            (style % 4 == 1 && c == 1) ? Float(2 + rng.unit() * 20) : Float(0.001 + rng.unit() * 0.02)
        }
        let outputScale = Float(0.02 + rng.unit() * 0.1)
        let inputZero = type == .int8 ? Int(rng.next() % 256) - 128 : Int(rng.next() % 256)
        let outputZero = type == .int8 ? Int(rng.next() % 256) - 128 : Int(rng.next() % 256)
        let weightZero = type == .int8 ? 0 : Int(rng.next() % 256)
        let bias = (0..<outputs).map { _ in Int32(Int(rng.next() % 40_001) - 20_000) }
        let activation: TFLiteActivation = style % 5 == 3 ? .relu6 : style % 5 == 4 ? .relu : .none
        let p = try RequantizationParameters.tflite(kind, type: type, inputScale: inputScale, inputZeroPoint: inputZero,
                                                    weightScales: weightScales, weightZeroPoints: [weightZero],
                                                    outputScale: outputScale, outputZeroPoint: outputZero, bias: bias,
                                                    activation: activation)
        let input = codes(g.inputElements, style: style, rng: &rng)
        let weightCount = kind == .depthwiseConvolution ? g.kernelHeight * g.kernelWidth * outputs
            : outputs * g.weightsPerOutputChannel
        // int8 weights are symmetric: codes 1...255 (values -127...127).
        let weights = (0..<weightCount).map { _ in type == .int8 ? 1 + Int(rng.next() % 255) : Int(rng.next() % 256) }
        let expected: [Int]
        let op: Op
        switch kind {
        case .convolution:
            op = .convolution
            expected = try ReferenceLayers.convolution(input: input, weights: weights, geometry: g, parameters: p)
        case .depthwiseConvolution:
            op = .depthwise
            expected = try ReferenceLayers.depthwiseConvolution(input: input, weights: weights, geometry: g, parameters: p)
        case .fullyConnected:
            op = .fullyConnected
            expected = try ReferenceLayers.fullyConnected(input: input, weights: weights, parameters: p)
        }
        return TFLiteCase(op: op, type: type, geometry: g, depthMultiplier: outputs / g.inputChannels,
                          perChannel: p.multipliers.count > 1, inputZero: p.inputZeroPoint,
                          weightZero: p.weightZeroPoints[0], outputZero: p.outputZeroPoint, outputRange: p.outputRange,
                          input: bytes(input), weights: bytes(weights), bias: p.bias,
                          multipliers: p.multipliers.map(\.multiplier), shifts: p.multipliers.map { Int8($0.tfliteShift) },
                          realScales: p.realScales, expected: bytes(expected))
    }

    static func pool(_ kind: TFLitePoolParameters.Kind, type: TFLiteTensorType, geometry g: ConvolutionGeometry, style: Int,
                     rng: inout SeededRandom) throws -> TFLiteCase {
        let activation: TFLiteActivation = style % 4 == 1 ? .relu6 : .none
        let zero = type == .int8 ? Int(rng.next() % 256) - 128 : Int(rng.next() % 256)
        let p = TFLitePoolParameters(kind: kind, type: type, scale: Float(0.01 + rng.unit() * 0.05), zeroPoint: zero,
                                     activation: activation)
        let input = codes(g.inputElements, style: style, rng: &rng)
        let expected = try TFLiteLayers.pool(input: input, geometry: g, parameters: p)
        return TFLiteCase(op: kind == .average ? .averagePool : .maximumPool, type: type, geometry: g,
                          outputRange: p.outputRange, input: bytes(input), expected: bytes(expected))
    }

    static func add(type: TFLiteTensorType, count: Int, style: Int, rng: inout SeededRandom) throws -> TFLiteCase {
        func zero() -> Int { type == .int8 ? Int(rng.next() % 256) - 128 : Int(rng.next() % 256) }
        let activation: TFLiteActivation = style % 3 == 1 ? .relu : style % 3 == 2 ? .relu6 : .none
        let p = try TFLiteAddParameters(type: type, input1Scale: Float(0.005 + rng.unit() * 0.1), input1ZeroPoint: zero(),
                                        input2Scale: Float(0.005 + rng.unit() * 0.1), input2ZeroPoint: zero(),
                                        outputScale: Float(0.01 + rng.unit() * 0.1), outputZeroPoint: zero(),
                                        activation: activation)
        let a = codes(count, style: style, rng: &rng), b = codes(count, style: style + 2, rng: &rng)
        let g = try ConvolutionGeometry(inputHeight: 1, inputWidth: 1, inputChannels: count, outputChannels: count,
                                        kernelHeight: 1, kernelWidth: 1)
        let multipliers = [p.input1Multiplier, p.input2Multiplier, p.outputMultiplier]
        return TFLiteCase(op: .add, type: type, geometry: g, inputZero: p.input1ZeroPoint, weightZero: p.input2ZeroPoint,
                          outputZero: p.outputZeroPoint, outputRange: p.outputRange, input: bytes(a), input2: bytes(b),
                          multipliers: multipliers.map(\.multiplier), shifts: multipliers.map { Int8($0.tfliteShift) },
                          expected: bytes(try TFLiteLayers.add(a, b, parameters: p)))
    }

    static func softmax(type: TFLiteTensorType, rows: Int, depth: Int, style: Int, rng: inout SeededRandom) throws -> TFLiteCase {
        // Input scales from narrow (all probabilities near 1/depth) to wide (one winner, the rest
        // below the table's reach): very negative differences included.
        let inputScale = Float([0.002, 0.05, 0.4, 2.0][style % 4])
        let p = try TFLiteSoftmaxParameters(type: type, inputScale: inputScale, beta: 1, outputScale: 1.0 / 256,
                                            outputZeroPoint: type == .int8 ? -128 : 0)
        let input = codes(rows * depth, style: style + 2, rng: &rng)
        let g = try ConvolutionGeometry(inputHeight: 1, inputWidth: rows, inputChannels: depth, outputChannels: depth,
                                        kernelHeight: 1, kernelWidth: 1)
        let table = p.table.flatMap { v -> [UInt8] in
            let b = v.bitPattern
            return [UInt8(b & 0xFF), UInt8((b >> 8) & 0xFF), UInt8((b >> 16) & 0xFF), UInt8(b >> 24)]
        }
        return TFLiteCase(op: .softmax, type: type, geometry: g, scaleBits: p.outputScale.bitPattern,
                          input: bytes(input), weights: table,
                          expected: bytes(try TFLiteLayers.softmax(input: input, depth: depth, parameters: p)))
    }
}

/// Lays the cases out for firmware/tests/kernel_tfl.c (33 words per job, `tfl_job`), runs them on
/// the emulated STM32H743 and compares every output byte.
enum TFLiteKernelRun {
    static let maxJobs = 128
    static let arenaBytes = 440 * 1024
    static let wordsPerJob = 33

    static func image() throws -> ELFImage {
        let spec = FirmwareSpec(name: "kernel_tfl", sources: [
            "tests/kernel_tfl.c", "kernels/tfl_conv.c", "kernels/tfl_depthwise.c", "kernels/tfl_pool.c",
            "kernels/tfl_add.c", "kernels/tfl_softmax.c",
        ], includeDirectories: ["kernels"])
        return try ELFImage(contentsOf: Toolchain.locate().build(spec).elf)
    }

    static func check(_ cases: [TFLiteCase]) throws {
        var jobs: [(TFLiteCase, UInt32)] = []
        for c in cases { jobs += [(c, 0), (c, 1)] }   // optimised, plain
        var start = 0
        while start < jobs.count {
            let end = min(start + maxJobs, jobs.count)
            try run(Array(jobs[start..<end]))
            start = end
        }
    }

    static func run(_ jobs: [(TFLiteCase, UInt32)]) throws {
        var layout = JobTableRun()
        var table = JobTableRun.littleEndian([UInt32(jobs.count)])
        var outputs: [UInt32] = []
        for (c, path) in jobs {
            let g = c.geometry
            let input = layout.place(c.input), input2 = layout.place(c.input2), weights = layout.place(c.weights)
            let bias = layout.place(JobTableRun.littleEndian(c.bias)), multiplier = layout.place(JobTableRun.littleEndian(c.multipliers))
            let shift = layout.place(JobTableRun.littleEndian(c.shifts))
            let real = c.realScales.isEmpty ? 0 : layout.place(JobTableRun.littleEndian(c.realScales.map(\.bitPattern)))
            let output = layout.placeOutput(count: c.expected.count)
            outputs.append(output)
            let words: [UInt32] = [c.op.rawValue, path] + JobTableRun.shapeWords(g) + [
                UInt32(c.depthMultiplier), c.perChannel ? 1 : 0, UInt32(c.type.codeOffset),
                UInt32(c.inputZero), UInt32(c.weightZero), UInt32(c.outputZero),
                UInt32(c.outputRange.lowerBound), UInt32(c.outputRange.upperBound), c.scaleBits,
                input, input2, weights, bias, multiplier, shift, output, real,
                0xDEAD_BEEF, 0,
            ]
            table += JobTableRun.littleEndian(words)
        }
        guard let outcome = try layout.run(try image(), table: table, tableSymbol: "tfl_jobs", arenaSymbol: "tfl_arena",
                                           arenaBytes: arenaBytes) else { return }
        var cycles: [String: (optimised: UInt64, plain: UInt64)] = [:]
        for (index, (c, path)) in jobs.enumerated() {
            let base = 4 + index * wordsPerJob * 4 + 31 * 4
            let status = Int32(bitPattern: outcome.word(at: base))
            let spent = UInt64(outcome.word(at: base + 4))
            let sums = cycles["\(c.op)", default: (0, 0)]
            cycles["\(c.op)"] = path == 0 ? (sums.optimised + spent, sums.plain) : (sums.optimised, sums.plain + spent)
            let label = "\(path == 0 ? "optimised" : "plain") \(c)"
            #expect(status == 0, "status \(status): \(label)")
            try outcome.check(output: outputs[index], expected: c.expected, label: label)
        }
        // For the record only (speed targets live in `mixq bench`): cycles of all jobs per op.
        for (op, sums) in cycles.sorted(by: { $0.key < $1.key }) {
            print("tfl \(op): \(sums.optimised) cycles optimised, \(sums.plain) plain")
        }
    }
}
