#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Files a command writes, checked before the command does its work (so a run of minutes does
/// not end in a write error) and written with plain words on failure.
///
/// No output may replace a file the same command reads: `mixq run fw.elf --stats fw.elf` is
/// refused instead of replacing the firmware with JSON. Files are compared by device and inode
/// (`stat`), so another spelling of the path, `./fw.elf` or a symbolic link, is caught too.
enum OutputFiles {
    /// Throws a `CommandFailure` naming `option` when `path` cannot be written or is one of
    /// `inputs`.
    static func checkWritable(_ path: String, option: String, inputs: [String] = []) throws {
        func failure(_ why: String) -> CommandFailure {
            CommandFailure(message: "cannot write \(option) '\(path)': \(why)")
        }
        guard !path.isEmpty else { throw failure("the path is empty") }
        var info = stat()
        if stat(path, &info) == 0 {
            switch info.st_mode & S_IFMT {
            case S_IFREG: break
            case S_IFDIR: throw failure("it is a directory; give a file path")
            default: throw failure("it is not a regular file (a device, FIFO or socket); give a file path")
            }
            for input in inputs {
                var inputInfo = stat()
                if stat(input, &inputInfo) == 0 && inputInfo.st_dev == info.st_dev && inputInfo.st_ino == info.st_ino {
                    throw failure("it is the input file '\(input)' of this command, which the output would replace; give another path")
                }
            }
            if access(path, W_OK) != 0 { throw failure(String(cString: strerror(errno))) }
        } else if errno != ENOENT {
            throw failure(String(cString: strerror(errno)))
        }
        // The file is written next to itself and renamed into place, so its directory must exist
        // and be writable even when the file already exists.
        let directory = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        var directoryInfo = stat()
        guard stat(directory, &directoryInfo) == 0 else {
            throw failure("its directory '\(directory)' does not exist (\(String(cString: strerror(errno)))); create it first")
        }
        guard directoryInfo.st_mode & S_IFMT == S_IFDIR else { throw failure("'\(directory)' is not a directory") }
        guard access(directory, W_OK | X_OK) == 0 else {
            throw failure("its directory '\(directory)' is not writable (\(String(cString: strerror(errno))))")
        }
        // access() says yes to root on any directory of a writable mount; only creating a file
        // tells about /proc, /sys and other file systems that take no new files.
        let probe = temporaryPath(for: path, in: directory)
        let descriptor = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw failure("cannot create a file in '\(directory)' (\(String(cString: strerror(errno))))")
        }
        close(descriptor)
        unlink(probe)
    }

    /// Checks the files `names` a command will write into `folder` (which it may create):
    /// `folder` is not a file, and no name in it is a directory or one of `inputs` (by device
    /// and inode). Throws a `CommandFailure` naming `option`.
    static func checkFolder(_ folder: String, names: [String], option: String, inputs: [String]) throws {
        var info = stat()
        if stat(folder, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw CommandFailure(message: "cannot write \(option) '\(folder)': it is not a folder; give a folder path")
            }
        } else if errno != ENOENT {
            throw CommandFailure(message: "cannot write \(option) '\(folder)': \(String(cString: strerror(errno)))")
        } else {
            return
        }
        for name in names {
            let path = (folder as NSString).appendingPathComponent(name)
            var fileInfo = stat()
            guard stat(path, &fileInfo) == 0 else { continue }
            if fileInfo.st_mode & S_IFMT == S_IFDIR {
                throw CommandFailure(message: "cannot write \(option) '\(folder)': '\(path)' is a directory where the output file goes")
            }
            for input in inputs {
                var inputInfo = stat()
                if stat(input, &inputInfo) == 0 && inputInfo.st_dev == fileInfo.st_dev && inputInfo.st_ino == fileInfo.st_ino {
                    throw CommandFailure(message: "cannot write \(option) '\(folder)': its '\(name)' is the input file '\(input)' "
                                         + "of this command, which the output would replace; give another folder")
                }
            }
        }
    }

    private static func temporaryPath(for path: String, in directory: String) -> String {
        directory + "/.\((path as NSString).lastPathComponent).mixq-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Writes `data` to `path` atomically (a temporary file in the same directory, renamed into
    /// place); failures name `option` and say why in strerror's words.
    static func write(_ data: Data, to path: String, option: String) throws {
        func failure(_ why: String) -> CommandFailure {
            CommandFailure(message: "cannot write \(option) '\(path)': \(why)")
        }
        let directory = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        let temporary = temporaryPath(for: path, in: directory)
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw failure(String(cString: strerror(errno))) }
        var offset = 0
        let bytes = [UInt8](data)
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress! + offset, bytes.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                close(descriptor)
                unlink(temporary)
                throw failure(reason)
            }
            offset += written
        }
        guard close(descriptor) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw failure(reason)
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw failure(reason)
        }
    }
}

/// How a firmware's exit status becomes MixQ's process exit status.
///
/// A process exit status is 8 bits (256 would read as 0, success), and shells give 126 and 127
/// ("cannot execute", "not found") and 128 + n (killed by signal n) their own meanings, so only
/// 1...125 pass through unchanged; any other non-zero status (256, -1, 1000) exits with 125,
/// after a line that prints the firmware's full status. 0 stays 0.
enum FirmwareExitStatus {
    static let outOfRangeCode: Int32 = 125

    static func processCode(for status: Int32) -> Int32 {
        if status == 0 { return 0 }
        return (1...125).contains(status) ? status : outOfRangeCode
    }

    /// The note printed when the status had to be mapped, or nil.
    static func note(for status: Int32) -> String? {
        processCode(for: status) == status ? nil
            : "mixq: the firmware exited with status \(status), outside the 1...125 a process exit status can carry; exiting with \(outOfRangeCode)"
    }
}

/// `--opt -1` and `--opt=-1` on an option that takes a number: ArgumentParser reads "-1" as a
/// flag and reports a missing value. Every numeric option of mixq is non-negative, so such an
/// argument is reported as out of range, before parsing, in one `error:` line.
enum NegativeNumberArguments {
    static func firstProblem(in arguments: [String]) -> String? {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" { return nil }
            if argument.hasPrefix("--") {
                if let equals = argument.firstIndex(of: "=") {
                    let option = String(argument[..<equals])
                    let value = String(argument[argument.index(after: equals)...])
                    if looksNegative(value) { return message(option: option, value: value) }
                } else if index + 1 < arguments.count, looksNegative(arguments[index + 1]) {
                    return message(option: argument, value: arguments[index + 1])
                }
            }
            index += 1
        }
        return nil
    }

    /// "-1", "-5", "-0.5", "-1/2", "-2k": a minus sign followed by a digit or a point.
    static func looksNegative(_ value: String) -> Bool {
        guard value.hasPrefix("-"), let next = value.dropFirst().first else { return false }
        return next.isNumber || next == "."
    }

    static func message(option: String, value: String) -> String {
        "\(option) \(value): out of range; \(option) takes a number that is zero or more (a count, a size, a seed or a shard i/n)"
    }
}
