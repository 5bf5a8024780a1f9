import FirmwareBuild
import Foundation
import Testing

/// `mixq bench timing --elf FILE` states the build conditions the ELF itself records (its DWARF
/// DW_AT_producer), or "unknown", never MixQ's own compiler and flags.
@Suite struct BenchTimingELFTests {
    /// The `conditions` object of `mixq bench timing --elf path --repeats 1 --json`.
    static func conditions(elf path: String) throws -> [String: Any] {
        let outcome = try CLITests.mixq("bench", "timing", "--elf", path, "--repeats", "1", "--json")
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        return try #require(object["conditions"] as? [String: Any])
    }

    /// DW_AT_producer of the first compile unit as `arm-none-eabi-readelf` prints it.
    static func readelfProducer(_ path: String) throws -> String? {
        let dump = try VersionCLITests.tool("arm-none-eabi-readelf", ["--debug-dump=info", "--dwarf-depth=1", path])
        #expect(dump.status == 0)
        guard let line = dump.stdout.split(separator: "\n").first(where: { $0.contains("DW_AT_producer") }),
              let colon = line.range(of: ": ") else { return nil }
        var value = line[colon.upperBound...]
        if value.hasPrefix("(indirect"), let end = value.range(of: "): ") { value = value[end.upperBound...] }
        return String(value)
    }

    @Test func reportsTheELFsOwnProducerOrUnknown() throws {
        let elf = try CLITests.elf("hello")
        let producer = try #require(try Self.readelfProducer(elf))
        let toolchain = try Toolchain.locate()
        let built = try Self.conditions(elf: elf)
        #expect(built["compiler"] as? String == producer)
        #expect(built["compiler"] as? String != toolchain.compilerVersion)

        let stripped = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-stripped-\(UUID().uuidString).elf")
        defer { try? FileManager.default.removeItem(at: stripped) }
        let strip = try VersionCLITests.tool("arm-none-eabi-strip", ["--strip-debug", "-o", stripped.path, elf])
        #expect(strip.status == 0)
        #expect(try Self.readelfProducer(stripped.path) == nil)
        let unknown = try Self.conditions(elf: stripped.path)
        #expect(unknown["compiler"] as? String == "unknown")
        #expect(unknown["flags"] as? String == "unknown")
        #expect(!(unknown["flags"] as? String ?? "").contains(toolchain.compileFlags.joined(separator: " ")))
    }
}
