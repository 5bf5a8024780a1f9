/// The shape of a convolution (standard or depthwise) on an HWC tensor.
///
/// Output size with explicit padding: `out = (in + padBefore + padAfter - kernel) / stride + 1`.
/// Padded input positions hold the input zero-point, so they contribute nothing to the sum.
public struct ConvolutionGeometry: Equatable, Hashable, Sendable {
    /// Input rows.
    public let inputHeight: Int
    /// Input columns.
    public let inputWidth: Int
    /// Input channels (innermost in memory).
    public let inputChannels: Int
    /// Equal to `inputChannels` for a depthwise convolution (depth multiplier 1).
    public let outputChannels: Int
    /// Kernel rows.
    public let kernelHeight: Int
    /// Kernel columns.
    public let kernelWidth: Int
    /// Vertical stride.
    public let strideHeight: Int
    /// Horizontal stride.
    public let strideWidth: Int
    /// Padding rows before the input (they read as the input zero-point).
    public let padTop: Int
    /// Padding columns before the input.
    public let padLeft: Int
    /// Padding rows after the input.
    public let padBottom: Int
    /// Padding columns after the input.
    public let padRight: Int

    /// Creates and validates a geometry.
    /// - Throws: `QuantizationError.invalidGeometry` when a size is not positive, a padding is
    ///   negative or not smaller than the kernel, or the output would be empty.
    public init(inputHeight: Int, inputWidth: Int, inputChannels: Int, outputChannels: Int,
                kernelHeight: Int, kernelWidth: Int, strideHeight: Int = 1, strideWidth: Int = 1,
                padTop: Int = 0, padLeft: Int = 0, padBottom: Int = 0, padRight: Int = 0) throws {
        let sizes = [inputHeight, inputWidth, inputChannels, outputChannels, kernelHeight, kernelWidth,
                     strideHeight, strideWidth]
        guard sizes.allSatisfy({ $0 > 0 }) else {
            throw QuantizationError.invalidGeometry("sizes, kernel and stride must be positive, got \(sizes)")
        }
        guard padTop >= 0, padBottom >= 0, padTop < kernelHeight, padBottom < kernelHeight,
              padLeft >= 0, padRight >= 0, padLeft < kernelWidth, padRight < kernelWidth else {
            throw QuantizationError.invalidGeometry(
                "padding (\(padTop), \(padLeft), \(padBottom), \(padRight)) must be in 0..<kernel size")
        }
        guard inputHeight + padTop + padBottom >= kernelHeight, inputWidth + padLeft + padRight >= kernelWidth else {
            throw QuantizationError.invalidGeometry("the \(kernelHeight)x\(kernelWidth) kernel does not fit the padded input")
        }
        guard inputHeight <= 65535, inputWidth <= 65535, inputChannels <= 65535, outputChannels <= 65535 else {
            throw QuantizationError.invalidGeometry("sizes above 65535 are not supported by the kernels")
        }
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight
        self.strideWidth = strideWidth
        self.padTop = padTop
        self.padLeft = padLeft
        self.padBottom = padBottom
        self.padRight = padRight
    }

    /// TensorFlow "SAME" padding: `out = ceil(in / stride)`, total padding
    /// `max((out - 1) * stride + kernel - in, 0)` split with the smaller half before.
    public static func same(inputHeight: Int, inputWidth: Int, inputChannels: Int, outputChannels: Int,
                            kernel: Int, stride: Int) throws -> ConvolutionGeometry {
        guard stride > 0, kernel > 0 else { throw QuantizationError.invalidGeometry("kernel and stride must be positive") }
        func padding(_ size: Int) -> (Int, Int) {
            let out = (size + stride - 1) / stride
            let total = max((out - 1) * stride + kernel - size, 0)
            return (total / 2, total - total / 2)
        }
        let (top, bottom) = padding(inputHeight)
        let (left, right) = padding(inputWidth)
        return try ConvolutionGeometry(inputHeight: inputHeight, inputWidth: inputWidth, inputChannels: inputChannels,
                                       outputChannels: outputChannels, kernelHeight: kernel, kernelWidth: kernel,
                                       strideHeight: stride, strideWidth: stride, padTop: top, padLeft: left,
                                       padBottom: bottom, padRight: right)
    }

    /// Output rows.
    public var outputHeight: Int { (inputHeight + padTop + padBottom - kernelHeight) / strideHeight + 1 }
    /// Output columns.
    public var outputWidth: Int { (inputWidth + padLeft + padRight - kernelWidth) / strideWidth + 1 }
    /// Elements of the input tensor.
    public var inputElements: Int { inputHeight * inputWidth * inputChannels }
    /// Elements of the output tensor.
    public var outputElements: Int { outputHeight * outputWidth * outputChannels }
    /// Weights per output channel of a standard convolution (`kernelHeight * kernelWidth * inputChannels`).
    public var weightsPerOutputChannel: Int { kernelHeight * kernelWidth * inputChannels }
    /// Multiply-accumulates of a standard convolution.
    public var macs: Int { outputElements * weightsPerOutputChannel }
}
