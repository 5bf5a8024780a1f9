/// Why a network could not be quantized, generated, built, run or checked.
public enum DeploymentError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Weights do not match the network's shapes.
    case modelMismatch(String)
    /// A scale or parameter could not be represented in the integer format.
    case quantization(layer: String, reason: String)
    /// The plan does not fit the budgets (the planner's explanation).
    case doesNotFit(String)
    /// The firmware ran but did not report what the generated code prints.
    case unexpectedOutput(String)
    /// A file or folder MixQ writes could not be written.
    case cannotWrite(path: String, reason: String)
    /// A network step this path cannot quantize, generate or run.
    case unsupportedStep(step: String, reason: String)

    public var description: String {
        switch self {
        case .modelMismatch(let message): return "weights do not match the network: \(message)"
        case .quantization(let layer, let reason): return "cannot quantize layer \(layer): \(reason)"
        case .doesNotFit(let message): return message
        case .unexpectedOutput(let message): return "the deployed firmware misbehaved: \(message)"
        case .cannotWrite(let path, let reason): return "cannot write \(path): \(reason)"
        case .unsupportedStep(let step, let reason): return "step \(step): \(reason)"
        }
    }
}
