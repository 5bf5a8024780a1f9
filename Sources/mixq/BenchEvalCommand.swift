import ArgumentParser
import Deployment
import Evaluation
import Foundation
import ModelImport
import Planning

/// `mixq bench eval`: how fast the host reference scores images (integer-only path, the one
/// `mixq eval` runs over every image), on seeded synthetic images of a built-in model.
struct BenchEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Host-reference evaluation speed: images/s and MAC/s of the integer-only network (JSON).",
        discussion: """
            Quantizes --model (synthetic weights) under --scheme, checks the fast host path against \
            the plain host reference on the first image, then scores --images seeded images on \
            --jobs threads, integer path only, --repeats times. MixQ's goal: MobilenetV1 0.25_128 at \
            100 images/s or more (1.4 G MAC/s) on a 2-core machine.
            """
    )

    @Option(help: "A built-in model name, a trained example's name or a path to an ONNX / QONNX file (as `mixq plan --model`).")
    var model: String = "mobilenet_v1_0.25_128"

    @Option(help: "int8 (no cuts), mixpl (per-layer weights) or mixpc (per-channel weights).")
    var scheme: String = "mixpc"

    @Option(help: "Seeded synthetic images scored on the host per run.")
    var images: Int = 200

    @Option(name: .customLong("jobs"), help: "Threads (default: the number of cores).")
    var jobsOption: Int?

    /// `--jobs`, or the number of cores (an optional, so the help prints the default once, in words).
    var jobs: Int { jobsOption ?? ProcessInfo.processInfo.activeProcessorCount }

    @Option(help: "Runs to make; the JSON reports each and the best.")
    var repeats: Int = 3

    @Flag(help: "Print JSON (the only format; accepted for symmetry with other commands).")
    var json = false

    func validate() throws {
        guard images > 0 else { throw ValidationError("--images must be positive") }
        try SharedOption.validateJobs(jobs)
        guard (1...20).contains(repeats) else { throw ValidationError("--repeats must be 1...20") }
        do { _ = try QuantizationScheme(name: scheme) } catch { throw ValidationError(String(describing: error)) }
    }

    struct Run: Encodable {
        var seconds: Double
        var imagesPerSecond: Double
        var gigaMACsPerSecond: Double
        enum CodingKeys: String, CodingKey {
            case seconds
            case imagesPerSecond = "images_per_second"
            case gigaMACsPerSecond = "giga_macs_per_second"
        }
    }

    struct Report: Encodable {
        var benchmark = "eval"
        var model: String
        var scheme: String
        var images: Int
        var macsPerImage: Int
        var threads: Int
        var hostCores: Int
        var runs: [Run]
        var bestImagesPerSecond: Double
        var bestGigaMACsPerSecond: Double
        var checkedAgainstHostReference: Bool
        var conditions: String
        enum CodingKeys: String, CodingKey {
            case benchmark, model, scheme, images, threads, runs, conditions
            case macsPerImage = "macs_per_image"
            case hostCores = "host_cores"
            case bestImagesPerSecond = "best_images_per_second"
            case bestGigaMACsPerSecond = "best_giga_macs_per_second"
            case checkedAgainstHostReference = "checked_against_host_reference"
        }
    }

    func run() throws {
        let reference: ModelReference
        do { reference = try ModelReference(model) } catch { throw CommandFailure(error) }
        let schemeValue = QuantizationScheme(rawValue: scheme) ?? .mixpc
        let prepared = try Deployer.prepare(DeploymentRequest(network: reference.network, scheme: schemeValue,
                                                              budget: .stm32h743, model: reference.model))
        guard let quantized = prepared.quantized, let floatModel = prepared.model else {
            throw CommandFailure(message: "\(reference.network.name) does not fit under \(scheme) at the STM32H743 budgets")
        }
        let compiled = CompiledNetwork(quantized)
        let inputs = (0..<images).map {
            floatModel.input.encode(SyntheticImage.bytes(shape: reference.network.input, seed: 9000 &+ UInt64($0)))
        }
        // The fast path must be the reference's arithmetic, or its speed means nothing.
        let expected = try HostReference.run(quantized, pixels: inputs[0]).last ?? []
        guard compiled.logits(inputs[0]).map(Int.init) == expected else {
            throw CommandFailure(message: "the fast host path differs from the host reference on the first image")
        }
        var runs: [Run] = []
        let threads = min(jobs, images)
        for _ in 0..<repeats {
            let started = DispatchTime.now()
            let sink = Checksum()
            DispatchQueue.concurrentPerform(iterations: threads) { worker in
                var local: Int32 = 0
                for index in stride(from: worker, to: inputs.count, by: threads) {
                    local = local &+ (compiled.logits(inputs[index]).first ?? 0)
                }
                sink.add(local)
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
            runs.append(Run(seconds: seconds, imagesPerSecond: Double(images) / seconds,
                            gigaMACsPerSecond: Double(images * compiled.multiplyAccumulates) / seconds / 1e9))
        }
        try JSONOutput.print(Report(
            model: reference.network.name, scheme: scheme, images: images, macsPerImage: compiled.multiplyAccumulates,
            threads: threads, hostCores: ProcessInfo.processInfo.activeProcessorCount, runs: runs,
            bestImagesPerSecond: runs.map(\.imagesPerSecond).max() ?? 0,
            bestGigaMACsPerSecond: runs.map(\.gigaMACsPerSecond).max() ?? 0, checkedAgainstHostReference: true,
            conditions: "host CPU, Swift host reference (CompiledNetwork, integer-only path), \(threads) threads, "
                + "seeded synthetic images, synthetic weights for built-in models"))
    }
}

/// Keeps the benchmark's results alive so the optimizer cannot drop the work.
private final class Checksum: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int32 = 0
    func add(_ x: Int32) {
        lock.lock()
        value = value &+ x
        lock.unlock()
    }
}
