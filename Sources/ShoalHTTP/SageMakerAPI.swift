import AWSSignature
import Foundation
import ShoalCluster
import ShoalDefinition
import ShoalEngine
import ShoalStore

/// SageMaker's pipeline operations (JSON 1.1, `X-Amz-Target: SageMaker.<Op>`),
/// translated: reads from the store, registrations through the engine's
/// registry, and everything that changes an execution as a request to the
/// coordinator's API socket, which decides.
struct SageMakerAPI: Sendable {
    let home: ShoalHome
    /// Clients of the coordinator's API socket.
    let coordinator: CoordinatorClientPool

    typealias Object = [String: Any]

    func handle(_ operation: String, _ input: Object, principal: String) throws -> Object {
        switch operation {
        case "CreatePipeline": return try register(input, update: false, principal: principal)
        case "UpdatePipeline": return try register(input, update: true, principal: principal)
        case "DescribePipeline": return try describePipeline(input)
        case "ListPipelines": return try listPipelines(input)
        case "DeletePipeline":
            let name = try pipelineName(input)
            let token = try requestToken(input)
            do { try PipelineRegistration.delete(name, requestToken: token, in: home) } catch {
                throw AWSError.notFound("Pipeline '\(Identifiers.pipelineArn(name))' does not exist.")
            }
            return ["PipelineArn": Identifiers.pipelineArn(name)]
        case "ListTags": return ["Tags": try pipelineTags(input).map { ["Key": $0.key, "Value": $0.value] }]
        case "AddTags": return try addTags(input)
        case "StartPipelineExecution": return try start(input, principal: principal)
        case "DescribePipelineExecution": return try describeExecution(input)
        case "ListPipelineExecutions": return try listExecutions(input)
        case "ListPipelineExecutionSteps": return try listSteps(input)
        case "ListPipelineParametersForExecution":
            let execution = try executionRecord(input)
            var parameters = OrderedFields<JSONValue>()
            if case let .object(fields)? = try? JSONParser.parse(execution.parameters) { parameters = fields }
            return ["PipelineParameters": parameters.entries.map { ["Name": $0.key, "Value": ValueRendering.string($0.value)] }]
        case "DescribePipelineDefinitionForExecution":
            let execution = try executionRecord(input)
            return ["PipelineDefinition": execution.definition, "CreationTime": execution.startedAt.timeIntervalSince1970]
        case "StopPipelineExecution":
            let execution = try executionRecord(input)
            _ = try ask(.stop(executionId: execution.id, clientToken: try requestToken(input)))
            return ["PipelineExecutionArn": Identifiers.executionArn(execution.pipelineName, execution.id)]
        case "RetryPipelineExecution":
            let execution = try executionRecord(input)
            _ = try ask(.retry(executionId: execution.id, clientToken: try requestToken(input)))
            return ["PipelineExecutionArn": Identifiers.executionArn(execution.pipelineName, execution.id)]
        case "SendPipelineExecutionStepSuccess", "SendPipelineExecutionStepFailure":
            guard let token = input["CallbackToken"] as? String else { throw AWSError.validation("CallbackToken is required.") }
            var outputs: [String: String] = [:]
            for parameter in input["OutputParameters"] as? [Object] ?? [] {
                guard let name = parameter["Name"] as? String, let value = parameter["Value"] as? String else {
                    throw AWSError.validation("Each OutputParameters entry needs a Name and a Value.")
                }
                outputs[name] = value
            }
            let succeeded = operation.hasSuffix("Success")
            let answer = ApiMessage.CallbackAnswer(token: token, succeeded: succeeded, outputs: outputs, reason: input["FailureReason"] as? String,
                                                   clientToken: try requestToken(input))
            guard case let .execution(status) = try ask(.callback(answer)) else { throw AWSError(code: "InternalFailure", status: 500, message: "unexpected reply") }
            let pipeline = try home.metadata.execution(id: status.executionId)?.pipelineName ?? ""
            return ["PipelineExecutionArn": Identifiers.executionArn(pipeline, status.executionId)]
        case "CreateModelPackageGroup", "DescribeModelPackageGroup", "ListModelPackageGroups", "CreateModelPackage", "ListModelPackages",
             "DescribeModelPackage", "UpdateModelPackage", "CreateModel", "DescribeModel", "ListModels":
            return try ModelRegistryAPI(home: home).handle(operation, input)
        case _ where ExperimentsAPI.operations.contains(operation):
            return try ExperimentsAPI(home: home).handle(operation, input)
        case "DescribeProcessingJob", "ListProcessingJobs", "StopProcessingJob", "DescribeTrainingJob", "ListTrainingJobs", "StopTrainingJob",
             "DescribeTransformJob", "ListTransformJobs", "StopTransformJob":
            guard let kind = JobsAPI.Kind(operation: operation) else { throw AWSError.validation("Shoal does not serve SageMaker.\(operation)") }
            return try JobsAPI(home: home, kind: kind).handle(operation, input)
        default:
            throw AWSError(code: "UnknownOperationException", status: 400, message: "Shoal does not implement SageMaker.\(operation) yet.")
        }
    }

