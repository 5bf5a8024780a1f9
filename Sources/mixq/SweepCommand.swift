import ArgumentParser
import Deployment
import FirmwareBuild
import Foundation
import Timing

/// `mixq sweep`: deploy every (model, scheme) pair, in parallel and resumably.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Deploy many (model, scheme) pairs in parallel; one JSON result per pair.",
        discussion: """
            Results go to <out>/<model>__<scheme>.json as each pair finishes. Run it again and \
            finished pairs are kept, not recomputed. --shard i/n runs a deterministic 1/n of the \
            pairs, so a sweep splits across machines (a Slurm job array with \
            --shard $((SLURM_ARRAY_TASK_ID+1))/$SLURM_ARRAY_TASK_COUNT, or GNU parallel); \
            `mixq report` merges the folders.
            """
    )

    @Option(help: "Models: all, quick (one per width), or comma-separated names.")
    var models: String = "quick"

    @Option(help: "Schemes, comma-separated: int8, mixpl, mixpc.")
    var schemes: String = "int8,mixpl,mixpc"

    @Option(help: "Folder for the result files (created if missing).")
    var out: String = "results"

    @Option(help: "Pairs deployed at once (default: the number of cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(name: .customLong("clock-mhz"), help: "Core clock in MHz: 400 or 480.")
    var clockMHz: Int = 400

    @Option(help: "Cycle model: off, pipeline or full.")
    var timing: TimingMode = .pipeline

    @Option(help: "Run only shard i of n (i/n, 1-based).")
    var shard: String = "1/1"

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        guard [400, 480].contains(clockMHz) else { throw ValidationError("--clock-mhz must be 400 or 480") }
        do {
            _ = try SweepShard(shard)
            _ = try Sweep.jobs(models: models, schemes: schemes)
        } catch {
            throw ValidationError(String(describing: error))
        }
    }

    func run() throws {
        let all = try Sweep.jobs(models: models, schemes: schemes)
        let mine = try SweepShard(shard).select(all)
        let folder = URL(fileURLWithPath: out, isDirectory: true)
        let todo = Sweep.pending(mine, in: folder, clockMHz: clockMHz, timing: timing)
        let progress = SweepProgress(total: mine.count, alreadyDone: mine.count - todo.count)
        progress.announce("sweep: \(mine.count) pairs in shard \(shard) (\(all.count) in all), \(mine.count - todo.count) already done, "
                          + "\(todo.count) to run on \(min(jobs, max(todo.count, 1))) workers; results in \(folder.path)")
        let toolchain = try Toolchain.locate()
        try Sweep.run(todo, into: folder, parallelism: jobs, clockMHz: clockMHz, timing: timing, toolchain: toolchain,
                      onStart: { progress.started($0) }, onFinish: { progress.finished($0) })
        progress.announce("sweep: done; \(progress.failures) failed. Next: mixq report \(folder.path)")
        if progress.failures > 0 { throw ExitCode(1) }
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
        running.append("\(job.name) \(job.schemeLabel)")
        redraw()
    }

    func finished(_ outcome: Sweep.Outcome) {
        lock.lock()
        defer { lock.unlock() }
        let name = "\(outcome.job.name) \(outcome.job.schemeLabel)"
        running.removeAll { $0 == name }
        done += 1
        if outcome.failed { failures += 1 }
        let result = outcome.result
        let summary: String
        if outcome.failed {
            summary = result.note ?? "failed"
        } else if let ms = result.latencyMs {
            summary = String(format: "%.2f ms, %@", ms, result.bitExact == true ? "bit-exact" : "NOT bit-exact")
        } else {
            summary = result.note ?? "does not fit"
        }
        write((interactive ? "\r\u{1B}[K" : "") + String(format: "[%d/%d] %@: %@ (%.0f s)\n", done, total, name, summary, outcome.seconds))
        redraw()
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
