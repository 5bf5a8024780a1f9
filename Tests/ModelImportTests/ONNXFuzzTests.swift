import Deployment
import Evaluation
import Foundation
import ONNXSchema
import Planning
import Quantization
import Testing
@testable import ModelImport

/// Hostile model files: the sizes, counts and floats a file states are checked before anything
/// computes with them, so each case below ends in an `ImportError` (one `error:` line in the
/// CLI) or a network that plans, quantizes and evaluates; a trap (overflow, a non-finite Double
/// converted to Int, an index into an empty tensor) kills the test run. Seeded: a failure
/// reproduces.
@Suite struct ONNXFuzzTests {
    func rejection(_ graph: ONNXGraph) -> String {
        do {
            let model = try ONNXImporter.load(data: graph.data(), path: "x.onnx", name: "x")
            try Self.exercise(model)
            return "accepted"
        } catch {
            return String(describing: error)
        }
    }

    /// Plans, quantizes (calibrating on synthetic images) and runs one image through the
    /// integer, fake-quantized and float references: what `plan`, `deploy` and `eval` do on the
    /// host.
    static func exercise(_ imported: ImportedModel) throws {
        let network = imported.network
        _ = network.multiplyAccumulates
        _ = imported.summary
        let request = DeploymentRequest(network: network, scheme: imported.model.quantization?.naturalScheme ?? .mixpc,
                                        budget: try MemoryBudget(flash: 4 << 20, ram: 1 << 20), model: imported.model)
        let prepared = try Deployer.prepare(request)
        guard let quantized = prepared.quantized, let model = prepared.model else { return }
        let pixels = [UInt8](repeating: 77, count: network.input.elementCount)
        let codes = model.input.encode(pixels)
        _ = CompiledNetwork(quantized).logits(codes)
        _ = try HostReference.run(quantized, pixels: codes)
        _ = FloatReference.runFakeQuantized(quantized, pixels: codes)
        _ = FloatReference.run(model, image: model.input.real(pixels))
    }

    // MARK: The cases of the reliability review, one by one

    @Test func aHugeDeclaredInputIsRefused() {
        var g = ImportedDeploymentTests.graph()
        g.input.dims = [1, 3, (1 << 31) - 1, (1 << 31) - 1]
        #expect(rejection(g).contains("more than 2147483648 elements"), "\(rejection(g))")
    }

    @Test func aTensorWithOverflowingDimensionsIsRefused() {
        var g = ImportedDeploymentTests.graph()
        g.initializers[0].dims = [(1 << 31) - 1, (1 << 31) - 1, (1 << 31) - 1]
        #expect(rejection(g).contains("hold more than 2147483648 elements"), "\(rejection(g))")
    }

    /// An initializer with a million dimensions: the error quotes them cut to a readable line
    /// (it printed 3 MB before).
    @Test func anErrorQuotingAMillionDimensionsStaysShort() {
        var g = ImportedDeploymentTests.graph()
        g.initializers[0].dims = [Int64](repeating: 2, count: 1_000_000)
        let message = rejection(g)
        #expect(message.contains("more characters") && message.utf8.count < 1000, "\(message.prefix(300))")
    }

    @Test func anEmptyQuantScaleIsRefused() throws {
        var g = ImportedDeploymentTests.graph()
        let index = try #require(g.initializers.firstIndex { $0.name.hasPrefix("s") && $0.floatData.count > 1 })
        g.initializers[index].dims = [0, 1, 1, 1]
        g.initializers[index].floatData = []
        #expect(rejection(g).contains("must each hold at least one value"), "\(rejection(g))")
    }

    @Test func aNaNOrNegativeBatchNormEpsilonIsRefused() throws {
        for epsilon in [Float.nan, -1, .infinity] {
            var g = ImportedDeploymentTests.graph()
            let index = try #require(g.nodes.firstIndex { $0.opType == "BatchNormalization" })
            g.nodes[index].attribute = [ONNXGraph.attribute("epsilon", float: epsilon)]
            #expect(rejection(g).contains("epsilon"), "\(epsilon): \(rejection(g))")
        }
        // A zero variance with a zero epsilon folds to an infinite factor.
        var g = ImportedDeploymentTests.graph()
        let node = try #require(g.nodes.first { $0.opType == "BatchNormalization" })
        let variance = try #require(g.initializers.firstIndex { $0.name == node.input[4] })
        g.initializers[variance].floatData = g.initializers[variance].floatData.map { _ in 0 }
        let index = try #require(g.nodes.firstIndex { $0.opType == "BatchNormalization" })
        g.nodes[index].attribute = [ONNXGraph.attribute("epsilon", float: 0)]
        #expect(rejection(g).contains("a variance plus epsilon must be above 0"), "\(rejection(g))")
    }

    @Test func aValueBeyondFloatAndAHugeBitWidthAreRefused() throws {
        var g = ImportedDeploymentTests.graph()
        var big = Onnx_TensorProto()
        big.name = "b1"
        big.dataType = Int32(Onnx_TensorProto.DataType.double.rawValue)
        big.doubleData = [1e300]
        let bits = try #require(g.initializers.firstIndex { $0.name == "b1" })
        g.initializers[bits] = big
        #expect(rejection(g).contains("bit width"), "\(rejection(g))")
        g = ImportedDeploymentTests.graph()
        let bias = try #require(g.initializers.firstIndex { $0.name == "fcb" })
        var huge = Onnx_TensorProto()
        huge.name = "fcb"
        huge.dims = [10]
        huge.dataType = Int32(Onnx_TensorProto.DataType.double.rawValue)
        huge.doubleData = [Double](repeating: 1e300, count: 10)
        g.initializers[bias] = huge
        #expect(rejection(g).contains("does not fit a 32-bit float"), "\(rejection(g))")
    }

