/// The FLASH and RAM a report measures against.
///
/// The RAM is the AXI SRAM, where MixQ's deployments keep the activation arena ("the 512 kB" of
/// the paper); DTCM holds stack and kernel scratch and is reported in `ram_total_bytes` only.
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
}
