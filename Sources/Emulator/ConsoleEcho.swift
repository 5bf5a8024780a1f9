#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The process's standard output and error as firmware output and MixQ's own lines share them.
///
/// Firmware output is echoed here as it is produced (`RunOptions.echoOutput`), straight to the
/// file descriptors with write(2): nothing is buffered, so a firmware that prints forever costs
/// no memory, and a closed pipe (`mixq run fw.elf | head -1`) is an ignored write error instead
/// of a trap. MixQ's own lines (`error: ...`, the run summary) call `finishLine()` first, so they
/// always start at the beginning of a line even when the firmware's last output had no newline.
public enum ConsoleEcho {
    private static let lock = NSLock()
    /// Whether the last byte echoed to descriptor 1 / 2 was something other than a newline.
    nonisolated(unsafe) private static var unterminated: [Bool] = [false, false, false]

    /// Writes firmware bytes to stdout (or stderr) unbuffered.
    public static func write(_ bytes: UnsafeRawBufferPointer, toStandardError: Bool) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let descriptor: Int32 = toStandardError ? 2 : 1
        lock.lock()
        defer { lock.unlock() }
        writeAll(descriptor, base, bytes.count)
        unterminated[Int(descriptor)] = bytes[bytes.count - 1] != 0x0A
    }

    /// Ends the firmware's last line with a newline, on the stream it was written to, if it did
    /// not end with one. Call before printing a line of MixQ's own.
    public static func finishLine() {
        lock.lock()
        defer { lock.unlock() }
        for descriptor in [1, 2] where unterminated[descriptor] {
            var newline: UInt8 = 0x0A
            writeAll(Int32(descriptor), &newline, 1)
            unterminated[descriptor] = false
        }
    }

    /// Writes a line of MixQ's own (a newline is appended) to stderr, on a line of its own.
    public static func printLine(_ line: String, toStandardError: Bool = true) {
        finishLine()
        fflush(nil)  // Swift's buffered `print` output stays in front of the line
        let data = Array((line + "\n").utf8)
        lock.lock()
        defer { lock.unlock() }
        data.withUnsafeBytes { writeAll(toStandardError ? 2 : 1, $0.baseAddress!, $0.count) }
    }

    private static func writeAll(_ descriptor: Int32, _ base: UnsafeRawPointer, _ count: Int) {
        var offset = 0
        while offset < count {
            let written = Foundation.write(descriptor, base + offset, count - offset)
            if written > 0 {
                offset += written
            } else if written < 0 && errno == EINTR {
                continue
            } else {
                return  // EPIPE, a closed descriptor, a full disk: the output is lost, the run goes on
            }
        }
    }
}
