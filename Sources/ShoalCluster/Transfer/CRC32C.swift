import CShoalSystem

/// CRC-32C, checked on every chunk of a transfer; a whole object is checked by
/// the CRC of its chunks' CRCs, so each byte is checksummed once per side.
public struct CRC32C: Sendable {
    public private(set) var value: UInt32 = 0

    public init() {}

    /// Continues from a value taken earlier (an interrupted transfer's).
    public init(value: UInt32) { self.value = value }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        value = shoal_crc32c(value, bytes.baseAddress, bytes.count)
    }

    /// Folds one chunk's CRC into an object's.
    public mutating func add(chunk crc: UInt32) {
        withUnsafeBytes(of: crc.littleEndian) { update($0) }
    }

    public static func of(_ bytes: [UInt8]) -> UInt32 {
        var crc = CRC32C()
        bytes.withUnsafeBytes { crc.update($0) }
        return crc.value
    }
}
