import Crypto

/// SHA-256 of a document, as 64 lowercase hex digits: definition digests and
/// cache keys. swift-crypto's (BoringSSL's assembly), the same the endpoint signs with.
public enum ContentDigest {
    public static func sha256Hex(_ bytes: some Collection<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in SHA256.hash(data: Array(bytes)) {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
