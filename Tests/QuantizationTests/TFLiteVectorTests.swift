import Foundation
import Quantization
import Testing

/// MixQ's TFLite arithmetic against LiteRT's reference kernels (`OpResolverType.BUILTIN_REF`),
/// element for element, on the single-op models of Fixtures/tflite_op_vectors.json (written by
/// Fixtures/make_tflite_op_vectors.py with TensorFlow's converter; TensorFlow is not needed here).
@Suite struct TFLiteVectorTests {
    struct Vectors: Decodable {
        var tensorflow: String
        var cases: [Case]
    }

    struct Tensor: Decodable {
        var shape: [Int]
        var scales: [Float]
        var zero_points: [Int]
        var values: [Int]?
    }

    struct Options: Decodable {
        var stride_h: Int?
        var stride_w: Int?
        var filter_h: Int?
        var filter_w: Int?
        var padding: String?
        var activation: String?
        var depth_multiplier: Int?
        var beta: Float?
    }

    struct Run: Decodable {
        var inputs: [[Int]]
        var output: [Int]
    }

    struct Output: Decodable {
        var shape: [Int]
        var scales: [Float]
        var zero_points: [Int]
    }

    struct Case: Decodable, CustomStringConvertible {
        var name: String
        var op: String
        var type: String
        var options: Options
        var tensors: [Tensor]
        var output: Output
        var runs: [Run]
        var description: String { name }
    }

