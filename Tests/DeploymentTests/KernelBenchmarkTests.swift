import Deployment
import Emulator
import FirmwareBuild
import Foundation
import Planning
import Testing

/// `mixq bench kernels` stays runnable: its generated firmware builds against the current
/// kernel API and reports every combination (on tiny shapes here; the speed figures come from
/// the benchmark itself, never from a test).
@Suite struct KernelBenchmarkTests {
    @Test func everyCombinationIsMeasured() throws {
        let shapes = [
            KernelBenchmark.Shape(layer: "conv", input: TensorShape(height: 8, width: 8, channels: 3), outputChannels: 4, kernel: 3, stride: 2),
            KernelBenchmark.Shape(layer: "depthwise", input: TensorShape(height: 6, width: 6, channels: 8), outputChannels: 8, kernel: 3, stride: 1),
            KernelBenchmark.Shape(layer: "pointwise", input: TensorShape(height: 2, width: 2, channels: 16), outputChannels: 8, kernel: 1, stride: 1),
            KernelBenchmark.Shape(layer: "fc", input: TensorShape(height: 1, width: 1, channels: 32), outputChannels: 10, kernel: 1, stride: 1),
            KernelBenchmark.Shape(layer: "pool", input: TensorShape(height: 3, width: 3, channels: 8), outputChannels: 8, kernel: 3, stride: 1),
        ]
        let toolchain = try Toolchain.locate()
        let folder = toolchain.cacheDirectory.appendingPathComponent("tests", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let source = folder.appendingPathComponent("kernel_bench_tiny.c")
        try Data(KernelBenchmark.source(shapes: shapes).utf8).write(to: source, options: .atomic)
        let kernels = ["conv", "depthwise", "pointwise", "fc", "pool"].map { "kernels/\($0).c" }
        let built = try toolchain.build(FirmwareSpec(name: "kernel_bench_tiny", sources: [source.path] + kernels,
                                                     includeDirectories: ["kernels"]))
        let result = try Machine(part: .stm32h743).run(ELFImage(contentsOf: built.elf), options: RunOptions(timing: .pipeline))
        #expect(result.exitStatus == 0, "\(result.stdout)")
        let measurements = KernelBenchmark.parse(result.stdout)
        // Per weighted layer: 27 combinations in PC+ICN plus PL+FB and PL+ICN at 8/8/8, 4/4/4, 2/2/2.
        for layer in ["conv", "depthwise", "pointwise", "fc"] {
            #expect(measurements.filter { $0.layer == layer }.count == 27 + 6, "\(layer)")
        }
        #expect(measurements.filter { $0.layer == "pool" }.count == 9)
        for m in measurements {
            #expect(m.macs == shapes.first { $0.layer == m.layer }?.macs)
            #expect(m.cycles > 0)
        }
    }
}