    @Test func quantizationOfNonFiniteValuesDoesNotTrap() {
        let q = TensorQuantization(scale: 0.1, zeroPoint: 7, bits: .four)
        #expect(q.code(.nan) == 7 && q.code(.infinity) == 15 && q.code(-.infinity) == 0 && q.code(1e300) == 15)
        #expect((0...255).contains(TensorQuantization.covering(min: -.infinity, max: 1, bits: .eight).zeroPoint))
        #expect(BitWidth.four.bytes(forElements: Int.max) == Int.max / 2 + 1)
        #expect(BitWidth.two.bytes(forElements: 9) == 3 && BitWidth.eight.bytes(forElements: 5) == 5)
        #expect(TensorShape(height: 1 << 31, width: 1 << 31, channels: 3).checkedElementCount == nil)
    }

    // MARK: Seeded mutations

    enum Mutation: CaseIterable {
        case overflowDimensions, emptyTensor, nonFiniteValue, hugeAttribute, nonFiniteAttribute, truncation, byteFlips, inputShape
    }

    static let caseCount = 1_200

    @Test func mutatedModelsNeverTrap() throws {
        let base = ImportedDeploymentTests.graph()
        let valid = try base.data()
        var random = SeededRandom(seed: 0x4F4E_4E58)
        var imported = 0, rejected = 0
        var kinds: [String: Int] = [:]
        let hugeValues: [Int64] = [(1 << 31) - 1, 1 << 40, Int64.max, -1, 0, 1 << 20]
        for _ in 0..<Self.caseCount {
            let mutation = Mutation.allCases[Int(random.next() % UInt64(Mutation.allCases.count))]
            var graph = base
            var data: Data?
            switch mutation {
            case .overflowDimensions:
                let index = Int(random.next() % UInt64(graph.initializers.count))
                graph.initializers[index].dims = (0..<(1 + Int(random.next() % 4))).map { _ in hugeValues[Int(random.next() % 6)] }
            case .emptyTensor:
                let index = Int(random.next() % UInt64(graph.initializers.count))
                graph.initializers[index].dims = [0]
                graph.initializers[index].floatData = []
                graph.initializers[index].rawData = Data()
            case .nonFiniteValue:
                let index = Int(random.next() % UInt64(graph.initializers.count))
                var tensor = graph.initializers[index]
                let values: [Double] = [.nan, .infinity, -.infinity, 1e300, -1e300, 1e-320, 0]
                let count = max(1, tensor.dims.reduce(1) { $0 * Int(max($1, 0)) })
                var doubles = [Double](repeating: Double(random.unit()), count: count)
                doubles[Int(random.next() % UInt64(count))] = values[Int(random.next() % UInt64(values.count))]
                tensor.dataType = Int32(Onnx_TensorProto.DataType.double.rawValue)
                tensor.floatData = []
                tensor.clearRawData()
                tensor.doubleData = doubles
                graph.initializers[index] = tensor
            case .hugeAttribute:
                let index = Int(random.next() % UInt64(graph.nodes.count))
                let names = ["pads", "strides", "kernel_shape", "group", "transB", "axis", "dilations"]
                let name = names[Int(random.next() % UInt64(names.count))]
                let value = hugeValues[Int(random.next() % 6)]
                graph.nodes[index].attribute.removeAll { $0.name == name }
                graph.nodes[index].attribute.append(name == "group" || name == "transB" || name == "axis"
                    ? ONNXGraph.attribute(name, int: Int(value))
                    : ONNXGraph.attribute(name, ints: [Int(value), Int(value), Int(value), Int(value)].prefix(name == "pads" ? 4 : 2).map { $0 }))
            case .nonFiniteAttribute:
                let index = Int(random.next() % UInt64(graph.nodes.count))
                let floats: [Float] = [.nan, .infinity, -.infinity, 0, -1, .greatestFiniteMagnitude]
                let name = ["epsilon", "alpha", "beta", "min", "max"][Int(random.next() % 5)]
                graph.nodes[index].attribute.removeAll { $0.name == name }
                graph.nodes[index].attribute.append(ONNXGraph.attribute(name, float: floats[Int(random.next() % UInt64(floats.count))]))
            case .truncation:
                data = valid.prefix(Int(random.next() % UInt64(valid.count)))
            case .byteFlips:
                var bytes = [UInt8](valid)
                for _ in 0..<(1 + Int(random.next() % 8)) {
                    bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: random.next())
                }
                data = Data(bytes)
            case .inputShape:
                graph.input.dims = (0..<4).map { _ in hugeValues[Int(random.next() % 6)] }
            }
            kinds[String(describing: mutation), default: 0] += 1
            do {
                let model = try ONNXImporter.load(data: data ?? graph.data(), path: "fuzz.onnx", name: "fuzz")
                try Self.exercise(model)
                imported += 1
            } catch is ImportError {
                rejected += 1
            } catch {
                // Planning, quantization and deployment errors are typed and printed as one line.
                rejected += 1
            }
        }
        #expect(imported + rejected == Self.caseCount)
        #expect(rejected > Self.caseCount / 4 && imported > 10, "imported \(imported), rejected \(rejected): \(kinds)")
    }
}
