import AWSSignature
import CShoalSystem
import Foundation
import Hummingbird
import ShoalRuntime
import ShoalStore

/// A request body streamed into a file of the staging folder, hashed on the
/// way, and checked against everything the request claims about it (length,
/// SHA-256, Content-MD5, the checksum) before anything is committed. Bodies
/// are never held whole in memory: each buffer is written as it arrives.
struct StagedUpload {
    let path: String
    let size: Int
    let md5: Data
    /// The checksum the client sent (algorithm name, base64), verified.
    let checksum: (algorithm: String, value: String)?

    var etag: String { "\"" + SigV4.hex(md5) + "\"" }

    static func receive(_ request: S3Request, body: RequestBody, into folder: URL, limit: Int) async throws -> StagedUpload {
        let streaming = request.payloadHash.hasPrefix("STREAMING-")
        let signedChunks = request.payloadHash.hasPrefix("STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
        if streaming, !signedChunks, request.payloadHash != "STREAMING-UNSIGNED-PAYLOAD-TRAILER" {
            throw S3Error(code: "NotImplemented", status: 501, message: "Shoal does not accept payloads signed as \(request.payloadHash.prefix(64))")
        }
        let lengthHeader = streaming ? "x-amz-decoded-content-length" : "content-length"
        let declared = request.header(lengthHeader).flatMap { Int($0) }
        if streaming, declared == nil {
            throw S3Error(code: "MissingContentLength", status: 411, message: "an aws-chunked body needs x-amz-decoded-content-length")
        }
        if let declared, declared > limit {
            throw S3Error(code: "EntityTooLarge", status: 400, message: "Your proposed upload (\(declared) bytes) exceeds the maximum allowed size of \(limit) bytes")
        }
        // The trailer, when the checksum comes after the body.
        let trailer = request.header("x-amz-trailer")?.lowercased()
        let requested = Digests.requested { name in
            name == trailer ? "" : request.header(name)
        }
        var digests = Digests(payloadSHA256: !streaming && request.payloadHash.count == 64, checksum: requested?.0)
        var decoder = streaming ? AWSChunkedDecoder(signer: signedChunks ? request.chunkSigner : nil) : nil

        let path = folder.appendingPathComponent("s3-" + UUID().uuidString).path
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw S3Error.storage("cannot stage the upload: \(String(cString: strerror(errno)))") }
        var committed = false
        defer {
            close(descriptor)
            if !committed { unlink(path) }
        }
        // Large bodies reserve their room first (a full disk refuses them at once); small ones skip the call.
        if let declared, declared >= 1 << 20, shoal_preallocate(descriptor, off_t(declared)) != 0, errno == ENOSPC {
            throw S3Error.storage("the store's disk has no room for \(declared) bytes")
        }
        func write(_ bytes: UnsafeRawBufferPointer) throws {
            let failed = writeAll(bytes, to: descriptor)
            if failed != 0 { throw S3Error.storage("cannot write the upload: \(String(cString: strerror(failed)))") }
        }
        for try await buffer in body {
            try buffer.withUnsafeReadableBytes { bytes in
                if decoder != nil {
                    try decoder!.feed(bytes) { data in
                        try write(data)
                        digests.update(data)
                    }
                } else {
                    try write(bytes)
                    digests.update(bytes)
                }
            }
            if digests.count > limit {
                throw S3Error(code: "EntityTooLarge", status: 400, message: "Your proposed upload exceeds the maximum allowed size of \(limit) bytes")
            }
        }
        do { try decoder?.finish() } catch let malformed as AWSChunkedDecoder.Malformed {
            throw S3Error(code: "IncompleteBody", status: 400, message: malformed.description)
        }
        if let declared, declared != digests.count {
            throw S3Error(code: "IncompleteBody", status: 400, message: "You did not provide the number of bytes specified by the \(lengthHeader) HTTP header (\(declared) declared, \(digests.count) sent)")
        }
        let result = digests.finish()
        if let sent = result.sha256Hex, sent != request.payloadHash {
            throw S3Error(code: "XAmzContentSHA256Mismatch", status: 400, message: "The provided 'x-amz-content-sha256' header does not match what was computed.")
        }
        if let contentMD5 = request.header("content-md5"), Data(base64Encoded: contentMD5) != result.md5 {
            throw S3Error(code: "BadDigest", status: 400, message: "The Content-MD5 you specified did not match what we received.")
        }
        var checksum: (String, String)?
        if let (algorithm, claimed) = requested, let computed = result.checksum {
            let value = claimed.flatMap { $0.isEmpty ? nil : $0 } ?? decoder?.trailers.first { $0.name == algorithm.header }?.value
            if let value, value != computed {
                throw S3Error(code: "BadDigest", status: 400, message: "The \(algorithm.rawValue) you specified did not match the calculated checksum.")
            }
            checksum = (algorithm.rawValue, computed)
        }
        committed = true
        return StagedUpload(path: path, size: digests.count, md5: result.md5, checksum: checksum)
    }
}

extension S3Error {
    /// The store's disk failed or filled: nothing was committed.
    static func storage(_ message: String) -> S3Error { S3Error(code: "InsufficientStorage", status: 507, message: message) }
}
