import Quantization

/// The layer families of firmware/kernels, named as the firmware files are.
enum LayerKind: String, CaseIterable {
    case conv, depthwise, pointwise, fc, pool
}

/// How to pick zero-points and scales for one case.
struct CaseStyle {
    enum ZeroPoints { case random, zero, maximum }
    var zeroPoints: ZeroPoints = .random
    /// Multiplies the scale that maps the accumulator range onto the output range: large values
    /// saturate at both ends.
    var scaleFactor: Double = 1
    /// Bias magnitude relative to the accumulator's natural spread.
    var biasFactor: Double = 1
    /// Negative multipliers on some channels (ICN flavours: batch-norm gamma < 0).
    var negativeMultipliers = true
    /// Every channel's scale drawn from this range instead (before the sign), e.g. [0.25, 0.5)
    /// for N0 = 1 on every channel: the kernels' SMMLAR rounding form (mixq_gemm16.h).
    var scaleRange: ClosedRange<Double>? = nil
}

/// One randomly generated layer with its expected output from the Swift reference.
struct LayerCase: CustomStringConvertible {
    var kind: LayerKind
    var geometry: ConvolutionGeometry
    var inputBits: BitWidth
    var weightBits: BitWidth
    var outputBits: BitWidth
    var flavour: RequantizationFlavour
    var input: [Int]
    var weights: [Int]
    var parameters: RequantizationParameters
    var poolParameters: PoolingParameters?
    var expected: [Int]

    var description: String {
        let g = geometry
        return "\(kind) \(g.inputHeight)x\(g.inputWidth)x\(g.inputChannels)->\(g.outputHeight)x\(g.outputWidth)x\(g.outputChannels)"
            + " k\(g.kernelHeight)x\(g.kernelWidth) s\(g.strideHeight) pad\(g.padTop),\(g.padLeft)"
            + " bits \(inputBits.bits)/\(weightBits.bits)/\(outputBits.bits) \(flavour.rawValue)"
            + " zx \(parameters.inputZeroPoint) zy \(parameters.outputZeroPoint) zw \(parameters.weightZeroPoints.prefix(3))"
    }

