import CUnicorn

/// The Unicorn engine MixQ runs on, as `mixq --version` reports it.
public enum UnicornLibrary {
    /// The version of the Unicorn library loaded at run time, from `uc_version`, e.g. `2.0.1`.
    ///
    /// Unicorn 2 returns `major << 24 | minor << 16 | patch << 8 | extra` (`extra` 255 is a
    /// release, anything below a release candidate); Unicorn 1 returned `major << 8 | minor`.
    /// Both are decoded; a release candidate is printed as `2.0.1-rc3`.
    public static var version: String {
        var major: UInt32 = 0
        var minor: UInt32 = 0
        let combined = uc_version(&major, &minor)
        guard combined > 0xFFFF else { return "\(major).\(minor)" }
        let patch = (combined >> 8) & 0xFF
        let extra = combined & 0xFF
        return "\(combined >> 24).\((combined >> 16) & 0xFF).\(patch)" + (extra == 255 ? "" : "-rc\(extra)")
    }
}
