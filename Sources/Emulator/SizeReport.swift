/// How much of each memory region an image occupies, from its ELF sections.
///
/// A section counts in the region of its run-time address; a section with initial contents
/// whose load address differs (such as `.data`, copied from FLASH at start-up) also counts
/// its load image in the region of the load address, as the FLASH does hold those bytes.
public struct SizeReport: Sendable {
    public struct Usage: Sendable, Hashable {
        public var region: MemoryRegion
        public var usedBytes: UInt64
        /// Sections contributing, with their byte counts, largest first.
        public var sections: [SectionBytes]

        public var capacity: UInt64 { UInt64(region.size) }
        public var percent: Double { capacity > 0 ? Double(usedBytes) * 100 / Double(capacity) : 0 }
        /// Bytes past the region's capacity (0 when it fits).
        public var overflowBytes: UInt64 { usedBytes > capacity ? usedBytes - capacity : 0 }
    }

    /// Bytes one section contributes to a region.
    public struct SectionBytes: Sendable, Hashable {
        public var name: String
        public var bytes: UInt64
    }

    public var part: Part
    /// One entry per region of the part, in address order.
    public var regions: [Usage]
    /// Allocated sections that lie in no region of the part.
    public var unplaced: [ELFSection]

    /// Whether every region's use is within its capacity and nothing is unplaced.
    public var fits: Bool { unplaced.isEmpty && regions.allSatisfy { $0.overflowBytes == 0 } }

    public init(image: ELFImage, part: Part) {
        self.part = part
        var used: [String: [(String, UInt64)]] = [:]
        var unplaced: [ELFSection] = []
        for section in image.sections where section.isAllocated && section.size > 0 {
            if let region = part.region(containing: section.address) {
                used[region.name, default: []].append((section.displayName, UInt64(section.size)))
            } else {
                unplaced.append(section)
            }
            if section.hasContents && section.loadAddress != section.address,
               let loadRegion = part.region(containing: section.loadAddress) {
                used[loadRegion.name, default: []].append((section.displayName + " (load image)", UInt64(section.size)))
            }
        }
        self.regions = part.regions.map { region in
            let sections = (used[region.name] ?? []).sorted { $0.1 > $1.1 }.map { SectionBytes(name: $0.0, bytes: $0.1) }
            return Usage(region: region, usedBytes: sections.reduce(0) { $0 + $1.bytes }, sections: sections)
        }
        self.unplaced = unplaced
    }

    /// The usage of the region named `name`, if the part has it.
    public func usage(of name: String) -> Usage? {
        regions.first { $0.region.name.caseInsensitiveCompare(name) == .orderedSame }
    }
}
