import CCapstone

/// The Capstone disassembler behind the cycle model's decoder, as `mixq --version` reports it.
public enum CapstoneLibrary {
    /// The Capstone version, e.g. `4.0.2`.
    ///
    /// `cs_version` (run time) gives only the major and minor number; the patch number exists
    /// only in the headers MixQ was compiled against (`CS_VERSION_EXTRA`). When the library
    /// loaded at run time has the headers' major.minor, the headers' full version is printed;
    /// otherwise both, so a swapped shared library is visible.
    public static var version: String {
        var major: Int32 = 0
        var minor: Int32 = 0
        _ = cs_version(&major, &minor)
        let built = "\(CS_VERSION_MAJOR).\(CS_VERSION_MINOR).\(CS_VERSION_EXTRA)"
        if major == CS_VERSION_MAJOR && minor == CS_VERSION_MINOR { return built }
        return "\(major).\(minor) (built against \(built))"
    }
}
