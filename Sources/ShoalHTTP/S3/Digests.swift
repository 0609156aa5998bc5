import AWSSignature
import CShoalSystem
import Crypto
import Foundation

/// The hashes an upload is checked against, computed as its bytes stream by:
/// MD5 for the ETag (and Content-MD5), SHA-256 when the signature covers the
/// body, and the one checksum the client asked for.
struct Digests {
    enum Checksum: String, CaseIterable {
        case crc32 = "CRC32", crc32c = "CRC32C", sha1 = "SHA1", sha256 = "SHA256"
        var header: String { "x-amz-checksum-" + rawValue.lowercased() }
    }

    private var md5 = Insecure.MD5()
    private var sha256: SHA256?
    private var checksumSHA256: SHA256?
    private var sha1: Insecure.SHA1?
    private var crc: UInt32 = 0
    let checksum: Checksum?
    private(set) var count = 0

    init(payloadSHA256: Bool, checksum: Checksum?) {
        sha256 = payloadSHA256 ? SHA256() : nil
        self.checksum = checksum
        switch checksum {
        case .sha1: sha1 = Insecure.SHA1()
        case .sha256: checksumSHA256 = SHA256()
        default: break
        }
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        count += bytes.count
        md5.update(bufferPointer: bytes)
        sha256?.update(bufferPointer: bytes)
        switch checksum {
        case .crc32: crc = shoal_crc32(crc, bytes.baseAddress, bytes.count)
        case .crc32c: crc = shoal_crc32c(crc, bytes.baseAddress, bytes.count)
        case .sha1: sha1?.update(bufferPointer: bytes)
        case .sha256: checksumSHA256?.update(bufferPointer: bytes)
        case nil: break
        }
    }

    struct Result {
        let md5: Data
        let sha256Hex: String?
        /// The checksum in base64, as S3's headers carry it.
        let checksum: String?
    }

    func finish() -> Result {
        let value: String?
        switch checksum {
        case .crc32, .crc32c: value = withUnsafeBytes(of: crc.bigEndian) { Data($0).base64EncodedString() }
        case .sha1: value = sha1.map { Data($0.finalize()).base64EncodedString() }
        case .sha256: value = checksumSHA256.map { Data($0.finalize()).base64EncodedString() }
        case nil: value = nil
        }
        return Result(md5: Data(md5.finalize()), sha256Hex: sha256.map { SigV4.hex($0.finalize()) }, checksum: value)
    }

    /// The checksum a request names, by its `x-amz-checksum-*` header or `x-amz-sdk-checksum-algorithm`.
    static func requested(_ header: (String) -> String?) -> (Checksum, String?)? {
        for algorithm in Checksum.allCases {
            if let value = header(algorithm.header) { return (algorithm, value) }
        }
        if let name = header("x-amz-sdk-checksum-algorithm") ?? header("x-amz-checksum-algorithm"),
           let algorithm = Checksum(rawValue: name.uppercased()) {
            return (algorithm, nil)
        }
        return nil
    }
}
