import Diagnostics
import Emulator
import FirmwareBuild
import Foundation
import Planning
import Quantization
import Timing

/// One (model, scheme) pair of a sweep on one part: a built-in network with synthetic weights, or a model
/// (for example imported from a file) with its own weights.
public struct SweepJob: Sendable {
    /// The model's name (the network's).
    public var name: String
    public var scheme: QuantizationScheme
    public var network: Network
    /// The weights to deploy; synthetic ones when nil.
    public var model: FloatModel?
    /// One flavour for every layer (a QONNX file keeps its trained weights with it).
    public var flavour: RequantizationFlavour?
    /// Where the model came from, for the results' conditions.
    public var modelSource: String?
    /// The microcontroller the pair is planned for (with its default budgets) and run on.
    public var part: Part = .stm32h743
    /// How the bits are chosen (the sensitivity search needs a dataset: `mixq sweep --dataset`).
    public var strategy: PlanningStrategy = .paper

    public init(model: MobilenetV1, scheme: QuantizationScheme) throws(NetworkError) {
        try self.init(network: model.network(), scheme: scheme)
    }

    public init(network: Network, scheme: QuantizationScheme, model: FloatModel? = nil, flavour: RequantizationFlavour? = nil,
                modelSource: String? = nil) {
        self.name = network.name
        self.scheme = scheme
        self.network = network
        self.model = model
        self.flavour = flavour
        self.modelSource = modelSource
    }

    /// `int8`, `mixpl`, `mixpc`, or the forced flavour (as `DeploymentRequest.schemeLabel`).
    public var schemeLabel: String { strategy.label(scheme: flavour?.rawValue ?? scheme.rawValue) }

    /// The result file's name: `<model>__<scheme>.json` on the STM32H743 (the names of results
    /// from before parts were data), `<model>__<scheme>@<part>.json` on any other part, the
    /// part's name in lower case, e.g. `mobilenet_v1_0.25_128__mixpc@stm32f412.json`
    /// (docs/results-format.md, "File names").
    public var fileName: String { Self.fileName(model: name, scheme: schemeLabel, part: part) }

    /// The result file's name of `model` under `scheme` on `part` (see `fileName`).
    public static func fileName(model: String, scheme: String, part: Part) -> String {
        "\(model)__\(scheme)" + (part == .stm32h743 ? "" : "@\(part.name.lowercased())") + ".json"
    }

    /// The same job on `part`.
    public func on(_ part: Part) -> SweepJob {
        var job = self
        job.part = part
        return job
    }

    /// The planner's budgets of `part`: its default FLASH and RAM budgets (docs/design.md#other-parts).
    public var budget: MemoryBudget {
        (try? MemoryBudget(flash: part.flashBudget, ram: part.ramBudget)) ?? .stm32h743
    }

    /// The clock this job runs at: `clockMHz` when given, else the part's default.
    public func clock(_ clockMHz: Int?) -> Int { clockMHz ?? part.defaultClockMHz }

    /// The deployment request of this job: planned with `budget` (the part's budgets unless
    /// given) and run on `part` at `clockMHz` (the part's default clock when nil).
    public func request(clockMHz: Int?, timing: TimingMode, outputDirectory: URL?, budget: MemoryBudget? = nil) -> DeploymentRequest {
        var request = DeploymentRequest(network: network, scheme: scheme, budget: budget ?? self.budget, clockMHz: clock(clockMHz),
                                        outputDirectory: outputDirectory, model: model, conversionImages: 1, timing: timing)
        request.flavour = flavour
        request.modelSource = modelSource
        request.part = part
        request.strategy = strategy
        request.calibrationMethod = strategy.defaultCalibration
        return request
    }
}

