import Foundation
import Testing

/// `--strategy paper|sensitivity` and `--calibration minmax|mse` on the command line: the search needs a
/// dataset, and bad values are one `error:` line.
@Suite struct StrategyCLITests {
    static let model = EvalCLITests.root.appendingPathComponent("data/models/mnist_mobilenet_v1_0.25_32__float.onnx").path

    @Test func sensitivityWithoutADatasetIsOneErrorLine() throws {
        for command in [["plan"], ["deploy"]] {
            let outcome = try CLITests.mixq(arguments: command + ["--model", Self.model, "--flash", "96k", "--ram", "3k",
                                                                  "--strategy", "sensitivity"])
            #expect(outcome.status == 1, "\(command): \(outcome.stderr)")
            let lines = outcome.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines.first?.hasPrefix("error: --strategy sensitivity needs --dataset") == true,
                    "\(command): \(outcome.stderr)")
        }
        let sweep = try CLITests.mixq("sweep", "--models", Self.model, "--strategy", "paper,sensitivity")
        #expect(sweep.status == 64 && sweep.stderr.hasPrefix("error: --strategy sensitivity needs --dataset"), "\(sweep.stderr)")
    }

    @Test func badStrategyOrCalibrationIsOneErrorLine() throws {
        let strategy = try CLITests.mixq("plan", "--model", Self.model, "--strategy", "greedy")
        #expect(strategy.status == 64 && strategy.stderr.hasPrefix("error: --strategy must be paper or sensitivity (got greedy)"))
        let calibration = try CLITests.mixq("plan", "--model", Self.model, "--calibration", "kl")
        #expect(calibration.status == 64 && calibration.stderr.hasPrefix("error: --calibration must be minmax or mse (got kl)"))
    }

    @Test func paperIsTheDefaultAndItsPlanIsUnchanged() throws {
        let implicit = try CLITests.mixq("plan", "--model", Self.model, "--flash", "96k", "--ram", "3k", "--scheme", "mixpc", "--json")
        let explicit = try CLITests.mixq("plan", "--model", Self.model, "--flash", "96k", "--ram", "3k", "--scheme", "mixpc", "--json",
                                         "--strategy", "paper")
        #expect(implicit.status == 0 && implicit.stdout == explicit.stdout)
        #expect(implicit.stdout.contains("\"strategy\" : \"paper\""))
    }
}
