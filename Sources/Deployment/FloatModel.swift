import Planning
import Quantization

/// Float weights of one layer plus what follows the convolution: batch-norm for the
/// convolutions (TF-slim MobilenetV1: shift and moving statistics, no scale), a bias for the
/// classifier.
///
/// Weight order is the one `Quantization.ReferenceLayers` and the kernel packer use:
/// `[out][ky][kx][in]` for conv, pointwise and fully connected, `[ky][kx][c]` for depthwise.
public struct FloatLayerWeights: Sendable {
    public var weights: [Float]
    /// Batch-norm shift (beta) per output channel, or the classifier's bias.
    public var beta: [Float]
    /// Batch-norm moving mean per output channel (0 for the classifier).
    public var movingMean: [Float]
    /// Batch-norm moving variance per output channel (1 - epsilon for the classifier, so the
    /// normalisation is the identity).
    public var movingVariance: [Float]
    /// Batch-norm scale (gamma) per output channel; nil for none (TF-slim's MobilenetV1 has no
    /// scale: `scale=False` in its batch-norm parameters).
    public var gamma: [Float]? = nil
    /// The epsilon added to the variance; an imported model states its own (ONNX
    /// BatchNormalization's default is 1e-5).
    public var batchNormEpsilon: Float = FloatLayerWeights.epsilon

    /// TF-slim MobilenetV1's batch-norm epsilon (research/slim/nets/mobilenet_v1.py,
    /// `mobilenet_v1_arg_scope(batch_norm_epsilon=0.001)`).
    public static let epsilon: Float = 0.001

    public init(weights: [Float], beta: [Float], movingMean: [Float], movingVariance: [Float], gamma: [Float]? = nil,
                batchNormEpsilon: Float = FloatLayerWeights.epsilon) {
        self.weights = weights
        self.beta = beta
        self.movingMean = movingMean
        self.movingVariance = movingVariance
        self.gamma = gamma
        self.batchNormEpsilon = batchNormEpsilon
    }

    /// Per-channel affine `y = a[c] * conv + d[c]` equivalent to the batch-norm (or bias).
    public var affine: (a: [Double], d: [Double]) {
        var a = [Double](repeating: 1, count: beta.count), d = a
        for c in beta.indices {
            a[c] = Double(gamma?[c] ?? 1) / (Double(movingVariance[c]) + Double(batchNormEpsilon)).squareRoot()
            d[c] = Double(beta[c]) - a[c] * Double(movingMean[c])
        }
        return (a, d)
    }
}

/// A network with float weights: the boundary between "where weights come from" (a trained
/// checkpoint, or `synthetic(network:seed:)` here) and everything after (quantization, code
/// generation), which only ever sees this type.
public struct FloatModel: Sendable {
    public var network: Network
    /// One entry per planner layer (`network.layers`), in order.
    public var layers: [FloatLayerWeights]
    /// How image bytes become the float input and the integer input codes.
    public var input: InputEncoding
    /// The quantization the model was trained with, when it states one (a QONNX file); nil
    /// for a float model, which MixQ quantizes with its own ranges.
    public var quantization: TrainedQuantization?

    public init(network: Network, layers: [FloatLayerWeights], input: InputEncoding = .unitRange,
                quantization: TrainedQuantization? = nil) throws(DeploymentError) {
        guard layers.count == network.layers.count else {
            throw .modelMismatch("\(layers.count) weight sets for \(network.layers.count) layers")
        }
        for (layer, weights) in zip(network.layers, layers) {
            guard weights.weights.count == layer.weightCount,
                  weights.beta.count == layer.outputChannels,
                  weights.movingMean.count == layer.outputChannels,
                  weights.movingVariance.count == layer.outputChannels else {
                throw .modelMismatch("layer \(layer.name): weight or batch-norm sizes do not match its shape")
            }
            if let gamma = weights.gamma, gamma.count != layer.outputChannels {
                throw .modelMismatch("layer \(layer.name): \(gamma.count) batch-norm scales for \(layer.outputChannels) channels")
            }
        }
        if let quantization {
            guard quantization.layers.count == network.layers.count else {
                throw .modelMismatch("\(quantization.layers.count) trained quantizations for \(network.layers.count) layers")
            }
            for (layer, trained) in zip(network.layers, quantization.layers)
            where trained.weights.isEmpty || (trained.weights.count != 1 && trained.weights.count != layer.outputChannels) {
                throw .modelMismatch("layer \(layer.name): \(trained.weights.count) weight scales for \(layer.outputChannels) channels")
            }
        }
        self.network = network
        self.layers = layers
        self.input = input
        self.quantization = quantization
    }

