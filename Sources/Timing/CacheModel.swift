/// A set-associative, write-back, LRU cache of tags only (no data), in flat storage.
///
/// Used for the Cortex-M7's 16 KiB L1 I-cache (2-way) and D-cache (4-way) with 32-byte lines
/// (docs/design.md#clocks-flash-and-caches). Lookups allocate nothing.
struct CacheModel {
    private let ways: Int
    private let sets: Int
    private let lineShift: UInt32
    /// Per line: tag (line address) + 1, 0 = invalid.
    private var tags: UnsafeMutablePointer<UInt32>
    private var dirty: UnsafeMutablePointer<Bool>
    /// Per line: last-use stamp for LRU.
    private var stamps: UnsafeMutablePointer<UInt32>
    private var clock: UInt32 = 0

    /// The outcome of one access.
    enum Outcome { case hit, miss, missEvictingDirty }

    init(bytes: Int, ways: Int, lineBytes: Int) {
        self.ways = max(1, ways)
        self.sets = max(1, bytes / max(1, ways * lineBytes))
        self.lineShift = UInt32(lineBytes.trailingZeroBitCount)
        tags = .allocate(capacity: self.ways * self.sets)
        tags.initialize(repeating: 0, count: self.ways * self.sets)
        dirty = .allocate(capacity: self.ways * self.sets)
        dirty.initialize(repeating: false, count: self.ways * self.sets)
        stamps = .allocate(capacity: self.ways * self.sets)
        stamps.initialize(repeating: 0, count: self.ways * self.sets)
    }

    func release() {
        tags.deallocate()
        dirty.deallocate()
        stamps.deallocate()
    }

    /// Drops every line (the firmware's invalidate-all before enabling the cache).
    mutating func invalidateAll() {
        tags.update(repeating: 0, count: ways * sets)
        dirty.update(repeating: false, count: ways * sets)
    }

    /// Looks up the line holding `address`, allocating it on a miss.
    @inline(__always)
    mutating func access(_ address: UInt32, write: Bool) -> Outcome {
        let line = address >> lineShift
        let set = Int(line) & (sets - 1)
        let base = set * ways
        let tag = line &+ 1
        clock &+= 1
        for way in 0..<ways where tags[base + way] == tag {
            stamps[base + way] = clock
            if write { dirty[base + way] = true }
            return .hit
        }
        var victim = base
        for way in 0..<ways {
            let index = base + way
            if tags[index] == 0 { victim = index; break }
            if stamps[index] < stamps[victim] { victim = index }
        }
        let evictedDirty = tags[victim] != 0 && dirty[victim]
        tags[victim] = tag
        stamps[victim] = clock
        dirty[victim] = write
        return evictedDirty ? .missEvictingDirty : .miss
    }

    /// Whether the line holding `address` is cached (no LRU update, no allocation).
    @inline(__always)
    func contains(_ address: UInt32) -> Bool {
        let line = address >> lineShift
        let base = (Int(line) & (sets - 1)) * ways
        for way in 0..<ways where tags[base + way] == line &+ 1 { return true }
        return false
    }

    /// Lines a range of addresses touches: the first and last line number.
    @inline(__always)
    func lines(from address: UInt32, size: UInt32) -> (first: UInt32, last: UInt32) {
        (address >> lineShift, (address &+ max(size, 1) &- 1) >> lineShift)
    }

    var lineBytes: UInt32 { 1 << lineShift }
}
