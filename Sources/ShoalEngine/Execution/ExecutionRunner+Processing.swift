import Foundation
import ShoalCluster
import ShoalDefinition
import ShoalRuntime
import ShoalStore

/// Processing steps: the job planned, authorized and handed out one task per
/// instance; outputs committed when every instance succeeded.
extension ExecutionRunner {
    func startProcessing(_ index: Int, step: Step, arguments: ProcessingArguments, evaluator: Evaluator) throws {
        let (limitTable, imageMap) = try jobTables()
        let plan = try ProcessingJobPlan.make(
            step: step, arguments: arguments, executionId: executionId, evaluator: evaluator, objects: home.objects, limitTable: limitTable, imageMap: imageMap
        )
        if try reuseCachedRun(index, step: step, type: "Processing", arguments: .object(plan.request), attributes: StepCache.processingAttributes,
                              inputFiles: plan.inputSources) {
            return
        }
        var request = PolicyRequest(action: "shoal:CreateProcessingJob")
        if case let .string(image)? = JSONNavigation.follow([.member("AppSpecification"), .member("ImageUri")], in: .object(plan.request)) {
            request.set("shoal:ImageUri", image)
        }
        try launch(index, step: step, plan: plan, policy: request)
    }

    /// Authorizes a planned job (processing or training) and hands its instances to workers.
    func launch(_ index: Int, step: Step, plan: ProcessingJobPlan, policy: PolicyRequest) throws {
        var request = policy
        request.set("shoal:InstanceType", plan.instanceType)
        request.set("shoal:InstanceCount", String(plan.instanceCount))
        request.set("shoal:NetworkIsolation", plan.specs.first?.networkIsolation == true ? "true" : "false")
        if let subnets = plan.requirements["subnet"] { request.set("shoal:VpcSubnets", subnets) }
        if let groups = plan.requirements["security-group"] { request.set("shoal:VpcSecurityGroupIds", groups) }
        request.set("shoal:MaxRuntimeInSeconds", String(plan.specs.first?.maxRuntimeSeconds ?? 0))
        try authorizeJob(&request, step: step, stepTags: plan.tags)
        let run = steps[index]
        run.plan = plan
        for note in plan.notes {
            if let failure = appendLog(index, instance: 1, attempt: run.attemptBase + 1, "shoal: \(note)\n") { throw EvaluationError(failure.description) }
        }
        guard !options.failWhenNoWorkerFits || dispatcher.canPlace(plan.requirements) else {
            let wanted = plan.requirements.sorted { $0.key < $1.key }.map { key, values in values.map { "\(key)=\($0)" }.joined(separator: " or ") }
            throw EvaluationError("No worker carries the labels this step needs (\(wanted.joined(separator: "; and "))), which come from its VpcConfig; start workers with --labels.")
        }
        let reach = try endpointEnvironment()
        // A network-isolated job cannot reach the endpoint, as on SageMaker: it gets no address or keys.
        let specs = plan.specs.map { spec -> ProcessingInstanceSpec in
            guard !spec.networkIsolation, !reach.isEmpty else { return spec }
            var spec = spec
            spec.environment = reach.merging(spec.environment) { _, own in own }
            // Under TLS the job finds the endpoint's certificates in its own instance folder.
            if let pem = options.endpointCABundle {
                spec.environment["AWS_CA_BUNDLE"] = JobSandbox.endpointCABundlePath
                spec.configFiles = (spec.configFiles ?? [:]).merging([JobSandbox.endpointCABundlePath: pem]) { _, new in new }
            }
            return spec
        }
        try submit(
            index, specs.map { spec in (spec.host, Task.processing(spec: spec, outputStaging: ""), TaskKind.processing(host: spec.host)) },
            requirements: plan.requirements
        )
        // Instances a resumed step took back as they completed may have ended it already.
        if state.statuses[index] == .executing { progress(.instances(step: run.node.name, done: run.completed.count, total: plan.instanceCount)) }
    }

    /// The home's instance limit table and image map, read afresh for each job (both can change between runs).
    func jobTables() throws(EvaluationError) -> (InstanceLimitTable, ImageMap) {
        let limits: InstanceLimitTable, images: ImageMap
        do { limits = try InstanceLimitTable.load(for: home) } catch { throw EvaluationError(error.description) }
        do { images = try ImageMap.load(for: home) } catch { throw EvaluationError(error.description) }
        return (limits, images)
    }