    /// Seeded synthetic weights with the statistics of a trained network, for when no
    /// checkpoint is at hand:
    /// - weights He-normal (std `sqrt(2 / fan_in)`, He et al. 2015) with a log-normal spread of
    ///   the per-output-channel range (sigma 0.35), so per-channel quantization has something
    ///   to gain over per-layer, as in trained depthwise layers;
    /// - batch-norm shift uniform in [0.1, 0.9] and moving statistics *calibrated* by running the
    ///   float network on seeded images, as training would have left them;
    /// - a classifier with std `sqrt(1 / fan_in)` weights and a small bias.
    public static func synthetic(network: Network, seed: UInt64 = 1, calibrationImages: Int = 2) throws(DeploymentError) -> FloatModel {
        var random = SeededRandom(seed: seed)
        var layers: [FloatLayerWeights] = []
        for layer in network.layers {
            let n = layer.outputChannels
            let perChannel = layer.kind == .depthwise ? layer.kernel.height * layer.kernel.width : layer.weightCount / n
            let fanIn = layer.kind == .depthwise ? perChannel : layer.kernel.height * layer.kernel.width * layer.input.channels
            let std = layer.kind == .fc ? (1 / Double(fanIn)).squareRoot() : (2 / Double(fanIn)).squareRoot()
            let spread = (0..<n).map { _ in naturalExponential(0.35 * random.normal()) }
            var weights = [Float](repeating: 0, count: layer.weightCount)
            for i in weights.indices {
                // Output channel of element i in the layer's weight order.
                let c = layer.kind == .depthwise ? i % n : i / perChannel
                weights[i] = Float(std * spread[c] * random.normal())
            }
            let beta = (0..<n).map { _ in Float(layer.kind == .fc ? 0.05 * random.normal() : 0.1 + 0.8 * random.unit()) }
            let identityVariance = [Float](repeating: 1 - FloatLayerWeights.epsilon, count: n)
            layers.append(FloatLayerWeights(weights: weights, beta: beta, movingMean: [Float](repeating: 0, count: n),
                                            movingVariance: identityVariance))
        }
        var model = try FloatModel(network: network, layers: layers)
        model.calibrateBatchNorm(images: (0..<calibrationImages).map { SyntheticImage.float(shape: network.input, seed: seed &+ 1000 &+ UInt64($0)) })
        return model
    }

    /// Sets each batch-normalised layer's moving mean and variance to the statistics of its
    /// convolution outputs over `images`, layer by layer (each layer sees the already
    /// normalised outputs of the layers before it).
    mutating func calibrateBatchNorm(images: [[Float]]) {
        let layerIndexOfStep = network.layerIndexOfStep
        _ = GraphExecution.run(network, input: images) { index, step, batches in
            guard case .layer(let layer) = step, let layerIndex = layerIndexOfStep[index] else {
                // Every other step computes image by image as the float reference does.
                let count = batches[0].count
                return (0..<count).map { image in
                    FloatReference.floatStep(step, self, layerIndex: nil, inputs: batches.map { $0[image] })
                }
            }
            let raw = batches[0].map { FloatLayers.linear(layer, weights: layers[layerIndex].weights, input: $0) }
            if layer.usesBatchNorm {
                let n = layer.outputChannels
                var sum = [Double](repeating: 0, count: n), squares = sum
                var count = 0
                for output in raw {
                    for (i, value) in output.enumerated() {
                        sum[i % n] += Double(value)
                        squares[i % n] += Double(value) * Double(value)
                    }
                    count += output.count / n
                }
                for c in 0..<n {
                    let mean = sum[c] / Double(count)
                    let variance = max(squares[c] / Double(count) - mean * mean, 1e-6)
                    layers[layerIndex].movingMean[c] = Float(mean)
                    layers[layerIndex].movingVariance[c] = Float(variance)
                }
            }
            let (a, d) = layers[layerIndex].affine
            return raw.map { FloatLayers.normalize($0, a: a, d: d, activation: layer.activation) }
        }
    }
}
