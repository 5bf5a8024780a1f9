import Timing

/// What a memory region is for; decides how the emulator maps it and how reports label it.
public enum RegionKind: String, Sendable, Codable {
    /// Non-volatile code and constants; read-only while firmware runs.
    case flash
    /// Tightly-coupled memory: zero wait states, private to the core.
    case tcm
    /// On-chip SRAM behind the bus matrix (and, on Cortex-M7, the L1 D-cache).
    case sram
}

/// One contiguous range of a part's address space.
public struct MemoryRegion: Sendable, Hashable, Codable {
    /// Name as the reference manual and the size report print it ("FLASH", "DTCM", ...).
    public var name: String
    /// First address.
    public var base: UInt32
    /// Capacity in bytes (a multiple of 4 KiB, as Unicorn maps pages).
    public var size: UInt32
    public var kind: RegionKind
    /// SRAM the core reaches through a bus bridge, slower than the SRAM on its own bus matrix
    /// port (the STM32H743's D2/D3 SRAMs behind the AXI-to-AHB bridges; docs/design.md#memory-map).
    public var behindBusBridge: Bool

    public init(name: String, base: UInt32, size: UInt32, kind: RegionKind, behindBusBridge: Bool = false) {
        self.name = name
        self.base = base
        self.size = size
        self.kind = kind
        self.behindBusBridge = behindBusBridge
    }

    /// One past the last address, as a 64-bit value so regions ending at 4 GiB do not overflow.
    public var end: UInt64 { UInt64(base) + UInt64(size) }

    /// Whether `address` lies inside the region.
    public func contains(_ address: UInt32) -> Bool {
        address >= base && UInt64(address) < end
    }

    /// Whether the whole range `[address, address + length)` lies inside the region.
    public func contains(address: UInt32, length: UInt64) -> Bool {
        contains(address) && UInt64(address) + length <= end
    }
}

/// The caches in front of a part's memories, as far as timing is concerned.
public enum CacheConfiguration: Sendable, Hashable {
    /// Cortex-M7 L1 caches (enabled by firmware through SCB->CCR), sizes in bytes.
    case level1(instructionBytes: Int, dataBytes: Int)
    /// ST's ART accelerator on the FLASH interface (instruction cache lines and prefetch), no L1.
    case artAccelerator
}

/// A microcontroller described as data: its core, memory regions, where it boots, its
/// clocks and FLASH wait states, its caches, and the memory budgets its planner uses.
///
/// Nothing else in MixQ names an address of the chip; another part is another value of this
/// type (`Part.all`), with a linker script in firmware/startup whose MEMORY block the tests
/// check against `regions`.
public struct Part: Sendable, Hashable, CustomStringConvertible {
    /// Marketing name, e.g. "STM32H743".
    public var name: String
    /// The processor core: which Unicorn CPU model runs it and which cycle model times it.
    public var core: Core
    /// Memory regions, in address order.
    public var regions: [MemoryRegion]
    /// Address of the vector table at reset: initial SP in word 0, reset handler in word 1.
    public var bootAddress: UInt32
    /// Core clocks the part supports, with the FLASH wait states each needs.
    public var flashWaitStates: [Int: Int]
    public var caches: CacheConfiguration
    /// The planner's default budgets on this part, in bytes: FLASH for weights and parameters,
    /// RAM for one layer's input plus output.
    public var flashBudget: Int
    public var ramBudget: Int
    /// The linker script in firmware/startup that places firmware in this part's memory.
    public var linkerScript: String
    /// The compiler and linker flags file in toolchain/ for the part's core and FPU.
    public var flagsFile: String
    /// SCB->CPUID: implementer, variant, part number and revision of the core.
    public var cpuid: UInt32 = 0x411F_C271
    /// Where the part's memory system differs from the STM32H743's in the Cortex-M7 `full`
    /// model's parameters beyond the cache sizes `caches` gives (bus clock, FLASH wait-state
    /// cost), each value with its source.
    public var memoryTiming: [MemoryTimingOverride] = []
    /// The clock a run uses when none is given.
    public var defaultClockMHz: Int

    public init(name: String, core: Core = .cortexM7, regions: [MemoryRegion], bootAddress: UInt32,
                flashWaitStates: [Int: Int], caches: CacheConfiguration = .level1(instructionBytes: 16 << 10, dataBytes: 16 << 10),
                flashBudget: Int = 0, ramBudget: Int = 0, linkerScript: String = "startup/stm32h743.ld",
                flagsFile: String = "cortex-m7.flags", memoryTiming: [MemoryTimingOverride] = [], cpuid: UInt32 = 0x411F_C271,
                defaultClockMHz: Int? = nil) {
        self.name = name
        self.core = core
        self.regions = regions.sorted { $0.base < $1.base }
        self.bootAddress = bootAddress
        self.flashWaitStates = flashWaitStates
        self.caches = caches
        self.flashBudget = flashBudget
        self.ramBudget = ramBudget
        self.linkerScript = linkerScript
        self.flagsFile = flagsFile
        self.memoryTiming = memoryTiming
        self.cpuid = cpuid
        self.defaultClockMHz = defaultClockMHz ?? flashWaitStates.keys.max() ?? 0
    }

