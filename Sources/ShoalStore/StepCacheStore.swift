import Foundation
import GRDB

/// One successful run of a step with caching on, which later runs of the same
/// step of the same pipeline may reuse.
public struct StepCacheEntry: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "step_cache"

    public var id: Int64?
    public var pipelineName: String
    public var stepName: String
    /// A digest of the step's type and evaluated arguments.
    public var argumentsKey: String
    /// A digest of the version of every input object the run read.
    public var inputsKey: String
    public var executionId: String
    /// The step's properties (JSON text), as the run recorded them.
    public var properties: String
    /// The objects the run wrote: `{"s3://…": "version"}` (JSON text).
    public var outputs: String
    public var createdAt: Date

    public init(pipelineName: String, stepName: String, argumentsKey: String, inputsKey: String, executionId: String, properties: String, outputs: String, createdAt: Date) {
        self.pipelineName = pipelineName
        self.stepName = stepName
        self.argumentsKey = argumentsKey
        self.inputsKey = inputsKey
        self.executionId = executionId
        self.properties = properties
        self.outputs = outputs
        self.createdAt = createdAt
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension MetadataStore {
    public func insert(_ entry: inout StepCacheEntry) throws {
        try pool.write { db in try entry.insert(db) }
    }

    /// The entries of one step with these arguments, newest first.
    public func cacheEntries(pipelineName: String, stepName: String, argumentsKey: String, limit: Int = 100) throws -> [StepCacheEntry] {
        // A cached statement: this runs once per cached step, and building the query cost more than running it.
        try pool.read { db in
            let statement = try db.cachedStatement(sql: """
                SELECT * FROM step_cache WHERE pipelineName = ? AND stepName = ? AND argumentsKey = ? ORDER BY createdAt DESC, id DESC LIMIT ?
                """)
            return try StepCacheEntry.fetchAll(statement, arguments: [pipelineName, stepName, argumentsKey, limit])
        }
    }

    /// Entries newest first, of a pipeline and a step when named.
    public func cacheEntries(pipelineName: String? = nil, stepName: String? = nil, limit: Int = 10_000) throws -> [StepCacheEntry] {
        try pool.read { db in
            try Self.cacheFilter(pipelineName, stepName).order(Column("createdAt").desc, Column("id").desc).limit(limit).fetchAll(db)
        }
    }

    /// Removes entries (of a pipeline and a step when named); returns how many.
    @discardableResult
    public func clearCache(pipelineName: String? = nil, stepName: String? = nil) throws -> Int {
        try pool.write { db in try Self.cacheFilter(pipelineName, stepName).deleteAll(db) }
    }

    private static func cacheFilter(_ pipelineName: String?, _ stepName: String?) -> QueryInterfaceRequest<StepCacheEntry> {
        var request = StepCacheEntry.all()
        if let pipelineName { request = request.filter(Column("pipelineName") == pipelineName) }
        if let stepName { request = request.filter(Column("stepName") == stepName) }
        return request
    }
}
