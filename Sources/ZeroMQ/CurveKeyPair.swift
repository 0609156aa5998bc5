import CZeroMQ

/// A CURVE key pair in Z85 text (40 characters each), as `zmq_curve_keypair` makes it.
public struct CurveKeyPair: Sendable, Equatable, Codable {
    public let publicKey: String
    public let secretKey: String

    public init(publicKey: String, secretKey: String) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// A fresh random key pair.
    public static func generate() throws -> CurveKeyPair {
        var publicKey = [CChar](repeating: 0, count: 41)
        var secretKey = [CChar](repeating: 0, count: 41)
        guard zmq_curve_keypair(&publicKey, &secretKey) == 0 else { throw ZMQError.last("zmq_curve_keypair") }
        return CurveKeyPair(publicKey: z85Text(publicKey), secretKey: z85Text(secretKey))
    }

    /// The pair whose secret key is `secretKey`.
    public static func derive(secretKey: String) throws -> CurveKeyPair {
        guard isValidKey(secretKey) else { throw ZMQError(operation: "zmq_curve_public", code: EINVAL) }
        var publicKey = [CChar](repeating: 0, count: 41)
        guard zmq_curve_public(&publicKey, secretKey) == 0 else { throw ZMQError.last("zmq_curve_public") }
        return CurveKeyPair(publicKey: z85Text(publicKey), secretKey: secretKey)
    }

    /// The Z85 text of a 32-byte binary key (as a ZAP request carries it).
    public static func z85(binary: [UInt8]) -> String? {
        guard binary.count == 32 else { return nil }
        var text = [CChar](repeating: 0, count: 41)
        guard zmq_z85_encode(&text, binary, 32) != nil else { return nil }
        return z85Text(text)
    }

    /// Whether `key` is 40 characters of Z85 that decode to 32 bytes.
    public static func isValidKey(_ key: String) -> Bool {
        guard key.utf8.count == 40 else { return false }
        var decoded = [UInt8](repeating: 0, count: 32)
        return zmq_z85_decode(&decoded, key) != nil
    }
}

/// The 40 characters before the terminating NUL that libzmq writes.
private func z85Text(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