    // MARK: Pipelines

    private func pipelineName(_ input: Object) throws -> String {
        guard let given = input["PipelineName"] as? String, !given.isEmpty else { throw AWSError.validation("PipelineName is required.") }
        // An ARN names the pipeline in lower case; the registry keeps names as created.
        guard given.hasPrefix("arn:") else { return given }
        let wanted = String(given.split(separator: "/").last ?? "")
        return (try? home.metadata.pipelines().first { $0.name.lowercased() == wanted }?.name) ?? wanted
    }

    private func register(_ input: Object, update: Bool, principal: String) throws -> Object {
        let name = try pipelineName(input)
        let definition: Data
        if let text = input["PipelineDefinition"] as? String {
            definition = Data(text.utf8)
        } else if let location = input["PipelineDefinitionS3Location"] as? Object, let bucket = location["Bucket"] as? String, let key = location["ObjectKey"] as? String {
            do {
                definition = try home.objects.read(try S3URI("s3://\(bucket)/\(key)"), maxBytes: 1 << 20)
            } catch {
                throw AWSError.validation("PipelineDefinitionS3Location: \(error)")
            }
        } else {
            throw AWSError.validation("Give PipelineDefinition or PipelineDefinitionS3Location.")
        }
        let tags = (input["Tags"] as? [Object])?.compactMap { tag -> (key: String, value: String)? in
            guard let key = tag["Key"] as? String else { return nil }
            return (key, tag["Value"] as? String ?? "")
        }
        let token = try requestToken(input)
        if let token, let version = try PipelineRegistration.version(of: name, registeredBy: token, update: update, in: home) {
            return ["PipelineArn": Identifiers.pipelineArn(name), "PipelineVersionId": version]
        }
        if !update, try home.metadata.pipeline(named: name) != nil {
            throw AWSError.validation("Pipeline names must be unique within an AWS account and region. Pipeline with name (\(name)) already exists.")
        }
        if update, try home.metadata.pipeline(named: name) == nil {
            throw AWSError.notFound("Pipeline '\(Identifiers.pipelineArn(name))' does not exist.")
        }
        let change: MetadataStore.RegistryChange
        do {
            change = try PipelineRegistration.register(
                name: name, definition: definition, source: "PipelineDefinition", description: input["PipelineDescription"] as? String,
                tags: tags, author: principal, update: update, requestToken: token, in: home
            )
        } catch let refused as PipelineRegistration.Refused {
            throw AWSError.validation(refused.problems.prefix(20).joined(separator: "\n"))
        }
        var output: Object = ["PipelineArn": Identifiers.pipelineArn(name)]
        switch change {
        case let .created(version), let .newVersion(version), let .unchanged(version): output["PipelineVersionId"] = version
        }
        return output
    }

