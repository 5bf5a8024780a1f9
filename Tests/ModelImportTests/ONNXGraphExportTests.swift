import Deployment
import Evaluation
import Foundation
import Planning
import Testing
@testable import ModelImport

/// Networks with residual Adds as PyTorch users export them (`torch.onnx.export` on its
/// defaults, weights in external data; Fixtures/onnx-exports/make_torchvision_exports.py):
/// imported as graphs, MixQ's float host reference equals onnxruntime's outputs stored beside
/// them on all 16 inputs.
struct ONNXGraphExportTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/onnx-exports")
    static let models = ["torchvision_mobilenet_v2_035_64", "residual_cnn"]

    /// The largest difference allowed between MixQ's float reference and onnxruntime: both
    /// compute in Float32 but sum in different orders (onnxruntime's MLAS kernels, MixQ's plain
    /// loops with batch-norm in Double), so results differ in the last bits. PyTorch and
    /// onnxruntime themselves differ by up to 1.2e-5 on these outputs (manifest.json,
    /// `max_abs_difference_ort_vs_torch`); MixQ measured 9.1e-6 (MobileNetV2) and 2.1e-7 (the
    /// residual CNN), with outputs up to 0.64 and 0.90 in magnitude.
    static let tolerance: Float = 3e-5

    static func load(_ name: String) throws -> ImportedModel {
        try ModelFile.load(directory.appendingPathComponent("\(name).onnx"))
    }

    /// Sample `index` of an NCHW float32 `.npy` as MixQ's HWC order.
    static func hwc(_ array: NumPyArray, sample index: Int, shape: TensorShape) -> [Float] {
        let per = shape.elementCount
        let chw = array.floats(in: (index * per)..<((index + 1) * per))
        var out = [Float](repeating: 0, count: per)
        for c in 0..<shape.channels {
            for y in 0..<shape.height {
                for x in 0..<shape.width {
                    out[(y * shape.width + x) * shape.channels + c] = chw[(c * shape.height + y) * shape.width + x]
                }
            }
        }
        return out
    }

    @Test(arguments: models)
    func floatReferenceEqualsOnnxruntime(model name: String) throws {
        let imported = try Self.load(name)
        let network = imported.network
        let inputs = try NumPyArray(contentsOf: Self.directory.appendingPathComponent("\(name).inputs.npy"))
        let outputs = try NumPyArray(contentsOf: Self.directory.appendingPathComponent("\(name).outputs.npy"))
        try #require(inputs.shape == [16, network.input.channels, network.input.height, network.input.width])
        let classes = network.output.elementCount
        try #require(outputs.shape == [16, classes])
        var largest: Float = 0
        for sample in 0..<16 {
            let mixq = FloatReference.run(imported.model, image: Self.hwc(inputs, sample: sample, shape: network.input)).logits
            let onnxruntime = outputs.floats(in: (sample * classes)..<((sample + 1) * classes))
            try #require(mixq.count == classes)
            largest = max(largest, zip(mixq, onnxruntime).map { abs($0 - $1) }.max() ?? .infinity)
        }
        #expect(largest <= Self.tolerance, "\(name): MixQ's float reference differs from onnxruntime by \(largest)")
    }

    /// torchvision's MobileNetV2: 17 inverted-residual blocks, 10 of them with a residual Add
    /// (the stride-1 blocks whose input and output channels agree), whose skip tensor is also
    /// read by the block's first convolution.
    @Test func mobilenetV2IsAGraphWithTenResidualAdds() throws {
        let network = try Self.load("torchvision_mobilenet_v2_035_64").network
        #expect(network.layers.count == 53 && network.steps.count == 64 && !network.isChain)
        let adds = network.steps.indices.filter { network.steps[$0].kindName == "add" }
        #expect(adds.count == 10)
        for index in adds {
            // The skip input was written before the branch's three layers, and is read twice.
            let inputs = network.stepInputs[index]
            let skip = inputs.min() ?? 0, branch = inputs.max() ?? 0
            #expect(branch == index && skip == index - 3, "add step \(index) reads \(inputs)")
            #expect(network.stepInputs.filter { $0.contains(skip) }.count == 2)
            #expect(network.steps[index - 1].layer?.kind == .pointwise && network.steps[index - 1].layer?.activation == Activation.none)
        }
        #expect(network.steps.compactMap(\.layer).filter { $0.activation == .relu6 }.count == 35)
        #expect(network.steps.last?.kindName == "fc" && network.steps[network.steps.count - 2].kindName == "pool")
    }

    /// The planner's RAM on the graph: the peak of the tensors alive at each step, at 8 bits
    /// (docs/design.md#network-graph), worked out by hand from torchvision's MobileNetV2 at
    /// width 0.35 on 64x64 (channels rounded to multiples of 8: 16, 8, 8, 16, 24, 32, 56, 112;
    /// expansion 6).
    @Test func mobilenetV2PlansLiveTensorRAM() throws {
        let network = try Self.load("torchvision_mobilenet_v2_035_64").network
        let plan = try BitWidthPlanner.plan(network, budget: MemoryBudget(flash: 1 << 30, ram: 1 << 30), scheme: .int8)
        // Peak: block 2's stride-2 depthwise reads the 32x32x48 expansion and writes 16x16x48;
        // nothing else is alive (block 2 has no residual): 49152 + 12288 bytes.
        #expect(plan.peakActivationBytes == 32 * 32 * 48 + 16 * 16 * 48)
        // Block 3 (the first Add): while its depthwise runs the block input 16x16x8 stays alive
        // for the Add, beside the depthwise's 16x16x48 input and output.
        let adds = network.steps.indices.filter { network.steps[$0].kindName == "add" }
        let first = try #require(adds.first)
        #expect(network.steps[first - 2].layer?.kind == .depthwise)
        #expect(plan.steps[first - 2].liveBytes == 16 * 16 * 8 + 2 * 16 * 16 * 48)
        // The Add itself: the skip, the projection and the sum, 16x16x8 each.
        #expect(plan.steps[first].liveBytes == 3 * 16 * 16 * 8)
    }

    /// The residual CNN: MaxPool 3x3/2 pad 1, two Adds with their ReLU fused, the 1x1 stride-2
    /// projection shortcut, AvgPool 3x3/1 pad 1 as a windowed pool.
    @Test func residualCNNHasWindowedPoolsAndFusedAddActivations() throws {
        let network = try Self.load("residual_cnn").network
        #expect(network.steps.map(\.kindName) == ["conv", "maxpool", "conv", "conv", "add", "conv", "conv", "conv", "add",
                                                  "avgpool", "pool", "fc"])
        for case .add(let add) in network.steps { #expect(add.activation == .relu) }
        guard case .pool(let max) = network.steps[1], case .pool(let average) = network.steps[9] else {
            Issue.record("no windowed pools"); return
        }
        #expect(max.window == KernelSize(height: 3, width: 3) && max.strideHeight == 2
                && max.padding == Padding(top: 1, left: 1, bottom: 1, right: 1) && max.output == TensorShape(height: 16, width: 16, channels: 8))
        #expect(average.window == KernelSize(height: 3, width: 3) && average.strideHeight == 1 && average.output == average.input)
        // The projection: a 1x1 stride-2 convolution of block 2's input.
        let projection = try #require(network.steps[7].layer)
        #expect(projection.kernel == KernelSize(height: 1, width: 1) && projection.stride == 2 && network.stepInputs[7] == [5])
    }
}
