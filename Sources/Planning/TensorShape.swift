import Quantization

/// The shape of one activation tensor, stored HWC with channels innermost (docs/design.md#packing).
///
/// The batch dimension is always 1 on a microcontroller, so it is not represented.
public struct TensorShape: Sendable, Hashable, Codable, CustomStringConvertible {
    public var height: Int
    public var width: Int
    public var channels: Int

    /// A shape of `height x width x channels` elements. All three must be positive
    /// (checked by `Layer` and `Network` constructors, which throw `NetworkError`).
    public init(height: Int, width: Int, channels: Int) {
        self.height = height
        self.width = width
        self.channels = channels
    }

    /// Number of elements (`height * width * channels`).
    public var elementCount: Int { height * width * channels }

    /// `elementCount`, or nil when it does not fit an `Int` (a shape read from a file is checked
    /// with this before anything else computes with it).
    public var checkedElementCount: Int? {
        let (area, o1) = height.multipliedReportingOverflow(by: width)
        let (count, o2) = area.multipliedReportingOverflow(by: channels)
        return o1 || o2 ? nil : count
    }

    /// Bytes the tensor occupies at `bits` bits per element, packed (rounded up to a whole byte).
    public func bytes(at bits: BitWidth) -> Int {
        bits.bytes(forElements: elementCount)
    }

    var isValid: Bool { height > 0 && width > 0 && channels > 0 }

    /// `"112x112x32"` (height x width x channels).
    public var description: String { "\(height)x\(width)x\(channels)" }
}

/// The spatial size of a convolution kernel.
public struct KernelSize: Sendable, Hashable, Codable, CustomStringConvertible {
    public var height: Int
    public var width: Int

    public init(height: Int, width: Int) {
        self.height = height
        self.width = width
    }

    /// A square `size x size` kernel.
    public static func square(_ size: Int) -> KernelSize { KernelSize(height: size, width: size) }

    /// `"3x3"`.
    public var description: String { "\(height)x\(width)" }
}

/// How a convolution pads its input, as the user writes it in a model definition.
public enum PaddingMode: String, Sendable, Hashable, Codable {
    /// TensorFlow "SAME": output size `ceil(input / stride)`, zeros added around the input.
    case same
    /// TensorFlow "VALID": no padding; output size `ceil((input - kernel + 1) / stride)`.
    case valid
}

/// Explicit zero padding in elements on each side of the input, as a kernel applies it.
///
/// Code generation and the host reference consume this form, so neither needs to know
/// TensorFlow's rule.
public struct Padding: Sendable, Hashable, Codable, CustomStringConvertible {
    public var top: Int
    public var left: Int
    public var bottom: Int
    public var right: Int

    public init(top: Int, left: Int, bottom: Int, right: Int) {
        self.top = top
        self.left = left
        self.bottom = bottom
        self.right = right
    }

    /// No padding on any side.
    public static let zero = Padding(top: 0, left: 0, bottom: 0, right: 0)

    /// Output extent and padding of one spatial axis under TensorFlow's "SAME" rule.
    ///
    /// TensorFlow (`tf.nn.conv2d` documentation, "SAME" padding): the output has
    /// `ceil(input / stride)` elements, the total padding is
    /// `max((output - 1) * stride + kernel - input, 0)`, and the smaller half goes
    /// before (top/left), the larger after (bottom/right).
    /// Example: input 224, kernel 3, stride 2 gives output 112, padding 0 before and 1 after.
    public static func sameAxis(input: Int, kernel: Int, stride: Int) -> (output: Int, before: Int, after: Int) {
        let output = (input + stride - 1) / stride
        let total = max((output - 1) * stride + kernel - input, 0)
        return (output, total / 2, total - total / 2)
    }

    /// `"t0 l0 b1 r1"`.
    public var description: String { "t\(top) l\(left) b\(bottom) r\(right)" }
}
