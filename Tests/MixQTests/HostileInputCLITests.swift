import FirmwareBuild
import Foundation
import Testing

/// What a careless or hostile input does to the CLI, beyond ReliabilityCLITests: datasets
/// larger than memory, outputs that would replace inputs, names from an ELF carrying terminal
/// control sequences, Foundation's errors, failed sweep pairs, and texts a new user reads.
@Suite(.serialized) struct HostileInputCLITests {
    static let model = EvalCLITests.model

    static func temporaryFolder(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// An `.npy` header for `shape` of `dtype`, padded to 64 bytes (numpy.lib.format, version 1.0).
    static func npyHeader(dtype: String, shape: String) -> Data {
        var text = "{'descr': '\(dtype)', 'fortran_order': False, 'shape': \(shape), }"
        while (10 + text.utf8.count + 1) % 64 != 0 { text += " " }
        text += "\n"
        let length = text.utf8.count
        return Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)] + Array(text.utf8))
    }

    /// Runs mixq with stdout discarded and stderr into a file, and returns its exit status and
    /// peak resident memory (`ru_maxrss` of this one child, from wait4(2)).
    static func peakMemory(_ arguments: [String]) throws -> (status: Int32, peakKiB: Int, stderr: String) {
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("mixq-rss-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: errors) }
        // sh execs mixq in place, so the process waited for is mixq itself.
        let argv = ["/bin/sh", "-c", "exec \"$0\" \"$@\" >/dev/null 2>'\(errors.path)'", CLITests.executable.path] + arguments
        var pointers: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", nil, nil, &pointers, environ)
        try #require(spawned == 0, "posix_spawn: \(spawned)")
        var status: Int32 = 0
        var usage = rusage()
        var waited: pid_t
        repeat { waited = wait4(pid, &status, 0, &usage) } while waited < 0 && errno == EINTR
        try #require(waited == pid, "wait4: \(String(cString: strerror(errno)))")
        let text = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
        return ((status >> 8) & 0xFF, usage.ru_maxrss, text)
    }

    // MARK: Datasets larger than memory

    /// A 200 MiB images.npy (204,800 MNIST-sized images, sparse on disk) evaluated with
    /// `--limit 5`: the images are mapped and only the five asked for are read. Before, the
    /// array was read and copied four times (2.04 GB peak).
    @Test func evaluatingFiveImagesOfA200MiBSetStaysSmall() throws {
        let folder = try Self.temporaryFolder("big-set")
        defer { try? FileManager.default.removeItem(at: folder) }
        let images = 204_800
        let imagesURL = folder.appendingPathComponent("images.npy")
        try Self.npyHeader(dtype: "|u1", shape: "(\(images), 32, 32, 1)").write(to: imagesURL)
        let handle = try FileHandle(forWritingTo: imagesURL)
        try handle.truncate(atOffset: UInt64(Self.npyHeader(dtype: "|u1", shape: "(\(images), 32, 32, 1)").count) + UInt64(images) * 1024)
        try handle.close()
        var labels = Self.npyHeader(dtype: "|u1", shape: "(\(images),)")
        labels.append(Data(count: images))
        try labels.write(to: folder.appendingPathComponent("labels.npy"))
        let run = try Self.peakMemory(["eval", "--model", Self.model, "--flash", "120k", "--ram", "4k", "--dataset", folder.path,
                                       "--limit", "5", "--target-images", "0", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        print("eval --limit 5 on a 200 MiB images.npy: peak RSS \(run.peakKiB / 1024) MiB")
        #expect(run.peakKiB < 300 * 1000, "peak RSS \(run.peakKiB) KiB")
    }

    // MARK: Outputs never replace inputs, write failures are said

    @Test func deployAndEvalOutNeverReplaceTheModelOrTheDataset() throws {
        let folder = try Self.temporaryFolder("deploy-out")
        defer { try? FileManager.default.removeItem(at: folder) }
        // The model file sits where deploy writes its deploy.json and its C source.
        let modelCopy = folder.appendingPathComponent("deploy.json")
        try FileManager.default.copyItem(atPath: Self.model, toPath: modelCopy.path)
        let original = try Data(contentsOf: modelCopy)
        let deploy = try CLITests.mixq("deploy", "--model", modelCopy.path, "--flash", "120k", "--ram", "4k", "--out", folder.path)
        #expect(deploy.status == 1)
        #expect(deploy.stderr.hasPrefix("error: cannot write --out") && deploy.stderr.contains("input file"), "\(deploy.stderr)")
        #expect(try Data(contentsOf: modelCopy) == original)
        // eval --out into the dataset folder whose labels.npy is named like a result file is
        // refused the same way; a dataset folder as --out with other names is fine.
        let dataset = try Self.temporaryFolder("eval-out")
        defer { try? FileManager.default.removeItem(at: dataset) }
        for name in ["images.npy", "labels.npy"] {
            try FileManager.default.copyItem(atPath: EvalCLITests.dataset + "/" + name, toPath: dataset.appendingPathComponent(name).path)
        }
        let resultName = "mnist_mobilenet_v1_0.25_32_mixpc_120k_4k__mixpc.eval.json"
        try FileManager.default.createSymbolicLink(atPath: dataset.appendingPathComponent(resultName).path,
                                                   withDestinationPath: dataset.appendingPathComponent("labels.npy").path)
        let labels = try Data(contentsOf: dataset.appendingPathComponent("labels.npy"))
        let eval = try CLITests.mixq("eval", "--model", Self.model, "--flash", "120k", "--ram", "4k", "--dataset", dataset.path,
                                     "--limit", "4", "--target-images", "0", "--out", dataset.path)
        #expect(eval.status == 1 && eval.stderr.contains("input file"), "\(eval.stderr)")
        #expect(try Data(contentsOf: dataset.appendingPathComponent("labels.npy")) == labels)
    }

    @Test func aSweepResultThatCannotBeWrittenIsAFailedPairWithAnErrorLine() throws {
        let folder = try Self.temporaryFolder("sweep-unwritable")
        defer { try? FileManager.default.removeItem(at: folder) }
        // A directory where the pair's result file goes: the write fails (as on a full disk).
        let name = "mnist_mobilenet_v1_0.25_32_mixpc_120k_4k__mixpc.json"
        try FileManager.default.createDirectory(at: folder.appendingPathComponent(name), withIntermediateDirectories: false)
        let sweep = try CLITests.mixq("sweep", "--models", Self.model, "--schemes", "mixpc", "--out", folder.path, "--jobs", "1")
        #expect(sweep.status == 1)
        let lines = sweep.stderr.split(separator: "\n")
        #expect(lines.last?.hasPrefix("error: 1 of 1 pairs failed") == true, "\(sweep.stderr)")
        #expect(sweep.stderr.contains("cannot write") && sweep.stderr.contains("it is a directory"), "\(sweep.stderr)")
    }

    // MARK: Names from an ELF

    /// `bytes` with every NUL-delimited string `name` (symbol table, debug strings) replaced by
    /// `replacement` (same length).
    static func patched(_ bytes: [UInt8], name: String, with replacement: [UInt8]) throws -> [UInt8] {
        let needle: [UInt8] = [0] + Array(name.utf8) + [0]
        try #require(replacement.count == name.utf8.count)
        var result = bytes
        let starts = (0...(bytes.count - needle.count)).filter { bytes[$0] == 0 && Array(bytes[$0..<($0 + needle.count)]) == needle }
        try #require(!starts.isEmpty)
        for start in starts { result.replaceSubrange((start + 1)..<(start + 1 + replacement.count), with: replacement) }
        return result
    }

    @Test func controlCharactersInSymbolAndSectionNamesAreEscaped() throws {
        let folder = try Self.temporaryFolder("elf-names")
        defer { try? FileManager.default.removeItem(at: folder) }
        let elf = [UInt8](try Data(contentsOf: URL(fileURLWithPath: ReliabilityCLITests.elf("fault_unmapped_read"))))
        // "read_external_bus" (17 bytes) becomes a line break, "erase line", carriage return and a forged summary.
        let forged = Array("\n\u{1B}[2K\rmixq: exit ".utf8)
        var bytes = try Self.patched(elf, name: "read_external_bus", with: forged)
        bytes = try Self.patched(bytes, name: ".bss", with: Array("\u{1B}[2K".utf8))
        let path = folder.appendingPathComponent("evil.elf").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let run = try CLITests.mixq("run", path)
        #expect(run.status == 1)
        #expect(!run.stderr.contains("\u{1B}") && !run.stderr.contains("\r"), "\(run.stderr.debugDescription)")
        #expect(run.stderr.contains("\\n\\u{1b}[2K\\rmixq: exit "), "\(run.stderr.debugDescription)")
        let errorLines = run.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
        #expect(errorLines.count == 1 && run.stderr.split(separator: "\n").allSatisfy { !$0.hasPrefix("mixq: exit status 0") })
        let size = try CLITests.mixq("size", path)
        #expect(size.status == 0)
        #expect(!size.stdout.contains("\u{1B}") && size.stdout.contains("\\u{1b}[2K"), "\(size.stdout.debugDescription)")
    }

    // MARK: Messages in words

    @Test func foundationErrorsAreWordsAndHugeQuotesAreCut() throws {
        let folder = try Self.temporaryFolder("words")
        defer { try? FileManager.default.removeItem(at: folder) }
        // report --out naming a regular file where a folder is expected.
        let results = try Self.temporaryFolder("words-results")
        defer { try? FileManager.default.removeItem(at: results) }
        try FileManager.default.copyItem(atPath: EvalCLITests.root.appendingPathComponent("Tests/ReportsTests/Fixtures").path,
                                         toPath: results.appendingPathComponent("fixtures").path)
        let shard = results.appendingPathComponent("fixtures/shard_a").path
        let file = folder.appendingPathComponent("plain-file")
        try Data("x".utf8).write(to: file)
        let report = try CLITests.mixq("report", shard, "--out", file.path)
        #expect(report.status == 1)
        #expect(report.stderr.hasPrefix("error: ") && !report.stderr.contains("NSCocoaErrorDomain")
                && report.stderr.split(separator: "\n").count == 1, "\(report.stderr)")
        // MIXQ_CACHE_DIR a regular file.
        let process = Process()
        process.executableURL = CLITests.executable
        process.arguments = ["deploy", "--model", Self.model, "--flash", "120k", "--ram", "4k", "--out", folder.appendingPathComponent("d").path]
        process.environment = ProcessInfo.processInfo.environment.merging(["MIXQ_CACHE_DIR": file.path]) { $1 }
        let err = Pipe()
        process.standardError = err
        process.standardOutput = Pipe()
        try process.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
        let errorLines = text.split(separator: "\n").filter { $0.hasPrefix("error: ") }
        #expect(errorLines.count == 1 && !text.contains("NSCocoaErrorDomain") && text.contains("MIXQ_CACHE_DIR"), "\(text)")
    }

    // MARK: Texts a new user reads

    @Test func evalNamesThePartItRanOnAndHelpTextsSayWhatTheyDo() throws {
        let eval = try CLITests.mixq("eval", "--model", Self.model, "--part", "stm32f746", "--flash", "120k", "--ram", "4k",
                                     "--dataset", EvalCLITests.dataset, "--limit", "2", "--target-images", "1")
        #expect(eval.status == 0, "\(eval.stderr)")
        #expect(eval.stdout.contains("on the emulated STM32F746") && !eval.stdout.contains("STM32H743"), "\(eval.stdout)")
        for command in ["eval", "sweep"] {
            // The option's entry: from "--jobs <jobs>" in the option list to the next option.
            let help = try CLITests.mixq("help", command).stdout
            let entry = try #require(help.range(of: "  --jobs <jobs>", options: .backwards))
            let text = help[entry.upperBound...].components(separatedBy: "\n  -").first ?? ""
            #expect(text.components(separatedBy: "default").count == 2, "\(command): \(text)")
        }
        for command in ["plan", "deploy"] {
            let help = try CLITests.mixq("help", command).stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            #expect(!help.contains("until a checkpoint") && help.contains("--model FILE"), "\(help)")
        }
    }
}