    init(kind: LayerKind, geometry g: ConvolutionGeometry, bits: (BitWidth, BitWidth, BitWidth),
         flavour: RequantizationFlavour, style: CaseStyle = CaseStyle(), rng: inout SeededRandom) throws {
        self.kind = kind
        geometry = g
        let (inputBits, weightBits, outputBits) = bits
        (self.inputBits, self.weightBits, self.outputBits) = bits
        self.flavour = flavour
        func zero(_ b: BitWidth) -> Int {
            switch style.zeroPoints {
            case .random: return Int.random(in: 0...b.maxUnsigned, using: &rng)
            case .zero: return 0
            case .maximum: return b.maxUnsigned
            }
        }
        let channels = g.outputChannels
        let weightCount: Int
        let macsPerOutput: Int
        switch kind {
        case .depthwise:
            weightCount = g.kernelHeight * g.kernelWidth * channels
            macsPerOutput = g.kernelHeight * g.kernelWidth
        case .pool:
            weightCount = 0
            macsPerOutput = g.inputHeight * g.inputWidth
        default:
            weightCount = channels * g.weightsPerOutputChannel
            macsPerOutput = g.weightsPerOutputChannel
        }
        let input = (0..<g.inputElements).map { _ in Int.random(in: 0...inputBits.maxUnsigned, using: &rng) }
        let weights = (0..<weightCount).map { _ in Int.random(in: 0...weightBits.maxUnsigned, using: &rng) }
        self.input = input
        self.weights = weights
        let zx = zero(inputBits), zy = zero(outputBits)
        let zeroCount = flavour == .perChannelICN ? channels : 1
        let zw = (0..<zeroCount).map { _ in zero(weightBits) }
        // Spread of the accumulator: sqrt(K) * (typical |x - zx|) * (typical |w - zw|).
        let spread = kind == .pool
            ? Double(macsPerOutput * inputBits.maxUnsigned) / 2
            : Double(macsPerOutput).squareRoot() * Double(inputBits.maxUnsigned) * Double(weightBits.maxUnsigned) / 3 + 1
        let perChannel = flavour != .perLayerFolded
        let multiplierCount = perChannel ? channels : 1
        let multipliers = try (0..<multiplierCount).map { _ in
            var scale = style.scaleRange.map { Double.random(in: $0, using: &rng) }
                ?? Double(outputBits.maxUnsigned) / spread * style.scaleFactor * Double.random(in: 0.5...2, using: &rng)
            if perChannel, style.negativeMultipliers, Bool.random(using: &rng), Bool.random(using: &rng) { scale = -scale }
            return try FixedPointMultiplier(scale: scale)
        }
        let biasRange = Int32(min(spread * style.biasFactor, 1e9))
        let bias = (0..<channels).map { _ in Int32.random(in: -biasRange...biasRange, using: &rng) }
        let parameters = try RequantizationParameters(
            flavour: flavour, bias: bias, multipliers: multipliers, weightZeroPoints: zw, inputZeroPoint: zx,
            outputZeroPoint: zy, inputBits: inputBits, weightBits: weightBits, outputBits: outputBits)
        self.parameters = parameters
        switch kind {
        case .conv:
            expected = try ReferenceLayers.convolution(input: input, weights: weights, geometry: g, parameters: parameters)
        case .depthwise:
            expected = try ReferenceLayers.depthwiseConvolution(input: input, weights: weights, geometry: g,
                                                                parameters: parameters)
        case .pointwise:
            expected = try ReferenceLayers.pointwiseConvolution(input: input, height: g.inputHeight, width: g.inputWidth,
                                                                inputChannels: g.inputChannels, weights: weights,
                                                                parameters: parameters)
        case .fc:
            expected = try ReferenceLayers.fullyConnected(input: input, weights: weights, parameters: parameters)
        case .pool:
            let pool = try PoolingParameters(multiplier: multipliers[0], inputZeroPoint: zx, outputZeroPoint: zy,
                                             inputBits: inputBits, outputBits: outputBits)
            poolParameters = pool
            expected = try ReferenceLayers.globalAveragePool(input: input, height: g.inputHeight, width: g.inputWidth,
                                                             channels: g.inputChannels, parameters: pool)
        }
    }

    /// The job that runs this case on the target through `path`.
    func job(_ path: KernelJob.Path) throws -> KernelJob {
        let packedWeights: [UInt8]
        switch kind {
        case .depthwise: packedWeights = try KernelWeightLayout.packDepthwise(weights, bits: weightBits)
        case .pool: packedWeights = []
        default:
            packedWeights = try KernelWeightLayout.packMatrix(weights, rows: geometry.outputChannels,
                                                              columns: geometry.weightsPerOutputChannel, bits: weightBits)
        }
        return KernelJob(path: path, geometry: geometry, inputBits: inputBits, weightBits: weightBits,
                         outputBits: outputBits, flavour: flavour, inputZeroPoint: parameters.inputZeroPoint,
                         outputZeroPoint: parameters.outputZeroPoint,
                         input: try BitPacking.pack(input, bits: inputBits), weights: packedWeights,
                         parameters: KernelParameterArrays(parameters),
                         outputBytes: outputBits.bytes(forElements: expected.count))
    }

    /// Whether the reference output hits both ends of the output range (saturation cases).
    var saturatesBothEnds: Bool { expected.contains(0) && expected.contains(outputBits.maxUnsigned) }

    var expectedBytes: [UInt8] { (try? BitPacking.pack(expected, bits: outputBits)) ?? [] }
}

/// All 27 (input, weight, output) bit combinations.
let allBitCombinations: [(BitWidth, BitWidth, BitWidth)] = BitWidth.allCases.flatMap { i in
    BitWidth.allCases.flatMap { w in BitWidth.allCases.map { o in (i, w, o) } }
}
