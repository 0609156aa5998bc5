/// A worker asks for `credit` more chunks of an object, starting at `offset`.
/// Credit is how a slow worker keeps the coordinator from queueing a whole file.
public struct FetchRequest: Codable, Sendable, Equatable {
    public var transfer: String
    /// The object's path on the coordinator (within its object store).
    public var path: String
    public var offset: Int
    public var credit: Int
    /// Resuming an earlier, interrupted fetch of the object at `offset` (a whole
    /// number of chunks): the object CRC of the chunks the worker has, and the
    /// version they came from; the coordinator refuses when the object changed.
    public var resumeCRC: UInt32?
    public var version: String?

    public init(transfer: String, path: String, offset: Int, credit: Int, resumeCRC: UInt32? = nil, version: String? = nil) {
        self.transfer = transfer
        self.path = path
        self.offset = offset
        self.credit = credit
        self.resumeCRC = resumeCRC
        self.version = version
    }
}

/// One chunk of a transfer; the bytes travel in the message's last frame.
public struct ChunkHeader: Codable, Sendable, Equatable {
    public var transfer: String
    public var offset: Int
    public var crc32: UInt32
    /// Set on the last chunk: the object's size and CRC-32 as a whole.
    public var objectSize: Int?
    public var objectCRC32: UInt32?
    public var error: String?

    public init(transfer: String, offset: Int, crc32: UInt32, objectSize: Int? = nil, objectCRC32: UInt32? = nil, error: String? = nil) {
        self.transfer = transfer
        self.offset = offset
        self.crc32 = crc32
        self.objectSize = objectSize
        self.objectCRC32 = objectCRC32
        self.error = error
    }
}

/// A chunk of an output file going back to the coordinator's staging area.
public struct PutHeader: Codable, Sendable, Equatable {
    public var transfer: String
    /// The file's path on the coordinator, under its staging folder.
    public var destination: String
    public var offset: Int
    public var crc32: UInt32
    public var objectSize: Int?
    public var objectCRC32: UInt32?

    public init(transfer: String, destination: String, offset: Int, crc32: UInt32, objectSize: Int? = nil, objectCRC32: UInt32? = nil) {
        self.transfer = transfer
        self.destination = destination
        self.offset = offset
        self.crc32 = crc32
        self.objectSize = objectSize
        self.objectCRC32 = objectCRC32
    }
}

/// The coordinator wrote (or refused) one put chunk; each ack frees a window slot.
public struct PutAck: Codable, Sendable, Equatable {
    public var transfer: String
    public var offset: Int
    public var error: String?

    public init(transfer: String, offset: Int, error: String? = nil) {
        self.transfer = transfer
        self.offset = offset
        self.error = error
    }
}

public enum TransferLimits {
    public static let chunkBytes = 1 << 20
    /// Chunks asked for (or sent unacknowledged) at a time.
    public static let window = 8
    /// Files a coordinator keeps open for transfers at once; beyond, the file of
    /// the transfer idle longest is closed until that transfer goes on.
    public static let maxOpenFiles = 512
    /// Transfers a coordinator keeps at once; beyond, the one idle longest goes.
    public static let maxTransfers = 16_384
}

/// Why moving a task's data failed, on either side of the connection.
struct TransferFailed: Error, CustomStringConvertible {
    let description: String
}
