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
        if let path = path(of: error), let problem = pathProblem(path) { return problem }
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

    /// What is wrong with `path` as a file to read or write, found by looking at it (Foundation
    /// on Linux often reports no underlying error): a directory, a missing folder, a file where
    /// a folder should be. Nil when nothing is visibly wrong.
    static func pathProblem(_ path: String) -> String? {
        var info = stat()
        if stat(path, &info) == 0 {
            return info.st_mode & S_IFMT == S_IFDIR ? "it is a directory" : nil
        }
        let folder = (path as NSString).deletingLastPathComponent
        guard !folder.isEmpty, folder != path else { return nil }
        if stat(folder, &info) != 0 { return "its folder \(folder) does not exist (\(String(cString: strerror(errno))))" }
        return info.st_mode & S_IFMT == S_IFDIR ? nil : "\(folder) is a file, not a folder"
    }

    /// The path Foundation names in `error`, when there is one.
    public static func path(of error: Error) -> String? {
        let bridged = error as NSError
        if let path = bridged.userInfo[NSFilePathErrorKey] as? String { return path }
        return (bridged.userInfo[NSURLErrorKey] as? URL)?.path
    }
}
