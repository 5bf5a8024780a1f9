@testable import FirmwareBuild
import Foundation
import Testing

@Suite struct SHA256Tests {
    private func digest(_ text: String) -> String {
        var hash = SHA256()
        hash.update(Array(text.utf8))
        return hash.finalizeHex()
    }

    /// FIPS 180-4 example vectors (NIST CSRC "SHA256.pdf", "SHA256-2.pdf").
    @Test func fipsExamples() {
        #expect(digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(digest("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func millionAs() {
        var hash = SHA256()
        hash.update([UInt8](repeating: 0x61, count: 1_000_000))
        #expect(hash.finalizeHex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}

@Suite struct FlagsFileTests {
    @Test func sectionsAndComments() {
        let parsed = parseFlagsFile("""
            # leading comment
            [compile]
            -O3 -g   # trailing comment
            -mcpu=cortex-m7
            [link]
            --specs=nano.specs
            """)
        #expect(parsed["compile"] == ["-O3", "-g", "-mcpu=cortex-m7"])
        #expect(parsed["link"] == ["--specs=nano.specs"])
    }

    @Test func theRepositoryFlagsTargetTheCortexM7() throws {
        let toolchain = try Toolchain.locate()
        for flag in ["-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-d16", "-mfloat-abi=hard", "-O3"] {
            #expect(toolchain.compileFlags.contains(flag))
        }
        #expect(toolchain.compilerVersion.contains("arm-none-eabi-gcc"))
    }
}

@Suite struct ToolchainBuildTests {
    /// A scratch firmware folder with its own sources, so tests can write broken programs.
    private func scratchFirmware(_ files: [String: String]) throws -> (Toolchain, URL) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-fw-\(UUID().uuidString)")
        let firmware = root.appendingPathComponent("firmware")
        try FileManager.default.createDirectory(at: firmware.appendingPathComponent("tests"), withIntermediateDirectories: true)
        // Reuse the real start-up code and flags.
        try FileManager.default.copyItem(at: FirmwareSources.root.appendingPathComponent("startup"),
                                         to: firmware.appendingPathComponent("startup"))
        try FileManager.default.createDirectory(at: root.appendingPathComponent("toolchain"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: FirmwareSources.packageRoot.appendingPathComponent("toolchain/cortex-m7.flags"),
                                         to: root.appendingPathComponent("toolchain/cortex-m7.flags"))
        for (name, text) in files {
            try text.write(to: firmware.appendingPathComponent("tests/\(name)"), atomically: true, encoding: .utf8)
        }
        let toolchain = try Toolchain.locate(firmwareRoot: firmware, cacheDirectory: root.appendingPathComponent("cache"))
        return (toolchain, root)
    }

    /// A build killed with `kill -9` leaves its work folder; the next build removes it, and
    /// never the folder of a build that is still running.
    @Test func workFoldersOfDeadBuildsAreRemoved() throws {
        let (toolchain, root) = try scratchFirmware(["two.c": "int main(void) { return 0; }\n"])
        defer { try? FileManager.default.removeItem(at: root) }
        let tmp = root.appendingPathComponent("cache/tmp")
        // A pid beyond Linux's largest (2^22) never runs.
        let dead = tmp.appendingPathComponent("two-4194305-\(UUID().uuidString)")
        let live = tmp.appendingPathComponent("two-\(getpid())-\(UUID().uuidString)")
        for folder in [dead, live] { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        _ = try toolchain.build(.testProgram("two"))
        #expect(!FileManager.default.fileExists(atPath: dead.path))
        #expect(FileManager.default.fileExists(atPath: live.path))
    }

    @Test func secondBuildComesFromTheCacheAndAnEditRebuilds() throws {
        let (toolchain, root) = try scratchFirmware(["one.c": "int main(void) { return 1; }\n"])
        defer { try? FileManager.default.removeItem(at: root) }
        let first = try toolchain.build(.testProgram("one"))
        #expect(!first.fromCache)
        let second = try toolchain.build(.testProgram("one"))
        #expect(second.fromCache)
        #expect(second.elf == first.elf)
        try "int main(void) { return 2; }\n".write(to: toolchain.firmwareRoot.appendingPathComponent("tests/one.c"),
                                                   atomically: true, encoding: .utf8)
        let edited = try toolchain.build(.testProgram("one"))
        #expect(!edited.fromCache)
        #expect(edited.key != first.key)
        // A define is part of the key too.
        let defined = try toolchain.build(.testProgram("one", defines: ["X=1"]))
        #expect(defined.key != edited.key)
    }

    @Test func compilerErrorsNameTheSourceAndLine() throws {
        let (toolchain, root) = try scratchFirmware(["broken.c": "int main(void) {\n  return undeclared_thing;\n}\n"])
        defer { try? FileManager.default.removeItem(at: root) }
        #expect {
            try toolchain.build(.testProgram("broken"))
        } throws: { error in
            guard case let ToolchainError.compilationFailed(source, diagnostics) = error else { return false }
            return source.hasSuffix("broken.c") && diagnostics.contains("broken.c:2") && diagnostics.contains("undeclared_thing")
        }
    }

    @Test func anImageTooBigForFlashSaysByHowMuch() throws {
        // 3 MiB of constants cannot fit the 2 MiB FLASH: 3145728 - 2097152 = 1048576 bytes over,
        // plus the code and vector table.
        let (toolchain, root) = try scratchFirmware(["huge.c": """
            const unsigned char table[3u << 20] = {1};
            int main(void) { volatile unsigned index = 12345u; return table[index]; }
            """])
        defer { try? FileManager.default.removeItem(at: root) }
        #expect {
            try toolchain.build(.testProgram("huge"))
        } throws: { error in
            guard case let ToolchainError.regionOverflow(_, region, bytes) = error else { return false }
            return region == "FLASH" && bytes > 1_048_576 && bytes < 1_048_576 + 64 * 1024
        }
    }

    @Test func missingSourcesAreReported() throws {
        let (toolchain, root) = try scratchFirmware([:])
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(throws: ToolchainError.self) { try toolchain.build(.testProgram("nothing_here")) }
    }
}
