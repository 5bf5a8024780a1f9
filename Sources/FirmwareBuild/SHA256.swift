import Crypto

/// SHA-256 (FIPS 180-4), used only to key the firmware build cache by content.
///
/// A thin wrapper over apple/swift-crypto's `Crypto.SHA256` (Foundation on Linux has no digest
/// API) that adds the cache key's field separator and a hex digest. Checked against the
/// FIPS 180-4 example vectors in Tests/FirmwareBuildTests.
struct SHA256 {
    private var hasher = Crypto.SHA256()

    mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        let hashedInPlace: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            hasher.update(bufferPointer: UnsafeRawBufferPointer(buffer))
        }
        if hashedInPlace == nil { hasher.update(data: Array(bytes)) }
    }

    /// Adds a string followed by a NUL, so that ("ab", "c") and ("a", "bc") differ.
    mutating func update(field: String) {
        update(Array(field.utf8))
        update([0])
    }

    /// The digest as 64 lowercase hex digits.
    mutating func finalizeHex() -> String {
        let digits = Array("0123456789abcdef")
        var hex = ""
        hex.reserveCapacity(2 * Crypto.SHA256.byteCount)
        for byte in hasher.finalize() {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0f)])
        }
        return hex
    }
}
