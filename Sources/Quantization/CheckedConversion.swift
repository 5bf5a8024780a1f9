extension Double {
    /// This value as an integer clamped to `range`, never trapping: an infinity goes to the
    /// nearer end, NaN to `nanValue` (clamped too). Swift's `Int(_: Double)` traps on both, and
    /// values derived from a model file (folded batch-norms, scales, calibrated ranges) can be
    /// either when the file is hostile.
    public func clampedToInt(_ range: ClosedRange<Int>, nanValue: Int = 0) -> Int {
        guard !isNaN else { return Swift.min(Swift.max(nanValue, range.lowerBound), range.upperBound) }
        if self <= Double(range.lowerBound) { return range.lowerBound }
        if self >= Double(range.upperBound) { return range.upperBound }
        return Int(self)
    }
}
