import Foundation
import GRDB

/// One pipeline execution.
public struct ExecutionRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "execution"

    public var id: String
    public var pipelineName: String
    public var status: ExecutionStatus
    /// The definition as submitted (JSON text).
    public var definition: String
    /// Every parameter's resolved value, defaults included (JSON object text).
    public var parameters: String
    public var startedAt: Date
    public var endedAt: Date?
    public var failureReason: String?
    /// The execution's own tags (JSON object text); every instance also stores its merged tags.
    public var tags: String = "{}"
    /// Where PipelineExperimentConfig filed the execution; nil when experiments are off.
    public var experimentName: String?
    public var trialName: String?
    /// The registered version it ran, when it ran one (`shoal run --pipeline NAME@V`).
    public var pipelineVersion: Int?
    /// The execution that started this one, for child executions.
    public var parentExecutionId: String?
    /// For a child of a `Shoal:Map` step: that step and the item's index (nil
    /// for an execution a job or handler started through the endpoint).
    public var parentStepName: String?
    public var parentItem: Int?
    /// The API socket of the process running it (a `shoal run`, or a
    /// coordinator), where `shoal stop` sends its request.
    public var ownerEndpoint: String?
    /// Where that process runs, so that one found gone can be told apart from one not answering.
    public var ownerHost: String?
    public var ownerProcess: Int?

    public init(id: String, pipelineName: String, status: ExecutionStatus, definition: String, parameters: String, startedAt: Date) {
        self.id = id
        self.pipelineName = pipelineName
        self.status = status
        self.definition = definition
        self.parameters = parameters
        self.startedAt = startedAt
    }
}

/// One step of an execution.
public struct StepRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "step"

    public var executionId: String
    public var name: String
    public var type: String
    public var status: StepStatus
    public var startedAt: Date?
    public var endedAt: Date?
    public var failureReason: String?
    /// What a Describe call would return, resolved (JSON text), once the step succeeded.
    public var properties: String?
    /// How many times the step's work was attempted (instances re-run after a lost worker count).
    public var attempts: Int
    /// The execution whose run of this step was reused (a cache hit).
    public var cacheSourceExecutionId: String?
    /// Why a step with caching on was not a hit, or what the hit reused.
    public var note: String?
    /// A retry waiting out its policy's interval (or that a stop ended the wait).
    public var retryNote: String?
    /// A map step's items: succeeded, failed, and in all (saved as they end, a few times a second at most).
    public var itemsSucceeded: Int?
    public var itemsFailed: Int?
    public var itemsTotal: Int?

    public init(executionId: String, name: String, type: String, status: StepStatus) {
        self.executionId = executionId
        self.name = name
        self.type = type
        self.status = status
        self.attempts = 0
    }
}

/// One attempt of one instance of a step's job (or one Lambda invocation).
public struct InstanceRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "instance"

    public var id: Int64?
    public var executionId: String
    public var stepName: String
    /// 1-based host number (`algo-<n>`).
    public var instance: Int
    public var attempt: Int
    public var worker: String?
    public var status: InstanceStatus
    public var startedAt: Date?
    public var endedAt: Date?
    public var exitCode: Int?
    public var failureReason: String?
    public var cpuSeconds: Double?
    public var peakRSSBytes: Int?
    /// `ml.m5.large`…; `lambda` for a function invocation.
    public var instanceType: String?
    public var wallSeconds: Double?
    public var bytesIn: Int?
    public var bytesOut: Int?
    /// A completed processing instance's outcome (JSON: its staged outputs),
    /// so that a step resumed after a crash commits them rather than running it again.
    public var outcome: String?

    public init(executionId: String, stepName: String, instance: Int, attempt: Int, status: InstanceStatus) {
        self.executionId = executionId
        self.stepName = stepName
        self.instance = instance
        self.attempt = attempt
        self.status = status
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A Lambda-style function registered with `shoal functions create`.
public struct FunctionRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "function"

    public var name: String
    /// `module.function`
    public var handler: String
    /// The folder holding the function's code.
    public var codePath: String
    public var timeoutSeconds: Int
    public var createdAt: Date

    public init(name: String, handler: String, codePath: String, timeoutSeconds: Int, createdAt: Date) {
        self.name = name
        self.handler = handler
        self.codePath = codePath
        self.timeoutSeconds = timeoutSeconds
        self.createdAt = createdAt
    }
}

/// A tag stored with a job instance (the merge of pipeline, execution and step tags).
public struct InstanceTagRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "instance_tag"

    public var instanceId: Int64
    public var key: String
    public var value: String
}

/// A step instance as a run component of its trial (SageMaker's trial component).
public struct TrialComponentRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "trial_component"

    public var id: Int64?
    public var executionId: String
    public var stepName: String
    public var instance: Int
    public var experimentName: String?
    public var trialName: String?
    public var status: InstanceStatus
    public var startedAt: Date?
    public var endedAt: Date?
    /// The resolved arguments that matter (JSON object text).
    public var parameters: String
    /// Input URIs (JSON array text), for lineage.
    public var inputs: String
    /// Output URIs (JSON array text), for lineage.
    public var outputs: String

    public init(executionId: String, stepName: String, instance: Int, status: InstanceStatus, parameters: String, inputs: String, outputs: String) {
        self.executionId = executionId
        self.stepName = stepName
        self.instance = instance
        self.status = status
        self.parameters = parameters
        self.inputs = inputs
        self.outputs = outputs
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A number a run component reported.
public struct MetricRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "metric"

    public var componentId: Int64
    public var name: String
    public var value: Double

    public init(componentId: Int64, name: String, value: Double) {
        self.componentId = componentId
        self.name = name
        self.value = value
    }
}

/// A registered pipeline.
public struct PipelineRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "pipeline"

    public var name: String
    public var description: String?
    /// JSON object text.
    public var tags: String
    public var createdAt: Date
    public var latestVersion: Int
}

/// One version of a registered pipeline's definition.
public struct PipelineVersionRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "pipeline_version"

    public var pipelineName: String
    public var version: Int
    public var definition: String
    /// SHA-256 of the definition's canonical JSON (keys sorted).
    public var digest: String
    public var createdAt: Date
    public var author: String
}
