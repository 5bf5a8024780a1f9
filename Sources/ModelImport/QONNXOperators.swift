import Deployment
import Foundation
import ONNXSchema
import Quantization

/// The QONNX operators beyond a weight's or an activation's `Quant` that Brevitas exports: the
/// `Trunc` of its quantized average pooling and the 32-bit `Quant` of its `Int32Bias`. They read
/// only constants, so the graph builder calls them with its table of constants.
enum QONNXOperators {
    /// A QONNX `Trunc` after an average pool (QONNX custom op `Trunc`, version 2; inputs x, scale,
    /// zeropt, input_bit_width, output_scale, output_bit_width; attributes signed, narrow,
    /// rounding_mode; github.com/fastmachinelearning/qonnx, docs/qonnx-custom-ops/trunc_op.md):
    /// `PoolTruncation` states its semantics.
    static func truncation(_ node: Onnx_NodeProto, _ attributes: NodeAttributes,
                           constants: [String: ONNXTensor]) throws(ImportError) -> PoolTruncation {
        let name = attributes.name
        func fail(_ reason: String) -> ImportError { .unsupportedUse(node: name, op: "Trunc", reason: reason) }
        guard node.input.count == 6 else {
            throw fail("a Trunc with \(node.input.count) inputs; MixQ reads QONNX Trunc version 2 (x, scale, zeropt, "
                       + "input_bit_width, output_scale, output_bit_width), what Brevitas 0.12 and later export")
        }
        var scalars: [Double] = []
        for input in node.input.dropFirst() {
            guard let tensor = constants[input], tensor.isScalar, tensor.values[0].isFinite else {
                throw fail("its input '\(input)' must be a constant scalar (per-tensor scale, zero point and bit widths)")
            }
            scalars.append(tensor.values[0])
        }
        let (scale, zeroPoint, outputScale, outputWidth) = (scalars[0], scalars[1], scalars[3], scalars[4])
        guard scale > 0, outputScale > 0 else { throw fail("its scales must be positive") }
        guard let rawBits = Int(exactly: outputWidth), let bits = BitWidth(rawValue: rawBits) else {
            throw fail("output bit width \(outputWidth); MixQ's kernels run 8, 4 and 2 bits")
        }
        let rounding: PoolingParameters.TruncationRounding
        switch attributes.string("rounding_mode") ?? "FLOOR" {
        case "FLOOR": rounding = .floor
        case "CEIL": rounding = .ceil
        case let mode:
            throw fail("rounding_mode \(mode); MixQ's pooling kernel truncates with FLOOR (Brevitas' TruncAvgPool2d "
                       + "default) or CEIL")
        }
        guard attributes.int("narrow", default: 0) == 0 else {
            throw fail("narrow = 1; MixQ's pooled output uses the full range of its bits")
        }
        // k = round(log2(output_scale / scale)): the divisor 2^k.
        let exponent = log2(outputScale / scale).rounded()
        guard exponent.isFinite, (0...30).contains(exponent) else {
            throw fail("output_scale / scale = \(outputScale / scale) is not a division by 2^0 ... 2^30")
        }
        let shift = Int(exponent)
        let signed = attributes.int("signed", default: 1) != 0
        let codeOffset = signed ? 1 << (bits.bits - 1) : 0
        let clamp = signed ? -codeOffset...(codeOffset - 1) : 0...bits.maxUnsigned
        let outputZero = zeroPoint / Double(1 << shift)
        guard zeroPoint.rounded() == zeroPoint, outputZero.rounded() == outputZero,
              clamp.contains(outputZero.clampedToInt(-(1 << 40)...(1 << 40))) else {
            throw fail("zero point \(zeroPoint) does not divide by 2^\(shift) into an integer of the output's range")
        }
        let output = TensorQuantization(scale: outputScale, zeroPoint: outputZero.clampedToInt(clamp) + codeOffset, bits: bits)
        return PoolTruncation(scale: scale, zeroPoint: zeroPoint, shift: shift, rounding: rounding, clamp: clamp,
                              outputScale: outputScale, outputZeroPoint: outputZero, output: output, codeOffset: codeOffset)
    }

    /// A QONNX `Quant` of 32 bits on a constant (Brevitas' `Int32Bias`): the int32 codes and their
    /// fake-quantized values, or nil when the node's bit width is not 32.
    static func int32Bias(_ node: Onnx_NodeProto, _ attributes: NodeAttributes, tensor: ONNXTensor,
                          constants: [String: ONNXTensor]) throws(ImportError) -> (codes: [Int32], scales: [Double], values: [Double])? {
        guard node.input.count == 4, let width = constants[node.input[3]], width.isScalar, width.values[0] == 32 else {
            return nil
        }
        let name = attributes.name
        func fail(_ reason: String) -> ImportError { .unsupportedUse(node: name, op: "Quant", reason: reason) }
        guard let scale = constants[node.input[1]], let zero = constants[node.input[2]] else {
            throw fail("its scale and zero point must be constants")
        }
        guard zero.values.allSatisfy({ $0 == 0 }) else { throw fail("a 32-bit bias with a zero point other than 0") }
        guard !scale.values.isEmpty, scale.values.allSatisfy({ $0 > 0 && $0.isFinite }),
              scale.count == 1 || scale.count == tensor.count else {
            throw fail("its scale has \(scale.count) values for a bias of \(tensor.count); expected one or one per value")
        }
        guard attributes.int("signed", default: 1) != 0 else { throw fail("an unsigned 32-bit bias; MixQ's bias is int32") }
        let rounding = attributes.string("rounding_mode") ?? "ROUND"
        guard rounding == "ROUND" else { throw fail("rounding_mode \(rounding); MixQ reads ROUND") }
        let narrow = attributes.int("narrow", default: 0) != 0
        let low = narrow ? -Double(Int32.max) : Double(Int32.min), high = Double(Int32.max)
        var codes: [Int32] = [], values: [Double] = []
        for (i, value) in tensor.values.enumerated() {
            let s = scale.values[scale.count == 1 ? 0 : i]
            let q = min(max((value / s).rounded(.toNearestOrEven), low), high)
            codes.append(Int32(q))
            values.append(q * s)
        }
        return (codes, scale.values, values)
    }
}

extension QuantParameters {
    /// MixQ's unsigned-code form of an activation `Quant`: one scale, or one per channel when the
    /// scale has shape `[1, C, 1, 1]` (Brevitas' per-channel activation scaling) on a map of
    /// `channels` channels; nil when the scales run along another axis or the zero points differ.
    func activationQuantization(channels: Int) -> TensorQuantization? {
        guard zeroPoints.allSatisfy({ $0 == zeroPoints[0] }) else { return nil }
        let codes = tensorQuantization(0)
        guard scales.count > 1 else { return codes }
        let dims = scaleDims
        let alongChannels = scales.count == channels
            && (dims == [1, channels, 1, 1] || dims == [channels, 1, 1] || dims == [1, channels])
        guard alongChannels else { return nil }
        return TensorQuantization(channelScales: scales, zeroPoint: codes.zeroPoint, bits: bits)
    }
}
