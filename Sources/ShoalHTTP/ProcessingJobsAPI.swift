import Foundation
import ShoalDefinition
import ShoalEngine
import ShoalStore

/// DescribeProcessingJob and ListProcessingJobs: a pipeline's processing jobs
/// as SageMaker describes them, read from the steps' records (a processing
/// step's properties are its job's description). Shoal's jobs exist only as
/// pipeline steps; StopProcessingJob is refused (stop the execution).
struct ProcessingJobsAPI: Sendable {
    let home: ShoalHome
    typealias Object = [String: Any]

    /// How far back ListProcessingJobs looks.
    static let maxExecutionsScanned = 1_000

    struct Job {
        let description: OrderedFields<JSONValue>
        let step: StepRecord
        let execution: ExecutionRecord

        var name: String { description["ProcessingJobName"].map(ValueRendering.string) ?? "" }

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
            var summary: Object = [
                "ProcessingJobName": name, "ProcessingJobArn": Identifiers.processingJobArn(name), "ProcessingJobStatus": status,
                "CreationTime": (step.startedAt ?? execution.startedAt).timeIntervalSince1970,
                "LastModifiedTime": (step.endedAt ?? step.startedAt ?? execution.startedAt).timeIntervalSince1970,
            ]
            if let ended = step.endedAt { summary["ProcessingEndTime"] = ended.timeIntervalSince1970 }
            if let reason = step.failureReason { summary["FailureReason"] = reason }
            return summary
        }
    }

    func handle(_ operation: String, _ input: Object) throws -> Object {
        switch operation {
        case "DescribeProcessingJob":
            guard let name = input["ProcessingJobName"] as? String else { throw AWSError.validation("ProcessingJobName is required.") }
            guard let job = try find(name) else { throw AWSError.notFound("Could not find requested job with name \(name.prefix(128))") }
            var output = job.summary()
            for (key, value) in job.description.entries where output[key] == nil {
                output[key] = (try? JSONSerialization.jsonObject(with: Data(JSONWriter.string(value).utf8), options: [.fragmentsAllowed])) ?? NSNull()
            }
            if let started = job.step.startedAt { output["ProcessingStartTime"] = started.timeIntervalSince1970 }
            return output
        case "ListProcessingJobs":
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
            var output: Object = ["ProcessingJobSummaries": slice.map { $0.summary() }]
            if let next { output["NextToken"] = next }
            return output
        case "StopProcessingJob":
            throw AWSError.validation("Shoal's processing jobs run as pipeline steps: stop their execution (StopPipelineExecution).")
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
            guard StepType(rawValue: step.type) == .processing, let text = step.properties,
                  case let .object(fields)? = try? JSONParser.parse(text), fields["ProcessingJobName"] != nil
            else { return nil }
            return Job(description: fields, step: step, execution: execution)
        }
    }
}