    private func describePipeline(_ input: Object) throws -> Object {
        let name = try pipelineName(input)
        guard let pipeline = try home.metadata.pipeline(named: name) else {
            throw AWSError.notFound("Pipeline '\(Identifiers.pipelineArn(name))' does not exist.")
        }
        let version = try home.metadata.pipelineVersion(name, version: input["PipelineVersionId"] as? Int)
        var output: Object = [
            "PipelineArn": Identifiers.pipelineArn(name), "PipelineName": name, "PipelineDisplayName": name,
            "PipelineDefinition": version.definition, "PipelineStatus": "Active", "PipelineVersionId": version.version,
            "CreationTime": pipeline.createdAt.timeIntervalSince1970, "LastModifiedTime": version.createdAt.timeIntervalSince1970,
        ]
        if let description = pipeline.description { output["PipelineDescription"] = description }
        return output
    }

    private func listPipelines(_ input: Object) throws -> Object {
        let prefix = input["PipelineNamePrefix"] as? String ?? ""
        let page = try Page(input)
        let pipelines = try home.metadata.pipelines().filter { $0.name.hasPrefix(prefix) }
        let (slice, next) = page.cut(pipelines)
        var output: Object = ["PipelineSummaries": slice.map { pipeline -> Object in
            ["PipelineArn": Identifiers.pipelineArn(pipeline.name), "PipelineName": pipeline.name, "PipelineDisplayName": pipeline.name,
             "CreationTime": pipeline.createdAt.timeIntervalSince1970]
        }]
        if let next { output["NextToken"] = next }
        return output
    }

    private func pipelineTags(_ input: Object) throws -> [(key: String, value: String)] {
        guard let arn = input["ResourceArn"] as? String else { throw AWSError.validation("ResourceArn is required.") }
        let name = try pipelineName(["PipelineName": arn])
        guard let pipeline = try home.metadata.pipeline(named: name) else { throw AWSError.notFound("Resource '\(arn)' does not exist.") }
        guard case let .object(tags)? = try? JSONParser.parse(pipeline.tags) else { return [] }
        return tags.entries.map { ($0.key, ValueRendering.string($0.value)) }
    }

    private func addTags(_ input: Object) throws -> Object {
        guard let arn = input["ResourceArn"] as? String else { throw AWSError.validation("ResourceArn is required.") }
        var tags = OrderedFields<JSONValue>(try pipelineTags(input).map { ($0.key, JSONValue.string($0.value)) })
        for tag in input["Tags"] as? [Object] ?? [] {
            guard let key = tag["Key"] as? String else { continue }
            tags[key] = .string(tag["Value"] as? String ?? "")
        }
        try home.metadata.setPipelineTags(try pipelineName(["PipelineName": arn]), tags: JSONWriter.string(.object(tags)))
        return ["Tags": tags.entries.map { ["Key": $0.key, "Value": ValueRendering.string($0.value)] }]
    }

    // MARK: Executions

    private func start(_ input: Object, principal: String) throws -> Object {
        let name = try pipelineName(input)
        guard try home.metadata.pipeline(named: name) != nil else {
            throw AWSError.notFound("Pipeline '\(Identifiers.pipelineArn(name))' does not exist.")
        }
        var parameters: [(String, String)] = []
        for parameter in input["PipelineParameters"] as? [Object] ?? [] {
            guard let key = parameter["Name"] as? String, let value = parameter["Value"] as? String else {
                throw AWSError.validation("Each PipelineParameters entry needs a Name and a Value (a string).")
            }
            parameters.append((key, value))
        }
        var submission = ApiMessage.Submission(
            definition: "", pipelineName: name, parameters: parameters, tags: [],
            maxParallelSteps: (input["ParallelismConfiguration"] as? Object)?["MaxParallelExecutionSteps"] as? Int, registered: name
        )
        // Started from inside a running execution (its jobs' and handlers' key pair): that execution is the parent.
        if principal.hasPrefix(ExecutionCredentials.principalPrefix) {
            submission.parentExecutionId = String(principal.dropFirst(ExecutionCredentials.principalPrefix.count))
        }
        if let token = try requestToken(input) { submission.clientToken = name + "/" + token }
        if let selective = input["SelectiveExecutionConfig"] as? Object {
            guard let source = selective["SourcePipelineExecutionArn"] as? String else {
                throw AWSError.validation("SelectiveExecutionConfig.SourcePipelineExecutionArn is required.")
            }
            submission.sourceExecutionId = String(source.split(separator: "/").last ?? "")
            submission.selectedSteps = (selective["SelectedSteps"] as? [Object] ?? []).compactMap { $0["StepName"] as? String }
        }
        guard case let .submitted(id) = try ask(.submit(submission)) else { throw AWSError(code: "InternalFailure", status: 500, message: "unexpected reply") }
        return ["PipelineExecutionArn": Identifiers.executionArn(name, id)]
    }

