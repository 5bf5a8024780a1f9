import ArgumentParser
import Deployment
import Emulator
import FirmwareBuild
import Evaluation
import Foundation
import ModelImport
import Planning
import Timing

/// `mixq sweep`: deploy every (model, scheme) pair on every part of `--parts`, in parallel and resumably.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Deploy many (model, scheme) pairs in parallel; one JSON result per pair.",
        discussion: """
            Results go to <out>/<model>__<scheme>.json as each pair finishes (on a part other than \
            the STM32H743: <out>/<model>__<scheme>@<part>.json). --parts plans and runs every pair \
            on each part with that part's budgets and default clock. Run it again and \
            finished pairs are kept, not recomputed. --shard i/n runs a deterministic 1/n of the \
            pairs, so a sweep splits across machines (a Slurm job array with \
            --shard $((SLURM_ARRAY_TASK_ID+1))/$SLURM_ARRAY_TASK_COUNT, or GNU parallel); \
            `mixq report` merges the folders.
            """
    )

    @Option(help: "Models, comma-separated: all, quick (one MobilenetV1 per width), examples (the trained digit models in data/models), built-in names, trained example names or .onnx files.")
    var models: String = "quick"

    @Option(help: "Dataset folder (images.npy, labels.npy): every model whose input matches its images is also evaluated (as `mixq eval`), Top-1 measured into the results folder.")
    var dataset: String?

    @Option(help: "With --dataset: images of each evaluated model that also run on the emulated part (the first of --parts) and must be bit-exact (at least 1).")
    var targetImages: Int = 20

    @Option(help: "Schemes, comma-separated: int8, mixpl, mixpc.")
    var schemes: String = "int8,mixpl,mixpc"

    @Option(help: "Strategies, comma-separated: paper (the paper's rule), sensitivity (the accuracy-aware search, for float models under mixpl and mixpc; needs --dataset). Results of the search are named <scheme>+sensitivity.")
    var strategy: String = PlanningStrategy.paper.rawValue

    @Option(help: "With the sensitivity strategy: N images spread evenly over --dataset calibrate and search each plan and are not scored.")
    var searchImages: Int = StrategyOptions.defaultSearchImages

    @Option(help: "Folder for the result files (created if missing).")
    var out: String = "results"

    @Option(name: .customLong("jobs"), help: "Pairs deployed at once (default: the number of cores).")
    var jobsOption: Int?

    /// `--jobs`, or the number of cores (an optional, so the help prints the default once, in words).
    var jobs: Int { jobsOption ?? ProcessInfo.processInfo.activeProcessorCount }

    @Option(help: ArgumentHelp("Parts, comma-separated; each pair is planned with the part's FLASH/RAM budgets and run on it. "
                               + SharedOption.partHelp))
    var parts: String = "stm32h743"

    @Option(name: .customLong("clock-mhz"), help: ArgumentHelp("Core clock in MHz, one that every part of --parts has ("
                                                               + Part.all.map { "\($0.name): \($0.clocks.map(String.init).joined(separator: "/"))" }.joined(separator: ", ")
                                                               + "). Default: each part's default clock (400 MHz on the STM32H743, the maximum elsewhere)."))
    var clockMHz: Int?

    @Option(help: ArgumentHelp(SharedOption.timingHelp))
    var timing: TimingMode = .pipeline

    @Option(help: "Run only shard i of n (i/n, 1-based).")
    var shard: String = "1/1"

    func validate() throws {
        try SharedOption.validateJobs(jobs)
        for part in try partList() {
            if let clockMHz { try SharedOption.validateClock(clockMHz, on: part) }
        }
        guard targetImages >= 1 else { throw ValidationError("--target-images must be at least 1") }
        let strategies = try strategyList()
        if strategies.contains(.sensitivity) && dataset == nil {
            throw ValidationError("--strategy sensitivity needs --dataset: the images it measures every candidate cut on")
        }
        guard searchImages >= 1 else { throw ValidationError("--search-images must be at least 1") }
        guard !models.split(separator: ",").isEmpty else { throw ValidationError("--models names no model") }
        do {
            _ = try SweepShard(shard)
            _ = try Sweep.jobs(models: builtInNames.joined(separator: ","), schemes: schemes)
        } catch {
            throw ValidationError(String(describing: error))
        }
    }

    /// The parts `--parts` names, in order, each once.
    func partList() throws -> [Part] {
        var list: [Part] = []
        for name in parts.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let part = Part.named(name) else {
                throw ValidationError("--parts: \(name) is not a part MixQ emulates; use \(Part.all.map { $0.name.lowercased() }.joined(separator: ", "))")
            }
            if !list.contains(part) { list.append(part) }
        }
        guard !list.isEmpty else { throw ValidationError("--parts names no part") }
        return list
    }

    /// The strategies `--strategy` names, in order, each once.
    func strategyList() throws -> [PlanningStrategy] {
        var list: [PlanningStrategy] = []
        for name in strategy.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let value = PlanningStrategy(rawValue: name) else {
                throw ValidationError("--strategy: \(name) is not a strategy; use paper, sensitivity or both (paper,sensitivity)")
            }
            if !list.contains(value) { list.append(value) }
        }
        guard !list.isEmpty else { throw ValidationError("--strategy names no strategy") }
        return list
    }

    /// `jobs` under every strategy of `--strategy`: the search only for float models under a scheme that cuts.
    func withStrategies(_ jobs: [SweepJob]) throws -> [SweepJob] {
        let strategies = try strategyList()
        return jobs.flatMap { job in
            strategies.compactMap { strategy -> SweepJob? in
                if strategy == .sensitivity && (job.model?.quantization != nil || !job.scheme.allowsCuts) { return nil }
                var copy = job
                copy.strategy = strategy
                return copy
            }
        }
    }

    var tokens: [String] { models.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }

    /// The names `Sweep.jobs` expands (all, quick, MobilenetV1 names).
    var builtInNames: [String] {
        let family = Set(MobilenetV1.allVariants.map(\.name))
        return tokens.filter { $0 == "all" || $0 == "quick" || family.contains($0) }
    }

    /// Jobs of every other token: trained examples, digit models and files. A model that states its
    /// own quantization (QONNX) is one job under the scheme it was trained for; others get every scheme.
    func otherJobs() throws -> [SweepJob] {
        var names: [String] = []
        for token in tokens where !builtInNames.contains(token) {
            names += token == "examples" ? TrainedExamples.all.map(\.name) : [token]
        }
        var jobs: [SweepJob] = []
        let schemeList = try schemes.split(separator: ",").map { try QuantizationScheme(name: String($0).trimmingCharacters(in: .whitespaces)) }
        for name in names {
            let reference: ModelReference
            do { reference = try ModelReference(name) } catch { throw CommandFailure(error) }
            if reference.model?.quantization != nil {
                jobs.append(SweepJob(network: reference.network, scheme: reference.defaultScheme, model: reference.model,
                                     modelSource: reference.source))
            } else {
                jobs += schemeList.map { SweepJob(network: reference.network, scheme: $0, model: reference.model, modelSource: reference.source) }
            }
        }
        return jobs
    }

    func run() throws {
        let all = Sweep.jobs(try withStrategies(try Sweep.jobs(models: builtInNames.joined(separator: ","), schemes: schemes) + otherJobs()),
                             on: try partList())
        let mine = try SweepShard(shard).select(all)
        let folder = URL(fileURLWithPath: out, isDirectory: true)
        let labelled = try dataset.map { try EvaluationRun.dataset($0) }
        var todo = Sweep.pending(mine, in: folder, clockMHz: clockMHz, timing: timing)
        // Top-1 is the host reference's, the same on every part: evaluated once, with the
        // target images run on the first part (evaluation files are per (model, scheme)).
        let evaluatedPart = try partList()[0]
        if let labelled {
            // A result measured without the dataset is measured again, with it.
            let pendingNames = Set(todo.map(\.fileName))
            todo += mine.filter { job in
                let evaluation = EvaluationResult.fileName(model: job.name, scheme: job.schemeLabel)
                return job.part == evaluatedPart && job.network.input == labelled.shape && !pendingNames.contains(job.fileName)
                    && !FileManager.default.fileExists(atPath: folder.appendingPathComponent(evaluation).path)
            }
        }
        let progress = SweepProgress(total: mine.count, alreadyDone: mine.count - todo.count)
        progress.announce("sweep: \(mine.count) pairs in shard \(shard) (\(all.count) in all), \(mine.count - todo.count) already done, "
                          + "\(todo.count) to run on \(min(jobs, max(todo.count, 1))) workers; results in \(folder.path)")
        let toolchain = try Toolchain.locate()
        var perform: (@Sendable (SweepJob, DeploymentRequest) throws -> DeploymentResult)?
        if let labelled {
            let evaluation = SweepEvaluation(dataset: labelled, folder: folder, targetImages: targetImages, toolchain: toolchain,
                                             part: evaluatedPart, searchImages: searchImages)
            perform = { job, request in try evaluation.perform(job, request) }
        }
        try Sweep.run(todo, into: folder, parallelism: jobs, clockMHz: clockMHz, timing: timing, toolchain: toolchain,
                      perform: perform,
                      onStart: { progress.started($0) }, onFinish: { progress.finished($0) })
        progress.announce("sweep: done; \(progress.failures) failed. Next: mixq report \(folder.path)")
        if progress.failures > 0 {
            throw CommandFailure(message: "\(progress.failures) of \(todo.count) pairs failed (the reasons are in the lines above and in "
                                 + "the result files' 'note'); running the same sweep again retries them")
        }
    }
}

