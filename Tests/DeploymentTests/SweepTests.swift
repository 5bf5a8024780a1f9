import Deployment
import Foundation
import Planning
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
