import AWSSignature
import Foundation
import Hummingbird
import ShoalStore

extension S3API {
    static let owner = "<Owner><ID>shoal</ID><DisplayName>shoal</DisplayName></Owner>"

    func listBuckets() -> Response {
        let buckets = store.buckets().map { bucket in
            "<Bucket>" + S3XML.element("Name", bucket.name) + S3XML.element("CreationDate", S3Dates.iso(bucket.created)) + "</Bucket>"
        }
        return xml("<ListAllMyBucketsResult \(S3XML.namespace)>\(Self.owner)<Buckets>\(buckets.joined())</Buckets></ListAllMyBucketsResult>")
    }

    func headBucket(_ bucket: String) throws -> Response {
        try requireBucket(bucket)
        return Response(status: .ok, headers: [Self.field("x-amz-bucket-region"): "us-east-1"])
    }

    func createBucket(_ bucket: String) throws -> Response {
        guard (try? S3URI(bucket: bucket, key: "")) != nil, bucket.utf8.count >= 3 else {
            throw S3Error(code: "InvalidBucketName", status: 400, message: "The specified bucket is not valid: 3 to 63 of a-z, 0-9, '.', '-' and '_'", resource: bucket)
        }
        let folder = store.root.appendingPathComponent(bucket).path
        if mkdir(folder, 0o755) != 0 {
            guard errno == EEXIST else { throw S3Error.storage("cannot create bucket \(bucket): \(String(cString: strerror(errno)))") }
            throw S3Error(code: "BucketAlreadyOwnedByYou", status: 409, message: "Your previous request to create the named bucket succeeded and you already own it.", resource: bucket)
        }
        return Response(status: .ok, headers: [.location: "/" + bucket])
    }

    func deleteBucket(_ bucket: String) throws -> Response {
        try requireBucket(bucket)
        let folder = store.root.appendingPathComponent(bucket).path
        let empty: Bool
        do { empty = try store.list(prefix: S3URI(bucket: bucket, key: ""), limit: 1).isEmpty } catch is ObjectStore.TooMany { empty = false }
        guard empty else {
            throw S3Error(code: "BucketNotEmpty", status: 409, message: "The bucket you tried to delete is not empty", resource: bucket)
        }
        // Empty folders left by removed objects go with the bucket.
        do { try FileManager.default.removeItem(atPath: folder) } catch {
            throw S3Error.storage("cannot delete bucket \(bucket): \(error)")
        }
        return Response(status: .noContent)
    }

    /// ListObjects (v1, `marker`) and ListObjectsV2 (`list-type=2`,
    /// `continuation-token`, `start-after`), with prefix, delimiter, max-keys
    /// and `encoding-type=url`.
    func listObjects(_ request: S3Request, bucket: String) throws -> Response {
        try requireBucket(bucket)
        let query = request.query
        let v2 = query["list-type"] == "2"
        let prefix = query["prefix"] ?? ""
        let delimiter = query["delimiter"].flatMap { $0.isEmpty ? nil : $0 }
        let maxKeys = min(1000, max(0, Int(query["max-keys"] ?? "1000") ?? 1000))
        let urlEncoded = query["encoding-type"] == "url"
        // A continuation token is the last key or common prefix sent ("K" or "P" before it).
        let token = query["continuation-token"].map { String(decoding: Data(base64Encoded: $0) ?? Data(), as: UTF8.self) }
        let after = v2 ? (token.map { String($0.dropFirst()) } ?? query["start-after"] ?? "") : (query["marker"] ?? "")
        let afterIsPrefix = v2 ? token?.hasPrefix("P") == true : delimiter.map { after.hasSuffix($0) } == true

        var objects: [ObjectStore.Object] = []
        // A prefix the store cannot hold (`a//b`) names no object.
        if let uri = try? S3URI(bucket: bucket, key: prefix) {
            do { objects = try store.list(prefix: uri) } catch let tooMany as ObjectStore.TooMany {
                throw S3Error(code: "InvalidArgument", status: 400, message: "\(tooMany); list a longer prefix", resource: prefix)
            }
        }
        var contents: [StoredObject] = []
        var prefixes: [String] = []
        var truncated = false
        var last = ""
        var lastIsPrefix = false
        for object in objects {
            let key = object.uri.key
            guard key.utf8.lexicographicallyPrecedes(after.utf8) == false, key != after else { continue }
            if afterIsPrefix, key.hasPrefix(after) { continue }
            var common: String?
            if let delimiter, let range = key.dropFirst(prefix.count).range(of: delimiter) {
                common = String(key[..<range.upperBound])
                if common == prefixes.last { continue }
            }
            if contents.count + prefixes.count == maxKeys {
                truncated = true
                break
            }
            if let common {
                prefixes.append(common)
                (last, lastIsPrefix) = (common, true)
            } else if let found = try? StoredObject.find(object.uri, in: store) {
                contents.append(found)
                (last, lastIsPrefix) = (key, false)
            }
        }
        let encode: (String) -> String = { urlEncoded ? SigV4.encode($0, keepSlash: true) : $0 }
        var body = "<ListBucketResult \(S3XML.namespace)>" + S3XML.element("Name", bucket) + S3XML.element("Prefix", encode(prefix))
            + S3XML.element("MaxKeys", String(maxKeys)) + S3XML.element("IsTruncated", truncated ? "true" : "false")
        if let delimiter { body += S3XML.element("Delimiter", encode(delimiter)) }
        if urlEncoded { body += S3XML.element("EncodingType", "url") }
        if v2 {
            body += S3XML.element("KeyCount", String(contents.count + prefixes.count))
            if let token = query["continuation-token"] { body += S3XML.element("ContinuationToken", token) }
            if let startAfter = query["start-after"] { body += S3XML.element("StartAfter", encode(startAfter)) }
            if truncated { body += S3XML.element("NextContinuationToken", Data(((lastIsPrefix ? "P" : "K") + last).utf8).base64EncodedString()) }
        } else {
            body += S3XML.element("Marker", encode(query["marker"] ?? ""))
            if truncated, delimiter != nil { body += S3XML.element("NextMarker", encode(last)) }
        }
        for object in contents {
            body += "<Contents>" + S3XML.element("Key", encode(object.uri.key)) + S3XML.element("LastModified", S3Dates.iso(object.modified))
                + S3XML.element("ETag", object.etag) + S3XML.element("Size", String(object.size)) + "<StorageClass>STANDARD</StorageClass>"
                + (v2 ? "" : Self.owner) + "</Contents>"
        }
        for common in prefixes { body += "<CommonPrefixes>" + S3XML.element("Prefix", encode(common)) + "</CommonPrefixes>" }
        return xml(body + "</ListBucketResult>")
    }
}
