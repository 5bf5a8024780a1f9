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

    public init(name: String, base: UInt32, size: UInt32, kind: RegionKind) {
        self.name = name
        self.base = base
        self.size = size
        self.kind = kind
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

/// A microcontroller described as data: its memory regions and where it boots.
///
/// Nothing else in MixQ names an address of the chip; another part (STM32F746, STM32H7A3)
/// is another value of this type.
public struct Part: Sendable, Hashable {
    /// Marketing name, e.g. "STM32H743".
    public var name: String
    /// Memory regions, in address order.
    public var regions: [MemoryRegion]
    /// Address of the vector table at reset: initial SP in word 0, reset handler in word 1.
    public var bootAddress: UInt32
    /// Core clocks the part supports, with the FLASH wait states each needs.
    public var flashWaitStates: [Int: Int]

    public init(name: String, regions: [MemoryRegion], bootAddress: UInt32, flashWaitStates: [Int: Int]) {
        self.name = name
        self.regions = regions.sorted { $0.base < $1.base }
        self.bootAddress = bootAddress
        self.flashWaitStates = flashWaitStates
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
            MemoryRegion(name: "SRAM1", base: 0x3000_0000, size: 128 << 10, kind: .sram),
            MemoryRegion(name: "SRAM2", base: 0x3002_0000, size: 128 << 10, kind: .sram),
            MemoryRegion(name: "SRAM3", base: 0x3004_0000, size: 32 << 10, kind: .sram),
            MemoryRegion(name: "SRAM4", base: 0x3800_0000, size: 64 << 10, kind: .sram),
            MemoryRegion(name: "Backup SRAM", base: 0x3880_0000, size: 4 << 10, kind: .sram),
        ],
        bootAddress: 0x0800_0000,
        // RM0433 table 17 (FLASH recommended number of wait states): 2 at 400 MHz (VOS1),
        // 4 at 480 MHz (VOS0); docs/design.md#clocks-flash-and-caches.
        flashWaitStates: [400: 2, 480: 4]
    )
}
