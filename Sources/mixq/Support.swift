import ArgumentParser
import Foundation

/// A library error turned into the CLI's contract: one `error:` line on stderr, exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let message: String

    init(_ error: Error) {
        message = (error as? CustomStringConvertible)?.description ?? error.localizedDescription
    }

    init(message: String) {
        self.message = message
    }

    var description: String { message }
}

/// The conditions every printed figure carries.
enum RunConditions {
    /// The cycle model in use. Until the Timing module is attached, one instruction counts as
    /// one cycle, and this says so.
    static let timingModel = "instruction-count (1 cycle per instruction; no cycle model yet)"

    static func describe(clockMHz: Int, waitStates: Int) -> String {
        "core clock \(clockMHz) MHz, FLASH \(waitStates) wait states, caches as the firmware sets them, timing model \(timingModel)"
    }
}

enum JSONOutput {
    /// Pretty, key-sorted JSON, so output is stable from run to run.
    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    static func print<T: Encodable>(_ value: T) throws {
        var data = try encode(value)
        data.append(0x0A)
        FileHandle.standardOutput.write(data)
    }

    static func write<T: Encodable>(_ value: T, to path: String) throws {
        var data = try encode(value)
        data.append(0x0A)
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