    /// The endpoint's address and this execution's key pair, for jobs and
    /// handlers (boto3 in them reaches Shoal as this execution); empty without an endpoint.
    func endpointEnvironment() throws -> [String: String] {
        guard let url = options.endpointURL else { return [:] }
        do { return try ExecutionCredentials(home: home).environment(executionId: executionId, endpointURL: url) } catch {
            throw EvaluationError("cannot give the job the endpoint's keys: \(error)")
        }
    }

    /// What a Lambda invocation carries to reach the endpoint (nil without one):
    /// under TLS also the certificates, which the handler's shim writes to a file for AWS_CA_BUNDLE.
    func handlerEnvironment() throws -> [String: String]? {
        var reach = try endpointEnvironment()
        guard !reach.isEmpty else { return nil }
        if let pem = options.endpointCABundle { reach[FunctionProcess.caBundleVariable] = pem }
        return reach
    }

    /// Evaluates the policy for a job about to start; a denial fails the step before anything starts.
    func authorizeJob(_ request: inout PolicyRequest, step: Step, stepTags: [(key: String, value: String)] = []) throws {
        guard let policy = options.policy else { return }
        request.set("shoal:PipelineName", options.pipelineName)
        request.set("shoal:StepName", step.name)
        request.setTags(Tags.merge(options.tags, stepTags))
        if let statement = policy.denial(of: request) { throw EvaluationError(policy.reason(statement, request)) }
    }

    func stagingFolder(_ index: Int, host: Int, attempt: Int) -> String {
        stagingFolder(step: steps[index].node.name, host: host, attempt: attempt)
    }

    func stagingFolder(step: String, host: Int, attempt: Int) -> String {
        home.root.appendingPathComponent("staging/\(executionId)/\(step)/algo-\(host)-attempt-\(attempt)").path
    }

    /// The id of a processing instance's tasks (an attempt adds its number in the key).
    func instanceTaskId(step: String, host: Int) -> String { "\(executionId)/\(step)/algo-\(host)" }

    func finishInstance(_ index: Int, host: Int, outcome: InstanceOutcome) throws {
        let run = steps[index]
        guard let plan = run.plan else { return }
        if outcome.status == .failed {
            let reason = "algo-\(host): " + (outcome.failureReason ?? "failed")
            return try end(index, .failed, reason: plan.instanceCount == 1 ? (outcome.failureReason ?? "failed") : reason)
        }
        run.completed[host] = outcome
        progress(.instances(step: run.node.name, done: run.completed.count, total: plan.instanceCount))
        guard run.completed.count == plan.instanceCount else { return }
        if let training = plan.training { return try finishTraining(index, plan: plan, training: training) }
        let written: [S3URI]
        do {
            written = try OutputCommit.commit(
                outputs: plan.outputs, instances: run.completed.map { OutputCommit.StagedInstance(host: $0.key, outcome: $0.value) },
                into: home.objects
            )
        } catch {
            return try end(index, .failed, reason: "\(error)")
        }
        var properties = plan.request
        let kind = plan.isTransform ? "Transform" : "Processing"
        properties["\(kind)JobStatus"] = .string(InstanceStatus.completed.rawValue)
        if let message = run.completed[1]?.exitMessage { properties["ExitMessage"] = .string(message) }
        properties["\(kind)StartTime"] = .string(Identifiers.timestamp(run.startedAt ?? Date()))
        properties["\(kind)EndTime"] = .string(Identifiers.timestamp(Date()))
        properties["CreationTime"] = .string(Identifiers.timestamp(run.startedAt ?? Date()))
        run.properties = .object(properties)
        if let key = run.cacheKey {
            try stepCache.record(step: run.node.name, key: key, executionId: executionId, properties: .object(properties), outputs: written)
        }
        recordPropertyFileMetrics(index)
        try? FileManager.default.removeItem(atPath: home.root.appendingPathComponent("staging/\(executionId)/\(run.node.name)").path)
        try end(index, .succeeded, reason: nil)
    }
}
