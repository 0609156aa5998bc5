import CShoalSystem
import Foundation

/// What S3 keeps beside an object's bytes — its ETag, content type, user
/// metadata and checksum — kept in an extended attribute of the object's
/// file, so it moves with the file through a rename and is shared by every
/// hard link of it. Objects written by the engine have none; readers then
/// fall back to values derived from the file (see `ObjectStore.Object.version`).
public struct ObjectMetadata: Codable, Sendable, Equatable {
    public var etag: String
    public var contentType: String?
    public var user: [String: String]
    /// Algorithm name (`CRC32`, …) and base64 value, for objects uploaded with one.
    public var checksum: [String: String]

    public init(etag: String, contentType: String? = nil, user: [String: String] = [:], checksum: [String: String] = [:]) {
        self.etag = etag
        self.contentType = contentType
        self.user = user
        self.checksum = checksum
    }

    static let attribute = "user.shoal.s3"
    /// Linux lets an ext4 attribute value be one block; S3 allows 2 KiB of user metadata.
    public static let maxBytes = 3 << 10

    /// Reads a file's metadata; nil when it has none (or the file system keeps no attributes).
    public static func read(path: String) -> ObjectMetadata? {
        var buffer = [UInt8](repeating: 0, count: maxBytes)
        let count = shoal_getxattr(path, attribute, &buffer, buffer.count)
        guard count > 0 else { return nil }
        return try? JSONDecoder().decode(ObjectMetadata.self, from: Data(buffer[0..<count]))
    }

    /// Attaches the metadata to a file before it is committed. False where the
    /// file system keeps no user attributes: the object is stored all the same.
    @discardableResult
    public func write(path: String) -> Bool {
        guard let data = try? JSONEncoder().encode(self), data.count <= Self.maxBytes else { return false }
        return data.withUnsafeBytes { shoal_setxattr(path, Self.attribute, $0.baseAddress, $0.count) } == 0
    }
}
