import Emulator
import FirmwareBuild

/// The compiler and flags a firmware image was built with, as the conditions of a figure state
/// them: MixQ's own toolchain for firmware MixQ built, and for an ELF the user supplied only
/// what the ELF itself records (its DWARF `DW_AT_producer`), never MixQ's defaults.
struct FirmwareCompiler: Equatable {
    /// The compiler's version line, or the ELF's producer string, or "unknown".
    var compiler: String
    /// The compile flags, or where they are recorded, or "unknown".
    var flags: String

    /// Firmware MixQ built with `toolchain` (flags from toolchain/cortex-m7.flags).
    init(builtBy toolchain: Toolchain) {
        compiler = toolchain.compilerVersion
        flags = toolchain.compileFlags.joined(separator: " ")
    }

    /// An ELF MixQ did not build: the producer of its first compile unit (for GCC it names the
    /// version and the code-generation flags), or "unknown" when it has no debug information.
    init(recordedIn image: ELFImage) {
        if let producer = image.producer() {
            compiler = producer
            flags = "as recorded in the producer string (DWARF DW_AT_producer)"
        } else {
            compiler = Self.unknown
            flags = Self.unknown
        }
    }

    /// What is printed when the ELF does not say.
    static let unknown = "unknown"
}
