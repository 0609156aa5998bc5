import Crypto

/// SHA-256 of a document, as 64 lowercase hex digits: definition digests and
/// cache keys. swift-crypto's (BoringSSL's assembly), the same the endpoint signs with.
public enum ContentDigest {
    public static func sha256Hex(_ bytes: some Collection<UInt8>) -> String { hex(SHA256.hash(data: Array(bytes))) }

    /// Bytes as lowercase hex digits: digests, signatures, ETags.
    public static func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
