import AWSSignature
import Foundation
import HTTPTypes
import Hummingbird
import ShoalStore

/// S3's REST-XML API over the home's object store: the same files the engine
/// reads as inputs and writes as outputs, so what a client uploads a step
/// can read, and what a step writes a client can download.
struct S3API: Sendable {
    let store: ObjectStore
    /// Multipart uploads in progress, one folder each, on the store's file
    /// system so a completed upload is committed by a rename.
    let uploads: URL

    /// S3's own bounds: 5 GiB in one PUT or part, 10,000 parts.
    static let maxSingleBytes = 5 << 30
    static let maxParts = 10_000
    static let minPartBytes = 5 << 20
    static let maxUploadsInProgress = 10_000

    init(store: ObjectStore) throws {
        self.store = store
        uploads = try store.stagingFolder().appendingPathComponent("multipart")
        try FileManager.default.createDirectory(at: uploads, withIntermediateDirectories: true)
        sweep(now: Date())
    }

    /// What a crash left behind: single uploads staged more than a day ago
    /// (a body being received is written to all the time), and multipart
    /// uploads nobody touched for a week (as an S3 lifecycle rule would abort them).
    func sweep(now: Date) {
        let manager = FileManager.default
        func age(_ path: String) -> TimeInterval {
            ((try? manager.attributesOfItem(atPath: path))?[.modificationDate] as? Date).map { now.timeIntervalSince($0) } ?? 0
        }
        let staging = (try? store.stagingFolder().path) ?? ""
        for name in (try? manager.contentsOfDirectory(atPath: staging)) ?? [] where name.hasPrefix("s3-") && age(staging + "/" + name) > 86_400 {
            try? manager.removeItem(atPath: staging + "/" + name)
        }
        for id in (try? manager.contentsOfDirectory(atPath: uploads.path)) ?? [] {
            let folder = uploads.appendingPathComponent(id).path
            let newest = ((try? manager.contentsOfDirectory(atPath: folder)) ?? []).map { age(folder + "/" + $0) }.min() ?? age(folder)
            if newest > 7 * 86_400 { try? manager.removeItem(atPath: folder) }
        }
    }

    func handle(_ request: S3Request, body: RequestBody) async -> Response {
        do {
            return try await route(request, body: body)
        } catch let error as S3Error {
            return Self.failure(error, method: request.method, requestId: request.requestId)
        } catch let error as AWSError {
            return Self.failure(S3Error(code: error.code, status: error.status, message: error.message), method: request.method, requestId: request.requestId)
        } catch {
            return Self.failure(S3Error(code: "InternalError", status: 500, message: "\(error)"), method: request.method, requestId: request.requestId)
        }
    }

    private func route(_ request: S3Request, body: RequestBody) async throws -> Response {
        let query = request.query
        guard let bucket = request.bucket else {
            guard request.method == "GET" else { throw S3Error(code: "MethodNotAllowed", status: 405, message: "only GET (ListBuckets) is allowed on /") }
            return listBuckets()
        }
        guard request.key != nil else {
            switch request.method {
            case "GET" where query["uploads"] != nil: return try listUploads(request, bucket: bucket)
            case "GET" where query["location"] != nil:
                try requireBucket(bucket)
                return xml("<LocationConstraint \(S3XML.namespace)/>")
            case "GET" where query["versioning"] != nil:
                try requireBucket(bucket)
                return xml("<VersioningConfiguration \(S3XML.namespace)/>")
            case "GET": return try listObjects(request, bucket: bucket)
            case "HEAD": return try headBucket(bucket)
            case "PUT": return try createBucket(bucket)
            case "DELETE": return try deleteBucket(bucket)
            case "POST" where query["delete"] != nil: return try await deleteObjects(request, bucket: bucket, body: body)
            default: throw notImplemented(request)
            }
        }
        let uri = try request.objectURI()
        switch request.method {
        case "PUT" where query["partNumber"] != nil:
            guard request.header("x-amz-copy-source") == nil else { throw notImplemented(request) }
            return try await uploadPart(request, uri: uri, body: body)
        case "PUT" where request.header("x-amz-copy-source") != nil: return try copyObject(request, uri: uri)
        case "PUT": return try await putObject(request, uri: uri, body: body)
        case "GET" where query["uploadId"] != nil: return try listParts(request, uri: uri)
        case "GET", "HEAD": return try getObject(request, uri: uri, head: request.method == "HEAD")
        case "DELETE" where query["uploadId"] != nil: return try abortUpload(request, uri: uri)
        case "DELETE": return try deleteObject(uri)
        case "POST" where query["uploads"] != nil: return try createUpload(request, uri: uri)
        case "POST" where query["uploadId"] != nil: return try await completeUpload(request, uri: uri, body: body)
        default: throw notImplemented(request)
        }
    }

    private func notImplemented(_ request: S3Request) -> S3Error {
        let names = request.query.keys.sorted().joined(separator: ",")
        return S3Error(code: "NotImplemented", status: 501, message: "Shoal does not implement \(request.method) \(request.key == nil ? "on a bucket" : "on an object")\(names.isEmpty ? "" : " with ?\(names)")")
    }

    func requireBucket(_ bucket: String) throws {
        var isDirectory: ObjCBool = false
        guard (try? S3URI(bucket: bucket, key: "")) != nil,
              FileManager.default.fileExists(atPath: store.root.appendingPathComponent(bucket).path, isDirectory: &isDirectory), isDirectory.boolValue
        else { throw S3Error.noSuchBucket(bucket) }
    }

    // MARK: answers

    func xml(_ body: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/xml"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: S3XML.header + body)))
    }

    static func failure(_ error: S3Error, method: String, requestId: String) -> Response {
        var headers: HTTPFields = [field("x-amz-request-id"): requestId]
        // HEAD answers carry no body: the client reads the status alone.
        guard method != "HEAD" else { return Response(status: .init(code: error.status), headers: headers) }
        headers[.contentType] = "application/xml"
        return Response(status: .init(code: error.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: error.body(requestId: requestId))))
    }

    static func field(_ name: String) -> HTTPField.Name { HTTPField.Name(name) ?? .init("x-amz-invalid")! }
}