    /// ClientRequestToken, which makes a request safe to send again.
    private func requestToken(_ input: Object) throws -> String? {
        guard let value = input["ClientRequestToken"] else { return nil }
        guard let token = value as? String, (32...128).contains(token.count) else { throw AWSError.validation("ClientRequestToken has 32 to 128 characters.") }
        return token
    }

    private func executionRecord(_ input: Object) throws -> ExecutionRecord {
        guard let arn = input["PipelineExecutionArn"] as? String, let id = arn.split(separator: "/").last else {
            throw AWSError.validation("PipelineExecutionArn is required.")
        }
        guard let execution = try home.metadata.execution(id: String(id)) else {
            throw AWSError.notFound("Pipeline execution '\(arn)' does not exist.")
        }
        return execution
    }

    private func describeExecution(_ input: Object) throws -> Object {
        let execution = try executionRecord(input)
        var output: Object = [
            "PipelineArn": Identifiers.pipelineArn(execution.pipelineName),
            "PipelineExecutionArn": Identifiers.executionArn(execution.pipelineName, execution.id),
            "PipelineExecutionDisplayName": "execution-\(execution.id)", "PipelineExecutionStatus": execution.status.rawValue,
            "CreationTime": execution.startedAt.timeIntervalSince1970,
            "LastModifiedTime": (execution.endedAt ?? execution.startedAt).timeIntervalSince1970,
        ]
        if let reason = execution.failureReason { output["FailureReason"] = reason }
        if let version = execution.pipelineVersion { output["PipelineVersionId"] = version }
        if let experiment = execution.experimentName {
            output["PipelineExperimentConfig"] = ["ExperimentName": experiment, "TrialName": execution.trialName ?? execution.id]
        }
        return output
    }

    private func listExecutions(_ input: Object) throws -> Object {
        let name = try pipelineName(input)
        let page = try Page(input)
        let executions = try home.metadata.executions(limit: 10_000).filter { $0.pipelineName == name }
        let (slice, next) = page.cut(executions)
        var output: Object = ["PipelineExecutionSummaries": slice.map { execution -> Object in
            var summary: Object = [
                "PipelineExecutionArn": Identifiers.executionArn(execution.pipelineName, execution.id), "StartTime": execution.startedAt.timeIntervalSince1970,
                "PipelineExecutionStatus": execution.status.rawValue, "PipelineExecutionDisplayName": "execution-\(execution.id)",
            ]
            if let reason = execution.failureReason { summary["PipelineExecutionFailureReason"] = reason }
            return summary
        }]
        if let next { output["NextToken"] = next }
        return output
    }

    private func listSteps(_ input: Object) throws -> Object {
        let execution = try executionRecord(input)
        // As SageMaker lists them: the steps that started, the latest first.
        let steps = try home.metadata.steps(executionId: execution.id).filter { $0.startedAt != nil }
            .sorted { ($0.startedAt ?? .distantPast) > ($1.startedAt ?? .distantPast) }
        let page = try Page(input)
        let (slice, next) = page.cut(steps)
        var output: Object = ["PipelineExecutionSteps": try slice.map { try stepSummary($0, execution: execution) }]
        if let next { output["NextToken"] = next }
        return output
    }

