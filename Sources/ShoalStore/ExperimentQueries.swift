import Foundation
import GRDB

/// Reading and writing experiments: executions are trials of an experiment,
/// step instances are their run components with metrics.
extension MetadataStore {
    /// Records a run component with its metrics, replacing an earlier record of the same instance.
    public func record(_ component: inout TrialComponentRecord, metrics: [(name: String, value: Double)]) throws {
        component = try pool.write { [component] db in
            var saved = component
            try saved.insert(db)
            for (name, value) in metrics { try MetricRecord(componentId: saved.id!, name: name, value: value).insert(db) }
            return saved
        }
    }

    public func addMetrics(_ metrics: [(name: String, value: Double)], toComponent id: Int64) throws {
        try pool.write { db in
            for (name, value) in metrics { try MetricRecord(componentId: id, name: name, value: value).insert(db) }
        }
    }

    public struct ExperimentSummary: Sendable, Equatable {
        public let name: String
        public let trials: Int
        public let lastStarted: Date
    }

    public func experiments() throws -> [ExperimentSummary] {
        try pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT experimentName AS name, COUNT(*) AS trials, MAX(startedAt) AS last
                FROM execution WHERE experimentName IS NOT NULL
                GROUP BY experimentName ORDER BY last DESC
                """).map { ExperimentSummary(name: $0["name"], trials: $0["trials"], lastStarted: $0["last"]) }
        }
    }

    public struct TrialSummary: Sendable {
        public let execution: ExecutionRecord
        /// Metric name → value; a name reported by several components keeps the first (step order, then host).
        public let metrics: [String: Double]
    }

    /// The trials of an experiment, newest first, each with its metrics.
    public func trials(ofExperiment name: String, limit: Int = 100_000) throws -> [TrialSummary] {
        try pool.read { db in
            let executions = try ExecutionRecord.filter(Column("experimentName") == name).order(Column("startedAt").desc).limit(limit).fetchAll(db)
            var metrics: [String: [String: Double]] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT c.executionId AS execution, m.name AS name, m.value AS value
                FROM trial_component c JOIN metric m ON m.componentId = c.id
                WHERE c.experimentName = ?
                ORDER BY c.id
                """, arguments: [name])
            while let row = try rows.next() {
                let execution: String = row["execution"]
                let metric: String = row["name"]
                if metrics[execution]?[metric] == nil { metrics[execution, default: [:]][metric] = row["value"] }
            }
            return executions.map { TrialSummary(execution: $0, metrics: metrics[$0.id] ?? [:]) }
        }
    }

    /// The run components of a trial with their metrics, in recording order.
    public func components(ofTrial trial: String) throws -> [(component: TrialComponentRecord, metrics: [MetricRecord])] {
        try pool.read { db in
            let components = try TrialComponentRecord.filter(Column("trialName") == trial).order(Column("id")).fetchAll(db)
            return try components.map { component in
                (component, try MetricRecord.filter(Column("componentId") == component.id!).order(Column("name")).fetchAll(db))
            }
        }
    }

    /// Every run component, for lineage questions (bounded).
    public func allComponents(limit: Int = 1_000_000) throws -> [TrialComponentRecord] {
        try pool.read { db in try TrialComponentRecord.order(Column("id")).limit(limit).fetchAll(db) }
    }
}