/// `sweep --dataset`: models whose input matches the dataset are evaluated (which includes
/// their deployment and target run); the others are deployed as usual.
struct SweepEvaluation: Sendable {
    let dataset: LabelledDataset
    let folder: URL
    let targetImages: Int
    let toolchain: Toolchain
    /// The part whose jobs are evaluated; jobs on other parts are deployed only.
    let part: Part
    /// Images at the end of the dataset the sensitivity search calibrates and searches on (not scored).
    var searchImages = StrategyOptions.defaultSearchImages

    func perform(_ job: SweepJob, _ request: DeploymentRequest) throws -> DeploymentResult {
        var request = request
        var held: [Int] = []
        if job.strategy == .sensitivity {
            // The search runs on one thread: the sweep's workers already run in parallel.
            _ = try StrategyOptions.apply(.sensitivity, method: request.calibrationMethod, searchImages: searchImages, to: &request,
                                          dataset: dataset, jobs: 1)
            held = StrategyOptions.searchIndices(of: dataset, searchImages: searchImages)
        }
        guard job.part == part, job.network.input == dataset.shape else { return try Deployer.deploy(request, toolchain: toolchain) }
        if request.chosenPlan == nil { try request.calibrate(on: dataset) }
        let prepared = try Deployer.prepare(request)
        guard prepared.plan.fits else { return try Deployer.run(prepared, toolchain: toolchain) }
        // One worker per sweep job already runs in parallel: evaluate on one thread.
        var evaluation = EvaluationRequest(prepared: prepared, dataset: dataset, targetImages: targetImages, jobs: 1)
        evaluation.excluded = Set(held)
        var result = try Evaluator.evaluate(evaluation, toolchain: toolchain)
        result.searchImages = held.isEmpty ? nil : held.count
        try EvalOutput.write(result, to: folder)
        guard let deployment = result.deployment else { return try Deployer.run(prepared, toolchain: toolchain) }
        return deployment
    }
}

