import Foundation

/// The embedded object store: `s3://b/k` lives at `<root>/b/k`. Writes are
/// staged elsewhere and committed by `rename`, so a reader never sees half an object.
public struct ObjectStore: Sendable {
    public let root: URL

    public init(root: URL) throws {
        self.root = root
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    public struct Object: Sendable, Equatable {
        public let uri: S3URI
        public let size: Int
        /// Where the bytes are on this host.
        public let path: String
        /// Inode and modification time: objects are replaced by rename, so a
        /// rewrite always changes it.
        public let version: String
    }

    /// The version of the file behind `attributes` (see `Object.version`).
    public static func version(_ attributes: [FileAttributeKey: Any]) -> String {
        let inode = (attributes[.systemFileNumber] as? Int) ?? 0
        let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        return "\(inode)-\(modified)"
    }

    public struct NotFound: Error, CustomStringConvertible {
        public let uri: S3URI
        public var description: String { "no object at \(uri)" }
    }

    public func path(of uri: S3URI) -> String {
        root.appendingPathComponent(uri.bucket).path + (uri.key.isEmpty ? "" : "/" + uri.key)
    }

    /// Every object whose key starts with the URI's key, sorted by key bytes
    /// (spec §4.3), at most `limit` of them.
    public func list(prefix: S3URI, limit: Int = 1_000_000) throws -> [Object] {
        let bucketPath = root.appendingPathComponent(prefix.bucket).path
        // Walk only the deepest folder the prefix names completely.
        let folderKey = prefix.key.contains("/") ? String(prefix.key[...prefix.key.lastIndex(of: "/")!]) : ""
        let start = folderKey.isEmpty ? bucketPath : bucketPath + "/" + folderKey.dropLast()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: start, isDirectory: &isDirectory), isDirectory.boolValue else { return [] }
        var objects: [Object] = []
        guard let walker = FileManager.default.enumerator(atPath: start) else { return [] }
        while let relative = walker.nextObject() as? String {
            let key = folderKey + relative
            guard key.hasPrefix(prefix.key), !relative.split(separator: "/").contains(where: { $0.hasPrefix(".shoal-") }) else { continue }
            let full = start + "/" + relative
            let attributes = try FileManager.default.attributesOfItem(atPath: full)
            guard attributes[.type] as? FileAttributeType == .typeRegular else { continue }
            objects.append(Object(uri: try S3URI(bucket: prefix.bucket, key: key), size: (attributes[.size] as? Int) ?? 0, path: full, version: Self.version(attributes)))
            if objects.count > limit { throw TooMany(prefix: prefix, limit: limit) }
        }
        return objects.sorted { Array($0.uri.key.utf8).lexicographicallyPrecedes(Array($1.uri.key.utf8)) }
    }

    public struct TooMany: Error, CustomStringConvertible {
        public let prefix: S3URI
        public let limit: Int
        public var description: String { "more than \(limit) objects under \(prefix)" }
    }

    public func read(_ uri: S3URI, maxBytes: Int) throws -> Data {
        let path = path(of: uri)
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              attributes[.type] as? FileAttributeType == .typeRegular
        else { throw NotFound(uri: uri) }
        let size = (attributes[.size] as? Int) ?? 0
        guard size <= maxBytes else { throw TooLarge(uri: uri, size: size, limit: maxBytes) }
        return try Data(contentsOf: URL(fileURLWithPath: path))
    }

    public struct TooLarge: Error, CustomStringConvertible {
        public let uri: S3URI
        public let size: Int
        public let limit: Int
        public var description: String { "\(uri) is \(size) bytes, more than the \(limit) allowed" }
    }

    /// Writes one object atomically.
    public func write(_ data: Data, to uri: S3URI) throws {
        let staging = try stagingFolder()
        let temporary = staging.appendingPathComponent(UUID().uuidString)
        try data.write(to: temporary)
        try commit(file: temporary.path, to: uri)
    }

    /// Moves a finished file into place; the rename is atomic within the store's filesystem.
    public func commit(file: String, to uri: S3URI) throws {
        let target = path(of: uri)
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard rename(file, target) == 0 else {
            throw CommitFailed(uri: uri, reason: String(cString: strerror(errno)))
        }
    }

    public struct CommitFailed: Error, CustomStringConvertible {
        public let uri: S3URI
        public let reason: String
        public var description: String { "cannot commit \(uri): \(reason)" }
    }

    /// Removes one object and the folders its removal leaves empty (up to its
    /// bucket); false when there was none.
    @discardableResult
    public func remove(_ uri: S3URI) throws -> Bool {
        let target = path(of: uri)
        var isDirectory: ObjCBool = false
        guard !uri.key.isEmpty, FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory), !isDirectory.boolValue else { return false }
        guard unlink(target) == 0 else { throw CommitFailed(uri: uri, reason: String(cString: strerror(errno))) }
        let bucket = root.appendingPathComponent(uri.bucket).path
        var folder = (target as NSString).deletingLastPathComponent
        // rmdir refuses a folder that is not empty, so a concurrent write is never lost.
        while folder.count > bucket.count, folder.hasPrefix(bucket + "/"), rmdir(folder) == 0 {
            folder = (folder as NSString).deletingLastPathComponent
        }
        return true
    }

    public struct Bucket: Sendable {
        public let name: String
        public let created: Date
    }

    /// The buckets, by name: the store's top folders.
    public func buckets() -> [Bucket] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.sorted().compactMap { name in
            guard (try? S3URI(bucket: name, key: "")) != nil,
                  let attributes = try? FileManager.default.attributesOfItem(atPath: root.appendingPathComponent(name).path),
                  attributes[.type] as? FileAttributeType == .typeDirectory
            else { return nil }
            return Bucket(name: name, created: (attributes[.creationDate] as? Date) ?? (attributes[.modificationDate] as? Date) ?? Date(timeIntervalSince1970: 0))
        }
    }

    /// A folder on the store's filesystem for staging writes (so commits are renames).
    public func stagingFolder() throws -> URL {
        let folder = root.deletingLastPathComponent().appendingPathComponent("staging")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }
}
