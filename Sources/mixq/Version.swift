import Emulator
import FirmwareBuild
import Foundation
import Timing

/// What `mixq --version` prints: MixQ's version, the commit of the source checkout, and the
/// versions of the libraries and compiler every figure depends on.
///
/// Computed only when asked for: `mixq --version` is handled in `MixQ.main()` before argument
/// parsing, so no other invocation runs git or the compiler for it.
enum MixQVersion {
    /// MixQ's version (semantic versioning). Bumped by hand in the commit that changes it: the
    /// minor number for new commands, options or output fields, the patch number for fixes that
    /// change no interface, the major number when a documented option or output key goes away.
    static let number = "0.10.0"

    /// The lines `mixq --version` prints, one fact per line. Never fails: what cannot be found
    /// is printed as "unknown" or "not found".
    static func lines() -> [String] {
        let commit = checkoutCommit()
        let compiler: String
        do {
            compiler = try Toolchain.findCompiler().versionLine
        } catch {
            compiler = "not found (\(error))"
        }
        return [
            "mixq \(number)",
            "commit: " + (commit.map { "\($0.description) (source checkout \($0.root), read at run time)" }
                          ?? "unknown (not run from a git checkout)"),
            "unicorn: \(UnicornLibrary.version)",
            "capstone: \(CapstoneLibrary.version)",
            "arm-none-eabi-gcc: \(compiler)",
        ]
    }

    /// `git describe --always --dirty` of the checkout this executable was built from, found
    /// through this file's path at build time (`#filePath`: Sources/mixq/Version.swift -> the
    /// package root). Read at run time, so it describes the checkout as it is now; nil when the
    /// folder is gone, is no git checkout (`.git` is a folder, or a file in a worktree), or git
    /// is missing or fails.
    static func checkoutCommit() -> (description: String, root: String)? {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        guard FileManager.default.fileExists(atPath: root.appendingPathComponent(".git").path),
              let output = run("git", ["-C", root.path, "describe", "--always", "--dirty"]) else { return nil }
        let line = output.split(separator: "\n").first.map(String.init) ?? ""
        return line.isEmpty ? nil : (line, root.path)
    }

    /// stdout of `program` (looked up on PATH) when it exits with 0.
    private static func run(_ program: String, _ arguments: [String]) -> String? {
        guard let output = try? runHostCommand(program, arguments), output.status == 0 else { return nil }
        return output.standardOutput
    }
}
