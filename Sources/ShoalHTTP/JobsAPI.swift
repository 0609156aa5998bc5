import AWSSignature
import Foundation
import ShoalDefinition
import ShoalEngine
import ShoalStore

/// Describe…Job and List…Jobs for processing, training and transform jobs: a
/// pipeline's jobs as SageMaker describes them, read from the steps' records
/// (a job step's properties are its job's description). Shoal's jobs exist
/// only as pipeline steps; Stop…Job is refused (stop the execution).
struct JobsAPI: Sendable {
    let home: ShoalHome
    let kind: Kind
    typealias Object = [String: Any]

    enum Kind: String, Sendable, CaseIterable {
        case processing = "Processing", training = "Training", transform = "Transform"

        var stepType: StepType {
            switch self {
            case .processing: .processing
            case .training: .training
            case .transform: .transform
            }
        }

        func arn(_ name: String) -> String {
            switch self {
            case .processing: Identifiers.processingJobArn(name)
            case .training: Identifiers.trainingJobArn(name)
            case .transform: Identifiers.transformJobArn(name)
            }
        }

        /// The kind an operation's name is about: `DescribeTrainingJob` → training.
        init?(operation: String) {
            guard let kind = Kind.allCases.first(where: { operation.hasSuffix("\($0.rawValue)Job") || operation.hasSuffix("\($0.rawValue)Jobs") }) else { return nil }
            self = kind
        }
    }

    /// How far back ListProcessingJobs looks.
    static let maxExecutionsScanned = 1_000

    struct Job {
        let description: OrderedFields<JSONValue>
        let step: StepRecord
        let execution: ExecutionRecord
        let kind: Kind

        var name: String { description["\(kind.rawValue)JobName"].map(ValueRendering.string) ?? "" }

        /// SageMaker's job statuses for a step's.
        var status: String {
            switch step.status {
            case .succeeded: "Completed"
            case .failed: "Failed"
            case .stopped, .notRun: "Stopped"
            case .executing where execution.status == .stopping: "Stopping"
            case .pending, .executing: "InProgress"
            }
        }

        func summary() -> Object {
            let prefix = kind.rawValue
            var summary: Object = [
                "\(prefix)JobName": name, "\(prefix)JobArn": kind.arn(name), "\(prefix)JobStatus": status,
                "CreationTime": (step.startedAt ?? execution.startedAt).timeIntervalSince1970,
                "LastModifiedTime": (step.endedAt ?? step.startedAt ?? execution.startedAt).timeIntervalSince1970,
            ]
            if let ended = step.endedAt { summary["\(prefix)EndTime"] = ended.timeIntervalSince1970 }
            if let reason = step.failureReason { summary["FailureReason"] = reason }
            return summary
        }
    }

    func handle(_ operation: String, _ input: Object) throws -> Object {
        let prefix = kind.rawValue
        switch operation {
        case "Describe\(prefix)Job":
            guard let name = input["\(prefix)JobName"] as? String else { throw AWSError.validation("\(prefix)JobName is required.") }
            guard let job = try find(name) else { throw AWSError.notFound("Could not find requested job with name \(name.prefix(128))") }
            var output = job.summary()
            for (key, value) in job.description.entries where output[key] == nil {
                output[key] = (try? JSONSerialization.jsonObject(with: Data(JSONWriter.string(value).utf8), options: [.fragmentsAllowed])) ?? NSNull()
            }
            if let started = job.step.startedAt { output["\(prefix)StartTime"] = started.timeIntervalSince1970 }
            return output
        case "List\(prefix)Jobs":
            let contains = (input["NameContains"] as? String)?.lowercased()
            let status = input["StatusEquals"] as? String
            var jobs: [Job] = []
            for execution in try home.metadata.executions(limit: Self.maxExecutionsScanned) {
                jobs += try self.jobs(of: execution).filter { job in
                    (contains.map { job.name.lowercased().contains($0) } ?? true) && (status.map { job.status == $0 } ?? true)
                }
            }
            jobs.sort { ($0.step.startedAt ?? .distantPast) > ($1.step.startedAt ?? .distantPast) }
            if (input["SortOrder"] as? String) == "Ascending" { jobs.reverse() }
            let (slice, next) = try Page(input).cut(jobs)
            var output: Object = ["\(prefix)JobSummaries": slice.map { $0.summary() }]
            if let next { output["NextToken"] = next }
            return output
        case "Stop\(prefix)Job":
            throw AWSError.validation("Shoal's \(prefix.lowercased()) jobs run as pipeline steps: stop their execution (StopPipelineExecution).")
        default:
            throw AWSError(code: "UnknownOperationException", status: 400, message: "Shoal does not serve SageMaker.\(operation.prefix(64))")
        }
    }

    /// A job by name: `pipelines-<execution>-<step>-<suffix>` names its execution.
    private func find(_ name: String) throws -> Job? {
        let parts = name.split(separator: "-")
        guard parts.count >= 4, parts[0].lowercased() == "pipelines", let execution = try home.metadata.execution(id: String(parts[1]).lowercased()) else { return nil }
        // Names are matched as SageMaker's ARNs write them, without case.
        return try jobs(of: execution).first { $0.name.lowercased() == name.lowercased() }
    }

    private func jobs(of execution: ExecutionRecord) throws -> [Job] {
        try home.metadata.steps(executionId: execution.id).compactMap { step in
            guard StepType(rawValue: step.type) == kind.stepType, let text = step.properties,
                  case let .object(fields)? = try? JSONParser.parse(text), fields["\(kind.rawValue)JobName"] != nil
            else { return nil }
            return Job(description: fields, step: step, execution: execution, kind: kind)
        }
    }
}
