import Diagnostics
import Foundation

/// The arm-none-eabi-gcc toolchain and MixQ's Cortex-M7 flags: builds firmware into a cache
/// keyed by content, so an unchanged firmware is never compiled twice.
///
/// ```swift
/// let toolchain = try Toolchain.locate()
/// let firmware = try toolchain.build(.testProgram("hello"))
/// ```
public struct Toolchain: Sendable {
    /// Path of `arm-none-eabi-gcc`.
    public let compilerPath: String
    /// The compiler's first `--version` line, e.g. `arm-none-eabi-gcc (15:12.2.rel1-1) 12.2.1 20221205`.
    public let compilerVersion: String
    /// Flags for every compile, from the flags file's section `[compile]` (`toolchain/cortex-m7.flags` by default).
    public let compileFlags: [String]
    /// Flags for every link, from section `[link]`.
    public let linkFlags: [String]
    /// The firmware source folder.
    public let firmwareRoot: URL
    /// Where built ELF files are kept: `<cache>/firmware/<key>/<name>.elf`.
    public let cacheDirectory: URL

    /// Finds the compiler (`$MIXQ_ARM_GCC` or `arm-none-eabi-gcc` on PATH) and reads the flags
    /// of `flagsFile` in toolchain/ (`cortex-m7.flags` for the STM32H743; a part names its own,
    /// `Part.flagsFile`).
    ///
    /// The cache is `$MIXQ_CACHE_DIR`, else `$XDG_CACHE_HOME/mixq`, else `~/.cache/mixq`.
    public static func locate(firmwareRoot: URL = FirmwareSources.root, cacheDirectory: URL? = nil,
                              flagsFile: String = "cortex-m7.flags") throws(ToolchainError) -> Toolchain {
        let (compiler, versionLine) = try findCompiler()
        return try Toolchain(compilerPath: compiler, compilerVersion: versionLine, compileFlags: [], linkFlags: [],
                             firmwareRoot: firmwareRoot, cacheDirectory: cacheDirectory ?? defaultCacheDirectory())
            .withFlags(from: flagsFile)
    }

    /// The same compiler and cache with the flags of another file in toolchain/ (a part's
    /// `Part.flagsFile`).
    public func withFlags(from flagsFile: String) throws(ToolchainError) -> Toolchain {
        let flagsURL = firmwareRoot.deletingLastPathComponent().appendingPathComponent("toolchain/\(flagsFile)")
        guard let flagsText = try? String(contentsOf: flagsURL, encoding: .utf8) else {
            throw .flagsFileUnreadable(path: flagsURL.path)
        }
        let sections = parseFlagsFile(flagsText)
        return Toolchain(compilerPath: compilerPath, compilerVersion: compilerVersion,
                         compileFlags: sections["compile"] ?? [], linkFlags: sections["link"] ?? [],
                         firmwareRoot: firmwareRoot, cacheDirectory: cacheDirectory)
    }

