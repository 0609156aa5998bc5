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

/// The SageMaker experiment reads (ListTrialComponents, Search, …): run
/// components chosen in SQL, each with its metrics.
extension MetadataStore {
    public struct ComponentFilter: Sendable {
        public var experiment: String?
        public var trial: String?
        public var ids: [Int64]?
        /// One step of one execution.
        public var step: (execution: String, name: String)?

        public init(experiment: String? = nil, trial: String? = nil, ids: [Int64]? = nil, step: (execution: String, name: String)? = nil) {
            self.experiment = experiment
            self.trial = trial
            self.ids = ids
            self.step = step
        }
    }

    /// Oldest first, at most `limit` after skipping `offset`; and how many match in all.
    public func components(matching filter: ComponentFilter, offset: Int, limit: Int, newestFirst: Bool = false)
        throws -> (components: [(component: TrialComponentRecord, metrics: [MetricRecord])], total: Int)
    {
        try pool.read { db in
            var request = TrialComponentRecord.all()
            if let experiment = filter.experiment { request = request.filter(Column("experimentName") == experiment) }
            if let trial = filter.trial { request = request.filter(Column("trialName") == trial) }
            if let ids = filter.ids { request = request.filter(ids.contains(Column("id"))) }
            if let step = filter.step { request = request.filter(Column("executionId") == step.execution && Column("stepName") == step.name) }
            let total = try request.fetchCount(db)
            let page = try request.order(newestFirst ? Column("id").desc : Column("id")).limit(limit, offset: offset).fetchAll(db)
            let metrics = try MetricRecord.filter(page.compactMap(\.id).contains(Column("componentId"))).order(Column("name")).fetchAll(db)
            let byComponent = Dictionary(grouping: metrics, by: \.componentId)
            return (page.map { ($0, byComponent[$0.id ?? -1] ?? []) }, total)
        }
    }

    public struct TrialRow: Sendable {
        public let name: String
        public let experiment: String
        public let executionId: String
        public let startedAt: Date
        public let endedAt: Date?
    }

    /// Trials (executions with a trial name), newest first.
    public func trialRows(experiment: String?, offset: Int, limit: Int) throws -> (rows: [TrialRow], total: Int) {
        try pool.read { db in
            var request = ExecutionRecord.filter(Column("trialName") != nil && Column("experimentName") != nil)
            if let experiment { request = request.filter(Column("experimentName") == experiment) }
            let total = try request.fetchCount(db)
            let rows = try request.order(Column("startedAt").desc).limit(limit, offset: offset).fetchAll(db).map {
                TrialRow(name: $0.trialName!, experiment: $0.experimentName!, executionId: $0.id, startedAt: $0.startedAt, endedAt: $0.endedAt)
            }
            return (rows, total)
        }
    }
}
