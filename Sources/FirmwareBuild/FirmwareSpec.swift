import Foundation

/// What to build: C sources, include directories, defines and a linker script.
///
/// Paths are absolute or relative to the firmware root (`FirmwareSources.root`).
public struct FirmwareSpec: Sendable, Hashable {
    /// The ELF's base name (`<name>.elf`); also used in messages.
    public var name: String
    /// C sources compiled one by one and linked in this order.
    public var sources: [String]
    /// Extra `-I` directories. `firmware/startup` is always included.
    public var includeDirectories: [String]
    /// `-D` defines, e.g. `["MIXQ_ITERATIONS=1000"]`.
    public var defines: [String]
    /// Flags appended after the shared ones from `toolchain/cortex-m7.flags` (both compile and link).
    public var extraFlags: [String]
    /// The linker script; the STM32H743 script by default.
    public var linkerScript: String
    /// Whether to link `firmware/startup` (vector table, reset handler, semihosting glue).
    public var includeStartup: Bool

    public init(name: String, sources: [String], includeDirectories: [String] = [], defines: [String] = [],
                extraFlags: [String] = [], linkerScript: String = "startup/stm32h743.ld", includeStartup: Bool = true) {
        self.name = name
        self.sources = sources
        self.includeDirectories = includeDirectories
        self.defines = defines
        self.extraFlags = extraFlags
        self.linkerScript = linkerScript
        self.includeStartup = includeStartup
    }

    /// A self-checking program from `firmware/tests/<name>.c`.
    public static func testProgram(_ name: String, defines: [String] = []) -> FirmwareSpec {
        FirmwareSpec(name: name, sources: ["tests/\(name).c"], defines: defines)
    }

    /// A benchmark program from `firmware/bench/<name>.c`.
    public static func benchmark(_ name: String, defines: [String] = []) -> FirmwareSpec {
        FirmwareSpec(name: name, sources: ["bench/\(name).c"], defines: defines)
    }
}

/// The start-up sources every firmware links unless `FirmwareSpec.includeStartup` is false.
let startupSources = ["startup/startup.c", "startup/semihosting.c", "startup/syscalls.c"]

/// Where MixQ's firmware sources live.
public enum FirmwareSources {
    /// `$MIXQ_FIRMWARE_DIR` if set, else the `firmware/` folder of this package's checkout.
    public static var root: URL {
        if let override = ProcessInfo.processInfo.environment["MIXQ_FIRMWARE_DIR"], !override.isEmpty {
            return URL(fileURLWithPath: override, isDirectory: true)
        }
        // Sources/FirmwareBuild/FirmwareSpec.swift -> package root -> firmware/
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("firmware", isDirectory: true)
    }

    /// The package root (the folder holding `firmware/` and `toolchain/`).
    public static var packageRoot: URL { root.deletingLastPathComponent() }
}

/// A firmware image ready to run.
public struct BuiltFirmware: Sendable {
    /// The ELF in the build cache.
    public var elf: URL
    /// True when the ELF came from the cache without running the compiler.
    public var fromCache: Bool
    /// The content key (SHA-256 of compiler, flags and every input file).
    public var key: String
}
