import Quantization
import Testing

/// Runs cases on the target through the chosen paths and compares every output byte with the
/// Swift reference; also checks the status, and that no byte after the output was touched.
enum KernelCheck {
    /// Returns the cycles of each job (same order as cases x paths) for reporting.
    @discardableResult
    static func run(_ cases: [LayerCase], paths: [KernelJob.Path] = [.optimized, .plain]) throws -> [UInt32] {
        guard let family = cases.first?.kind.rawValue else { return [] }
        var pending: [(LayerCase, KernelJob)] = []
        for c in cases {
            for path in paths { pending.append((c, try c.job(path))) }
        }
        var cycles: [UInt32] = []
        var start = 0
        while start < pending.count {
            // Fill one run: at most maxJobs jobs and the arena (with alignment slack).
            var end = start, bytes = 0
            while end < pending.count, end - start < KernelFirmware.maxJobs {
                let j = pending[end].1
                let need = j.input.count + j.weights.count + j.parameters.bias.count + j.parameters.multiplier.count
                    + j.parameters.shift.count + j.parameters.weightZero.count + j.outputBytes + KernelFirmware.guardCount + 7 * 32
                if bytes + need > KernelFirmware.arenaBytes, end > start { break }
                bytes += need
                end += 1
            }
            let batch = Array(pending[start..<end])
            let results = try KernelFirmware.run(family: family, jobs: batch.map(\.1))
            for ((c, job), result) in zip(batch, results) {
                let label = "\(job.path) \(c)"
                #expect(result.status == 0, "status \(result.status): \(label)")
                #expect(result.guardBytes.allSatisfy { $0 == KernelFirmware.guardPattern }, "wrote past the output: \(label)")
                let expected = c.expectedBytes
                if result.output != expected {
                    let got = (try? BitPacking.unpack(result.output, count: c.expected.count, bits: c.outputBits)) ?? []
                    let bad = zip(got, c.expected).enumerated().filter { $0.element.0 != $0.element.1 }
                    let first = bad.prefix(4).map { "[\($0.offset)] got \($0.element.0) want \($0.element.1)" }
                    Issue.record("\(bad.count) of \(c.expected.count) outputs differ (\(first.joined(separator: ", "))): \(label)")
                }
                cycles.append(result.cycles)
            }
            start = end
        }
        return cycles
    }
}
