import CUnicorn

/// Instructions per translated block, counted once per block and then looked up on every
/// execution through a flat open-addressing table (no dictionary, no allocation on a hit).
///
/// The key is the block's start address and byte size: Unicorn may translate two blocks that
/// start at one address but end differently.
struct BlockInstructionCounts {
    private var keys: UnsafeMutablePointer<UInt64>
    private var counts: UnsafeMutablePointer<UInt32>
    private var capacity: Int
    private var used = 0
    private static let empty = UInt64.max

    init(capacity: Int = 4096) {
        self.capacity = capacity
        keys = .allocate(capacity: capacity)
        keys.initialize(repeating: Self.empty, count: capacity)
        counts = .allocate(capacity: capacity)
        counts.initialize(repeating: 0, count: capacity)
    }

    // The storage is freed by `release()`; the owner (ExecutionState) lives for one run.
    func release() {
        keys.deallocate()
        counts.deallocate()
    }

    @inline(__always)
    mutating func instructions(address: UInt32, size: UInt32, engine: OpaquePointer) -> UInt32 {
        let key = UInt64(address) << 32 | UInt64(size)
        var slot = Self.hash(key) & (capacity - 1)
        while true {
            let found = keys[slot]
            if found == key { return counts[slot] }
            if found == Self.empty { break }
            slot = (slot + 1) & (capacity - 1)
        }
        let count = Self.countInstructions(address: address, size: size, engine: engine)
        keys[slot] = key
        counts[slot] = count
        used += 1
        if used * 2 > capacity { grow() }
        return count
    }

    /// Thumb-2: a halfword whose top five bits are 0b11101, 0b11110 or 0b11111 starts a
    /// 32-bit instruction; anything else is a 16-bit instruction (ARMv7-M ARM A5.1).
    static func countInstructions(address: UInt32, size: UInt32, engine: OpaquePointer) -> UInt32 {
        guard size > 0 else { return 0 }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        let err = bytes.withUnsafeMutableBytes { uc_mem_read(engine, UInt64(address), $0.baseAddress, Int(size)) }
        guard err == UC_ERR_OK else { return (size + 1) / 2 }
        var offset = 0
        var count: UInt32 = 0
        while offset + 1 < bytes.count {
            let top = bytes[offset + 1] >> 3
            offset += (top == 0b11101 || top == 0b11110 || top == 0b11111) ? 4 : 2
            count += 1
        }
        return count
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
        let oldKeys = keys, oldCounts = counts, oldCapacity = capacity
        capacity *= 2
        keys = .allocate(capacity: capacity)
        keys.initialize(repeating: Self.empty, count: capacity)
        counts = .allocate(capacity: capacity)
        counts.initialize(repeating: 0, count: capacity)
        used = 0
        for index in 0..<oldCapacity where oldKeys[index] != Self.empty {
            var slot = Self.hash(oldKeys[index]) & (capacity - 1)
            while keys[slot] != Self.empty { slot = (slot + 1) & (capacity - 1) }
            keys[slot] = oldKeys[index]
            counts[slot] = oldCounts[index]
            used += 1
        }
        oldKeys.deallocate()
        oldCounts.deallocate()
    }
}