/// Which part of a sweep this process runs: shard `index` (1-based) of `count`.
public struct SweepShard: Sendable, Hashable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    public static let whole = SweepShard(validIndex: 1, count: 1)

    /// Parses `i/n` with 1 <= i <= n.
    public init(_ text: String) throws(SweepError) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1, (1...count).contains(index) else {
            throw .badShard(text)
        }
        self.init(validIndex: index, count: count)
    }

    private init(validIndex index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// The jobs of this shard: every `count`-th job of the full, ordered list, starting at
    /// `index - 1`, so the shards of `1/n ... n/n` partition the sweep exactly.
    public func select(_ jobs: [SweepJob]) -> [SweepJob] {
        jobs.enumerated().filter { $0.offset % count == index - 1 }.map(\.element)
    }

    public var description: String { "\(index)/\(count)" }
}

public enum SweepError: Error, Sendable, Equatable, CustomStringConvertible {
    case badShard(String)
    case unknownModel(String)
    case unknownScheme(String)

    public var description: String {
        switch self {
        case .badShard(let text): return "--shard '\(text)' is not i/n with 1 <= i <= n (e.g. 2/4)"
        case .unknownModel(let name):
            return "unknown model '\(name)'; use all, quick, or names such as mobilenet_v1_0.25_128 ("
                + MobilenetV1.allVariants.map(\.name).joined(separator: ", ") + ")"
        case .unknownScheme(let name): return "unknown scheme '\(name)'; use int8, mixpl, mixpc"
        }
    }
}

/// Runs many deployments, in parallel, resumably: a pair whose result file exists and reads
/// back is never recomputed, and each result is written atomically as soon as it is done.
public enum Sweep {
    /// A quick subset spanning the family: one model per width, growing resolution.
    public static let quickModels = ["mobilenet_v1_0.25_128", "mobilenet_v1_0.5_160", "mobilenet_v1_0.75_192", "mobilenet_v1_1.0_224"]

