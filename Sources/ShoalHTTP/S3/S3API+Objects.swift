import CShoalSystem
import Foundation
import Hummingbird
import ShoalStore

extension S3API {
    func putObject(_ request: S3Request, uri: S3URI, body: RequestBody) async throws -> Response {
        try requireBucket(uri.bucket)
        let user = try request.userMetadata()
        let staged = try await StagedUpload.receive(request, body: body, into: try store.stagingFolder(), limit: Self.maxSingleBytes)
        var checksum: [String: String] = [:]
        if let (algorithm, value) = staged.checksum { checksum[algorithm] = value }
        ObjectMetadata(etag: staged.etag, contentType: request.header("content-type"), user: user, checksum: checksum).write(path: staged.path)
        try commit(staged.path, to: uri)
        var headers: HTTPFields = [.eTag: staged.etag]
        if let (algorithm, value) = staged.checksum { headers[Self.field("x-amz-checksum-" + algorithm.lowercased())] = value }
        return Response(status: .ok, headers: headers)
    }

    /// Moves a finished file into place (a rename: readers see the old object or the new, whole).
    func commit(_ path: String, to uri: S3URI) throws {
        do {
            try store.commit(file: path, to: uri)
        } catch {
            unlink(path)
            throw S3Error(code: "InvalidArgument", status: 409, message: "cannot store \(uri.key): \(error) (Shoal keeps objects as files, so a key cannot be both an object and a prefix of another)", resource: uri.key)
        }
    }

    func getObject(_ request: S3Request, uri: S3URI, head: Bool) throws -> Response {
        try requireBucket(uri.bucket)
        let object = try StoredObject.find(uri, in: store)
        var headers: HTTPFields = [
            .eTag: object.etag, .lastModified: S3Dates.http(object.modified), .contentType: object.contentType, .acceptRanges: "bytes",
        ]
        for (key, value) in object.metadata?.user ?? [:] { headers[Self.field("x-amz-meta-" + key)] = value }
        if let notModified = try conditions(request, object: object) {
            return Response(status: notModified, headers: [.eTag: object.etag, .lastModified: S3Dates.http(object.modified)])
        }
        var range = 0..<object.size
        var status = HTTPResponse.Status.ok
        if let text = request.header("range"), let asked = try Self.byteRange(text, size: object.size) {
            range = asked
            status = .partialContent
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(object.size)"
        } else if request.header("x-amz-checksum-mode")?.uppercased() == "ENABLED" {
            // A whole single-part object's checksum: the client verifies what it reads.
            for (algorithm, value) in object.metadata?.checksum ?? [:] where !value.contains("-") {
                headers[Self.field("x-amz-checksum-" + algorithm.lowercased())] = value
            }
        }
        headers[.contentLength] = String(range.count)
        guard !head else { return Response(status: status, headers: headers) }
        return Response(status: status, headers: headers, body: Self.fileBody(object, range: range))
    }

    /// The object's bytes read as the client takes them, a MiB at a time. The
    /// file is opened when the body starts and must be the one described in
    /// the headers: if the object was replaced between, the answer is cut off.
    private static func fileBody(_ object: StoredObject, range: Range<Int>) -> ResponseBody {
        ResponseBody(contentLength: range.count) { writer in
            let descriptor = open(object.path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw S3Error.noSuchKey(object.uri.key) }
            defer { close(descriptor) }
            var info = stat()
            guard fstat(descriptor, &info) == 0, UInt64(info.st_ino) == object.inode else { throw S3Error.noSuchKey(object.uri.key) }
            var offset = range.lowerBound
            let chunk = 1 << 20
            while offset < range.upperBound {
                let want = min(chunk, range.upperBound - offset)
                var buffer = ByteBufferAllocator().buffer(capacity: want)
                let got = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { bytes in
                    let count = pread(descriptor, bytes.baseAddress, want, off_t(offset))
                    guard count > 0 else { throw S3Error(code: "InternalError", status: 500, message: "the object \(object.uri) shrank while it was read") }
                    return count
                }
                offset += got
                try await writer.write(buffer)
            }
            try await writer.finish(nil)
        }
    }

