import Foundation
import GRDB

/// The SQLite metadata database (WAL: one writer, concurrent readers). Every
/// write is its own transaction, made before the engine acts on the change.
public final class MetadataStore: Sendable {
    let pool: DatabasePool

    public init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        // In WAL mode NORMAL never corrupts the database; a power cut may lose
        // the last transactions, which a restarted coordinator redoes.
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        // Two processes opening a new home at once (a coordinator and a CLI
        // command) race to switch it to WAL and to run the first migration;
        // SQLite fails the loser ("database is locked", "table already exists").
        // A file lock makes them take turns.
        let lock = open(path + ".migrate-lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard lock >= 0 else { throw MigrationLockFailed(path: path + ".migrate-lock", reason: String(cString: strerror(errno))) }
        defer { close(lock) }
        guard flock(lock, LOCK_EX) == 0 else { throw MigrationLockFailed(path: path + ".migrate-lock", reason: String(cString: strerror(errno))) }
        defer { flock(lock, LOCK_UN) }
        pool = try DatabasePool(path: path, configuration: configuration)
        try Migrations.migrator.migrate(pool)
    }

    public struct MigrationLockFailed: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "cannot lock \(path) to migrate the metadata database: \(reason)" }
    }

    // MARK: Executions

    public func insert(_ execution: ExecutionRecord, steps: [StepRecord]) throws {
        try pool.write { db in
            try execution.insert(db)
            for step in steps { try step.insert(db) }
        }
    }

    public func update(_ execution: ExecutionRecord) throws {
        try pool.write { db in try execution.update(db) }
    }

    public func execution(id: String) throws -> ExecutionRecord? {
        // A cached statement: status requests and watches read an execution many times a second.
        try pool.read { db in try ExecutionRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM execution WHERE id = ?"), arguments: [id]) }
    }

    /// Newest first.
    public func executions(limit: Int = 100) throws -> [ExecutionRecord] {
        try pool.read { db in
            try ExecutionRecord.order(Column("startedAt").desc).limit(limit).fetchAll(db)
        }
    }

    /// The execution a request with this client token (ClientRequestToken)
    /// started or changed, if it went through.
    public func execution(ofRequestToken token: String) throws -> String? {
        try pool.read { db in
            try String.fetchOne(db.cachedStatement(sql: "SELECT executionId FROM request_token WHERE token = ?"), arguments: [token])
        }
    }

    /// Remembers which execution a request token started or changed.
    public func remember(requestToken token: String, execution id: String, now: Date = Date()) throws {
        try pool.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO request_token (token, executionId, createdAt) VALUES (?, ?, ?)", arguments: [token, id, now])
        }
    }

    /// Whether `error` says the disk is full (SQLite's SQLITE_FULL, or ENOSPC from a file write).
    public static func isDiskFull(_ error: any Error) -> Bool {
        if let database = error as? DatabaseError { return database.resultCode == .SQLITE_FULL }
        if let posix = error as? POSIXError { return posix.code == .ENOSPC || posix.code == .EDQUOT }
        if let cocoa = error as? CocoaError { return cocoa.code == .fileWriteOutOfSpace }
        let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
        return underlying?.domain == NSPOSIXErrorDomain && underlying?.code == Int(ENOSPC)
    }

    // MARK: Steps

    /// Through a cached statement: a step is saved as it starts and ends, and
    /// building the record's UPDATE each time cost more than running it.
    public func update(_ step: StepRecord) throws {
        try pool.write { db in
            let statement = try db.cachedStatement(sql: """
                UPDATE step SET type = ?, status = ?, startedAt = ?, endedAt = ?, failureReason = ?, properties = ?, attempts = ?,
                    cacheSourceExecutionId = ?, note = ?, retryNote = ?, itemsSucceeded = ?, itemsFailed = ?, itemsTotal = ?
                WHERE executionId = ? AND name = ?
                """)
            try statement.execute(arguments: [
                step.type, step.status.rawValue, step.startedAt, step.endedAt, step.failureReason, step.properties, step.attempts,
                step.cacheSourceExecutionId, step.note, step.retryNote, step.itemsSucceeded, step.itemsFailed, step.itemsTotal, step.executionId, step.name,
            ])
        }
    }

    /// Steps of an execution in the order they were recorded (document order).
    public func steps(executionId: String) throws -> [StepRecord] {
        try pool.read { db in
            try StepRecord.filter(Column("executionId") == executionId).order(Column("rowid")).fetchAll(db)
        }
    }

    // MARK: Instances

    /// Inserts an instance attempt with its tags, in one transaction. An instance
    /// that already ended is recorded as ending after its tags, so that its usage
    /// is rolled up under them.
    public func insert(_ instance: inout InstanceRecord, tags: [(key: String, value: String)] = []) throws {
        var batch = [instance]
        try insert(&batch, tags: tags)
        instance = batch[0]
    }

    /// Inserts attempts (with the same tags) in one transaction; each gets its id.
    public func insert(_ instances: inout [InstanceRecord], tags: [(key: String, value: String)] = []) throws {
        instances = try pool.write { [instances] db in
            try instances.map { instance in
                var inserted = instance
                inserted.endedAt = nil
                try inserted.insert(db)
                for (key, value) in tags { try InstanceTagRecord(instanceId: inserted.id!, key: key, value: value).insert(db) }
                if let ended = instance.endedAt {
                    inserted.endedAt = ended
                    try inserted.update(db)
                }
                return inserted
            }
        }
    }

    public func tags(ofInstance id: Int64) throws -> [String: String] {
        try pool.read { db in
            Dictionary(try InstanceTagRecord.filter(Column("instanceId") == id).fetchAll(db).map { ($0.key, $0.value) }) { $1 }
        }
    }

    public func update(_ instance: InstanceRecord) throws {
        try pool.write { db in try instance.update(db) }
    }

    /// Updates many attempts in one transaction (a step's instances stopped together).
    public func update(_ instances: [InstanceRecord]) throws {
        guard !instances.isEmpty else { return }
        try pool.write { db in for instance in instances { try instance.update(db) } }
    }

    /// A step ended: its instances' outcomes, kept for a resume, are no longer needed.
    public func forgetOutcomes(executionId: String, stepName: String) throws {
        try pool.write { db in
            try db.execute(sql: "UPDATE instance SET outcome = NULL WHERE executionId = ? AND stepName = ? AND outcome IS NOT NULL", arguments: [executionId, stepName])
        }
    }

    public func instances(executionId: String, stepName: String? = nil) throws -> [InstanceRecord] {
        try pool.read { db in
            var request = InstanceRecord.filter(Column("executionId") == executionId)
            if let stepName { request = request.filter(Column("stepName") == stepName) }
            return try request.order(Column("id")).fetchAll(db)
        }
    }

    // MARK: Functions

    public func save(_ function: FunctionRecord) throws {
        try pool.write { db in try function.save(db) }
    }

    public func function(named name: String) throws -> FunctionRecord? {
        try pool.read { db in try FunctionRecord.fetchOne(db, key: name) }
    }

    public func functions() throws -> [FunctionRecord] {
        try pool.read { db in try FunctionRecord.order(Column("name")).fetchAll(db) }
    }

    @discardableResult
    public func deleteFunction(named name: String) throws -> Bool {
        try pool.write { db in try FunctionRecord.deleteOne(db, key: name) }
    }
}