    /// Expands `all`, `quick` and comma-separated names into the ordered job list (models in
    /// the model zoo's order, then schemes in the given order).
    public static func jobs(models: String, schemes: String) throws(SweepError) -> [SweepJob] {
        var variants: [MobilenetV1] = []
        for name in models.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            switch name {
            case "all": variants += MobilenetV1.allVariants
            case "quick": variants += quickModels.compactMap { try? MobilenetV1(name: $0) }
            default:
                guard let variant = try? MobilenetV1(name: name) else { throw .unknownModel(name) }
                variants.append(variant)
            }
        }
        var seen = Set<String>()
        let ordered = MobilenetV1.allVariants.filter { variant in variants.contains(variant) && seen.insert(variant.name).inserted }
        var schemeList: [QuantizationScheme] = []
        for name in schemes.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let scheme = QuantizationScheme(rawValue: name) else { throw .unknownScheme(name) }
            if !schemeList.contains(scheme) { schemeList.append(scheme) }
        }
        var jobs: [SweepJob] = []
        for model in ordered {
            for scheme in schemeList {
                guard let job = try? SweepJob(model: model, scheme: scheme) else { throw .unknownModel(model.name) }
                jobs.append(job)
            }
        }
        return jobs
    }

    /// The jobs of every part: each job once per part, parts in the order given (so results of
    /// the first part come first), jobs in their order within a part.
    public static func jobs(_ jobs: [SweepJob], on parts: [Part]) -> [SweepJob] {
        parts.flatMap { part in jobs.map { $0.on(part) } }
    }

    /// Jobs whose result file in `folder` is missing, unreadable, records a failure (retried), or
    /// was measured under other conditions (part, clock or cycle model) than the ones asked for
    /// now. The key of a result is (model, scheme, part): its file name (`SweepJob.fileName`).
    /// `clockMHz` nil: each job's part's default clock.
    public static func pending(_ jobs: [SweepJob], in folder: URL, clockMHz: Int? = nil,
                               timing: TimingMode = .pipeline) -> [SweepJob] {
        jobs.filter { job in
            guard let data = try? Data(contentsOf: folder.appendingPathComponent(job.fileName)),
                  let result = try? DeploymentResult.decode(data) else { return true }
            if result.note?.hasPrefix(failureNotePrefix) == true { return true }
            if result.clockMhz != job.clock(clockMHz) { return true }
            // The file name keys the part; a result that ran also records it (none: the
            // STM32H743, from before parts were data). A copied-in file of another part is rerun.
            if let conditions = result.conditions, (conditions.part ?? Part.stm32h743.name) != job.part.name { return true }
            if let conditions = result.conditions, conditions.timingModel != timing.summary(core: job.part.core) { return true }
            return false
        }
    }

    /// How a result file records that its job failed (and is to be retried).
    public static let failureNotePrefix = "failed: "

    /// What happened to one job.
    public struct Outcome: Sendable {
        public var job: SweepJob
        public var result: DeploymentResult
        public var failed: Bool
        public var seconds: Double
        /// Another sweep into the same folder finished the pair while this one waited for it.
        public var doneElsewhere = false
    }

    /// Deploys every job (on `jobs` threads), writing `<folder>/<job.fileName>` as each
    /// finishes. A job that fails still gets a result file carrying its plan and the error in
    /// `note`, so a report shows it; `onFinish` is called after each job (from worker threads,
    /// one at a time).
    ///
    /// `perform` runs one job given its deployment request (by default `Deployer.deploy`); a
    /// caller can measure more, e.g. accuracy on a dataset, as long as it returns the deployment.
    /// `clockMHz` nil: each job runs at its part's default clock.
    public static func run(_ jobs: [SweepJob], into folder: URL, parallelism: Int, clockMHz: Int?, timing: TimingMode = .pipeline,
                           toolchain: Toolchain,
                           perform: (@Sendable (SweepJob, DeploymentRequest) throws -> DeploymentResult)? = nil,
                           onStart: @escaping @Sendable (SweepJob) -> Void = { _ in },
                           onFinish: @escaping @Sendable (Outcome) -> Void = { _ in }) throws {
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw DeploymentError.cannotWrite(path: folder.path, reason: "cannot create the results folder (\(SystemErrorText.reason(error)))")
        }
        let work = folder.appendingPathComponent(".work", isDirectory: true)
        let queue = JobQueue(jobs)
        let report = NSLock()
        let workers = max(1, min(parallelism, jobs.count))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while let job = queue.next() {
                // Two sweeps into one folder: the second waits for the pair the first is running,
                // then keeps its result instead of computing it again.
                let lock = PairLock(folder.appendingPathComponent(".\(job.fileName).lock"))
                lock.acquire()
                defer { lock.release() }
                if pending([job], in: folder, clockMHz: clockMHz, timing: timing).isEmpty,
                   let data = try? Data(contentsOf: folder.appendingPathComponent(job.fileName)),
                   let result = try? DeploymentResult.decode(data) {
                    report.lock()
                    onFinish(Outcome(job: job, result: result, failed: false, seconds: 0, doneElsewhere: true))
                    report.unlock()
                    continue
                }
                onStart(job)
                let started = Date()
                let request = job.request(clockMHz: clockMHz, timing: timing,
                                          outputDirectory: work.appendingPathComponent("\(job.name)-\(job.schemeLabel)-\(job.part.name.lowercased())"))
                var failed = false
                let result: DeploymentResult
                do {
                    result = try perform?(job, request) ?? Deployer.deploy(request, toolchain: toolchain)
                } catch let error as PlanningError where error.meansDoesNotFit {
                    // No bit-width assignment meets this part's budgets: a result about the
                    // model and the part, recorded as such and not retried.
                    result = failedResult(job, error: error, clockMHz: job.clock(clockMHz), notePrefix: doesNotFitNotePrefix)
                } catch let error where Self.meansImageDoesNotFit(error) {
                    // The plan meets the budgets but the built image (weights, parameters and
                    // code) overflows the part's memory: the same kind of result, with the plan.
                    result = failedResult(job, error: error, clockMHz: job.clock(clockMHz), notePrefix: doesNotFitNotePrefix)
                } catch {
                    failed = true
                    result = failedResult(job, error: error, clockMHz: job.clock(clockMHz))
                }
                var recorded = result
                do {
                    try result.json().write(to: folder.appendingPathComponent(job.fileName), options: .atomic)
                } catch {
                    // The result is lost unless said: the pair counts as failed (run again next
                    // time) and its note says why.
                    failed = true
                    recorded.note = "failed: cannot write \(folder.appendingPathComponent(job.fileName).path): "
                        + SystemErrorText.reason(error) + (result.note.map { "; \($0)" } ?? "")
                }
                report.lock()
                onFinish(Outcome(job: job, result: recorded, failed: failed, seconds: Date().timeIntervalSince(started)))
                report.unlock()
            }
        }
    }

    /// Whether `error` says the built image overflows the part's memory (the linker's region
    /// overflow, or the size check after linking).
    public static func meansImageDoesNotFit(_ error: Error) -> Bool {
        if case ToolchainError.regionOverflow? = error as? ToolchainError { return true }
        if case DeploymentError.doesNotFit? = error as? DeploymentError { return true }
        return false
    }

    /// How a result file records a pair whose model does not fit its part's budgets.
    public static let doesNotFitNotePrefix = "does not fit: "

    private static func failedResult(_ job: SweepJob, error: Error, clockMHz: Int,
                                     notePrefix: String = failureNotePrefix) -> DeploymentResult {
        var result: DeploymentResult
        if let plan = try? Deployer.plan(job.network, model: job.model, budget: job.budget, scheme: job.scheme, flavour: job.flavour) {
            result = DeploymentResult(plan: plan, network: job.network, clockMHz: clockMHz)
            result.scheme = job.schemeLabel
        } else {
            result = DeploymentResult(model: job.name, scheme: job.schemeLabel, flashBudget: job.budget.flash,
                                      ramBudget: job.budget.ram, weightBytes: 0, paramBytes: 0, flashBytes: 0,
                                      peakActivationBytes: 0, fits: false, cuts: [], layers: [],
                                      macs: job.network.multiplyAccumulates, totalCycles: nil, latencyMs: nil,
                                      clockMhz: clockMHz, flashUsed: nil, ramUsed: nil, bitExact: nil, imagesChecked: nil,
                                      conversionLoss: nil, conditions: nil, note: nil)
        }
        result.fits = false
        result.note = notePrefix + "\(error)"
        return result
    }
}

