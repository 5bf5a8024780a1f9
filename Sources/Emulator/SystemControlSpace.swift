/// The Cortex-M7 private peripheral bus (0xE000_0000-0xE00F_FFFF) as firmware sees it:
/// the registers start-up and timing code touch, modelled so that unchanged board code works.
///
/// Modelled with behaviour: DWT CTRL/CYCCNT/LAR/LSR, DEMCR.TRCENA, SysTick (counting from the
/// core clock), SCB CPUID and the cache identification registers (so CMSIS-style cache enable
/// loops terminate), CCR, CPACR, the cache maintenance operations (accepted, no effect on data)
/// and ITM stimulus port 0 (characters written there go to standard output). Every other
/// register in the space reads back what was last written to it (0 at reset).
///
/// Not modelled: exceptions. There is no NVIC exception entry in the emulator, so SysTick
/// interrupts never fire (COUNTFLAG polling works).
struct SystemControlSpace {
    static let base: UInt32 = 0xE000_0000
    static let size: UInt32 = 0x0010_0000

    // Register addresses: ARMv7-M Architecture Reference Manual (DDI 0403E), chapter B3
    // (System Address Map) and C1.8 (DWT); Cortex-M7 TRM (DDI 0489F) for the M7-specific
    // identification values.
    enum Address {
        static let itmStimulus0: UInt32 = 0xE000_0000
        static let itmTraceEnable: UInt32 = 0xE000_0E00
        static let itmTraceControl: UInt32 = 0xE000_0E80
        static let dwtControl: UInt32 = 0xE000_1000
        static let dwtCycleCount: UInt32 = 0xE000_1004
        static let dwtLockAccess: UInt32 = 0xE000_1FB0
        static let dwtLockStatus: UInt32 = 0xE000_1FB4
        static let sysTickControl: UInt32 = 0xE000_E010
        static let sysTickReload: UInt32 = 0xE000_E014
        static let sysTickCurrent: UInt32 = 0xE000_E018
        static let sysTickCalibration: UInt32 = 0xE000_E01C
        static let cpuid: UInt32 = 0xE000_ED00
        static let configurationControl: UInt32 = 0xE000_ED14
        static let cacheLevelID: UInt32 = 0xE000_ED78
        static let cacheType: UInt32 = 0xE000_ED7C
        static let cacheSizeID: UInt32 = 0xE000_ED80
        static let cacheSizeSelection: UInt32 = 0xE000_ED84
        static let coprocessorAccess: UInt32 = 0xE000_ED88
        static let debugExceptionMonitor: UInt32 = 0xE000_EDFC
        /// ICIALLU: invalidate the whole instruction cache (ARMv7-M ARM B2.2.7).
        static let instructionCacheInvalidateAll: UInt32 = 0xE000_EF50
    }

    /// CCR bits: IC (bit 17) and DC (bit 16) enable the L1 caches (ARMv7-M ARM B3.2.8).
    static let instructionCacheEnable: UInt32 = 1 << 17
    static let dataCacheEnable: UInt32 = 1 << 16

    /// Core clock cycles elapsed, supplied by the machine on every access: with a cycle model,
    /// the issue cycle of the accessing instruction (`CycleModel.cyclesAtPeripheralAccess`), so
    /// CYCCNT and SysTick read mid-block do not include the rest of the block.
    typealias Cycles = UInt64

    private var stored: [UInt32: UInt32] = [:]
    // DWT: CYCCNT runs while DEMCR.TRCENA (bit 24) and DWT_CTRL.CYCCNTENA (bit 0) are set.
    private var dwtControl: UInt32 = 0x4000_0000  // NUMCOMP = 4 on Cortex-M7 (TRM table 9-1)
    private var cycleCountBase: UInt32 = 0
    private var cycleCountSince: Cycles = 0
    private var demcr: UInt32 = 0
    private var dwtLocked = true
    // SysTick: ARMv7-M ARM B3.3.
    private var sysTickControl: UInt32 = 0
    private var sysTickReload: UInt32 = 0
    private var sysTickValue: UInt32 = 0
    private var sysTickSince: Cycles = 0
    private var sysTickCountFlag = false
    // SCB.
    private(set) var configurationControl: UInt32 = 0x0004_0200  // BP (RAO on M7) | STKALIGN: TRM 4.1
    /// SCB->CPUID of the part's core (`Part.cpuid`); the STM32H743's Cortex-M7 r1p1 by default.
    var cpuid: UInt32 = 0x411F_C271
    private var cacheSizeSelection: UInt32 = 0
    private(set) var coprocessorAccess: UInt32 = 0
    private var itmTraceControl: UInt32 = 0
    private var itmTraceEnable: UInt32 = 0

    /// Characters the firmware wrote to ITM stimulus port 0.
    var itmOutput: [UInt8] = []

    var instructionCacheEnabled: Bool { configurationControl & Self.instructionCacheEnable != 0 }
    /// Whether the firmware enabled each cache at any time of the run (CCR.IC, CCR.DC).
    private(set) var instructionCacheWasEnabled = false
    private(set) var dataCacheWasEnabled = false
    /// What the run did with the L1 caches, for the summary and the statistics.
    var cacheUse: CacheUse { CacheUse(instructionCacheEnabled: instructionCacheWasEnabled, dataCacheEnabled: dataCacheWasEnabled) }
    var dataCacheEnabled: Bool { configurationControl & Self.dataCacheEnable != 0 }
    var floatingPointEnabled: Bool { (coprocessorAccess >> 20) & 0xF == 0xF }

    private var cycleCounterRunning: Bool { demcr & (1 << 24) != 0 && dwtControl & 1 != 0 }

