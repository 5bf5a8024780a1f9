import Reports
import Testing

/// The shipped MLPerf Tiny table (Sources/Reports/Resources/published_latency.csv).
@Suite struct PublishedLatencyTests {
    /// X-CUBE-AI 9.0 on the NUCLEO-H7A3ZI-Q (MLPerf Tiny v1.2, visual wake words): 23.80 ms at
    /// 280 MHz = 6,664,000 cycles; the reference model's 7,489,664 MACs / 6,664,000 = 1.124
    /// MAC/cycle (worked by hand).
    @Test func shippedTableConvertsLatencyToCycles() throws {
        let rows = try PublishedLatency.shipped()
        #expect(rows.count == 16)
        #expect(rows.allSatisfy { !$0.source.isEmpty && $0.source.hasPrefix("mlcommons/tiny_results_v") })
        let st = try #require(rows.first { $0.benchmark == "vww" && $0.board == "NUCLEO-H7A3ZI-Q" && $0.stack == "X-CUBE-AI 9.0" })
        #expect(st.cycles == 6_664_000)
        #expect(abs(st.macPerCycle - 7_489_664.0 / 6_664_000.0) < 1e-12)
        #expect((st.macPerCycle * 1000).rounded() / 1000 == 1.124)
        #expect(rows.filter { $0.benchmark == "vww" }.count == 7)
    }

    @Test func malformedRowsNameTheLine() {
        let header = "benchmark,reference_model,reference_macs,round,submitter,board,core,clock_mhz,stack,latency_ms,accuracy,source\n"
        #expect(throws: ReportsError.self) {
            _ = try PublishedLatency.parse(header + "vww,m,100,v1,x,b,M7,0,s,1.0,,src\n", path: "t.csv")
        }
        #expect(throws: ReportsError.self) {
            _ = try PublishedLatency.parse(header + "vww,m,100,v1,x,b,M7,280,s,1.0,,\n", path: "t.csv")
        }
        #expect(throws: ReportsError.self) { _ = try PublishedLatency.parse("benchmark,board\nvww,b\n", path: "t.csv") }
    }
}
