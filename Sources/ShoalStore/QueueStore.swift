import Foundation
import GRDB

/// Message queues (an SQS subset): what a Callback step sends its token on,
/// and what a consumer — the AWS endpoint's SQS, in practice — receives,
/// hides for a visibility timeout, and deletes.
public struct QueueRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "queue"
    public var name: String
    public var visibilityTimeout: Int
    public var createdAt: Date
}

public struct QueueMessage: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "queue_message"
    public var id: Int64?
    public var queueName: String
    public var messageId: String
    public var body: String
    public var sentAt: Date
    public var visibleAt: Date
    public var receiptHandle: String?
    public var receiveCount: Int

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension MetadataStore {
    public struct QueueError: Error, Sendable, CustomStringConvertible {
        public enum Kind: Sendable { case noQueue, full, tooLarge, badReceipt }
        public let kind: Kind
        public let description: String
    }

    /// What a queue may hold, and a message's size, as SQS bounds them.
    public static let maxQueuedMessages = 100_000
    public static let maxMessageBytes = 256 * 1024

    /// Creates the queue unless it exists; returns it either way.
    @discardableResult
    public func createQueue(_ name: String, visibilityTimeout: Int = 30, now: Date = Date()) throws -> QueueRecord {
        try pool.write { db in
            if let existing = try QueueRecord.fetchOne(db, key: name) { return existing }
            let queue = QueueRecord(name: name, visibilityTimeout: visibilityTimeout, createdAt: now)
            try queue.insert(db)
            return queue
        }
    }

    public func queue(named name: String) throws -> QueueRecord? {
        try pool.read { db in try QueueRecord.fetchOne(db, key: name) }
    }

    public func queues(prefix: String = "", limit: Int = 1_000) throws -> [QueueRecord] {
        try pool.read { db in try QueueRecord.filter(Column("name").like(prefix.replacingOccurrences(of: "%", with: "") + "%")).order(Column("name")).limit(limit).fetchAll(db) }
    }

    /// Removes a queue and its messages; false when there was none.
    public func deleteQueue(_ name: String) throws -> Bool {
        try pool.write { db in try QueueRecord.deleteOne(db, key: name) }
    }

    public func send(_ body: String, to queue: String, now: Date = Date()) throws -> QueueMessage {
        guard body.utf8.count <= Self.maxMessageBytes else {
            throw QueueError(kind: .tooLarge, description: "a message holds at most \(Self.maxMessageBytes) bytes; this one has \(body.utf8.count)")
        }
        return try pool.write { db in
            guard try QueueRecord.fetchOne(db, key: queue) != nil else { throw QueueError(kind: .noQueue, description: "no queue '\(queue)'") }
            guard try QueueMessage.filter(Column("queueName") == queue).fetchCount(db) < Self.maxQueuedMessages else {
                throw QueueError(kind: .full, description: "queue '\(queue)' holds \(Self.maxQueuedMessages) messages already")
            }
            var message = QueueMessage(
                id: nil, queueName: queue, messageId: UUID().uuidString.lowercased(), body: body, sentAt: now, visibleAt: now, receiptHandle: nil, receiveCount: 0
            )
            try message.insert(db)
            return message
        }
    }

    /// Up to `count` visible messages, oldest first, each hidden for
    /// `visibility` seconds (the queue's own when nil) under a new receipt handle.
    public func receive(from queue: String, count: Int, visibility: Int?, now: Date = Date()) throws -> [QueueMessage] {
        try pool.write { db in
            guard let record = try QueueRecord.fetchOne(db, key: queue) else { throw QueueError(kind: .noQueue, description: "no queue '\(queue)'") }
            var messages = try QueueMessage.filter(Column("queueName") == queue && Column("visibleAt") <= now)
                .order(Column("id")).limit(max(1, min(count, 10))).fetchAll(db)
            for index in messages.indices {
                messages[index].visibleAt = now.addingTimeInterval(TimeInterval(visibility ?? record.visibilityTimeout))
                messages[index].receiptHandle = UUID().uuidString.lowercased() + "-" + UUID().uuidString.lowercased()
                messages[index].receiveCount += 1
                try messages[index].update(db)
            }
            return messages
        }
    }

    /// Deletes the message last received under `receiptHandle`.
    public func deleteMessage(_ receiptHandle: String, from queue: String) throws {
        try pool.write { db in
            guard try QueueRecord.fetchOne(db, key: queue) != nil else { throw QueueError(kind: .noQueue, description: "no queue '\(queue)'") }
            let deleted = try QueueMessage.filter(Column("queueName") == queue && Column("receiptHandle") == receiptHandle).deleteAll(db)
            guard deleted > 0 else { throw QueueError(kind: .badReceipt, description: "the receipt handle is not valid (the message was deleted, or received again since)") }
        }
    }

    /// Shows the message received under `receiptHandle` again after `seconds`.
    public func changeVisibility(_ receiptHandle: String, in queue: String, seconds: Int, now: Date = Date()) throws {
        try pool.write { db in
            guard var message = try QueueMessage.filter(Column("queueName") == queue && Column("receiptHandle") == receiptHandle).fetchOne(db) else {
                throw QueueError(kind: .badReceipt, description: "the receipt handle is not valid (the message was deleted, or received again since)")
            }
            message.visibleAt = now.addingTimeInterval(TimeInterval(seconds))
            try message.update(db)
        }
    }
}
