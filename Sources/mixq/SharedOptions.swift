import ArgumentParser
import Emulator

/// Help texts and checks of options that several commands take, so each is spelled, explained
/// and validated once (`OptionSpellingTests` in Tests/MixQTests checks the spellings).
enum SharedOption {
    /// `--clock-mhz`: the core clock; the STM32H743's two voltage-scaling settings.
    static let clockHelp = "Core clock in MHz: 400 (VOS1, 2 FLASH wait states) or 480 (VOS0, 4 wait states)."

    /// `--clock-mhz` must be a clock the STM32H743 has a FLASH wait-state setting for.
    static func validateClock(_ clockMHz: Int) throws {
        guard Part.stm32h743.flashWaitStates[clockMHz] != nil else {
            throw ValidationError("--clock-mhz must be 400 or 480 on STM32H743 (got \(clockMHz))")
        }
    }

    /// `--timing` of every command that runs firmware and accepts all three models.
    static let timingHelp = "Cycle model: off (1 cycle per instruction), pipeline (dual-issue schedule, latencies, "
        + "branch prediction), full (pipeline + caches, FLASH wait states, AXI/TCM placement)."

    /// `--jobs` must be at least 1.
    static func validateJobs(_ jobs: Int) throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
    }
}