    public var description: String { name }

    /// The parts MixQ emulates.
    public static let all: [Part] = [.stm32h743, .stm32f746, .stm32f412]

    /// The part called `name` (case-insensitive, e.g. "stm32f746"), if MixQ has it.
    public static func named(_ name: String) -> Part? {
        all.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }
    }

    /// The clocks the part runs at in MixQ, lowest first.
    public var clocks: [Int] { flashWaitStates.keys.sorted() }

    /// The Cortex-M7 model's parameters with this part's memory system: its L1 cache sizes
    /// and `memoryTiming`.
    public var timingParameters: TimingParameters {
        var overrides = Dictionary(uniqueKeysWithValues: memoryTiming.map { ($0.key, $0.value) })
        if case let .level1(instructionBytes, dataBytes) = caches {
            overrides[.instructionCacheBytes] = instructionBytes
            overrides[.dataCacheBytes] = dataBytes
        }
        return TimingParameters.cortexM7.replacing(overrides)
    }

    /// The region holding `address`, if any.
    public func region(containing address: UInt32) -> MemoryRegion? {
        regions.first { $0.contains(address) }
    }

    /// The region named `name` (case-insensitive), if any.
    public func region(named name: String) -> MemoryRegion? {
        regions.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }
    }
}

extension Part {
    /// STM32H743 (Cortex-M7 r1p1, FPv5-D16), as in DS12110 and RM0433 section 2.3.2
    /// ("Memory map and register boundary addresses"); docs/design.md#memory-map.
    ///
    /// FLASH banks 1 and 2 (0x0800_0000 and 0x0810_0000, 1 MiB each) are contiguous and
    /// appear as one 2 MiB region. Boot address is BOOT_ADD0's factory value, 0x0800_0000
    /// (RM0433 section 2.6).
    public static let stm32h743 = Part(
        name: "STM32H743",
        regions: [
            MemoryRegion(name: "ITCM", base: 0x0000_0000, size: 64 << 10, kind: .tcm),
            MemoryRegion(name: "FLASH", base: 0x0800_0000, size: 2 << 20, kind: .flash),
            MemoryRegion(name: "DTCM", base: 0x2000_0000, size: 128 << 10, kind: .tcm),
            MemoryRegion(name: "AXI SRAM", base: 0x2400_0000, size: 512 << 10, kind: .sram),
            // D2 and D3 domains: behind the AXI-to-AHB bridges (RM0433 section 2.1).
            MemoryRegion(name: "SRAM1", base: 0x3000_0000, size: 128 << 10, kind: .sram, behindBusBridge: true),
            MemoryRegion(name: "SRAM2", base: 0x3002_0000, size: 128 << 10, kind: .sram, behindBusBridge: true),
            MemoryRegion(name: "SRAM3", base: 0x3004_0000, size: 32 << 10, kind: .sram, behindBusBridge: true),
            MemoryRegion(name: "SRAM4", base: 0x3800_0000, size: 64 << 10, kind: .sram, behindBusBridge: true),
            MemoryRegion(name: "Backup SRAM", base: 0x3880_0000, size: 4 << 10, kind: .sram, behindBusBridge: true),
        ],
        bootAddress: 0x0800_0000,
        // RM0433 table 17 (FLASH recommended number of wait states): 2 at 400 MHz (VOS1),
        // 4 at 480 MHz (VOS0); docs/design.md#clocks-flash-and-caches.
        flashWaitStates: [400: 2, 480: 4],
        // Cortex-M7 L1: 16 KiB I-cache, 16 KiB D-cache on the STM32H7 (RM0433 section 2.1).
        caches: .level1(instructionBytes: 16 << 10, dataBytes: 16 << 10),
        // The paper's budgets for this part (Rusci et al. 2020): 2,048,000 B FLASH, 512,000 B RAM.
        flashBudget: 2_048_000, ramBudget: 512_000,
        linkerScript: "startup/stm32h743.ld",
        // FPv5 with double precision (DS12110 section 3.3).
        flagsFile: "cortex-m7.flags",
        // Cortex-M7 r1p1 (STM32H743 revision V, errata sheet ES0392): Cortex-M7 TRM 3.2, CPUID.
        cpuid: 0x411F_C271,
        // The paper's setting (VOS1); 480 MHz (VOS0) on request.
        defaultClockMHz: 400
    )

