import Quantization
import Planning

/// Runs a network's steps in order over a table of tensors (docs/design.md#network-graph): the
/// one loop the float references, the host reference and calibration share.
///
/// Tensor 0 is the input; step `i` reads the tensors `network.stepInputs[i]` and writes tensor
/// `i + 1`. A tensor is released after its last reader, so a chain keeps at most two alive.
enum GraphExecution {
    /// Runs `compute` for every step with the step's index and its input tensors, and returns
    /// the network output. `observe` sees every step's output as it is made.
    static func run<Value>(_ network: Network, input: Value,
                           compute: (_ index: Int, _ step: NetworkStep, _ inputs: [Value]) throws -> Value,
                           observe: (_ index: Int, _ output: Value) -> Void = { _, _ in }) rethrows -> Value {
        let lastUse = network.lastUse
        var tensors: [Value?] = Array(repeating: nil, count: network.steps.count + 1)
        tensors[0] = input
        var output = input
        for (index, step) in network.steps.enumerated() {
            let inputs = network.stepInputs[index].compactMap { tensors[$0] }
            output = try compute(index, step, inputs)
            observe(index, output)
            tensors[index + 1] = output
            for tensor in Set(network.stepInputs[index]) where lastUse[network.storage(of: tensor)] <= index && tensor != 0 {
                tensors[tensor] = nil
            }
        }
        return output
    }
}

extension Pool2D {
    /// The pooling window as a convolution geometry (kernel = window, channels kept), the form
    /// the reference layers and the kernels take.
    var geometry: ConvolutionGeometry {
        get throws {
            try ConvolutionGeometry(inputHeight: input.height, inputWidth: input.width, inputChannels: input.channels,
                                    outputChannels: input.channels, kernelHeight: window.height, kernelWidth: window.width,
                                    strideHeight: strideHeight, strideWidth: strideWidth, padTop: padding.top,
                                    padLeft: padding.left, padBottom: padding.bottom, padRight: padding.right)
        }
    }
}
