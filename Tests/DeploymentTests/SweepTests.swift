import Deployment
import Emulator
import FirmwareBuild
import Foundation
import Planning
import Synchronization
import Testing

@Suite struct SweepTests {
    @Test func allMeansSixteenModelsTimesTheSchemes() throws {
        let jobs = try Sweep.jobs(models: "all", schemes: "int8,mixpl,mixpc")
        #expect(jobs.count == 48)
        #expect(Set(jobs.map(\.fileName)).count == 48)
        #expect(jobs.first?.fileName == "mobilenet_v1_1.0_224__int8.json")
        let quick = try Sweep.jobs(models: "quick", schemes: "mixpc")
        #expect(quick.map(\.name) == ["mobilenet_v1_1.0_224", "mobilenet_v1_0.75_192", "mobilenet_v1_0.5_160", "mobilenet_v1_0.25_128"])
        #expect(throws: SweepError.unknownModel("mobilenet_v3")) { try Sweep.jobs(models: "mobilenet_v3", schemes: "int8") }
        #expect(throws: SweepError.unknownScheme("fp16")) { try Sweep.jobs(models: "quick", schemes: "fp16") }
    }

    @Test func shardsPartitionTheSweep() throws {
        let jobs = try Sweep.jobs(models: "all", schemes: "int8,mixpl,mixpc")
        for count in [1, 3, 5, 48, 50] {
            let shards = try (1...count).map { try SweepShard("\($0)/\(count)").select(jobs) }
            #expect(shards.reduce(0) { $0 + $1.count } == jobs.count)
            #expect(Set(shards.flatMap { $0.map(\.fileName) }) == Set(jobs.map(\.fileName)))
            #expect((shards.map(\.count).max() ?? 0) - (shards.map(\.count).min() ?? 0) <= 1, "balanced")
        }
        // 48 jobs in 5 shards: shard 2 takes jobs 1, 6, 11, ... (0-based).
        let second = try SweepShard("2/5").select(jobs)
        #expect(second.first?.fileName == jobs[1].fileName && second.dropFirst().first?.fileName == jobs[6].fileName)
        for bad in ["0/3", "4/3", "1/0", "x/y", "3"] {
            #expect(throws: SweepError.badShard(bad)) { try SweepShard(bad) }
        }
    }