    /// STM32F746 (Cortex-M7 r0p1 with a single-precision FPv5 FPU), as in RM0385 section 2.2.2 ("Memory map and
    /// register boundary addresses") and DS10916; docs/design.md#other-parts.
    ///
    /// FLASH is reached at 0x0800_0000 over AXIM (and aliased at 0x0020_0000 on the ITCM
    /// interface, not mapped here); MixQ boots from the AXIM address, as BOOT_ADD0 = 0x2000
    /// selects (RM0385 section 2.5). Backup SRAM sits in the peripheral space and is left out.
    public static let stm32f746 = Part(
        name: "STM32F746",
        core: .cortexM7,
        regions: [
            MemoryRegion(name: "ITCM", base: 0x0000_0000, size: 16 << 10, kind: .tcm),
            MemoryRegion(name: "FLASH", base: 0x0800_0000, size: 1 << 20, kind: .flash),
            MemoryRegion(name: "DTCM", base: 0x2000_0000, size: 64 << 10, kind: .tcm),
            MemoryRegion(name: "SRAM1", base: 0x2001_0000, size: 240 << 10, kind: .sram),
            MemoryRegion(name: "SRAM2", base: 0x2004_C000, size: 16 << 10, kind: .sram),
        ],
        bootAddress: 0x0800_0000,
        // RM0385 table 5 (number of wait states according to HCLK, 2.7-3.6 V): 6 up to 210 MHz,
        // 7 up to 216 MHz.
        flashWaitStates: [200: 6, 216: 7],
        // 4 KiB I-cache and 4 KiB D-cache (RM0385 section 2.1.2; Cortex-M7 TRM for their
        // organisation: 2-way I, 4-way D, 32-byte lines).
        caches: .level1(instructionBytes: 4 << 10, dataBytes: 4 << 10),
        // The paper's 1 MB FLASH / 512 kB RAM budget belongs to an STM32F765; the F746 has
        // 1 MB of FLASH and 320 KiB of RAM (DTCM + SRAM1 + SRAM2), of which SRAM1 is the
        // largest contiguous buffer: 240 KiB.
        flashBudget: 1_048_576, ramBudget: 240 << 10,
        linkerScript: "startup/stm32f746.ld",
        // Single-precision FPU only (DS10916 section 3.1): -mfpu=fpv5-sp-d16.
        flagsFile: "cortex-m7-sp.flags",
        memoryTiming: [
            // The AXI/AHB buses and the FLASH interface run at HCLK = the core clock (up to
            // 216 MHz, RM0385 section 5 "Reset and clock control"): a bus beat and a FLASH
            // wait state cost one core cycle, not two as on the STM32H743.
            MemoryTimingOverride(key: .lineFillBeatCycles, value: 1, source: "RM0385 section 5: AXI at HCLK = core clock"),
            MemoryTimingOverride(key: .flashWaitStateCycles, value: 1, source: "RM0385 section 3.3.2: FLASH latency in HCLK cycles"),
        ],
        // Cortex-M7 r0p1 (errata sheet ES0290): variant 0, revision 1.
        cpuid: 0x410F_C271
    )

    /// STM32F412 (Cortex-M4 r0p1 with FPv4-SP), as in RM0402 section 2.3 ("Memory map") and
    /// DS11139; docs/design.md#other-parts. FLASH at 0x0800_0000 is aliased at 0 when booting
    /// from main FLASH (RM0402 section 2.6); MixQ loads and boots the 0x0800_0000 address.
    public static let stm32f412 = Part(
        name: "STM32F412",
        core: .cortexM4,
        regions: [
            MemoryRegion(name: "FLASH", base: 0x0800_0000, size: 1 << 20, kind: .flash),
            MemoryRegion(name: "SRAM", base: 0x2000_0000, size: 256 << 10, kind: .sram),
        ],
        bootAddress: 0x0800_0000,
        // RM0402 table 6 (number of wait states according to HCLK, 2.7-3.6 V): 3 from 90 to
        // 100 MHz, 2 from 64 to 90 MHz.
        flashWaitStates: [84: 2, 100: 3],
        // ART accelerator: instruction prefetch and cache lines on the FLASH interface
        // (RM0402 section 3.4.3); no L1 cache on a Cortex-M4.
        caches: .artAccelerator,
        // The paper's 256 kB RAM / 1 MB FLASH budget for this part (Rusci et al. 2020).
        flashBudget: 1_048_576, ramBudget: 262_144,
        linkerScript: "startup/stm32f412.ld",
        flagsFile: "cortex-m4.flags",
        // FLASH latency is counted in HCLK = core clock cycles (RM0402 section 3.4).
        memoryTiming: [MemoryTimingOverride(key: .flashWaitStateCycles, value: 1, source: "RM0402 section 3.4: LATENCY in CPU clock cycles")],
        // Cortex-M4 r0p1 (errata sheet ES0305): Cortex-M4 TRM 4.3.1, CPUID 0x410FC241.
        cpuid: 0x410F_C241
    )
}

/// One memory-system parameter of the Cortex-M7 model that a part sets differently from the
/// STM32H743, with its source.
public struct MemoryTimingOverride: Sendable, Hashable {
    public var key: TimingParameters.Key
    public var value: Int
    public var source: String

    public init(key: TimingParameters.Key, value: Int, source: String) {
        self.key = key
        self.value = value
        self.source = source
    }
}
