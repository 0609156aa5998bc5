import Foundation
import GRDB

/// Which executions a listing shows (the console's filters), applied in SQL so
/// a home with many thousands of executions lists as fast as one with ten.
public struct ExecutionFilter: Sendable, Equatable {
    public var pipeline: String?
    public var status: ExecutionStatus?
    public var tag: (key: String, value: String)?
    /// Map children are left out unless asked for: a fan-out of 1,000 items would bury the rest.
    public var includeChildren = false

    public init(pipeline: String? = nil, status: ExecutionStatus? = nil, tag: (key: String, value: String)? = nil, includeChildren: Bool = false) {
        self.pipeline = pipeline
        self.status = status
        self.tag = tag
        self.includeChildren = includeChildren
    }

    public static func == (lhs: ExecutionFilter, rhs: ExecutionFilter) -> Bool {
        lhs.pipeline == rhs.pipeline && lhs.status == rhs.status && lhs.tag?.key == rhs.tag?.key && lhs.tag?.value == rhs.tag?.value
            && lhs.includeChildren == rhs.includeChildren
    }
}

extension MetadataStore {
    /// Newest first.
    public func executions(matching filter: ExecutionFilter, limit: Int) throws -> [ExecutionRecord] {
        try pool.read { db in
            var request = ExecutionRecord.order(Column("startedAt").desc)
            if let pipeline = filter.pipeline { request = request.filter(Column("pipelineName") == pipeline) }
            if let status = filter.status { request = request.filter(Column("status") == status.rawValue) }
            if !filter.includeChildren { request = request.filter(Column("parentExecutionId") == nil) }
            if let tag = filter.tag {
                // A JSON path quotes the key, so any tag key is matched literally.
                let path = "$.\"" + tag.key.replacingOccurrences(of: "\"", with: "\\\"") + "\""
                request = request.filter(sql: "json_extract(tags, ?) = ?", arguments: [path, tag.value])
            }
            return try request.limit(limit).fetchAll(db)
        }
    }

    /// Executions by status, for metrics.
    public func executionCounts() throws -> [ExecutionStatus: Int] {
        try pool.read { db in
            var counts: [ExecutionStatus: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM execution GROUP BY status") {
                if let status = ExecutionStatus(rawValue: row["status"]) { counts[status] = row["n"] }
            }
            return counts
        }
    }

    /// Steps of the executions still running, by status, for metrics: a home
    /// keeps every step it ever ran, so counting them all would grow with history.
    public func runningStepCounts() throws -> [StepStatus: Int] {
        try pool.read { db in
            var counts: [StepStatus: Int] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT s.status AS status, COUNT(*) AS n FROM execution e JOIN step s ON s.executionId = e.id
                WHERE e.status IN ('Executing', 'Stopping') GROUP BY s.status
                """) {
                if let status = StepStatus(rawValue: row["status"]) { counts[status] = row["n"] }
            }
            return counts
        }
    }

    /// Instances that ran at some time after `since` (or still run), oldest first:
    /// the task stream. Only those started within a day before `since` are looked
    /// at, so the start-time index bounds the scan.
    public func instances(activeSince since: Date, limit: Int) throws -> [InstanceRecord] {
        try pool.read { db in
            try InstanceRecord.filter(Column("startedAt") >= since.addingTimeInterval(-86_400))
                .filter(Column("endedAt") == nil || Column("endedAt") >= since)
                .order(Column("startedAt")).limit(limit).fetchAll(db)
        }
    }
}
