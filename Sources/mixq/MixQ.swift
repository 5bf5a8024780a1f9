import ArgumentParser
import Emulator
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
        // Lists --version in the help; MixQ.main() prints the full block (MixQVersion.lines()).
        version: "mixq \(MixQVersion.number)",
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
        let arguments = Array(CommandLine.arguments.dropFirst())
        // ArgumentParser answers --version anywhere before "--" with the configuration's one
        // line; MixQ prints its full block there instead (versions of the libraries and the
        // compiler), and runs git and the compiler only then.
        if arguments.prefix(while: { $0 != "--" }).contains("--version") {
            print(MixQVersion.lines().joined(separator: "\n"))
            Foundation.exit(0)
        }
        if let problem = NegativeNumberArguments.firstProblem(in: arguments) {
            usageFailure("error: \(problem)", code: ExitCode.validationFailure)
        }
        var command: ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            usageError(error)
        }
        do {
            try command.run()
        } catch let error where error is ExitCode || error is CleanExit || error is ValidationError
                    || String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
            usageError(error)
        } catch {
            // Every library error (toolchain, ELF, emulator, planner) is one actionable line,
            // at the start of a line even when the firmware's last output had no newline.
            ConsoleEcho.printLine("error: \(CommandFailure.words(error))")
            Foundation.exit(1)
        }
    }

    /// Help requests and firmware exit codes keep ArgumentParser's handling; a usage error's
    /// first line is `error: ...` (the CLI contract), followed by ArgumentParser's usage hint.
    private static func usageError(_ error: Error) -> Never {
        let code = exitCode(for: error)
        if error is ExitCode || code == .success { exit(withError: error) }
        var message = fullMessage(for: error)
        if message.hasPrefix("Error: ") { message = "error: " + message.dropFirst("Error: ".count) }
        if !message.hasPrefix("error: ") { message = "error: " + message }
        usageFailure(message, code: code)
    }

    private static func usageFailure(_ message: String, code: ExitCode) -> Never {
        ConsoleEcho.printLine(message.hasSuffix("\n") ? String(message.dropLast()) : message)
        Foundation.exit(code.rawValue)
    }
}
