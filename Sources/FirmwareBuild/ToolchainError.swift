/// Why a firmware could not be built. Messages say what to do next.
public enum ToolchainError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `arm-none-eabi-gcc` is not on PATH (nor at `$MIXQ_ARM_GCC`).
    case compilerNotFound
    /// `toolchain/cortex-m7.flags` is missing or unreadable.
    case flagsFileUnreadable(path: String)
    /// A source, header folder or linker script does not exist.
    case missingInput(path: String)
    /// The compiler rejected a source; `diagnostics` holds its error lines.
    case compilationFailed(source: String, diagnostics: String)
    /// The image does not fit: `region` overflowed by `bytes`.
    case regionOverflow(firmware: String, region: String, bytes: Int)
    /// The link failed for another reason.
    case linkFailed(firmware: String, diagnostics: String)
    /// The cache folder could not be written.
    case cacheUnwritable(path: String, reason: String)

    public var description: String {
        switch self {
        case .compilerNotFound:
            return "arm-none-eabi-gcc not found on PATH; run toolchain/setup.sh (or set MIXQ_ARM_GCC to the compiler)"
        case .flagsFileUnreadable(let path):
            return "cannot read the compiler flags file \(path)"
        case .missingInput(let path):
            return "firmware input not found: \(path)"
        case .compilationFailed(let source, let diagnostics):
            return "cannot compile \(source):\n\(diagnostics)"
        case .regionOverflow(let firmware, let region, let bytes):
            return "\(firmware) does not fit: region \(region) overflowed by \(bytes) bytes"
        case .linkFailed(let firmware, let diagnostics):
            return "cannot link \(firmware):\n\(diagnostics)"
        case .cacheUnwritable(let path, let reason):
            return "cannot write the firmware cache at \(path): \(reason) (set MIXQ_CACHE_DIR to a writable folder)"
        }
    }
}
