import Foundation
import GRDB

/// Registered pipelines and their versions. Every update whose definition
/// differs (by digest of its canonical JSON) makes a new version; an unchanged
/// definition makes none.
extension MetadataStore {
    public struct RegistryError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public enum RegistryChange: Sendable, Equatable {
        case created(version: Int)
        case newVersion(Int)
        case unchanged(version: Int)
    }

    /// Registers a new pipeline (version 1), or — with `update` — adds a version
    /// to an existing one. `definition` is stored as written; the digest is taken
    /// of `canonical` (the same document with sorted keys), so key order alone
    /// never makes a version.
    public func register(
        name: String, definition: String, canonical: String, description: String?, tags: String?, author: String, update: Bool,
        now: Date = Date()
    ) throws -> RegistryChange {
        let digest = ContentDigest.sha256Hex(Array(canonical.utf8))
        return try pool.write { db in
            guard var pipeline = try PipelineRecord.fetchOne(db, key: name) else {
                guard !update else { throw RegistryError(description: "no pipeline '\(name)'; create it with shoal pipelines create") }
                try PipelineRecord(name: name, description: description, tags: tags ?? "{}", createdAt: now, latestVersion: 1).insert(db)
                try PipelineVersionRecord(pipelineName: name, version: 1, definition: definition, digest: digest, createdAt: now, author: author).insert(db)
                return .created(version: 1)
            }
            guard update else { throw RegistryError(description: "pipeline '\(name)' exists; change it with shoal pipelines update") }
            if let description { pipeline.description = description }
            if let tags { pipeline.tags = tags }
            let latest = try PipelineVersionRecord.fetchOne(db, key: ["pipelineName": name, "version": pipeline.latestVersion])
            guard latest?.digest != digest else {
                try pipeline.update(db)
                return .unchanged(version: pipeline.latestVersion)
            }
            pipeline.latestVersion += 1
            try pipeline.update(db)
            try PipelineVersionRecord(
                pipelineName: name, version: pipeline.latestVersion, definition: definition, digest: digest, createdAt: now, author: author
            ).insert(db)
            return .newVersion(pipeline.latestVersion)
        }
    }

    public func pipelines() throws -> [PipelineRecord] {
        try pool.read { db in try PipelineRecord.order(Column("name")).fetchAll(db) }
    }

    public func pipeline(named name: String) throws -> PipelineRecord? {
        try pool.read { db in try Self.pipeline(name, in: db) }
    }

    // Through cached statements: every StartPipelineExecution reads both, and
    // building the query cost more than running it.
    private static func pipeline(_ name: String, in db: Database) throws -> PipelineRecord? {
        try PipelineRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM pipeline WHERE name = ?"), arguments: [name])
    }

    /// One version, the latest when `version` is nil.
    public func pipelineVersion(_ name: String, version: Int? = nil) throws -> PipelineVersionRecord {
        try pool.read { db in
            guard let pipeline = try Self.pipeline(name, in: db) else {
                throw RegistryError(description: "no pipeline '\(name)' (see shoal pipelines list)")
            }
            let wanted = version ?? pipeline.latestVersion
            let statement = try db.cachedStatement(sql: "SELECT * FROM pipeline_version WHERE pipelineName = ? AND version = ?")
            guard let record = try PipelineVersionRecord.fetchOne(statement, arguments: [name, wanted]) else {
                throw RegistryError(description: "pipeline '\(name)' has no version \(wanted); its versions are 1 to \(pipeline.latestVersion)")
            }
            return record
        }
    }

    public func pipelineVersions(_ name: String) throws -> [PipelineVersionRecord] {
        try pool.read { db in
            guard try PipelineRecord.fetchOne(db, key: name) != nil else { throw RegistryError(description: "no pipeline '\(name)'") }
            return try PipelineVersionRecord.filter(Column("pipelineName") == name).order(Column("version")).fetchAll(db)
        }
    }

    /// Replaces a pipeline's tags (JSON text of an object); its versions stay.
    public func setPipelineTags(_ name: String, tags: String) throws {
        try pool.write { db in
            guard var pipeline = try PipelineRecord.fetchOne(db, key: name) else { throw RegistryError(description: "no pipeline '\(name)'") }
            pipeline.tags = tags
            try pipeline.update(db)
        }
    }

    /// A pipeline request (create, update, delete) that went through with this
    /// client token (ClientRequestToken): the version it registered, none for a delete.
    public struct AnsweredRequest: Sendable, Equatable {
        public let version: Int?
    }

    public func pipelineRequest(token: String) throws -> AnsweredRequest? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT version FROM pipeline_request_token WHERE token = ?", arguments: [token]).map { AnsweredRequest(version: $0["version"]) }
        }
    }

    public func remember(pipelineRequestToken token: String, name: String, version: Int?, now: Date = Date()) throws {
        try pool.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO pipeline_request_token (token, pipelineName, version, createdAt) VALUES (?, ?, ?, ?)",
                           arguments: [token, name, version, now])
        }
    }

    /// Removes a pipeline and its versions; its executions stay.
    public func deletePipeline(_ name: String) throws {
        try pool.write { db in
            guard try PipelineRecord.deleteOne(db, key: name) else { throw RegistryError(description: "no pipeline '\(name)'") }
        }
    }

    /// Child executions of an execution, newest first.
    public func executions(parent: String, limit: Int = 10_000) throws -> [ExecutionRecord] {
        try pool.read { db in
            try ExecutionRecord.filter(Column("parentExecutionId") == parent).order(Column("startedAt").desc).limit(limit).fetchAll(db)
        }
    }
}
