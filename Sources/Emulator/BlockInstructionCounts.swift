import CUnicorn

/// What MixQ knows of one translated block, found once and then looked up on every execution.
struct BlockEntry {
    /// Instructions in the block.
    var count: UInt32 = 0
    /// `GuardClass` bits of the instructions in it that may raise a UsageFault.
    var guards: UInt8 = 0
    /// `GuardClass` bits whose checks are installed for the block.
    var installed: UInt8 = 0
    /// Checks run by the block hook at the block's entry (`ExecutionState.entryChecks`):
    /// first index and count.
    var checkStart: Int32 = 0
    var checkCount: Int32 = 0
    /// The block's index in the run's `ProfileCollector`, -1 until it is profiled.
    var profileIndex: Int32 = -1
}

/// Instructions per translated block (and the UsageFault classes in it), counted once per block
/// and then looked up on every execution through a flat open-addressing table (no dictionary,
/// no allocation on a hit).
///
/// The key is the block's start address and byte size: Unicorn may translate two blocks that
/// start at one address but end differently.
struct BlockInstructionCounts {
    private var keys: UnsafeMutablePointer<UInt64>
    private var entries: UnsafeMutablePointer<BlockEntry>
    private var capacity: Int
    private var used = 0
    private static let empty = UInt64.max
    /// The last block looked up: a block that repeats (a one-block loop) skips the hash.
    private var lastKey = UInt64.max
    private var lastSlot = 0

    init(capacity: Int = 4096) {
        self.capacity = capacity
        keys = .allocate(capacity: capacity)
        keys.initialize(repeating: Self.empty, count: capacity)
        entries = .allocate(capacity: capacity)
        entries.initialize(repeating: BlockEntry(), count: capacity)
    }

    // The storage is freed by `release()`; the owner (ExecutionState) lives for one run.
    func release() {
        keys.deallocate()
        entries.deallocate()
    }

    @inline(__always)
    mutating func instructions(address: UInt32, size: UInt32, engine: OpaquePointer) -> UInt32 {
        entry(address: address, size: size, engine: engine).pointee.count
    }

    /// The block's entry, scanned on first sight. The pointer is valid until the next call.
    @inline(__always)
    mutating func entry(address: UInt32, size: UInt32, engine: OpaquePointer) -> UnsafeMutablePointer<BlockEntry> {
        let key = UInt64(address) << 32 | UInt64(size)
        if key == lastKey { return entries + lastSlot }
        var slot = Self.hash(key) & (capacity - 1)
        while true {
            let found = keys[slot]
            if found == key {
                lastKey = key
                lastSlot = slot
                return entries + slot
            }
            if found == Self.empty { break }
            slot = (slot + 1) & (capacity - 1)
        }
        let scanned = Self.scan(address: address, size: size, engine: engine)
        keys[slot] = key
        entries[slot] = BlockEntry(count: scanned.count, guards: scanned.classes)
        used += 1
        if used * 2 > capacity {
            grow()
            return entry(address: address, size: size, engine: engine)
        }
        lastKey = key
        lastSlot = slot
        return entries + slot
    }

    /// Instruction count and guard classes of the block's bytes (`ThumbGuardScanner`).
    static func scan(address: UInt32, size: UInt32, engine: OpaquePointer) -> (count: UInt32, classes: UInt8) {
        guard size > 0 else { return (0, 0) }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        let err = bytes.withUnsafeMutableBytes { uc_mem_read(engine, UInt64(address), $0.baseAddress, Int(size)) }
        guard err == UC_ERR_OK else { return ((size + 1) / 2, 0) }
        return bytes.withUnsafeBytes { ThumbGuardScanner.scan($0, address: address) }
    }

    /// Thumb-2 instruction count of the block (ARMv7-M ARM A5.1).
    static func countInstructions(address: UInt32, size: UInt32, engine: OpaquePointer) -> UInt32 {
        scan(address: address, size: size, engine: engine).count
    }

    @inline(__always)
    private static func hash(_ key: UInt64) -> Int {
        // Fibonacci hashing of the 64-bit key.
        // Fold the address (high half) into the low bits before the multiply, then keep the
        // product's high bits: the low bits of a product depend only on the key's low bits, so
        // taking them would make every block of one size collide.
        Int(truncatingIfNeeded: ((key ^ (key >> 29)) &* 0x9E37_79B9_7F4A_7C15) >> 32)
    }

    private mutating func grow() {
        lastKey = Self.empty
        let oldKeys = keys, oldEntries = entries, oldCapacity = capacity
        capacity *= 2
        keys = .allocate(capacity: capacity)
        keys.initialize(repeating: Self.empty, count: capacity)
        entries = .allocate(capacity: capacity)
        entries.initialize(repeating: BlockEntry(), count: capacity)
        used = 0
        for index in 0..<oldCapacity where oldKeys[index] != Self.empty {
            var slot = Self.hash(oldKeys[index]) & (capacity - 1)
            while keys[slot] != Self.empty { slot = (slot + 1) & (capacity - 1) }
            keys[slot] = oldKeys[index]
            entries[slot] = oldEntries[index]
            used += 1
        }
        oldKeys.deallocate()
        oldEntries.deallocate()
    }
}