    /// The compiler `locate()` would use (`$MIXQ_ARM_GCC` or `arm-none-eabi-gcc` on PATH) and
    /// the first line of its `--version` output. Needs no firmware folder or flags file, so
    /// `mixq --version` can name the compiler outside a checkout.
    public static func findCompiler() throws(ToolchainError) -> (path: String, versionLine: String) {
        let environment = ProcessInfo.processInfo.environment
        let compiler: String
        if let override = environment["MIXQ_ARM_GCC"], !override.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: override) else { throw .compilerNotFound }
            compiler = override
        } else {
            guard let found = findOnPath("arm-none-eabi-gcc") else { throw .compilerNotFound }
            compiler = found
        }
        guard let version = try? runProcess(compiler, ["--version"]), version.status == 0 else {
            throw .compilerNotFound
        }
        return (compiler, version.text.split(separator: "\n").first.map(String.init) ?? "unknown")
    }

    /// One line naming the compiler and its flags, for the conditions every report prints.
    public var conditions: String {
        "\(compilerVersion); \(compileFlags.joined(separator: " "))"
    }

    /// Builds `spec`, or returns the cached ELF when nothing it depends on changed.
    public func build(_ spec: FirmwareSpec) throws(ToolchainError) -> BuiltFirmware {
        let inputs = try resolveInputs(spec)
        let key = try cacheKey(spec, inputs)
        let folder = cacheDirectory.appendingPathComponent("firmware/\(key)", isDirectory: true)
        let elf = folder.appendingPathComponent("\(spec.name).elf")

        // One build per key at a time in this process: parallel tests asking for the same
        // firmware wait for the first build instead of repeating it.
        let lock = BuildLocks.shared.lock(for: key)
        lock.lock()
        defer { lock.unlock() }

        if FileManager.default.fileExists(atPath: elf.path) {
            return BuiltFirmware(elf: elf, fromCache: true, key: key)
        }
        try compileAndLink(spec, inputs, into: folder, elf: elf)
        return BuiltFirmware(elf: elf, fromCache: false, key: key)
    }

    // MARK: - Inputs

    private struct Inputs {
        var sources: [URL]
        var includeDirectories: [URL]
        var linkerScript: URL
        /// Every header that may be included: *.h under the include folders and beside each source.
        var headers: [URL]
    }

    private func resolve(_ path: String) -> URL {
        path.hasPrefix("/") ? URL(fileURLWithPath: path) : firmwareRoot.appendingPathComponent(path)
    }

    private func resolveInputs(_ spec: FirmwareSpec) throws(ToolchainError) -> Inputs {
        let fileManager = FileManager.default
        let sources = (spec.includeStartup ? startupSources : []).map(resolve) + spec.sources.map(resolve)
        let includes = ([resolve("startup")] + spec.includeDirectories.map(resolve))
        let script = resolve(spec.linkerScript)
        for url in sources + includes + [script] where !fileManager.fileExists(atPath: url.path) {
            throw .missingInput(path: url.path)
        }
        var headerFolders = Set(includes.map(\.standardizedFileURL.path))
        for source in sources { headerFolders.insert(source.deletingLastPathComponent().standardizedFileURL.path) }
        var headers: [URL] = []
        for folder in headerFolders.sorted() {
            let names = (try? fileManager.contentsOfDirectory(atPath: folder)) ?? []
            for name in names.sorted() where name.hasSuffix(".h") {
                headers.append(URL(fileURLWithPath: folder).appendingPathComponent(name))
            }
        }
        return Inputs(sources: sources, includeDirectories: includes, linkerScript: script, headers: headers)
    }

    private func cacheKey(_ spec: FirmwareSpec, _ inputs: Inputs) throws(ToolchainError) -> String {
        var hash = SHA256()
        hash.update(field: "mixq-firmware-v1")
        hash.update(field: compilerVersion)
        for flag in compileFlags { hash.update(field: flag) }
        hash.update(field: "[link]")
        for flag in linkFlags { hash.update(field: flag) }
        hash.update(field: spec.name)
        for define in spec.defines { hash.update(field: "-D" + define) }
        for flag in spec.extraFlags { hash.update(field: flag) }
        for file in inputs.sources + [inputs.linkerScript] + inputs.headers {
            guard let contents = FileManager.default.contents(atPath: file.path) else {
                throw .missingInput(path: file.path)
            }
            hash.update(field: file.lastPathComponent)
            hash.update(contents)
        }
        return String(hash.finalizeHex().prefix(32))
    }

    // MARK: - Building

    /// Removes work folders of builds whose process no longer runs (killed, e.g. `kill -9`
    /// during a sweep); folders of live builds, in this process or another, stay.
    func removeStaleWorkFolders() {
        let tmp = cacheDirectory.appendingPathComponent("tmp", isDirectory: true)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: tmp.path) else { return }
        for name in names {
            // <name>-<pid>-<UUID>: the UUID has four dashes of its own.
            let parts = name.split(separator: "-")
            guard parts.count >= 7, let pid = Int32(parts[parts.count - 6]), pid > 0 else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                try? FileManager.default.removeItem(at: tmp.appendingPathComponent(name))
            }
        }
    }

    private func compileAndLink(_ spec: FirmwareSpec, _ inputs: Inputs, into folder: URL, elf: URL) throws(ToolchainError) {
        let fileManager = FileManager.default
        removeStaleWorkFolders()
        // The pid in the name lets a later run tell a folder left by a killed build from a live one.
        let work = cacheDirectory.appendingPathComponent("tmp/\(spec.name)-\(getpid())-\(UUID().uuidString)", isDirectory: true)
        do {
            try fileManager.createDirectory(at: work, withIntermediateDirectories: true)
            try fileManager.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw .cacheUnwritable(path: cacheDirectory.path, reason: SystemErrorText.reason(error))
        }
        defer { try? fileManager.removeItem(at: work) }

        let common = compileFlags + spec.defines.map { "-D" + $0 }
            + inputs.includeDirectories.map { "-I" + $0.path } + spec.extraFlags
        let objects = inputs.sources.enumerated().map { index, source in
            work.appendingPathComponent("\(index)-\(source.deletingPathExtension().lastPathComponent).o")
        }
        // Compile in parallel; collect the first failure in source order.
        let results = ResultSlots(count: inputs.sources.count)
        DispatchQueue.concurrentPerform(iterations: inputs.sources.count) { index in
            let arguments = common + ["-c", inputs.sources[index].path, "-o", objects[index].path]
            results.set(index, try? runProcess(compilerPath, arguments))
        }
        for (index, source) in inputs.sources.enumerated() {
            guard let output = results.get(index) else { throw .compilerNotFound }
            if output.status != 0 {
                throw .compilationFailed(source: source.path, diagnostics: Toolchain.errorLines(output.text))
            }
        }

        let partial = work.appendingPathComponent("\(spec.name).elf")
        let map = work.appendingPathComponent("\(spec.name).map")
        let linkArguments = objects.map(\.path) + ["-T", inputs.linkerScript.path] + linkFlags + spec.extraFlags
            + ["-Wl,-Map=\(map.path)", "-o", partial.path]
        guard let link = try? runProcess(compilerPath, linkArguments) else { throw .compilerNotFound }
        if link.status != 0 {
            if let overflow = Toolchain.regionOverflow(in: link.text) {
                throw .regionOverflow(firmware: spec.name, region: overflow.region, bytes: overflow.bytes)
            }
            throw .linkFailed(firmware: spec.name, diagnostics: Toolchain.errorLines(link.text))
        }
        // Publish atomically: a reader sees either no ELF or a complete one.
        do {
            try? fileManager.removeItem(at: folder.appendingPathComponent("\(spec.name).map"))
            try fileManager.moveItem(at: map, to: folder.appendingPathComponent("\(spec.name).map"))
            if rename(partial.path, elf.path) != 0 {
                throw CocoaError(.fileWriteUnknown)
            }
        } catch {
            throw .cacheUnwritable(path: folder.path, reason: SystemErrorText.reason(error))
        }
    }

    /// The lines of compiler output that matter: errors and the notes around them.
    static func errorLines(_ text: String) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        // A linker script's ASSERT prints "<script>.ld: <message>" without the word error.
        let errors = lines.filter { $0.contains("error") || $0.contains("undefined reference") || $0.contains(".ld: ") }
        let chosen = errors.isEmpty ? lines : errors
        return chosen.prefix(20).map { "  " + $0 }.joined(separator: "\n")
    }

    /// Parses GNU ld's "region `FLASH' overflowed by 1234 bytes" (the first one reported).
    static func regionOverflow(in text: String) -> (region: String, bytes: Int)? {
        for line in text.split(separator: "\n") {
            guard let regionStart = line.range(of: "region `"), let overflowed = line.range(of: "' overflowed by ") else { continue }
            let region = String(line[regionStart.upperBound..<overflowed.lowerBound])
            let rest = line[overflowed.upperBound...]
            let digits = rest.prefix { $0.isNumber }
            if let bytes = Int(digits) { return (region, bytes) }
        }
        return nil
    }
}

