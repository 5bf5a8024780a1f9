import Deployment
import Diagnostics
import Foundation
import Planning

/// A labelled image set kept as files, in ImageNet's layout (torchvision's `ImageFolder`): one
/// subfolder per class holding JPEG or PNG files (`.jpg`, `.jpeg`, `.png`, any case, also in
/// deeper subfolders).
///
/// - Classes: the subfolders in sorted order (class 0 first), or, when the folder holds a
///   `labels.txt`, in its order: line `k` (blank lines skipped) names class `k`'s subfolder as
///   its first word (the rest of the line, e.g. ImageNet's `n01440764 tench, Tinca tinca`, is a
///   description). Every subfolder must then be named in it.
/// - Images: class after class, each class's files sorted by path. Image `k` of this order is
///   what `--limit` and `--shard` count (shard `i/n` takes the images `k` with `k mod n = i-1`).
/// - Skipped: hidden files and folders (a leading `.`: `.DS_Store`, `._*`), files of other
///   extensions (`README`, `.txt`, `.xml`), files directly in the folder (`labels.txt`).
///
/// Only the list of files and labels is kept (about 100 bytes an image); `image(_:)` reads and
/// decodes one file when asked and keeps nothing, so a 50,000-image set costs the memory of
/// the images being evaluated, one per thread.
public struct ImageFolder: Sendable {
    /// The folder.
    public let root: URL
    /// The class subfolders, class 0 first.
    public let classes: [String]
    /// Each image's path relative to `root`, in dataset order.
    public let files: [String]
    /// Each image's class.
    public let labels: [Int]
    /// Files in the class subfolders skipped as not images (hidden files, other extensions).
    public let skippedFiles: Int
    /// How every image becomes the network's input.
    public let preprocessing: ImagePreprocessing
    /// Decodes in progress (shared by the copies of this folder): what the reader holds.
    public let decodes = DecodeTally()

    /// The extensions read, lower-cased.
    public static let imageExtensions: Set<String> = ["jpg", "jpeg", "png"]
    /// The file naming the classes, in the folder itself.
    public static let labelsFileName = "labels.txt"
    /// Subfolders deeper than this inside a class folder are not searched (a symbolic-link loop
    /// ends here).
    public static let maximumDepth = 16

    /// Lists the folder `url` (no image is read).
    /// - Throws: `DatasetError` naming the folder or file and what is wrong.
    public init(contentsOf url: URL, preprocessing: ImagePreprocessing) throws(DatasetError) {
        root = url
        self.preprocessing = preprocessing
        let subfolders = try Self.visibleEntries(of: url).filter { Self.isDirectory(url.appendingPathComponent($0).path) }.sorted()
        let labelsURL = url.appendingPathComponent(Self.labelsFileName)
        if FileManager.default.fileExists(atPath: labelsURL.path) {
            classes = try Self.classes(listedIn: labelsURL, subfolders: subfolders)
        } else {
            classes = subfolders
        }
        guard !classes.isEmpty else {
            throw .unreadable(path: url.path, reason: "no class subfolders; an image folder holds one subfolder of JPEG/PNG files per class")
        }
        var files: [String] = [], labels: [Int] = [], skipped = 0
        for (label, name) in classes.enumerated() where subfolders.contains(name) {
            var found: [String] = []
            try Self.collect(in: url, relative: name, depth: 0, into: &found, skipped: &skipped)
            for file in found.sorted() {
                files.append(file)
                labels.append(label)
            }
        }
        guard !files.isEmpty else {
            throw .unreadable(path: url.path, reason: "no images.npy, and its \(classes.count) subfolder(s) hold no .jpg, .jpeg or .png file; "
                              + "a dataset is a folder with images.npy and labels.npy, or one subfolder of JPEG/PNG files per class")
        }
        self.files = files
        self.labels = labels
        skippedFiles = skipped
    }

    /// The network input of image `index` (below `files.count`): its file read, decoded,
    /// converted, resized and cropped (`ImagePreprocessing`).
    /// - Throws: `DatasetError.unreadable` or `.badImage` naming the file.
    public func image(_ index: Int) throws(DatasetError) -> [UInt8] {
        let path = root.appendingPathComponent(files[index]).path
        let data: Data
        do {
            data = try InputFile.map(path)
        } catch {
            throw .unreadable(path: path, reason: error.reason)
        }
        decodes.begin()
        defer { decodes.end() }
        return preprocessing.apply(to: try ImageDecoder.decode(data, path: path))
    }

    /// The names in `url`, hidden ones left out.
    static func visibleEntries(of url: URL) throws(DatasetError) -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: url.path).filter { !$0.hasPrefix(".") }
        } catch {
            throw .unreadable(path: url.path, reason: SystemErrorText.reason(error))
        }
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// The image files under `root/relative`, as paths relative to `root`.
    static func collect(in root: URL, relative: String, depth: Int, into files: inout [String], skipped: inout Int) throws(DatasetError) {
        let folder = root.appendingPathComponent(relative)
        guard depth <= maximumDepth else {
            throw .unreadable(path: folder.path, reason: "more than \(maximumDepth) nested subfolders (a symbolic-link loop?)")
        }
        let all: [String]
        do {
            all = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        } catch {
            throw .unreadable(path: folder.path, reason: SystemErrorText.reason(error))
        }
        for name in all {
            let path = relative + "/" + name
            if name.hasPrefix(".") {
                skipped += 1
            } else if isDirectory(root.appendingPathComponent(path).path) {
                try collect(in: root, relative: path, depth: depth + 1, into: &files, skipped: &skipped)
            } else if imageExtensions.contains((name as NSString).pathExtension.lowercased()) {
                files.append(path)
            } else {
                skipped += 1
            }
        }
    }

    /// The classes `labels.txt` names, in its order, checked against the subfolders.
    static func classes(listedIn url: URL, subfolders: [String]) throws(DatasetError) -> [String] {
        let data: Data
        do {
            data = try InputFile.map(url.path)
        } catch {
            throw .unreadable(path: url.path, reason: error.reason)
        }
        guard data.count <= 64 << 20 else { throw .unreadable(path: url.path, reason: "larger than 64 MiB; one line per class") }
        let text = String(decoding: data, as: UTF8.self)
        var classes: [String] = [], seen: [String: Int] = [:]
        for (number, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            guard let name = line.split(whereSeparator: \.isWhitespace).first.map(String.init) else { continue }
            if let first = seen[name] {
                throw .badArray(path: url.path, reason: "line \(number + 1) names \(ErrorText.quoted(name)) again (class \(first) already)")
            }
            seen[name] = classes.count
            classes.append(name)
        }
        if let stray = subfolders.first(where: { seen[$0] == nil }) {
            throw .badArray(path: url.path, reason: "the subfolder \(ErrorText.quoted(stray)) is not named in it "
                            + "(one line per class: the subfolder's name first)")
        }
        return classes
    }
}

/// How many images a reader is decoding now, and the most it ever decoded at once: the
/// measure of what it holds beyond the images its caller keeps.
public final class DecodeTally: @unchecked Sendable {
    private let lock = NSLock()
    private var live = 0
    private var peak = 0
    private var total = 0

    public init() {}

    func begin() {
        lock.lock()
        live += 1
        total += 1
        peak = max(peak, live)
        lock.unlock()
    }

    func end() {
        lock.lock()
        live -= 1
        lock.unlock()
    }

    /// Decodes in progress, the most at once so far, and all so far.
    public var counts: (live: Int, peak: Int, total: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (live, peak, total)
    }
}
