import AWSSignature
import Foundation
import Hummingbird
import ShoalStore

/// One S3 request after its signature's head is verified: the bucket and key
/// it names (path-style, or virtual-hosted under `.localhost`), its query, and
/// what its body must prove once it has streamed in.
struct S3Request: Sendable {
    let method: String
    let bucket: String?
    /// Nil for bucket-level requests; never empty.
    let key: String?
    let query: [String: String]
    let headers: [(name: String, value: String)]
    /// `X-Amz-Content-SHA256` as signed: a hex SHA-256 the body must match, `UNSIGNED-PAYLOAD`, or `STREAMING-…`.
    let payloadHash: String
    /// For `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: what each chunk's signature chains from.
    let chunkSigner: AWSChunkedDecoder.Signer?
    let requestId: String

    func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name }?.value }

    init(method: String, rawPath: String, rawQuery: String?, headers: [(name: String, value: String)], payloadHash: String,
         chunkSigner: AWSChunkedDecoder.Signer?, requestId: String) {
        self.method = method
        self.headers = headers
        self.payloadHash = payloadHash
        self.chunkSigner = chunkSigner
        self.requestId = requestId
        query = SigV4.fields(rawQuery ?? "")
        let path = (rawPath.removingPercentEncoding ?? rawPath).drop { $0 == "/" }
        let host = headers.first { $0.name.lowercased() == "host" }?.value.split(separator: ":").first.map(String.init) ?? ""
        if host.hasSuffix(".localhost"), host.count > ".localhost".count {
            bucket = String(host.dropLast(".localhost".count))
            key = path.isEmpty ? nil : String(path)
        } else {
            let slash = path.firstIndex(of: "/")
            bucket = path.isEmpty ? nil : String(path[..<(slash ?? path.endIndex)])
            let rest = slash.map { path[path.index(after: $0)...] } ?? ""
            key = rest.isEmpty ? nil : String(rest)
        }
    }

    /// The object the request names, refused with S3's error when the store cannot hold its key.
    func objectURI() throws -> S3URI {
        guard let bucket, let key else { throw S3Error.invalid("the request names no object key") }
        func refuse(_ reason: String) -> S3Error {
            S3Error(code: "InvalidArgument", status: 400, message: "Shoal keeps objects as files and cannot store this key: \(reason)", resource: key)
        }
        if key.hasSuffix("/") { throw refuse("the key ends with '/'") }
        if key.split(separator: "/").contains(where: { $0.hasPrefix(".shoal-") }) { throw refuse("a segment starts with '.shoal-'") }
        do { return try S3URI(bucket: bucket, key: key) } catch let invalid as S3URI.Invalid { throw refuse(invalid.reason) }
    }

    /// User metadata (`x-amz-meta-*`), bounded as S3 bounds it.
    func userMetadata() throws -> [String: String] {
        var user: [String: String] = [:]
        var bytes = 0
        for (name, value) in headers where name.lowercased().hasPrefix("x-amz-meta-") {
            let key = String(name.lowercased().dropFirst("x-amz-meta-".count))
            user[key] = value
            bytes += key.utf8.count + value.utf8.count
        }
        guard bytes <= 2048 else { throw S3Error(code: "MetadataTooLarge", status: 400, message: "Your metadata headers exceed the maximum allowed metadata size (2 KB).") }
        return user
    }
}

/// An error in S3's own shape: `<Error><Code/><Message/><Resource/><RequestId/></Error>`.
struct S3Error: Error, CustomStringConvertible {
    let code: String
    let status: Int
    let message: String
    var resource: String? = nil

    var description: String { "\(code): \(message)" }

    static func invalid(_ message: String) -> S3Error { S3Error(code: "InvalidArgument", status: 400, message: message) }
    static func noSuchBucket(_ bucket: String) -> S3Error { S3Error(code: "NoSuchBucket", status: 404, message: "The specified bucket does not exist", resource: bucket) }
    static func noSuchKey(_ key: String) -> S3Error { S3Error(code: "NoSuchKey", status: 404, message: "The specified key does not exist.", resource: key) }
    static func noSuchUpload(_ id: String) -> S3Error {
        S3Error(code: "NoSuchUpload", status: 404, message: "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.", resource: id)
    }

    func body(requestId: String) -> String {
        S3XML.header + "<Error>" + S3XML.element("Code", code) + S3XML.element("Message", message)
            + (resource.map { S3XML.element("Resource", $0) } ?? "") + S3XML.element("RequestId", requestId) + "</Error>"
    }
}

extension S3Request {
    /// The IAM action a policy names this request by (`s3:GetObject`, `s3:ListBucket`, …).
    var iamAction: String {
        guard bucket != nil else { return "s3:ListAllMyBuckets" }
        guard key != nil else {
            switch method {
            case "GET" where query["uploads"] != nil: return "s3:ListBucketMultipartUploads"
            case "GET", "HEAD": return "s3:ListBucket"
            case "PUT": return "s3:CreateBucket"
            case "DELETE": return "s3:DeleteBucket"
            default: return "s3:DeleteObject"
            }
        }
        switch method {
        case "GET" where query["uploadId"] != nil: return "s3:ListMultipartUploadParts"
        case "GET", "HEAD": return "s3:GetObject"
        case "DELETE" where query["uploadId"] != nil: return "s3:AbortMultipartUpload"
        case "DELETE": return "s3:DeleteObject"
        default: return "s3:PutObject"
        }
    }
}
