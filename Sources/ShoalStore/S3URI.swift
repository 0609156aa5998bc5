/// An object location, `s3://bucket/key`. Keys are checked so that no key can
/// name a file outside the store: no `..` or `.` segment, no NUL, no leading `/`.
public struct S3URI: Sendable, Hashable, CustomStringConvertible {
    public let bucket: String
    /// May be empty (the whole bucket) and may end in `/` (a prefix).
    public let key: String

    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public let uri: String
        public let reason: String
        public var description: String { "'\(uri)' is not a usable object URI: \(reason)" }
    }

    public init(bucket: String, key: String) throws {
        let text = "s3://\(bucket)/\(key)"
        guard !bucket.isEmpty, bucket.utf8.count <= 63,
              bucket.utf8.allSatisfy({ Self.isBucketByte($0) }), bucket != ".", bucket != ".."
        else { throw Invalid(uri: text, reason: "the bucket name must be 1 to 63 of a-z, 0-9, '.', '-' and '_'") }
        guard key.utf8.count <= 1024 else { throw Invalid(uri: text, reason: "the key is longer than 1024 bytes") }
        guard !key.utf8.contains(0) else { throw Invalid(uri: text, reason: "the key contains a NUL byte") }
        guard !key.hasPrefix("/") else { throw Invalid(uri: text, reason: "the key starts with '/'") }
        let segments = key.split(separator: "/", omittingEmptySubsequences: false)
        // An empty segment is only allowed as the trailing one of a prefix.
        for (index, segment) in segments.enumerated() {
            if segment == ".." || segment == "." { throw Invalid(uri: text, reason: "the key has a '\(segment)' segment") }
            if segment.isEmpty && index != segments.count - 1 { throw Invalid(uri: text, reason: "the key has an empty segment ('//')") }
        }
        self.bucket = bucket
        self.key = key
    }

    public init(_ text: String) throws {
        guard text.hasPrefix("s3://") else { throw Invalid(uri: text, reason: "it does not start with s3://") }
        let rest = text.dropFirst(5)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let key = slash == rest.endIndex ? "" : String(rest[rest.index(after: slash)...])
        try self.init(bucket: String(rest[..<slash]), key: key)
    }

    public var description: String { "s3://\(bucket)/\(key)" }

    /// The URI of `relative` under this prefix, with exactly one `/` between.
    public func appending(_ relative: String) throws -> S3URI {
        let base = key.isEmpty || key.hasSuffix("/") ? key : key + "/"
        return try S3URI(bucket: bucket, key: base + relative)
    }

    private static func isBucketByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"):
            true
        default: false
        }
    }
}