/// A lock file holding the pid of the sweep running a pair (`open(2)` with `O_CREAT | O_EXCL`,
/// atomic on a local file system). A lock whose process no longer runs (a sweep killed with
/// `kill -9`) is taken over.
struct PairLock {
    let url: URL

    init(_ url: URL) { self.url = url }

    func acquire() {
        while true {
            let fd = open(url.path, O_CREAT | O_EXCL | O_WRONLY, 0o644)
            if fd >= 0 {
                let pid = Data("\(getpid())\n".utf8)
                _ = pid.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                close(fd)
                return
            }
            guard errno == EEXIST else { return }  // cannot lock (read-only folder): run unlocked
            let holder = (try? String(contentsOf: url, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            if let holder, holder == getpid() { return }
            if let holder, kill(holder, 0) != 0 && errno == ESRCH {
                unlink(url.path)  // its sweep died
                continue
            }
            let modified = (try? FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate] as? Date) ?? Date()
            if holder == nil, Date().timeIntervalSince(modified) > 5 {
                unlink(url.path)  // not a lock MixQ wrote (or one cut off mid-write long ago)
                continue
            }
            usleep(200_000)
        }
    }

    func release() {
        let holder = (try? String(contentsOf: url, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        if holder == getpid() { unlink(url.path) }
    }
}

/// Hands out jobs to worker threads in order.
private final class JobQueue: @unchecked Sendable {
    private var jobs: [SweepJob]
    private var position = 0
    private let lock = NSLock()

    init(_ jobs: [SweepJob]) { self.jobs = jobs }

    func next() -> SweepJob? {
        lock.lock()
        defer { lock.unlock() }
        guard position < jobs.count else { return nil }
        defer { position += 1 }
        return jobs[position]
    }
}

extension PlanningError {
    /// Whether the error says the network cannot meet the budgets (activations or weights do
    /// not fit even at 2 bits), as opposed to a defect of the input or the planner.
    var meansDoesNotFit: Bool {
        switch self {
        case .activationsDoNotFit, .weightsDoNotFit: return true
        default: return false
        }
    }
}
