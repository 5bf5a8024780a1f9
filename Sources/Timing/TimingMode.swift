/// Which Cortex-M7 cycle model a run uses.
public enum TimingMode: String, Sendable, CaseIterable, Codable {
    /// Instruction count only: one instruction is one cycle.
    case off
    /// Per-block dual-issue schedule, operand latencies, branch prediction; all memory assumed to
    /// answer like TCM (no wait states, no cache misses).
    case pipeline
    /// `pipeline` plus the L1 I-cache and D-cache (following the firmware's SCB->CCR enables),
    /// FLASH wait states, AXI/D2 SRAM latency, zero-wait TCM and unaligned-load penalties.
    case full

    /// One line describing the model on `core`, for reports and `--stats`.
    public func summary(core: Core) -> String {
        guard core == .cortexM4 else { return summary }
        switch self {
        case .off: return summary
        case .pipeline:
            return "pipeline (Cortex-M4 single-issue instruction timings, taken-branch refill; memory as zero-wait)"
        case .full:
            return "full (Cortex-M4 pipeline + ART accelerator caches and prefetch, FLASH wait states)"
        }
    }

    /// One line describing the model, for reports and `--stats` (Cortex-M7).
    public var summary: String {
        switch self {
        case .off: return "off (1 cycle per instruction)"
        case .pipeline: return "pipeline (Cortex-M7 dual-issue schedule, latencies, branch prediction; memory as TCM)"
        case .full: return "full (pipeline + L1 I/D caches as enabled by firmware, FLASH wait states, AXI/TCM placement)"
        }
    }
}