/// The live progress line: done/total, current jobs, elapsed, estimated time left.
final class SweepProgress: @unchecked Sendable {
    private let lock = NSLock()
    private let total: Int
    private var done: Int
    private let doneAtStart: Int
    private var running: [String] = []
    private let started = Date()
    private(set) var failures = 0
    private let interactive = isatty(STDERR_FILENO) != 0

    init(total: Int, alreadyDone: Int) {
        self.total = total
        self.done = alreadyDone
        self.doneAtStart = alreadyDone
    }

    func announce(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        write(line + "\n")
    }

    func started(_ job: SweepJob) {
        lock.lock()
        defer { lock.unlock() }
        running.append(Self.label(job))
        redraw()
    }

    func finished(_ outcome: Sweep.Outcome) {
        lock.lock()
        defer { lock.unlock() }
        let name = Self.label(outcome.job)
        running.removeAll { $0 == name }
        done += 1
        if outcome.failed { failures += 1 }
        let result = outcome.result
        let summary: String
        if outcome.doneElsewhere {
            summary = "done by another sweep into the same folder"
        } else if outcome.failed {
            summary = result.note ?? "failed"
        } else if let ms = result.latencyMs {
            summary = String(format: "%.2f ms, %@", ms, result.bitExact == true ? "bit-exact" : "NOT bit-exact")
        } else {
            summary = result.note ?? "does not fit"
        }
        write((interactive ? "\r\u{1B}[K" : "") + String(format: "[%d/%d] %@: %@ (%.0f s)\n", done, total, name, summary, outcome.seconds))
        redraw()
    }

    /// `model scheme`, with `on PART` for parts other than the STM32H743.
    static func label(_ job: SweepJob) -> String {
        "\(job.name) \(job.schemeLabel)" + (job.part == .stm32h743 ? "" : " on \(job.part.name)")
    }

    private func redraw() {
        guard interactive else { return }
        let elapsed = Date().timeIntervalSince(started)
        let finishedHere = done - doneAtStart
        let remaining = total - done
        let eta = finishedHere > 0 ? elapsed / Double(finishedHere) * Double(remaining) : 0
        let current = running.isEmpty ? "" : " running: " + running.joined(separator: ", ")
        write(String(format: "\r\u{1B}[K[%d/%d] elapsed %@, left ~%@%@", done, total, clock(elapsed),
                     finishedHere > 0 ? clock(eta) : "?", current))
    }

    private func clock(_ seconds: Double) -> String {
        let s = Int(seconds)
        return s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