/// Splits a flags file into its `[section]`s, dropping `#` comments.
func parseFlagsFile(_ text: String) -> [String: [String]] {
    var sections: [String: [String]] = [:]
    var current = ""
    for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
        var line = Substring(rawLine)
        if line.first == "#" { continue }
        if let comment = line.range(of: " #") ?? line.range(of: "\t#") { line = line[..<comment.lowerBound] }
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("[") && trimmed.hasSuffix("]") {
            current = String(trimmed.dropFirst().dropLast())
            continue
        }
        sections[current, default: []] += trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    }
    return sections
}

private func defaultCacheDirectory() -> URL {
    let environment = ProcessInfo.processInfo.environment
    if let explicit = environment["MIXQ_CACHE_DIR"], !explicit.isEmpty {
        return URL(fileURLWithPath: explicit, isDirectory: true)
    }
    if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
        return URL(fileURLWithPath: xdg, isDirectory: true).appendingPathComponent("mixq")
    }
    return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/mixq")
}

/// One lock per cache key, shared by every `Toolchain` in the process.
private final class BuildLocks: @unchecked Sendable {
    static let shared = BuildLocks()
    private let guardLock = NSLock()
    private var locks: [String: NSLock] = [:]

    func lock(for key: String) -> NSLock {
        guardLock.lock()
        defer { guardLock.unlock() }
        if let existing = locks[key] { return existing }
        let created = NSLock()
        locks[key] = created
        return created
    }
}

/// Results written by concurrent workers, one slot each.
private final class ResultSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [ProcessOutput?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: ProcessOutput?) { lock.lock(); slots[index] = value; lock.unlock() }
    func get(_ index: Int) -> ProcessOutput? { lock.lock(); defer { lock.unlock() }; return slots[index] }
}
