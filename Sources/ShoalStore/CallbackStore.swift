import Foundation
import GRDB

/// A Callback step's token, from the moment the step sends its message until
/// it is answered (SendPipelineExecutionStepSuccess or …Failure) or its step
/// ends otherwise.
public struct CallbackRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "callback"

    public enum Status: String, Codable, Sendable {
        case waiting = "Waiting", succeeded = "Succeeded", failed = "Failed", stopped = "Stopped"
    }

    public var token: String
    public var executionId: String
    public var stepName: String
    public var queueUrl: String?
    /// The message the step sent: `{"token", "pipelineExecutionArn", "arguments", "status"}` (JSON text).
    public var message: String
    public var status: Status
    public var createdAt: Date
    public var answeredAt: Date?
    /// The output parameters of a success (JSON text of an object).
    public var outputs: String?
    public var failureReason: String?

    /// Why the token cannot be answered any more, once it was used.
    public var used: String? {
        guard status != .waiting else { return nil }
        let when = answeredAt.map { " at \(ISO8601DateFormatter().string(from: $0))" } ?? ""
        return "callback token '\(token)' was already used: its step \(stepName) ended \(status.rawValue)\(when)"
    }

    public init(token: String, executionId: String, stepName: String, queueUrl: String?, message: String, createdAt: Date) {
        self.token = token
        self.executionId = executionId
        self.stepName = stepName
        self.queueUrl = queueUrl
        self.message = message
        self.status = .waiting
        self.createdAt = createdAt
    }
}

extension MetadataStore {
    public func insert(_ callback: CallbackRecord) throws {
        try pool.write { db in try callback.insert(db) }
    }

    public func update(_ callback: CallbackRecord) throws {
        try pool.write { db in try callback.update(db) }
    }

    public func callback(token: String) throws -> CallbackRecord? {
        try pool.read { db in try CallbackRecord.fetchOne(db, key: token) }
    }

    /// The callback a step of an execution sent last, if any.
    public func callback(executionId: String, stepName: String) throws -> CallbackRecord? {
        try pool.read { db in
            try CallbackRecord.filter(Column("executionId") == executionId && Column("stepName") == stepName)
                .order(Column("createdAt").desc).fetchOne(db)
        }
    }

    /// Newest first; of one execution, or with one status, when given.
    public func callbacks(executionId: String? = nil, status: CallbackRecord.Status? = nil, limit: Int = 1_000) throws -> [CallbackRecord] {
        try pool.read { db in
            var request = CallbackRecord.all()
            if let executionId { request = request.filter(Column("executionId") == executionId) }
            if let status { request = request.filter(Column("status") == status.rawValue) }
            return try request.order(Column("createdAt").desc).limit(limit).fetchAll(db)
        }
    }
}
