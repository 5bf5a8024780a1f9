import Foundation

/// Opening a file a command reads (a model, a dataset array) without surprises: a directory,
/// a FIFO (which would block), a device or a socket is named as such before anything is read,
/// and a regular file is mapped rather than copied, so reading a few images of a large array
/// touches only their pages.
public enum InputFile {
    /// Why `path` cannot be read as a file, in words ("it is a directory", "no such file"), or
    /// nil when it names a regular file.
    public static func problem(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return String(cString: strerror(errno)) }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "it is a directory"
        case S_IFCHR: return "it is a character device"
        case S_IFBLK: return "it is a block device"
        case S_IFIFO: return "it is a FIFO (named pipe)"
        case S_IFSOCK: return "it is a socket"
        default: return "it is not a regular file"
        }
    }

    /// The bytes of the regular file `path`, mapped read-only (pages are read when touched and
    /// can be dropped again by the kernel; they never count twice).
    /// - Throws: `InputFileError` with the reason in words (not a file, strerror's text).
    public static func map(_ path: String) throws(InputFileError) -> Data {
        if let problem = problem(path) { throw InputFileError(path: path, reason: problem) }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { throw InputFileError(path: path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw InputFileError(path: path, reason: String(cString: strerror(errno))) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw InputFileError(path: path, reason: "it is not a regular file") }
        let size = Int(info.st_size)
        guard size > 0 else { return Data() }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), base != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw InputFileError(path: path, reason: String(cString: strerror(errno)))
        }
        return Data(bytesNoCopy: base, count: size, deallocator: .custom { pointer, count in munmap(pointer, count) })
    }
}

/// A file that cannot be read, and why, in words.
public struct InputFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "cannot read \(path): \(reason)" }
}
