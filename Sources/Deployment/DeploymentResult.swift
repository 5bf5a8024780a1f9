import Foundation
import Planning

/// Everything one deployment measured. Its JSON (snake_case keys) is the contract of
/// `mixq deploy --json` and of the result files `mixq sweep` writes (docs/results-format.md).
public struct DeploymentResult: Sendable, Codable {
    public struct LayerResult: Sendable, Codable {
        public var name: String
        /// `conv`, `depthwise`, `pointwise`, `fc`, or `pool` for global average pooling.
        public var kind: String
        public var inputShape: String
        public var outputShape: String
        public var inputBits: Int
        public var weightBits: Int?
        public var outputBits: Int
        public var weightBytes: Int
        public var activationBytes: Int
        public var macs: Int
        public var cycles: UInt64?
    }

    public struct Cut: Sendable, Codable {
        public var layer: String
        public var tensor: String
        public var fromBits: Int
        public var toBits: Int
        public var bytesBefore: Int
        public var bytesAfter: Int
        public var reason: String
    }

    public struct Conditions: Sendable, Codable {
        public var clockMhz: Int
        public var flashWaitStates: Int
        public var caches: String
        public var timingModel: String
        public var compiler: String
        public var flags: String
        public var weights: String
        /// The part the network ran on; absent in results from before parts were data (the
        /// STM32H743).
        public var part: String?
    }

    public var model: String
    public var scheme: String
    public var flashBudget: Int
    public var ramBudget: Int
    public var weightBytes: Int
    public var paramBytes: Int
    public var flashBytes: Int
    public var peakActivationBytes: Int
    public var fits: Bool
    public var cuts: [Cut]
    public var layers: [LayerResult]
    public var macs: Int
    public var totalCycles: UInt64?
    public var latencyMs: Double?
    public var clockMhz: Int
    /// Bytes used per memory region, measured from the ELF.
    public var flashUsed: [String: UInt64]?
    public var ramUsed: [String: UInt64]?
    /// Whether every output byte on the target equals the host reference, for every image run.
    public var bitExact: Bool?
    public var imagesChecked: Int?
    public var conversionLoss: ConversionLoss?
    public var conditions: Conditions?
    /// Why the network was not built or run (e.g. it does not fit), when it was not.
    public var note: String?
    /// How the bits were chosen: `paper` or `sensitivity` (absent in results from before strategies).
    public var strategy: String? = nil
    /// How ranges were calibrated: `minmax` or `mse` (absent in results from before calibration methods).
    public var calibration: String? = nil

    /// JSON as the contract spells it: snake_case keys, sorted, indented.
    public func json() throws -> Data { try Self.contractEncoder().encode(self) }

    /// Reads a result written by `json()`.
    public static func decode(_ data: Data) throws -> DeploymentResult {
        try contractDecoder().decode(DeploymentResult.self, from: data)
    }

    /// The encoder of MixQ's result files: snake_case keys, sorted, indented (evaluation results
    /// use it too).
    public static func contractEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// The decoder matching `contractEncoder()`.
    public static func contractDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }
}

extension DeploymentResult {
    /// The planner's part of a result: bits, bytes and cuts, nothing measured yet.
    public init(plan: BitWidthPlan, network: Network, clockMHz: Int) {
        var layers: [LayerResult] = []
        var planIndex = 0
        // Bits of every tensor: the plan's when it has them, else through the layers (chains).
        var tensorBits = plan.tensorBits.count == network.steps.count + 1 ? plan.tensorBits : []
        for (index, step) in network.steps.enumerated() {
            switch step {
            case .layer(let layer):
                let p = plan.layers[planIndex]
                layers.append(LayerResult(name: layer.name, kind: layer.kind.rawValue, inputShape: "\(layer.input)",
                                          outputShape: "\(layer.output)", inputBits: p.inputBits.bits,
                                          weightBits: p.weightBits.bits, outputBits: p.outputBits.bits,
                                          weightBytes: p.weightBytes, activationBytes: p.activationBytes,
                                          macs: layer.multiplyAccumulates, cycles: nil))
                planIndex += 1
            default:
                let inputBits = tensorBits.isEmpty
                    ? (planIndex < plan.layers.count ? plan.layers[planIndex].inputBits : .eight)
                    : tensorBits[network.stepInputs[index][0]]
                let outputBits = tensorBits.isEmpty ? inputBits : tensorBits[index + 1]
                let inputBytes = network.stepInputs[index].reduce(0) { total, tensor in
                    total + (tensorBits.isEmpty ? inputBits : tensorBits[tensor]).bytes(forElements: network.tensorShapes[tensor].elementCount)
                }
                let bytes = inputBytes + outputBits.bytes(forElements: step.output.elementCount)
                layers.append(LayerResult(name: step.name, kind: step.kindName, inputShape: "\(step.input)",
                                          outputShape: "\(step.output)", inputBits: inputBits.bits, weightBits: nil,
                                          outputBits: outputBits.bits, weightBytes: 0, activationBytes: bytes, macs: 0, cycles: nil))
            }
        }
        tensorBits = []
        self.init(model: network.name, scheme: plan.scheme.rawValue, flashBudget: plan.budget.flash, ramBudget: plan.budget.ram,
                  weightBytes: plan.weightBytes, paramBytes: plan.parameterBytes, flashBytes: plan.flashBytes,
                  peakActivationBytes: plan.peakActivationBytes, fits: plan.fits,
                  cuts: plan.cuts.map { cut in
                      Cut(layer: cut.layerName, tensor: cut.tensor.rawValue, fromBits: cut.bitsBefore.bits, toBits: cut.bitsAfter.bits,
                          bytesBefore: cut.bytesBefore, bytesAfter: cut.bytesAfter, reason: cut.reason)
                  },
                  layers: layers, macs: network.multiplyAccumulates, totalCycles: nil, latencyMs: nil, clockMhz: clockMHz,
                  flashUsed: nil, ramUsed: nil, bitExact: nil, imagesChecked: nil, conversionLoss: nil, conditions: nil, note: nil)
    }
}
