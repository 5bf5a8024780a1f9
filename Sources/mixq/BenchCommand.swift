import ArgumentParser

/// `mixq bench ...`: benchmarks that print JSON. Speed targets live here, never in unit tests.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure MixQ itself and the emulated target; print JSON.",
        subcommands: [BenchEmulator.self, BenchTiming.self, BenchKernels.self, BenchEval.self, BenchParts.self, BenchNetwork.self,
                      BenchDataset.self]
    )
}