    @Test func finishedPairsAreNotRunAgain() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-sweep-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let jobs = try Sweep.jobs(models: "mobilenet_v1_0.25_128", schemes: "int8,mixpl,mixpc")
        // A finished int8 result (planner part only is enough to read back) and a corrupt mixpl one.
        let network = jobs[0].network
        let plan = try BitWidthPlanner.plan(network, budget: .stm32h743, scheme: .int8)
        try DeploymentResult(plan: plan, network: network, clockMHz: 400).json()
            .write(to: folder.appendingPathComponent(jobs[0].fileName))
        try Data("{ not json".utf8).write(to: folder.appendingPathComponent(jobs[1].fileName))
        #expect(Sweep.pending(jobs, in: folder).map(\.scheme) == [.mixpl, .mixpc])
        // The same pair asked for at another clock is measured again.
        #expect(Sweep.pending(jobs, in: folder, clockMHz: 480).map(\.scheme) == [.int8, .mixpl, .mixpc])
    }

    @Test func partsKeyTheFileNamesBudgetsClocksAndResume() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-sweep-parts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let jobs = Sweep.jobs(try Sweep.jobs(models: "mobilenet_v1_0.25_128", schemes: "int8"), on: [.stm32h743, .stm32f412])
        // The STM32H743 keeps the names of results from before parts were data.
        #expect(jobs.map(\.fileName) == ["mobilenet_v1_0.25_128__int8.json", "mobilenet_v1_0.25_128__int8@stm32f412.json"])
        #expect(jobs[0].budget == .stm32h743)
        #expect(jobs[1].budget == (try MemoryBudget(flash: 1_048_576, ram: 262_144)))
        let request = jobs[1].request(clockMHz: nil, timing: .pipeline, outputDirectory: nil)
        #expect(request.part == .stm32f412 && request.clockMHz == 100 && request.budget == jobs[1].budget)
        #expect(jobs[0].request(clockMHz: nil, timing: .pipeline, outputDirectory: nil).clockMHz == 400)
        // Only the STM32H743 result is there: the STM32F412 pair is pending.
        let plan = try BitWidthPlanner.plan(jobs[0].network, budget: .stm32h743, scheme: .int8)
        try DeploymentResult(plan: plan, network: jobs[0].network, clockMHz: 400).json()
            .write(to: folder.appendingPathComponent(jobs[0].fileName))
        #expect(Sweep.pending(jobs, in: folder).map(\.fileName) == [jobs[1].fileName])
        // With its result (planned with its budgets, at its default clock), nothing is pending.
        let f412Plan = try BitWidthPlanner.plan(jobs[1].network, budget: jobs[1].budget, scheme: .int8)
        try DeploymentResult(plan: f412Plan, network: jobs[1].network, clockMHz: 100).json()
            .write(to: folder.appendingPathComponent(jobs[1].fileName))
        #expect(Sweep.pending(jobs, in: folder).isEmpty)
        // An explicit clock is each part's clock: 84 MHz reruns the STM32F412 pair and the STM32H743 one.
        #expect(Sweep.pending(jobs, in: folder, clockMHz: 84).count == 2)
    }

    /// A tiny network (the digit MobilenetV1 at width 0.25) deployed on two parts by one sweep:
    /// two result files, each planned with its part's budgets and run on that part.
    @Test func oneSweepDeploysOnEveryPart() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-sweep-run-parts-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let network = try DigitsMobilenetV1(alpha: .quarter).network()
        let jobs = Sweep.jobs([SweepJob(network: network, scheme: .int8)], on: [.stm32h743, .stm32f412])
        try Sweep.run(jobs, into: folder, parallelism: 1, clockMHz: nil, timing: .pipeline, toolchain: Toolchain.locate())
        let h743 = try DeploymentResult.decode(Data(contentsOf: folder.appendingPathComponent("\(network.name)__int8.json")))
        let f412 = try DeploymentResult.decode(Data(contentsOf: folder.appendingPathComponent("\(network.name)__int8@stm32f412.json")))
        #expect(h743.conditions?.part == "STM32H743" && h743.clockMhz == 400 && h743.flashBudget == 2_048_000)
        #expect(f412.conditions?.part == "STM32F412" && f412.clockMhz == 100)
        #expect(f412.flashBudget == 1_048_576 && f412.ramBudget == 262_144)
        #expect(h743.bitExact == true && f412.bitExact == true)
        #expect(Set(f412.ramUsed.map { Array($0.keys) } ?? []).isSubset(of: ["SRAM"]), "the F412 has one SRAM")
        #expect(Sweep.pending(jobs, in: folder).isEmpty, "both pairs are done")
    }

    /// MobilenetV1 1.0_224 cannot meet the STM32F412's 256 KiB under any bit assignment (its
    /// second layer needs 301,056 B at 2 bits): a recorded result, not a failure to retry.
    @Test func aModelNoAssignmentFitsOnAPartIsADoesNotFitResult() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-sweep-nofit-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let jobs = Sweep.jobs(try Sweep.jobs(models: "mobilenet_v1_1.0_224", schemes: "mixpc"), on: [.stm32f412])
        let failures = Mutex(0)
        try Sweep.run(jobs, into: folder, parallelism: 1, clockMHz: nil, toolchain: Toolchain.locate(),
                      onFinish: { outcome in if outcome.failed { failures.withLock { $0 += 1 } } })
        #expect(failures.withLock { $0 } == 0)
        let result = try DeploymentResult.decode(Data(contentsOf: folder.appendingPathComponent("mobilenet_v1_1.0_224__mixpc@stm32f412.json")))
        #expect(result.fits == false)
        #expect(result.note?.hasPrefix(Sweep.doesNotFitNotePrefix) == true, "\(result.note ?? "no note")")
        #expect(result.flashBudget == 1_048_576 && result.ramBudget == 262_144)
        #expect(Sweep.pending(jobs, in: folder).isEmpty, "not retried")
    }

    /// A plan within a part's budgets whose image (plus code) overflows the part is recorded as
    /// "does not fit", like a plan over the budgets; other errors stay failures to retry.
    @Test func anImageThatOverflowsThePartIsADoesNotFitResult() {
        #expect(Sweep.meansImageDoesNotFit(ToolchainError.regionOverflow(firmware: "m", region: "FLASH", bytes: 23940)))
        #expect(Sweep.meansImageDoesNotFit(DeploymentError.doesNotFit("m does not fit the STM32F412: FLASH by 10 bytes")))
        #expect(!Sweep.meansImageDoesNotFit(DeploymentError.unexpectedOutput("no output")))
    }

    @Test func failedPairsAreRunAgain() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-sweep-failed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let jobs = try Sweep.jobs(models: "mobilenet_v1_0.25_128", schemes: "int8,mixpc")
        for job in jobs {
            let plan = try BitWidthPlanner.plan(job.network, budget: .stm32h743, scheme: job.scheme)
            var result = DeploymentResult(plan: plan, network: job.network, clockMHz: 400)
            if job.scheme == .mixpc { result.note = Sweep.failureNotePrefix + "the work folder could not be created" }
            try result.json().write(to: folder.appendingPathComponent(job.fileName))
        }
        #expect(Sweep.pending(jobs, in: folder).map(\.scheme) == [.mixpc])
    }
}
