import FirmwareBuild
import Foundation
import Testing

/// One spelling for one option everywhere. Every subcommand (found from `mixq --help` and each
/// command's own SUBCOMMANDS section, so new commands are covered without editing this file)
/// is asked for `--help`, and its long option names are checked: no acronym split by
/// ArgumentParser's automatic naming (`clockMHz` -> `--clock-m-hz`), no two spellings of one
/// name, no known synonym of a canonical name, and the same check and message for a shared
/// option's bad value.
@Suite struct OptionSpellingTests {
    /// One option line of a command's help: its long names and its help text.
    struct Option {
        var command: String
        var names: [String]
        var help: String
    }

    /// The subcommand paths below `path`, from the SUBCOMMANDS section of its help.
    static func subcommands(of path: [String]) throws -> [[String]] {
        let help = try CLITests.mixq(arguments: path + ["--help"])
        #expect(help.status == 0, "mixq \(path.joined(separator: " ")) --help")
        var names: [String] = []
        var inSection = false
        for line in help.stdout.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("SUBCOMMANDS:") { inSection = true; continue }
            guard inSection else { continue }
            if line.isEmpty || !line.hasPrefix("  ") { if !names.isEmpty { break } else { continue } }
            // "  run                     Run a ..." (a wrapped description starts further right).
            guard !line.hasPrefix("   "), let name = line.split(separator: " ").first else { continue }
            if name == "See" { break }
            names.append(String(name))
        }
        var paths: [[String]] = []
        for name in names where name != "help" {
            paths.append(path + [name])
            paths += try subcommands(of: path + [name])
        }
        return paths
    }

    /// The options in the OPTIONS section of `mixq <path> --help`.
    static func options(of path: [String]) throws -> [Option] {
        let help = try CLITests.mixq(arguments: path + ["--help"])
        var options: [Option] = []
        var inSection = false
        for line in help.stdout.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasSuffix("OPTIONS:") { inSection = true; continue }
            guard inSection else { continue }
            if !line.isEmpty && !line.hasPrefix(" ") { inSection = false; continue }
            let trimmed = line.drop { $0 == " " }
            if line.hasPrefix("  ") && !line.hasPrefix("   ") && trimmed.hasPrefix("-") {
                // "  --clock-mhz <clock-mhz> Core clock ..." or "  -h, --help   Show ...".
                let names = trimmed.split(separator: " ").map { String($0).trimmingCharacters(in: CharacterSet(charactersIn: ",")) }
                    .prefix { $0.hasPrefix("-") || $0.hasPrefix("<") }.filter { $0.hasPrefix("--") }
                let help = trimmed.split(separator: " ").drop { $0.hasPrefix("-") || $0.hasPrefix("<") || $0.hasSuffix(",") }
                options.append(Option(command: path.joined(separator: " "), names: names.map { String($0.dropFirst(2)) },
                                      help: help.joined(separator: " ")))
            } else if line.hasPrefix("   "), !options.isEmpty {
                options[options.count - 1].help += " " + trimmed
            }
        }
        return options.filter { !$0.names.contains("help") && !$0.names.contains("version") }
    }

    static func allOptions() throws -> (commands: [[String]], options: [Option]) {
        let commands = try subcommands(of: [])
        return (commands, try commands.flatMap { try options(of: $0) })
    }

    /// Canonical names of options several commands take, with spellings that mean the same and
    /// must not appear (README.md shows the canonical ones).
    static let synonyms: [String: [String]] = [
        "clock-mhz": ["clock", "mhz", "clock-m-hz", "clock-hz", "frequency", "freq", "core-clock"],
        "out": ["output", "output-dir", "out-dir", "output-folder", "results-dir", "o"],
        "max-instructions": ["max-instrs", "instruction-limit", "instructions-limit", "max-insns", "limit-instructions"],
        "timing": ["timing-model", "cycle-model", "timing-mode"],
        "json": ["json-output", "output-json", "format"],
        "flash": ["flash-budget", "flash-bytes", "rom"],
        "ram": ["ram-budget", "ram-bytes"],
        "seed": ["random-seed", "rng-seed"],
        "jobs": ["threads", "workers", "parallelism", "j", "parallel"],
        "target-images": ["images-on-target", "on-target-images", "check-images"],
        "dataset": ["data", "data-dir", "dataset-dir"],
        "repeats": ["repetitions", "runs", "repeat"],
        "elf": ["elf-file", "firmware"],
    ]

    @Test func everyCommandIsFound() throws {
        let commands = try Self.subcommands(of: []).map { $0.joined(separator: " ") }
        // The ones README.md documents must be among those found by parsing the help.
        for command in ["run", "size", "plan", "deploy", "eval", "sweep", "bench emulator", "bench timing",
                        "bench kernels", "bench eval", "demo", "report"] {
            #expect(commands.contains(command), "\(command) not found in \(commands)")
        }
    }

    @Test func noSplitAcronymsAndOneSpellingPerName() throws {
        let (_, options) = try Self.allOptions()
        #expect(options.count > 40, "the help parser finds the options: \(options.count)")
        var spellings: [String: Set<String>] = [:]
        for option in options {
            for name in option.names {
                #expect(name.wholeMatch(of: /[a-z0-9]+(-[a-z0-9]+)*/) != nil, "mixq \(option.command) --\(name)")
                // ArgumentParser splits an acronym followed by lower case: clockMHz -> clock-m-hz.
                let segments = name.split(separator: "-")
                #expect(segments.count == 1 || segments.allSatisfy { $0.count > 1 },
                        "mixq \(option.command) --\(name) has a one-letter part: an acronym split by automatic naming? Give the option name: .customLong(...)")
                spellings[name.replacingOccurrences(of: "-", with: ""), default: []].insert(name)
            }
        }
        for (key, names) in spellings {
            #expect(names.count == 1, "one option spelled \(names.sorted()) (\(key))")
        }
    }

    @Test func sharedConceptsUseTheCanonicalName() throws {
        let (_, options) = try Self.allOptions()
        let used = Dictionary(grouping: options.flatMap { option in option.names.map { ($0, option.command) } }, by: \.0)
        for (canonical, variants) in Self.synonyms {
            for variant in variants {
                #expect(used[variant] == nil, "mixq \(used[variant]?.map(\.1) ?? []) --\(variant): spell it --\(canonical)")
            }
        }
        #expect(used["clock-mhz"].map { Set($0.map(\.1)) } == ["run", "deploy", "eval", "sweep", "demo", "bench timing", "bench kernels",
                                                                 "bench network"],
                "every command that runs firmware takes --clock-mhz")
    }

    /// Help texts of one option agree about the values it takes.
    @Test func helpTextsAgreeOnValues() throws {
        let (_, options) = try Self.allOptions()
        for option in options {
            if option.names.contains("clock-mhz") {
                #expect(option.help.contains("400") && option.help.contains("480"), "mixq \(option.command): \(option.help)")
            }
            if option.names.contains("scheme") {
                for scheme in ["int8", "mixpl", "mixpc"] { #expect(option.help.contains(scheme), "mixq \(option.command): \(option.help)") }
            }
            if option.names.contains("timing") {
                // bench kernels refuses off: cycles are what it measures.
                let modes = option.command == "bench kernels" ? ["pipeline", "full"] : ["off", "pipeline", "full"]
                for mode in modes { #expect(option.help.contains(mode), "mixq \(option.command): \(option.help)") }
            }
        }
    }

    /// A bad --clock-mhz is refused by every command that takes it, before any work, with the
    /// same message.
    @Test func everyClockOptionRefusesTheSameWay() throws {
        let (commands, _) = try Self.allOptions()
        // Required arguments of the commands that have them (none of them is read before the check).
        let required: [String: [String]] = ["run": ["x.elf"], "eval": ["--dataset", "no-such-dataset"]]
        var checked = 0
        for path in commands {
            let command = path.joined(separator: " ")
            guard try Self.options(of: path).contains(where: { $0.names.contains("clock-mhz") }) else { continue }
            let outcome = try CLITests.mixq(arguments: path + (required[command] ?? []) + ["--clock-mhz", "333"])
            #expect(outcome.status == 64, "mixq \(command): \(outcome.stderr)")
            #expect(outcome.stderr.hasPrefix("error: --clock-mhz must be 400 or 480 on STM32H743 (got 333)"),
                    "mixq \(command): \(outcome.stderr)")
            checked += 1
        }
        #expect(checked >= 7)
    }

    @Test func deployTakesTargetImagesAndItsOldSpelling() throws {
        let canonical = try CLITests.mixq("deploy", "--target-images", "101")
        #expect(canonical.status == 64)
        #expect(canonical.stderr.hasPrefix("error: --target-images must be 1...100"), "\(canonical.stderr)")
        let old = try CLITests.mixq("deploy", "--images", "101")
        #expect(old.status == 64)
        #expect(old.stderr.hasPrefix("error: --target-images must be 1...100"), "README's --images still parses: \(old.stderr)")
        let both = try CLITests.mixq("deploy", "--images", "2", "--target-images", "3")
        #expect(both.status == 64)
        #expect(both.stderr.contains("--images is the old spelling of --target-images"), "\(both.stderr)")
        let help = try CLITests.mixq("deploy", "--help")
        #expect(!help.stdout.contains("--images "), "the old spelling is not listed")
    }
}
