import FirmwareBuild
import Foundation
import Testing

/// `mixq --version`: one block of plain lines naming MixQ's version, the checkout's commit, and
/// the Unicorn, Capstone and arm-none-eabi-gcc versions, each checked against what the system's
/// own tools report (pkg-config, git, the compiler).
@Suite struct VersionCLITests {
    /// stdout of `program arguments...` (looked up on PATH) and its exit status.
    static func tool(_ program: String, _ arguments: [String]) throws -> (status: Int32, stdout: String) {
        let output = try runHostCommand(program, arguments)
        return (output.status, output.standardOutput)
    }

    static func firstLine(_ text: String) -> String {
        text.split(separator: "\n").first.map(String.init) ?? ""
    }

    /// The package root: Tests/MixQTests/VersionCLITests.swift -> three levels up.
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func versionPrintsMixQLibrariesAndCompiler() throws {
        let outcome = try CLITests.mixq("--version")
        #expect(outcome.status == 0)
        #expect(outcome.stderr.isEmpty)
        let lines = outcome.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 5, "\(outcome.stdout)")
        let version = try #require(lines.first)
        #expect(version.wholeMatch(of: /mixq \d+\.\d+\.\d+/) != nil, "\(version)")

        let unicorn = try Self.tool("pkg-config", ["--modversion", "unicorn"])
        let capstone = try Self.tool("pkg-config", ["--modversion", "capstone"])
        #expect(unicorn.status == 0 && capstone.status == 0, "pkg-config knows both libraries")
        #expect(lines.contains("unicorn: \(Self.firstLine(unicorn.stdout))"), "\(outcome.stdout)")
        #expect(lines.contains("capstone: \(Self.firstLine(capstone.stdout))"), "\(outcome.stdout)")

        let gcc = try Self.tool(ProcessInfo.processInfo.environment["MIXQ_ARM_GCC"] ?? "arm-none-eabi-gcc", ["--version"])
        #expect(gcc.status == 0)
        #expect(lines.contains("arm-none-eabi-gcc: \(Self.firstLine(gcc.stdout))"), "\(outcome.stdout)")

        let describe = try Self.tool("git", ["-C", Self.packageRoot.path, "describe", "--always", "--dirty"])
        let commit = try #require(lines.first { $0.hasPrefix("commit: ") })
        if describe.status == 0 {
            #expect(commit.hasPrefix("commit: \(Self.firstLine(describe.stdout)) "), "\(commit)")
        } else {
            #expect(commit.hasPrefix("commit: unknown"), "\(commit)")
        }
    }

    @Test func versionIsListedAndWorksAfterASubcommand() throws {
        let help = try CLITests.mixq("--help")
        #expect(help.stdout.contains("--version"))
        let root = try CLITests.mixq("--version")
        let afterSubcommand = try CLITests.mixq("run", "--version")
        #expect(afterSubcommand.status == 0)
        // The commit line may change between the two runs only if the tree changes meanwhile.
        #expect(afterSubcommand.stdout.split(separator: "\n").first == root.stdout.split(separator: "\n").first)
        #expect(afterSubcommand.stdout.contains("unicorn: "))
    }
}
