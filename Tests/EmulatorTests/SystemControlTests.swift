import Emulator
import Foundation
import Testing

/// DWT, SysTick, SCB and CPACR behave as the ARMv7-M ARM says, so board timing code runs
/// unchanged (firmware/tests/system_control.c checks each register from the firmware side).
@Suite struct SystemControlTests {
    static let checks = [
        "cpuid_cortex_m7", "cpacr_fpu_enabled", "cyccnt_stopped_at_reset", "cyccnt_counts",
        "cyccnt_writable", "cyccnt_stops_when_disabled", "cyccnt_resumes", "systick_counts_down",
        "systick_reload_readback", "systick_countflag_set", "systick_countflag_clears_on_read",
        "ccr_icache_enabled", "ccr_dcache_enabled", "dcache_is_16k",
    ]

    @Test func everyRegisterBehavesAsOnHardware() throws {
        let result = try FirmwareFixtures.run("system_control")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.filter { $0.hasPrefix("FAIL") }.isEmpty, "\(result.stdout)")
        for name in Self.checks {
            #expect(lines.contains("ok \(name)"), "check \(name) missing or failing")
        }
        #expect(lines.last == "system-control: \(Self.checks.count) passed, 0 failed")
        #expect(result.exitStatus == 0)
    }

    @Test func demoFirmwareComputesWhatTheHostComputes() throws {
        let toolchain = try FirmwareFixtures.toolchain()
        let built = try toolchain.build(.init(name: "demo", sources: ["demo/demo.c"]))
        let result = try Machine(part: .stm32h743).run(try ELFImage(contentsOf: built.elf))
        #expect(result.stdout.contains("524288 MACs"))
        #expect(result.stdout.contains(String(format: "checksum 0x%08x", DemoReference.checksum())))
    }
}

/// firmware/demo/demo.c's pointwise convolution, recomputed on the host.
enum DemoReference {
    static func checksum() -> UInt32 {
        let (height, width, inputs, outputs) = (16, 16, 32, 64)
        var seed: UInt32 = 1
        var input = [UInt8](repeating: 0, count: height * width * inputs)
        for i in input.indices {
            seed = seed &* 1_664_525 &+ 1_013_904_223
            input[i] = UInt8(truncatingIfNeeded: seed >> 24)
        }
        var checksum: UInt32 = 0
        for pixel in 0..<(height * width) {
            for o in 0..<outputs {
                var acc: Int32 = 0
                for i in 0..<inputs {
                    let weight = Int32((o * 7 + i * 13) % 31 - 15)
                    acc += Int32(input[pixel * inputs + i]) * weight
                }
                let y = min(max((acc >> 6) + 128, 0), 255)
                checksum = checksum &* 31 &+ UInt32(y)
            }
        }
        return checksum
    }
}

/// A run under `--timing full` whose firmware never enables the L1 caches says so in its
/// conditions (its zero cache misses mean no cache, not a perfect one); one that enables them
/// keeps "as the firmware sets them".
@Suite struct CacheUseTests {
    @Test func conditionsSayWhenTheCachesStayedOff() throws {
        let off = try FirmwareFixtures.run("hello", options: RunOptions(timing: .full))
        #expect(off.cacheUse == CacheUse(instructionCacheEnabled: false, dataCacheEnabled: false))
        #expect(off.conditions.contains("caches off for the whole run"), "\(off.conditions)")
        let on = try FirmwareFixtures.run("system_control", options: RunOptions(timing: .full))
        #expect(on.cacheUse == CacheUse(instructionCacheEnabled: true, dataCacheEnabled: true))
        #expect(on.conditions.contains("caches as the firmware sets them"), "\(on.conditions)")
        // Other cycle models do not model the caches: their wording is unchanged.
        let pipeline = try FirmwareFixtures.run("hello", options: RunOptions(timing: .pipeline))
        #expect(pipeline.conditions.contains("caches as the firmware sets them"))
    }
}
