import Testing
@testable import Reports

/// The latency-accuracy front, worked by hand.
@Suite struct ParetoFrontTests {
    /// Points (latency ms, Top-1 %):
    ///   0 (10, 40)  front: fastest
    ///   1 (12, 39)  dominated by 0 (slower, worse)
    ///   2 (30, 58)  front: best Top-1
    ///   3 (25, 56)  front: faster than 2, better than 0
    ///   4 (25, 50)  dominated by 3 (same latency, worse)
    ///   5 (40, 58)  dominated by 2 (same Top-1, slower)
    ///   6 (30, 58)  equal to 2: neither dominates, both stay
    @Test func handWorkedFront() {
        let points = [(10.0, 40.0), (12, 39), (30, 58), (25, 56), (25, 50), (40, 58), (30, 58)]
            .enumerated().map { ParetoFront.Point(id: $0.offset, latencyMs: $0.element.0, top1: $0.element.1) }
        #expect(ParetoFront.front(of: points).map(\.id) == [0, 3, 2, 6])
        #expect(ParetoFront.front(of: []).isEmpty)
        #expect(ParetoFront.front(of: [points[1]]).map(\.id) == [1])
    }

    /// On the fixtures with the user's figures: A = 0.25_128 int8 (10 ms, 39.5), B = 0.25_128
    /// mixpc (12 ms, 38.9), C = 0.5_160 int8 (30 ms, 58.0), D = 0.5_160 mixpl (25 ms, 56.0);
    /// 1.0_224 int8 (70.1) does not fit and never ran, so it cannot be on the front. B is
    /// dominated by A; the front is A, D, C.
    @Test func fixtureFrontExcludesDominatedAndNonFittingRows() throws {
        let report = Report(collection: try Fixtures.both(), accuracy: try Fixtures.publishedAndUser())
        #expect(report.paretoFront.map { "\(report.rows[$0].model)/\(report.rows[$0].scheme)" } == [
            "mobilenet_v1_0.25_128/int8", "mobilenet_v1_0.5_160/mixpl", "mobilenet_v1_0.5_160/int8",
        ])
        #expect(report.rows.filter(\.onParetoFront).count == 3)
        // Published figures only: mixpc and mixpl have no Top-1; front = A (39.5) and C (57.7).
        let published = Report(collection: try Fixtures.both(), accuracy: try Fixtures.published())
        #expect(published.paretoFront.map { published.rows[$0].latencyMs } == [10.0, 30.0])
    }
}