    mutating func read(_ address: UInt32, now: Cycles) -> UInt32 {
        switch address {
        case Address.itmStimulus0:
            return 1  // FIFO ready: writes are never dropped.
        case Address.itmTraceControl: return itmTraceControl
        case Address.itmTraceEnable: return itmTraceEnable
        case Address.dwtControl: return dwtControl
        case Address.dwtCycleCount: return cycleCount(now: now)
        case Address.dwtLockStatus:
            return dwtLocked ? 0x3 : 0x1  // SLI (implemented) | SLK (locked)
        case Address.sysTickControl:
            let value = currentSysTick(now: now)
            var control = sysTickControl & 0x7
            if sysTickCountFlag || value.wrapped { control |= 1 << 16 }
            sysTickCountFlag = false
            rebaseSysTick(value: value.value, now: now)
            return control
        case Address.sysTickReload: return sysTickReload
        case Address.sysTickCurrent: return currentSysTick(now: now).value
        case Address.sysTickCalibration:
            return 1 << 31  // NOREF: no separate reference clock is modelled.
        case Address.cpuid:
            return cpuid
        case Address.configurationControl: return configurationControl
        case Address.cacheLevelID:
            return 0x0900_0003  // LoUU = 1, LoC = 1, separate I and D caches at L1 (TRM 4.1).
        case Address.cacheType:
            return 0x8303_C003  // 8-word lines for both caches (TRM 4.1).
        case Address.cacheSizeID:
            // 16 KiB caches with 32-byte lines (docs/design.md#clocks-flash-and-caches):
            // D-cache 4-way, 128 sets; I-cache 2-way, 256 sets. CCSIDR layout: ARMv7-M ARM B4.8.3.
            return cacheSizeSelection & 1 == 0 ? 0xF00F_E019 : 0xF01F_E009
        case Address.cacheSizeSelection: return cacheSizeSelection
        case Address.coprocessorAccess: return coprocessorAccess
        case Address.debugExceptionMonitor: return demcr
        default:
            return stored[address] ?? 0
        }
    }

    mutating func write(_ address: UInt32, value: UInt32, now: Cycles) {
        switch address {
        case Address.itmStimulus0:
            if itmTraceControl & 1 != 0 && itmTraceEnable & 1 != 0 {
                itmOutput.append(UInt8(truncatingIfNeeded: value))
            }
        case Address.itmTraceControl: itmTraceControl = value
        case Address.itmTraceEnable: itmTraceEnable = value
        case Address.dwtControl:
            let count = cycleCount(now: now)
            dwtControl = (dwtControl & 0xF000_0000) | (value & 0x0FFF_FFFF)
            cycleCountBase = count
            cycleCountSince = now
        case Address.dwtCycleCount:
            cycleCountBase = value
            cycleCountSince = now
        case Address.dwtLockAccess:
            // Writes to other DWT registers are honoured even while locked so that timing code
            // written for either silicon revision works; the lock state is still reported in LSR.
            dwtLocked = value != 0xC5AC_CE55
        case Address.sysTickControl:
            let current = currentSysTick(now: now)
            sysTickControl = value & 0x7
            rebaseSysTick(value: current.value, now: now)
            if current.wrapped { sysTickCountFlag = true }
        case Address.sysTickReload: sysTickReload = value & 0x00FF_FFFF
        case Address.sysTickCurrent:
            // Any write clears the counter and COUNTFLAG (ARMv7-M ARM B3.3.4).
            sysTickValue = 0
            sysTickSince = now
            sysTickCountFlag = false
        case Address.configurationControl:
            configurationControl = (value & ~UInt32(1 << 18)) | (1 << 18)
            instructionCacheWasEnabled = instructionCacheWasEnabled || instructionCacheEnabled
            dataCacheWasEnabled = dataCacheWasEnabled || dataCacheEnabled
        case Address.cacheSizeSelection: cacheSizeSelection = value & 1
        case Address.coprocessorAccess: coprocessorAccess = value
        case Address.debugExceptionMonitor:
            let count = cycleCount(now: now)
            demcr = value
            cycleCountBase = count
            cycleCountSince = now
        default:
            stored[address] = value
        }
    }

    private func cycleCount(now: Cycles) -> UInt32 {
        guard cycleCounterRunning else { return cycleCountBase }
        return cycleCountBase &+ UInt32(truncatingIfNeeded: now &- cycleCountSince)
    }

    /// The SysTick counter value now, and whether it reached zero since the last rebase.
    /// With CLKSOURCE = 0 the STM32H7 feeds SysTick the core clock divided by 8 (RM0433 figure 52).
    private func currentSysTick(now: Cycles) -> (value: UInt32, wrapped: Bool) {
        guard sysTickControl & 1 != 0 else { return (sysTickValue, false) }
        let divider: UInt64 = sysTickControl & 0x4 != 0 ? 1 : 8
        let ticks = (now &- sysTickSince) / divider
        if ticks <= UInt64(sysTickValue) {
            return (sysTickValue - UInt32(ticks), ticks > 0 && ticks == UInt64(sysTickValue))
        }
        // Reached zero, then reloads from LOAD every LOAD + 1 ticks.
        guard sysTickReload > 0 else { return (0, true) }
        let afterZero = ticks - UInt64(sysTickValue) - 1
        let period = UInt64(sysTickReload) + 1
        return (sysTickReload - UInt32(afterZero % period), true)
    }

    private mutating func rebaseSysTick(value: UInt32, now: Cycles) {
        // Keep the fractional tick when the divider is 8 by only moving the base by whole ticks.
        let divider: UInt64 = sysTickControl & 0x4 != 0 ? 1 : 8
        let ticks = (now &- sysTickSince) / divider
        sysTickSince = sysTickSince &+ ticks * divider
        sysTickValue = value
    }
}
