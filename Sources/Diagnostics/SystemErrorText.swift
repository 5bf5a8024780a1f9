import Foundation

/// Foundation's file errors in words. On Linux, `localizedDescription` of a failed
/// `Data.write` or `createDirectory` reads "The operation could not be completed.
/// (NSCocoaErrorDomain error 512.)"; the reason (strerror's text of the underlying POSIX error,
/// or the Cocoa code's meaning) is what a user can act on.
public enum SystemErrorText {
    /// Why `error` happened, in words: "Not a directory", "No space left on device",
    /// "permission denied". Errors that are not Foundation's keep their own description.
    public static func reason(_ error: Error) -> String {
        let bridged = error as NSError
        if bridged.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(bridged.code))) }
        guard bridged.domain == NSCocoaErrorDomain else { return ErrorText.quoted(String(describing: error), limit: 500) }
        if let underlying = bridged.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        switch CocoaError.Code(rawValue: bridged.code) {
        case .fileNoSuchFile, .fileReadNoSuchFile: return "no such file or directory"
        case .fileReadNoPermission, .fileWriteNoPermission: return "permission denied"
        case .fileWriteFileExists: return "something already exists at that path"
        case .fileWriteOutOfSpace: return "no space left on device"
        case .fileWriteVolumeReadOnly: return "read-only file system"
        case .fileReadTooLarge: return "the file is too large to read"
        case .fileReadCorruptFile: return "the file is damaged or in an unknown format"
        case .fileReadInapplicableStringEncoding, .fileWriteInapplicableStringEncoding: return "the text is not valid UTF-8"
        case .fileWriteInvalidFileName: return "the file name is not valid"
        default:
            return bridged.code >= 512 && bridged.code < 768
                ? "the file could not be written (a path component is not a folder, or the disk refused it)"
                : "the file could not be read (it is a folder, a device or unreadable)"
        }
    }

    /// `"cannot write <path>: <reason>"`-style text for `error`, with the path Foundation names
    /// when there is one.
    public static func path(of error: Error) -> String? {
        let bridged = error as NSError
        if let path = bridged.userInfo[NSFilePathErrorKey] as? String { return path }
        return (bridged.userInfo[NSURLErrorKey] as? URL)?.path
    }
}
