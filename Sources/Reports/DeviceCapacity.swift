/// The FLASH and RAM a report measures a result against: the device it ran on.
///
/// The RAM is the region holding MixQ's activation arena ("the 512 kB" of the paper on the
/// STM32H743: its AXI SRAM); stack and kernel scratch in DTCM are reported in
/// `ram_total_bytes` only. Reports links no other MixQ module, so the three parts' figures are
/// repeated here from docs/design.md#other-parts (Emulator's `Part` holds the same values).
public struct DeviceCapacity: Sendable, Equatable {
    public var name: String
    /// FLASH bytes.
    public var flash: Int
    /// RAM bytes of the region named `ramRegion`.
    public var ram: Int
    /// The region whose use the RAM column shows.
    public var ramRegion: String

    public init(name: String, flash: Int, ram: Int, ramRegion: String) {
        self.name = name
        self.flash = flash
        self.ram = ram
        self.ramRegion = ramRegion
    }

    /// STM32H743: 2 MiB FLASH (two 1 MiB banks at 0x0800_0000) and 512 KiB AXI SRAM at
    /// 0x2400_0000. Source: ST DS12110 (STM32H743xI datasheet) memory map and RM0433 section 2.3,
    /// as in docs/design.md#memory-map. Used when a result does not carry region capacities.
    public static let stm32h743 = DeviceCapacity(name: "STM32H743", flash: 2 << 20, ram: 512 << 10, ramRegion: "AXI SRAM")

    /// STM32F746: 1 MiB FLASH and 240 KiB SRAM1 at 0x2001_0000, the largest RAM and the one
    /// holding the activation arena (RM0385; docs/design.md#other-parts).
    public static let stm32f746 = DeviceCapacity(name: "STM32F746", flash: 1 << 20, ram: 240 << 10, ramRegion: "SRAM1")

    /// STM32F412: 1 MiB FLASH and 256 KiB SRAM at 0x2000_0000 (RM0402; docs/design.md#other-parts).
    public static let stm32f412 = DeviceCapacity(name: "STM32F412", flash: 1 << 20, ram: 256 << 10, ramRegion: "SRAM")

    /// The parts MixQ emulates, in the order reports list them.
    public static let known: [DeviceCapacity] = [.stm32h743, .stm32f746, .stm32f412]

    /// The known device called `name` (case-insensitive), if any.
    public static func named(_ name: String) -> DeviceCapacity? {
        known.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }
    }

    /// The device of a result: the known one called `name`, else one of that name measured
    /// against the result's own planner budgets (its RAM column then uses a region named `RAM`).
    static func of(_ name: String, flashBudget: Int, ramBudget: Int) -> DeviceCapacity {
        named(name) ?? DeviceCapacity(name: name, flash: flashBudget, ram: ramBudget, ramRegion: "RAM")
    }

    /// The order devices appear in: the known parts in `known` order, then others by name.
    static func precedes(_ a: String, _ b: String) -> Bool {
        let order = known.map(\.name)
        switch (order.firstIndex(of: a), order.firstIndex(of: b)) {
        case let (left?, right?): return left < right
        case (.some, nil): return true
        case (nil, .some): return false
        case (nil, nil): return a < b
        }
    }

    /// The device family, e.g. `STM32F7` for the STM32F746 and STM32F765: the first seven
    /// characters of an STM32 name (series letter and core digit), else the whole name.
    var family: String {
        name.uppercased().hasPrefix("STM32") && name.count >= 7 ? String(name.uppercased().prefix(7)) : name.uppercased()
    }
}
