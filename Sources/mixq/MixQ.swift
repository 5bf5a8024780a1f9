import ArgumentParser
import Foundation

/// The `mixq` command: one entry point, one subcommand per job.
///
/// Each subcommand is a small struct in its own file that parses arguments and calls
/// library API; no logic lives here.
@main
struct MixQ: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mixq",
        abstract: "Will this quantized network fit my Cortex-M7, how fast does it run, what accuracy does it keep?",
        discussion: """
            MixQ emulates an STM32H743 (Cortex-M7) without a board: it runs firmware ELF files, \
            plans mixed 8/4/2-bit quantization under FLASH and RAM budgets, and reports cycles \
            and memory per layer.
            """,
        subcommands: [
            Run.self,
            Size.self,
            Plan.self,
            Deploy.self,
            Eval.self,
            SweepCommand.self,
            Bench.self,
            Demo.self,
            Report.self,
        ]
    )
}

extension MixQ {
    /// Like `ParsableCommand.main()`, but failures of MixQ's libraries print a single
    /// `error: ...` line (the CLI contract other tools rely on) instead of the usage text.
    static func main() {
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)  // usage errors: ArgumentParser prints the help hint
        }
        do {
            try command.run()
        } catch let error where error is ExitCode || error is CleanExit || error is ValidationError
                    || String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
            exit(withError: error)  // help requests and usage errors keep ArgumentParser's format
        } catch {
            // Every library error (toolchain, ELF, emulator, planner) is one actionable line.
            let message = String(describing: error)
            fflush(nil)  // what the command printed first stays in front of the error
            FileHandle.standardError.write(Data("error: \(message)\n".utf8))
            Foundation.exit(1)
        }
    }
}
