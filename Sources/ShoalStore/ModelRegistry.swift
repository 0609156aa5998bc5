import Foundation
import GRDB

/// ModelApprovalStatus as SageMaker names it.
public enum ModelApprovalStatus: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible, CustomStringConvertible {
    case approved = "Approved"
    case rejected = "Rejected"
    case pendingManualApproval = "PendingManualApproval"

    public var description: String { rawValue }
}

/// A model (CreateModel, or a pipeline's Model step): its image, artifact and environment.
public struct ModelRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "model"

    public var name: String
    public var arn: String
    public var image: String
    public var modelDataUrl: String?
    /// The resolved CreateModel request (JSON text).
    public var request: String
    public var executionId: String?
    public var stepName: String?
    public var createdAt: Date

    public init(name: String, arn: String, image: String, modelDataUrl: String?, request: String, executionId: String?, stepName: String?, createdAt: Date) {
        self.name = name
        self.arn = arn
        self.image = image
        self.modelDataUrl = modelDataUrl
        self.request = request
        self.executionId = executionId
        self.stepName = stepName
        self.createdAt = createdAt
    }
}

public struct ModelPackageGroupRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "model_package_group"

    public var name: String
    public var arn: String
    public var description: String?
    public var createdAt: Date

    public init(name: String, arn: String, description: String?, createdAt: Date) {
        self.name = name
        self.arn = arn
        self.description = description
        self.createdAt = createdAt
    }
}

/// One version of a package group (RegisterModel, CreateModelPackage).
public struct ModelPackageRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "model_package"

    public var arn: String
    public var groupName: String
    public var version: Int
    public var approvalStatus: ModelApprovalStatus
    public var approvalDescription: String?
    /// The resolved request: InferenceSpecification, ModelMetrics, CustomerMetadataProperties, … (JSON text).
    public var request: String
    public var executionId: String?
    public var stepName: String?
    public var createdAt: Date
    public var modifiedAt: Date
}

extension MetadataStore {
    public struct RegistryConflict: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public func createModel(_ model: ModelRecord) throws {
        try pool.write { db in
            guard try ModelRecord.fetchOne(db, key: model.name) == nil else {
                throw RegistryConflict(description: "Cannot create already existing model \"\(model.arn)\".")
            }
            try model.insert(db)
        }
    }

    public func model(named name: String) throws -> ModelRecord? {
        try pool.read { db in try ModelRecord.fetchOne(db, key: name) }
    }

    public func models(limit: Int = 10_000) throws -> [ModelRecord] {
        try pool.read { db in try ModelRecord.order(Column("createdAt").desc).limit(limit).fetchAll(db) }
    }

    public func createModelPackageGroup(_ group: ModelPackageGroupRecord) throws {
        try pool.write { db in
            guard try ModelPackageGroupRecord.fetchOne(db, key: group.name) == nil else {
                throw RegistryConflict(description: "Model Package Group already exists: \(group.arn)")
            }
            try group.insert(db)
        }
    }

    public func modelPackageGroups(limit: Int = 10_000) throws -> [ModelPackageGroupRecord] {
        try pool.read { db in try ModelPackageGroupRecord.order(Column("createdAt").desc, Column("name")).limit(limit).fetchAll(db) }
    }

    public func modelPackageGroup(named name: String) throws -> ModelPackageGroupRecord? {
        try pool.read { db in try ModelPackageGroupRecord.fetchOne(db, key: name) }
    }

    /// Adds the next version of `group` in one transaction (the group made first
    /// when `creatingGroup` is given and it does not exist, as a pipeline's RegisterModel step does).
    public func registerModelPackage(
        group: String, creatingGroup: ModelPackageGroupRecord?, status: ModelApprovalStatus, request: String, executionId: String?, stepName: String?,
        arn: (Int) -> String, now: Date = Date()
    ) throws -> ModelPackageRecord {
        try pool.write { db in
            if try ModelPackageGroupRecord.fetchOne(db, key: group) == nil {
                guard let creatingGroup else { throw RegistryConflict(description: "Model Package Group \(group) does not exist; create it first (CreateModelPackageGroup)") }
                try creatingGroup.insert(db)
            }
            let latest = try Int.fetchOne(db, sql: "SELECT MAX(version) FROM model_package WHERE groupName = ?", arguments: [group]) ?? 0
            let record = ModelPackageRecord(
                arn: arn(latest + 1), groupName: group, version: latest + 1, approvalStatus: status, approvalDescription: nil, request: request,
                executionId: executionId, stepName: stepName, createdAt: now, modifiedAt: now
            )
            try record.insert(db)
            return record
        }
    }

    /// A group's versions, newest first (all groups' without one).
    public func modelPackages(group: String? = nil, status: ModelApprovalStatus? = nil, limit: Int = 10_000) throws -> [ModelPackageRecord] {
        try pool.read { db in
            var request = ModelPackageRecord.all()
            if let group { request = request.filter(Column("groupName") == group) }
            if let status { request = request.filter(Column("approvalStatus") == status) }
            return try request.order(Column("createdAt").desc, Column("version").desc).limit(limit).fetchAll(db)
        }
    }

    public func modelPackage(arn: String) throws -> ModelPackageRecord? {
        try pool.read { db in try ModelPackageRecord.fetchOne(db, key: arn) }
    }

    public func modelPackage(group: String, version: Int) throws -> ModelPackageRecord? {
        try pool.read { db in try ModelPackageRecord.filter(Column("groupName") == group && Column("version") == version).fetchOne(db) }
    }

    /// Sets a version's approval; returns the record as stored, nil when there is no such version.
    public func updateModelPackage(arn: String, status: ModelApprovalStatus?, description: String?, now: Date = Date()) throws -> ModelPackageRecord? {
        try pool.write { db in
            guard var record = try ModelPackageRecord.fetchOne(db, key: arn) else { return nil }
            if let status { record.approvalStatus = status }
            if let description { record.approvalDescription = description }
            record.modifiedAt = now
            try record.update(db)
            return record
        }
    }
}
