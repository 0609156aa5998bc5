import AWSSignature
import Crypto
import Foundation
import ShoalStore

/// An object as S3 describes it, read from its file: size, time, ETag,
/// content type, user metadata.
struct StoredObject {
    let uri: S3URI
    let path: String
    let size: Int
    let modified: Date
    let inode: UInt64
    let metadata: ObjectMetadata?

    /// The ETag the object was uploaded with; for an object the engine wrote,
    /// one derived from its file's version (it changes whenever the object does).
    var etag: String { metadata?.etag ?? Self.derivedETag(inode: inode, modified: modified) }
    var contentType: String { metadata?.contentType ?? "binary/octet-stream" }

    static func derivedETag(inode: UInt64, modified: Date) -> String {
        let digest = SHA256.hash(data: Data("\(inode)-\(modified.timeIntervalSince1970)".utf8))
        return "\"" + SigV4.hex(digest.prefix(16)) + "\""
    }

    /// The object at `uri`, or S3's NoSuchKey.
    static func find(_ uri: S3URI, in store: ObjectStore) throws -> StoredObject {
        let path = store.path(of: uri)
        var info = stat()
        guard !uri.key.isEmpty, stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { throw S3Error.noSuchKey(uri.key) }
        let modified = Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec) + TimeInterval(info.st_mtim.tv_nsec) / 1e9)
        return StoredObject(uri: uri, path: path, size: Int(info.st_size), modified: modified, inode: UInt64(info.st_ino), metadata: ObjectMetadata.read(path: path))
    }
}
