/// The latency-accuracy Pareto front: the points no other point beats, where lower latency and
/// higher Top-1 are better.
///
/// A point is dominated when another has latency <= and Top-1 >= with at least one strict;
/// equal points do not dominate each other, so both stay on the front.
public enum ParetoFront {
    /// One candidate: an identifier (a row index) and its two coordinates.
    public struct Point: Sendable, Equatable {
        public var id: Int
        public var latencyMs: Double
        public var top1: Double

        public init(id: Int, latencyMs: Double, top1: Double) {
            self.id = id
            self.latencyMs = latencyMs
            self.top1 = top1
        }
    }

    /// The non-dominated points, by increasing latency (then decreasing Top-1, then id): the
    /// order a front line is drawn in.
    public static func front(of points: [Point]) -> [Point] {
        points.filter { point in
            !points.contains { other in
                other.latencyMs <= point.latencyMs && other.top1 >= point.top1
                    && (other.latencyMs < point.latencyMs || other.top1 > point.top1)
            }
        }
        .sorted { a, b in
            if a.latencyMs != b.latencyMs { return a.latencyMs < b.latencyMs }
            if a.top1 != b.top1 { return a.top1 > b.top1 }
            return a.id < b.id
        }
    }
}