    private func stepSummary(_ step: StepRecord, execution: ExecutionRecord) throws -> Object {
        var summary: Object = ["StepName": step.name, "StepStatus": step.status.rawValue, "AttemptCount": step.attempts]
        if let started = step.startedAt { summary["StartTime"] = started.timeIntervalSince1970 }
        if let ended = step.endedAt { summary["EndTime"] = ended.timeIntervalSince1970 }
        if let reason = step.failureReason { summary["FailureReason"] = reason }
        if let source = step.cacheSourceExecutionId {
            summary["CacheHitResult"] = ["SourcePipelineExecutionArn": Identifiers.executionArn(execution.pipelineName, source)]
        }
        let properties = step.properties.flatMap { try? JSONParser.parse($0) }
        var fields = OrderedFields<JSONValue>()
        if case let .object(object)? = properties { fields = object }
        func text(_ key: String) -> String? { fields[key].map(ValueRendering.string) }
        func outputs() -> [Object] {
            guard case let .object(values)? = fields["OutputParameters"] else { return [] }
            return values.entries.map { ["Name": $0.key, "Value": ValueRendering.string($0.value)] }
        }
        switch StepType(rawValue: step.type) {
        case .processing?: if let arn = text("ProcessingJobArn") { summary["Metadata"] = ["ProcessingJob": ["Arn": arn]] }
        case .training?: if let arn = text("TrainingJobArn") { summary["Metadata"] = ["TrainingJob": ["Arn": arn]] }
        case .transform?: if let arn = text("TransformJobArn") { summary["Metadata"] = ["TransformJob": ["Arn": arn]] }
        case .model?, .createModel?: if let arn = text("ModelArn") { summary["Metadata"] = ["Model": ["Arn": arn]] }
        case .registerModel?: if let arn = text("ModelPackageArn") { summary["Metadata"] = ["RegisterModel": ["Arn": arn]] }
        case .lambda?: summary["Metadata"] = ["Lambda": ["Arn": text("FunctionArn") ?? "", "OutputParameters": outputs()]]
        case .condition?: if let outcome = text("Outcome") { summary["Metadata"] = ["Condition": ["Outcome": outcome]] }
        case .fail?: summary["Metadata"] = ["Fail": ["ErrorMessage": step.failureReason ?? ""]]
        case .callback?:
            let callback = try home.metadata.callback(executionId: execution.id, stepName: step.name)
            var metadata: Object = ["OutputParameters": outputs()]
            if let callback {
                metadata["CallbackToken"] = callback.token
                if let queue = callback.queueUrl { metadata["SqsQueueUrl"] = queue }
            }
            summary["Metadata"] = ["Callback": metadata]
        default: break
        }
        return summary
    }

    // MARK: The coordinator

    /// One request to the coordinator's API socket; a refusal becomes the error SageMaker would give.
    private func ask(_ message: ApiMessage) throws -> ApiMessage {
        do {
            return try coordinator.request(message)
        } catch let refused as CoordinatorClient.Refused {
            let text = refused.description
            if text.contains("no execution") || text.contains("no callback") || text.contains("no pipeline") { throw AWSError.notFound(text) }
            if text.contains("already used") || text.contains("is not running") || text.contains("only a Failed or Stopped") { throw AWSError.conflict(text) }
            throw AWSError.validation(text)
        } catch let error as AWSError {
            throw error
        } catch {
            throw AWSError(code: "ServiceUnavailable", status: 503, message: "the coordinator did not answer: \(error)")
        }
    }
}

/// `MaxResults` and `NextToken` (an offset, as text) over a listing.
struct Page {
    let offset: Int
    let size: Int

    init(_ input: [String: Any]) throws {
        size = min(max(input["MaxResults"] as? Int ?? 50, 1), 100)
        if let token = input["NextToken"] as? String {
            guard let offset = Int(token), offset >= 0 else { throw AWSError.validation("NextToken '\(token.prefix(64))' is not one Shoal gave.") }
            self.offset = offset
        } else {
            offset = 0
        }
    }

    func cut<T>(_ items: [T]) -> ([T], String?) {
        let slice = Array(items.dropFirst(offset).prefix(size))
        return (slice, offset + size < items.count ? String(offset + size) : nil)
    }
}