    static let vectors: Vectors = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/tflite_op_vectors.json")
        do {
            return try JSONDecoder().decode(Vectors.self, from: Data(contentsOf: url))
        } catch {
            Issue.record("cannot read \(url.path): \(error)")
            return Vectors(tensorflow: "", cases: [])
        }
    }()

    /// One case evaluated by MixQ: a function from the run's input codes to output codes.
    struct Evaluator {
        var type: TFLiteTensorType
        var evaluate: ([[Int]]) throws -> [Int]
    }

    static func evaluator(_ c: Case, rounding: RequantizationParameters.RoundingRule = .tflite) throws -> Evaluator {
        guard let type = TFLiteTensorType(rawValue: c.type) else { throw CaseError.unknown("type \(c.type)") }
        let activation = TFLiteActivation(rawValue: c.options.activation ?? "NONE") ?? .none
        let padding = TFLitePadding(rawValue: c.options.padding ?? "VALID") ?? .valid
        let input = c.tensors[0]
        let codes = { (values: [Int]) in values.map { $0 + type.codeOffset } }
        func layerParameters(_ kind: TFLiteLayerKind) throws -> RequantizationParameters {
            let weights = c.tensors[1], bias = c.tensors[2]
            let p = try RequantizationParameters.tflite(
                kind, type: type, inputScale: input.scales[0], inputZeroPoint: input.zero_points[0],
                weightScales: weights.scales, weightZeroPoints: weights.zero_points, outputScale: c.output.scales[0],
                outputZeroPoint: c.output.zero_points[0], bias: (bias.values ?? []).map { Int32($0) }, activation: activation)
            guard rounding == .halfUp else { return p }
            // MixQ's own rounding and multipliers from the same real scales, for the negative check.
            let multipliers = try p.multipliers.map { try FixedPointMultiplier(scale: $0.scale) }
            return try RequantizationParameters(
                flavour: p.flavour, bias: p.bias, multipliers: multipliers, weightZeroPoints: p.weightZeroPoints,
                inputZeroPoint: p.inputZeroPoint, outputZeroPoint: p.outputZeroPoint, inputBits: .eight, weightBits: .eight,
                outputBits: .eight, rounding: .halfUp, outputRange: p.outputRange)
        }
        func geometry(outputChannels: Int, kernelHeight: Int, kernelWidth: Int) throws -> ConvolutionGeometry {
            try ConvolutionGeometry.tflite(inputHeight: input.shape[1], inputWidth: input.shape[2], inputChannels: input.shape[3],
                                           outputChannels: outputChannels, kernelHeight: kernelHeight, kernelWidth: kernelWidth,
                                           strideHeight: c.options.stride_h ?? 1, strideWidth: c.options.stride_w ?? 1,
                                           padding: padding)
        }
        switch c.op {
        case "CONV_2D":
            let w = c.tensors[1]
            let p = try layerParameters(.convolution)
            let g = try geometry(outputChannels: w.shape[0], kernelHeight: w.shape[1], kernelWidth: w.shape[2])
            let weights = codes(w.values ?? [])
            return Evaluator(type: type) { try ReferenceLayers.convolution(input: $0[0], weights: weights, geometry: g, parameters: p) }
        case "DEPTHWISE_CONV_2D":
            let w = c.tensors[1]
            let p = try layerParameters(.depthwiseConvolution)
            let g = try geometry(outputChannels: w.shape[3], kernelHeight: w.shape[1], kernelWidth: w.shape[2])
            let weights = codes(w.values ?? [])
            return Evaluator(type: type) {
                try ReferenceLayers.depthwiseConvolution(input: $0[0], weights: weights, geometry: g, parameters: p)
            }
        case "FULLY_CONNECTED":
            let p = try layerParameters(.fullyConnected)
            let weights = codes(c.tensors[1].values ?? [])
            return Evaluator(type: type) { try ReferenceLayers.fullyConnected(input: $0[0], weights: weights, parameters: p) }
        case "AVERAGE_POOL_2D", "MAX_POOL_2D":
            let g = try geometry(outputChannels: input.shape[3], kernelHeight: c.options.filter_h ?? 1,
                                 kernelWidth: c.options.filter_w ?? 1)
            let p = TFLitePoolParameters(kind: c.op == "MAX_POOL_2D" ? .maximum : .average, type: type,
                                         scale: c.output.scales[0], zeroPoint: c.output.zero_points[0], activation: activation)
            return Evaluator(type: type) { try TFLiteLayers.pool(input: $0[0], geometry: g, parameters: p) }
        case "ADD":
            let b = c.tensors[1]
            let p = try TFLiteAddParameters(type: type, input1Scale: input.scales[0], input1ZeroPoint: input.zero_points[0],
                                            input2Scale: b.scales[0], input2ZeroPoint: b.zero_points[0],
                                            outputScale: c.output.scales[0], outputZeroPoint: c.output.zero_points[0],
                                            activation: activation)
            return Evaluator(type: type) { try TFLiteLayers.add($0[0], $0[1], parameters: p) }
        case "SOFTMAX":
            let p = try TFLiteSoftmaxParameters(type: type, inputScale: input.scales[0], beta: c.options.beta ?? 1,
                                                outputScale: c.output.scales[0], outputZeroPoint: c.output.zero_points[0])
            let depth = input.shape.last ?? 1
            return Evaluator(type: type) { try TFLiteLayers.softmax(input: $0[0], depth: depth, parameters: p) }
        default:
            throw CaseError.unknown("op \(c.op)")
        }
    }

    enum CaseError: Error { case unknown(String) }

    /// Output codes that differ from LiteRT's, over every run of a case.
    static func mismatches(_ c: Case, rounding: RequantizationParameters.RoundingRule = .tflite) throws -> (Int, String) {
        let e = try evaluator(c, rounding: rounding)
        var bad = 0, first = ""
        for (r, run) in c.runs.enumerated() {
            let inputs = run.inputs.map { $0.map { $0 + e.type.codeOffset } }
            let got = try e.evaluate(inputs)
            let want = run.output.map { $0 + e.type.codeOffset }
            #expect(got.count == want.count, "\(c.name) run \(r): \(got.count) outputs, LiteRT \(want.count)")
            for (i, (g, w)) in zip(got, want).enumerated() where g != w {
                if bad == 0 { first = "run \(r) [\(i)]: MixQ \(g - e.type.codeOffset), LiteRT \(w - e.type.codeOffset)" }
                bad += 1
            }
        }
        return (bad, first)
    }

    @Test func theVectorsCoverEveryOpAndBothTypes() {
        let kinds = Set(Self.vectors.cases.map { "\($0.type) \($0.op)" })
        for op in ["CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "ADD", "SOFTMAX"] {
            #expect(kinds.contains("int8 \(op)") && kinds.contains("uint8 \(op)"), "\(op) lacks a type")
        }
        #expect(kinds.contains("int8 MAX_POOL_2D"))
        #expect(Self.vectors.cases.allSatisfy { $0.runs.count >= 16 })
        // Depth multipliers above 1, per-channel fully connected weights, an asymmetric kernel.
        #expect(Self.vectors.cases.contains { $0.options.depth_multiplier == 8 })
        #expect(Self.vectors.cases.contains { $0.op == "FULLY_CONNECTED" && $0.tensors[1].scales.count > 1 })
        #expect(Self.vectors.cases.contains { $0.op == "FULLY_CONNECTED" && $0.tensors[1].scales.count == 1 })
    }

    @Test(arguments: vectors.cases)
    func mixQEqualsLiteRT(_ c: Case) throws {
        let (bad, first) = try Self.mismatches(c)
        #expect(bad == 0, "\(c.name): \(bad) outputs differ from LiteRT's, first \(first)")
    }

    /// The same layers with MixQ's single half-up rounding miss LiteRT: the vectors tell the rules apart.
    @Test func halfUpRoundingWouldNotMatchLiteRT() throws {
        var differing: [String] = []
        for c in Self.vectors.cases where ["CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"].contains(c.op) {
            if try Self.mismatches(c, rounding: .halfUp).0 > 0 { differing.append(c.name) }
        }
        #expect(differing.count >= 3, "only \(differing) differ under half-up rounding")
    }
}
