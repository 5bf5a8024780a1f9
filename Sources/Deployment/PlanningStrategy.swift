/// How a float model's bits are chosen (docs/design.md, "Accuracy-aware search").
public enum PlanningStrategy: String, Sendable, Hashable, Codable, CaseIterable {
    /// `Planning.BitWidthPlanner.plan`: the memory-driven rule of Rusci, Capotondi, Benini (MLSys 2020).
    case paper
    /// `Evaluation.SensitivitySearch`: the cuts that cost the least measured accuracy per byte.
    case sensitivity

    /// How results name `scheme` under this strategy: the scheme itself under `paper`,
    /// `<scheme>+sensitivity` otherwise, so both sit side by side in one results folder.
    public func label(scheme: String) -> String { self == .paper ? scheme : "\(scheme)+\(rawValue)" }

    /// The calibration the strategy uses unless told otherwise: min/max for the paper's rule (its
    /// published results), MSE clipping with bias correction for the search.
    public var defaultCalibration: CalibrationMethod { self == .paper ? .minMax : .mse }
}
