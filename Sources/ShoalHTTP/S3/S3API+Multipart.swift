import AWSSignature
import Crypto
import Foundation
import Hummingbird
import ShoalStore

/// Multipart uploads: each in a folder of its own under the staging area
/// (`upload.json`, then one file per part with its ETag and checksum beside
/// it); completing one joins the parts in the kernel and commits the result
/// by a rename, so the object appears whole or not at all. Aborting removes
/// the folder.
extension S3API {
    struct Upload: Codable {
        let bucket: String
        let key: String
        let initiated: Date
        let contentType: String?
        let user: [String: String]
        let checksumAlgorithm: String?
    }

    struct Part: Codable {
        let etag: String
        let size: Int
        let md5: Data
        let checksum: String?
        let modified: Date
    }

    private func folder(_ id: String) throws -> URL {
        guard id.count == 32, id.allSatisfy({ $0.isHexDigit }) else { throw S3Error.noSuchUpload(id) }
        return uploads.appendingPathComponent(id)
    }

    private func upload(_ request: S3Request, uri: S3URI) throws -> (String, URL, Upload) {
        let id = request.query["uploadId"] ?? ""
        let folder = try folder(id)
        guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent("upload.json").path),
              let upload = try? JSONDecoder().decode(Upload.self, from: data), upload.bucket == uri.bucket, upload.key == uri.key
        else { throw S3Error.noSuchUpload(id) }
        return (id, folder, upload)
    }

    func createUpload(_ request: S3Request, uri: S3URI) throws -> Response {
        try requireBucket(uri.bucket)
        let inProgress = (try? FileManager.default.contentsOfDirectory(atPath: uploads.path).count) ?? 0
        guard inProgress < Self.maxUploadsInProgress else {
            throw S3Error(code: "SlowDown", status: 503, message: "\(inProgress) multipart uploads are in progress; complete or abort some first")
        }
        let id = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let folder = try folder(id)
        let algorithm = (request.header("x-amz-checksum-algorithm") ?? request.header("x-amz-sdk-checksum-algorithm"))?.uppercased()
        let upload = Upload(bucket: uri.bucket, key: uri.key, initiated: Date(), contentType: request.header("content-type"),
                            user: try request.userMetadata(), checksumAlgorithm: algorithm)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
            try JSONEncoder().encode(upload).write(to: folder.appendingPathComponent("upload.json"), options: .atomic)
        } catch {
            try? FileManager.default.removeItem(at: folder)
            throw S3Error.storage("cannot start the upload: \(error)")
        }
        return xml("<InitiateMultipartUploadResult \(S3XML.namespace)>" + S3XML.element("Bucket", uri.bucket) + S3XML.element("Key", uri.key)
                   + S3XML.element("UploadId", id) + "</InitiateMultipartUploadResult>")
    }

    func uploadPart(_ request: S3Request, uri: S3URI, body: RequestBody) async throws -> Response {
        let (_, folder, _) = try upload(request, uri: uri)
        guard let number = Int(request.query["partNumber"] ?? ""), (1...Self.maxParts).contains(number) else {
            throw S3Error.invalid("Part number must be an integer between 1 and \(Self.maxParts), inclusive")
        }
        let staged = try await StagedUpload.receive(request, body: body, into: try store.stagingFolder(), limit: Self.maxSingleBytes)
        let part = Part(etag: staged.etag, size: staged.size, md5: staged.md5, checksum: staged.checksum?.value, modified: Date())
        // The part's description goes in first: a part file is only ever beside its own.
        let name = String(format: "%05d", number)
        do {
            try JSONEncoder().encode(part).write(to: folder.appendingPathComponent(name + ".json"), options: .atomic)
            guard rename(staged.path, folder.appendingPathComponent(name).path) == 0 else { throw S3Error.noSuchUpload(request.query["uploadId"] ?? "") }
        } catch {
            unlink(staged.path)
            throw error
        }
        var headers: HTTPFields = [.eTag: staged.etag]
        if let (algorithm, value) = staged.checksum { headers[Self.field("x-amz-checksum-" + algorithm.lowercased())] = value }
        return Response(status: .ok, headers: headers)
    }

    private func parts(in folder: URL) -> [(Int, Part)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.compactMap { name -> (Int, Part)? in
            guard name.hasSuffix(".json"), let number = Int(name.dropLast(5)),
                  FileManager.default.fileExists(atPath: folder.appendingPathComponent(String(name.dropLast(5))).path),
                  let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path),
                  let part = try? JSONDecoder().decode(Part.self, from: data)
            else { return nil }
            return (number, part)
        }.sorted { $0.0 < $1.0 }
    }

    func completeUpload(_ request: S3Request, uri: S3URI, body: RequestBody) async throws -> Response {
        let (_, folder, upload) = try upload(request, uri: uri)
        let data = try await body.collect(upTo: 4 << 20)
        let (listed, _) = try S3XML.records(Data(buffer: data), named: "Part", limit: Self.maxParts)
        guard !listed.isEmpty else { throw S3Error(code: "MalformedXML", status: 400, message: "CompleteMultipartUpload names no part") }
        let stored = Dictionary(parts(in: folder), uniquingKeysWith: { first, _ in first })
        var chosen: [(Int, Part)] = []
        for (index, entry) in listed.enumerated() {
            guard let number = Int(entry["PartNumber"] ?? ""), let part = stored[number],
                  (entry["ETag"] ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "\" ")) == part.etag.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            else {
                throw S3Error(code: "InvalidPart", status: 400, message: "One or more of the specified parts could not be found (part \(entry["PartNumber"] ?? "?")). The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.")
            }
            if let last = chosen.last, last.0 >= number {
                throw S3Error(code: "InvalidPartOrder", status: 400, message: "The list of parts was not in ascending order. The parts list must be specified in order by part number.")
            }
            if index < listed.count - 1, part.size < Self.minPartBytes {
                throw S3Error(code: "EntityTooSmall", status: 400, message: "Your proposed upload is smaller than the minimum allowed size (part \(number) is \(part.size) bytes; all but the last must be 5 MiB or more)")
            }
            chosen.append((number, part))
        }
        let staged = try store.stagingFolder().appendingPathComponent("s3-" + UUID().uuidString).path
        let output = open(staged, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw S3Error.storage("cannot assemble the upload: \(String(cString: strerror(errno)))") }
        do {
            defer { close(output) }
            for (number, _) in chosen { try append(folder.appendingPathComponent(String(format: "%05d", number)).path, to: output) }
        } catch {
            unlink(staged)
            throw error
        }
        // S3's multipart ETag: the MD5 of the parts' MD5s, then the part count.
        var md5 = Insecure.MD5()
        for (_, part) in chosen { md5.update(data: part.md5) }
        let etag = "\"" + SigV4.hex(md5.finalize()) + "-\(chosen.count)\""
        var checksum: [String: String] = [:]
        if let algorithm = upload.checksumAlgorithm, chosen.allSatisfy({ $0.1.checksum != nil }) {
            checksum[algorithm] = Self.compositeChecksum(algorithm, chosen.compactMap { $0.1.checksum }) ?? ""
        }
        ObjectMetadata(etag: etag, contentType: upload.contentType, user: upload.user, checksum: checksum.filter { !$0.value.isEmpty }).write(path: staged)
        try commit(staged, to: uri)
        try? FileManager.default.removeItem(at: folder)
        return xml("<CompleteMultipartUploadResult \(S3XML.namespace)>" + S3XML.element("Location", "/\(uri.bucket)/\(uri.key)")
                   + S3XML.element("Bucket", uri.bucket) + S3XML.element("Key", uri.key) + S3XML.element("ETag", etag) + "</CompleteMultipartUploadResult>")
    }

    /// S3's checksum of a multipart object: the checksum of the parts' checksums, then `-N`.
    static func compositeChecksum(_ algorithm: String, _ parts: [String]) -> String? {
        guard let checksum = Digests.Checksum(rawValue: algorithm) else { return nil }
        var digests = Digests(payloadSHA256: false, checksum: checksum)
        for part in parts {
            guard let bytes = Data(base64Encoded: part) else { return nil }
            bytes.withUnsafeBytes { digests.update($0) }
        }
        return digests.finish().checksum.map { "\($0)-\(parts.count)" }
    }

    func abortUpload(_ request: S3Request, uri: S3URI) throws -> Response {
        let (_, folder, _) = try upload(request, uri: uri)
        do { try FileManager.default.removeItem(at: folder) } catch { throw S3Error.storage("cannot abort the upload: \(error)") }
        return Response(status: .noContent)
    }

    func listParts(_ request: S3Request, uri: S3URI) throws -> Response {
        let (id, folder, _) = try upload(request, uri: uri)
        let marker = Int(request.query["part-number-marker"] ?? "0") ?? 0
        let maxParts = min(1000, max(1, Int(request.query["max-parts"] ?? "1000") ?? 1000))
        let remaining = parts(in: folder).filter { $0.0 > marker }
        let shown = remaining.prefix(maxParts)
        var body = "<ListPartsResult \(S3XML.namespace)>" + S3XML.element("Bucket", uri.bucket) + S3XML.element("Key", uri.key) + S3XML.element("UploadId", id)
            + S3XML.element("PartNumberMarker", String(marker)) + S3XML.element("MaxParts", String(maxParts))
            + S3XML.element("IsTruncated", remaining.count > shown.count ? "true" : "false")
        if remaining.count > shown.count, let last = shown.last { body += S3XML.element("NextPartNumberMarker", String(last.0)) }
        for (number, part) in shown {
            body += "<Part>" + S3XML.element("PartNumber", String(number)) + S3XML.element("LastModified", S3Dates.iso(part.modified))
                + S3XML.element("ETag", part.etag) + S3XML.element("Size", String(part.size)) + "</Part>"
        }
        return xml(body + "</ListPartsResult>")
    }

    func listUploads(_ request: S3Request, bucket: String) throws -> Response {
        try requireBucket(bucket)
        let prefix = request.query["prefix"] ?? ""
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: uploads.path)) ?? []).sorted()
        var entries: [(String, String, Date)] = []
        for id in names {
            guard let data = FileManager.default.contents(atPath: uploads.appendingPathComponent(id).appendingPathComponent("upload.json").path),
                  let upload = try? JSONDecoder().decode(Upload.self, from: data), upload.bucket == bucket, upload.key.hasPrefix(prefix)
            else { continue }
            entries.append((upload.key, id, upload.initiated))
        }
        entries.sort { $0.0 == $1.0 ? $0.2 < $1.2 : $0.0 < $1.0 }
        let shown = entries.prefix(1000)
        var body = "<ListMultipartUploadsResult \(S3XML.namespace)>" + S3XML.element("Bucket", bucket) + S3XML.element("Prefix", prefix)
            + S3XML.element("MaxUploads", "1000") + S3XML.element("IsTruncated", entries.count > shown.count ? "true" : "false")
        for (key, id, initiated) in shown {
            body += "<Upload>" + S3XML.element("Key", key) + S3XML.element("UploadId", id) + S3XML.element("Initiated", S3Dates.iso(initiated))
                + "<StorageClass>STANDARD</StorageClass></Upload>"
        }
        return xml(body + "</ListMultipartUploadsResult>")
    }
}