    /// If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since, as S3
    /// weighs them: a status to answer instead of the object, or nil.
    private func conditions(_ request: S3Request, object: StoredObject) throws -> HTTPResponse.Status? {
        let seconds = object.modified.timeIntervalSince1970.rounded(.down)
        if let match = request.header("if-match") {
            guard match == "*" || match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == object.etag }) else {
                throw S3Error(code: "PreconditionFailed", status: 412, message: "At least one of the pre-conditions you specified did not hold", resource: "If-Match")
            }
        } else if let since = request.header("if-unmodified-since").flatMap(S3Dates.parseHTTP), seconds > since.timeIntervalSince1970 {
            throw S3Error(code: "PreconditionFailed", status: 412, message: "At least one of the pre-conditions you specified did not hold", resource: "If-Unmodified-Since")
        }
        if let noneMatch = request.header("if-none-match") {
            if noneMatch == "*" || noneMatch.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == object.etag }) { return .notModified }
        } else if let since = request.header("if-modified-since").flatMap(S3Dates.parseHTTP), seconds <= since.timeIntervalSince1970 {
            return .notModified
        }
        return nil
    }

    /// `bytes=a-b`, `bytes=a-`, `bytes=-n`; nil for a form S3 ignores (several ranges).
    static func byteRange(_ text: String, size: Int) throws -> Range<Int>? {
        guard text.hasPrefix("bytes="), !text.contains(",") else { return nil }
        let spec = text.dropFirst(6).split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard spec.count == 2 else { return nil }
        let invalid = S3Error(code: "InvalidRange", status: 416, message: "The requested range is not satisfiable", resource: text)
        if spec[0].isEmpty {
            guard let suffix = Int(spec[1]), suffix > 0, size > 0 else { throw invalid }
            return max(0, size - suffix)..<size
        }
        guard let start = Int(spec[0]), start >= 0 else { return nil }
        guard start < size else { throw invalid }
        let end = spec[1].isEmpty ? size - 1 : min(Int(spec[1]) ?? -1, size - 1)
        guard end >= start else { return nil }
        return start..<(end + 1)
    }

    func deleteObject(_ uri: S3URI) throws -> Response {
        try requireBucket(uri.bucket)
        _ = try store.remove(uri)
        return Response(status: .noContent)
    }

    func deleteObjects(_ request: S3Request, bucket: String, body: RequestBody) async throws -> Response {
        try requireBucket(bucket)
        let data = try await body.collect(upTo: 2 << 20)
        let (objects, top) = try S3XML.records(Data(buffer: data), named: "Object", limit: 1000)
        let quiet = top["Quiet"]?.lowercased() == "true"
        var answer = "<DeleteResult \(S3XML.namespace)>"
        for object in objects {
            let key = object["Key"] ?? ""
            do {
                _ = try store.remove(try S3URI(bucket: bucket, key: key))
                if !quiet { answer += "<Deleted>" + S3XML.element("Key", key) + "</Deleted>" }
            } catch {
                answer += "<Error>" + S3XML.element("Key", key) + S3XML.element("Code", "InvalidArgument") + S3XML.element("Message", "\(error)") + "</Error>"
            }
        }
        return xml(answer + "</DeleteResult>")
    }

    /// CopyObject: with the metadata kept, a hard link (objects are never
    /// written in place, so source and copy can share their bytes); with it
    /// replaced, a copy of the bytes.
    func copyObject(_ request: S3Request, uri: S3URI) throws -> Response {
        try requireBucket(uri.bucket)
        let sourceText = (request.header("x-amz-copy-source") ?? "").split(separator: "?").first.map(String.init) ?? ""
        let decoded = (sourceText.removingPercentEncoding ?? sourceText).drop { $0 == "/" }
        guard let slash = decoded.firstIndex(of: "/") else { throw S3Error.invalid("x-amz-copy-source '\(sourceText.prefix(256))' is not BUCKET/KEY") }
        let sourceURI: S3URI
        do { sourceURI = try S3URI(bucket: String(decoded[..<slash]), key: String(decoded[decoded.index(after: slash)...])) } catch {
            throw S3Error.invalid("x-amz-copy-source: \(error)")
        }
        try requireBucket(sourceURI.bucket)
        let source = try StoredObject.find(sourceURI, in: store)
        let staged = try store.stagingFolder().appendingPathComponent("s3-" + UUID().uuidString).path
        if request.header("x-amz-metadata-directive")?.uppercased() == "REPLACE" {
            try copyBytes(from: source.path, to: staged)
            var metadata = source.metadata ?? ObjectMetadata(etag: source.etag)
            metadata.contentType = request.header("content-type")
            metadata.user = try request.userMetadata()
            metadata.write(path: staged)
        } else if link(source.path, staged) != 0 {
            throw S3Error.storage("cannot copy \(sourceURI): \(String(cString: strerror(errno)))")
        }
        try commit(staged, to: uri)
        let copied = try StoredObject.find(uri, in: store)
        return xml("<CopyObjectResult>" + S3XML.element("ETag", copied.etag) + S3XML.element("LastModified", S3Dates.iso(copied.modified)) + "</CopyObjectResult>")
    }

    /// Copies a file's bytes into a new file.
    func copyBytes(from source: String, to target: String) throws {
        let output = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw S3Error.storage("cannot write \(target): \(String(cString: strerror(errno)))") }
        defer { close(output) }
        do { try append(source, to: output) } catch {
            unlink(target)
            throw error
        }
    }

    /// Appends a file's bytes to an open file in the kernel (copy_file_range),
    /// so no byte passes through this process.
    func append(_ source: String, to output: Int32) throws {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw S3Error.storage("cannot read \(source): \(String(cString: strerror(errno)))") }
        defer { close(input) }
        while true {
            let copied = shoal_copy_file_range(input, output, 1 << 30)
            if copied == 0 { return }
            if copied < 0 {
                if errno == EINTR { continue }
                throw S3Error.storage("cannot copy \(source): \(String(cString: strerror(errno)))")
            }
        }
    }
}
