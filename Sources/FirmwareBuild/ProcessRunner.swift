import Foundation

/// The outcome of running a program to completion.
struct ProcessOutput {
    var status: Int32
    /// stdout and stderr interleaved as the program wrote them.
    var text: String
}

/// Runs `executable` with `arguments` and waits for it, capturing stdout and stderr together.
func runProcess(_ executable: String, _ arguments: [String]) throws -> ProcessOutput {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // Read before waiting: a full pipe would otherwise block the child forever.
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessOutput(status: process.terminationStatus, text: String(decoding: data, as: UTF8.self))
}

/// The first executable called `name` on `$PATH`.
func findOnPath(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for directory in path.split(separator: ":") {
        let candidate = "\(directory)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}

/// What a host program printed on stdout and how it exited.
public struct HostCommandOutput: Sendable {
    public var status: Int32
    public var standardOutput: String
}

/// Runs `program` (looked up on PATH through /usr/bin/env) with `arguments` to completion, with
/// stdin closed and stderr discarded, and returns its stdout and exit status. For asking host
/// tools what they know (git, pkg-config, binutils) from the CLI and the tests.
public func runHostCommand(_ program: String, _ arguments: [String]) throws -> HostCommandOutput {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [program] + arguments
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return HostCommandOutput(status: process.terminationStatus, standardOutput: String(decoding: data, as: UTF8.self))
}
