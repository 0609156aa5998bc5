import Foundation

/// The access key pairs clients of the AWS-compatible endpoint sign with
/// (`shoal credentials create NAME`), kept in the home's `credentials.json`,
/// readable by its owner only.
public struct AccessKeys: Sendable {
    public struct Key: Codable, Sendable, Equatable {
        public var name: String
        public var accessKeyId: String
        public var secretAccessKey: String
        public var createdAt: Date

        public init(name: String, accessKeyId: String, secretAccessKey: String, createdAt: Date) {
            self.name = name
            self.accessKeyId = accessKeyId
            self.secretAccessKey = secretAccessKey
            self.createdAt = createdAt
        }
    }

    public let path: String

    public init(home: ShoalHome) { path = home.root.appendingPathComponent("credentials.json").path }

    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public func all() throws -> [Key] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        do {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            return try decoder.decode([Key].self, from: data)
        } catch {
            throw Invalid(description: "\(path) cannot be read: \(error)")
        }
    }

    /// The key pair with this id. Read again only when the file changed: the
    /// endpoint looks a key up for every request.
    public func key(id: String) throws -> Key? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        let version = "\(status.st_ino):\(status.st_mtim.tv_sec):\(status.st_mtim.tv_nsec):\(status.st_size)"
        if let keys = cache.lookup(path: path, version: version) { return keys.first { $0.accessKeyId == id } }
        let keys = try all()
        cache.store(path: path, version: version, keys: keys)
        return keys.first { $0.accessKeyId == id }
    }

    private let cache = Cache()

    private final class Cache: @unchecked Sendable {
        private let lock = NSLock()
        private var entry: (path: String, version: String, keys: [Key])?

        func lookup(path: String, version: String) -> [Key]? {
            lock.withLock { entry.flatMap { $0.path == path && $0.version == version ? $0.keys : nil } }
        }

        func store(path: String, version: String, keys: [Key]) { lock.withLock { entry = (path, version, keys) } }
    }

    /// Makes a new pair for `name` (a name may have several); returns it.
    public func create(name: String, now: Date = Date()) throws -> Key {
        guard name.range(of: "^[A-Za-z0-9_.@-]{1,64}$", options: .regularExpression) != nil else {
            throw Invalid(description: "'\(name)' is not a credential name: letters, digits, '_', '.', '@' and '-', up to 64")
        }
        func random(_ count: Int, _ alphabet: String) -> String {
            let characters = Array(alphabet)
            return String((0..<count).map { _ in characters.randomElement()! })
        }
        // SystemRandomNumberGenerator reads getrandom(2): fit for secrets.
        let key = Key(
            name: name, accessKeyId: "SHOAL" + random(15, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
            secretAccessKey: random(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+"), createdAt: now
        )
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(try all() + [key])
        // Written beside and renamed over, owner-only from the start.
        let temporary = path + ".\(getpid()).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Invalid(description: "cannot create \(temporary): \(String(cString: strerror(errno)))") }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        do {
            try handle.write(contentsOf: data)
            try handle.synchronize()
            try handle.close()
        } catch {
            unlink(temporary)
            throw Invalid(description: "cannot write \(temporary): \(error.localizedDescription)")
        }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw Invalid(description: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        return key
    }
}
