import ArgumentParser
import Emulator

/// Help texts and checks of options that several commands take, so each is spelled, explained
/// and validated once (`OptionSpellingTests` in Tests/MixQTests checks the spellings).
enum SharedOption {
    /// `--clock-mhz`: the core clock; the STM32H743's two voltage-scaling settings.
    static let clockHelp = "Core clock in MHz: 400 (VOS1, 2 FLASH wait states) or 480 (VOS0, 4 wait states)."

    /// `--clock-mhz` must be a clock `part` has a FLASH wait-state setting for.
    static func validateClock(_ clockMHz: Int, on part: Part = .stm32h743) throws {
        guard part.flashWaitStates[clockMHz] != nil else {
            let clocks = part.clocks.map(String.init)
            let allowed = clocks.count > 1 ? clocks.dropLast().joined(separator: ", ") + " or " + (clocks.last ?? "") : clocks.joined()
            throw ValidationError("--clock-mhz must be \(allowed) on \(part.name) (got \(clockMHz))")
        }
    }

    /// `--part`: the microcontroller to emulate.
    static let partHelp = "The microcontroller: " + Part.all.map { "\($0.name.lowercased()) (\($0.core.displayName), "
        + "\($0.clocks.map(String.init).joined(separator: "/")) MHz)" }.joined(separator: ", ") + "."

    /// The part `--part NAME` names.
    static func part(named name: String) throws -> Part {
        guard let part = Part.named(name) else {
            throw ValidationError("--part must be one of \(Part.all.map { $0.name.lowercased() }.joined(separator: ", ")) (got \(name))")
        }
        return part
    }

    /// `--timing` of every command that runs firmware and accepts all three models.
    static let timingHelp = "Cycle model: off (1 cycle per instruction), pipeline (dual-issue schedule, latencies, "
        + "branch prediction), full (pipeline + caches, FLASH wait states, AXI/TCM placement)."

    /// `--jobs` must be at least 1.
    static func validateJobs(_ jobs: Int) throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
    }
}
