import Foundation
import ShoalCluster
import ShoalDefinition
import ShoalRuntime
import ShoalStore

/// Training and Transform steps: planned like a processing job (one task per
/// host). A transform's outputs are committed as a processing job's; training
/// ends by packing /opt/ml/model into model.tar.gz and /opt/ml/output/data into output.tar.gz, and reading the metric definitions' values from the logs.
extension ExecutionRunner {
    func startTraining(_ index: Int, step: Step, arguments: Expression, evaluator: Evaluator) throws {
        let resolved = try evaluator.evaluate(arguments)
        let (limitTable, imageMap) = try jobTables()
        // Local mode's workers are this process's children: every host is this machine.
        let plan = try TrainingJobPlan.make(
            step: step, request: resolved, executionId: executionId, objects: home.objects, limitTable: limitTable, imageMap: imageMap,
            hostsOnThisMachine: options.failWhenNoWorkerFits
        )
        if try reuseCachedRun(index, step: step, type: "Training", arguments: .object(plan.request), attributes: StepCache.trainingAttributes,
                              inputFiles: plan.inputSources) {
            return
        }
        var request = PolicyRequest(action: "shoal:CreateTrainingJob")
        if case let .string(image)? = JSONNavigation.follow([.member("AlgorithmSpecification"), .member("TrainingImage")], in: .object(plan.request)) {
            request.set("shoal:ImageUri", image)
        }
        try launch(index, step: step, plan: plan, policy: request)
    }

    func startTransform(_ index: Int, step: Step, arguments: Expression, evaluator: Evaluator) throws {
        let resolved = try evaluator.evaluate(arguments)
        let (limitTable, imageMap) = try jobTables()
        let plan = try TransformJobPlan.make(step: step, request: resolved, executionId: executionId, home: home, limitTable: limitTable, imageMap: imageMap)
        // The model's files are inputs of every host, its image and environment part of the key.
        var keyed = plan.request
        if let name = plan.request["ModelName"].map(ValueRendering.string), let model = try? home.metadata.model(named: name),
           let container = JSONNavigation.follow([.member("PrimaryContainer")], in: (try? JSONParser.parse(model.request)) ?? .null) {
            keyed["ModelContainer"] = container
        }
        if try reuseCachedRun(index, step: step, type: "Transform", arguments: .object(keyed), attributes: StepCache.transformAttributes,
                              inputFiles: plan.inputSources) {
            return
        }
        try launch(index, step: step, plan: plan, policy: PolicyRequest(action: "shoal:CreateTransformJob"))
    }

    func finishTraining(_ index: Int, plan: ProcessingJobPlan, training: TrainingDetails) throws {
        let run = steps[index]
        let instances = run.completed.map { OutputCommit.StagedInstance(host: $0.key, outcome: $0.value) }
        let folder = home.root.appendingPathComponent("staging/\(executionId)/\(run.node.name)/packed")
        defer { try? FileManager.default.removeItem(atPath: home.root.appendingPathComponent("staging/\(executionId)/\(run.node.name)").path) }
        var written: [S3URI] = []
        do {
            var archives: [(file: String, uri: S3URI)] = []
            for output in plan.outputs {
                let files = try OutputCommit.merged(output.name, instances: instances)
                let archive = folder.appendingPathComponent("\(output.name).tar.gz").path
                try ModelArchive.pack(files, into: archive, scratch: folder.appendingPathComponent(output.name).path)
                archives.append((archive, output.uri))
            }
            for (file, uri) in archives { try home.objects.commit(file: file, to: uri) }
            written = archives.map(\.uri)
        } catch {
            return try end(index, .failed, reason: "\(error)")
        }
        let metrics = finalMetrics(index, plan: plan, definitions: training.metricDefinitions)
        let ended = Date()
        var properties = plan.request
        properties["TrainingJobStatus"] = .string(InstanceStatus.completed.rawValue)
        properties["SecondaryStatus"] = .string(InstanceStatus.completed.rawValue)
        properties["ModelArtifacts"] = .object(["S3ModelArtifacts": .string(plan.outputs[0].uri.description)])
        properties["FinalMetricDataList"] = .array(metrics.map {
            .object(["MetricName": .string($0.name), "Value": .number(.double($0.value)), "Timestamp": .string(Identifiers.timestamp(ended))])
        })
        let started = run.startedAt ?? ended
        properties["CreationTime"] = .string(Identifiers.timestamp(started))
        properties["TrainingStartTime"] = .string(Identifiers.timestamp(started))
        properties["TrainingEndTime"] = .string(Identifiers.timestamp(ended))
        let seconds = JSONValue.number(.int(max(1, Int(ended.timeIntervalSince(started).rounded(.up)))))
        properties["TrainingTimeInSeconds"] = seconds
        properties["BillableTimeInSeconds"] = seconds
        run.properties = .object(properties)
        if let key = run.cacheKey {
            try stepCache.record(step: run.node.name, key: key, executionId: executionId, properties: .object(properties), outputs: written)
        }
        for id in run.componentIds.values where !metrics.isEmpty { try? home.metadata.addMetrics(metrics, toComponent: id) }
        try end(index, .succeeded, reason: nil)
    }

    /// Each metric's last value in the newest attempt's log of algo-1, else of
    /// the first host whose log has it (the last 8 MiB of each log are read).
    func finalMetrics(_ index: Int, plan: ProcessingJobPlan, definitions: [(name: String, regex: NSRegularExpression)]) -> [(name: String, value: Double)] {
        guard !definitions.isEmpty else { return [] }
        let run = steps[index]
        let folder = home.logFile(execution: executionId, step: run.node.name, instance: 1, attempt: 1).deletingLastPathComponent().path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        var logs: [String] = []
        for host in 1...plan.instanceCount {
            let prefix = "algo-\(host)-attempt-"
            let newest = names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".log") }
                .max { (Int($0.dropFirst(prefix.count).dropLast(4)) ?? 0) < (Int($1.dropFirst(prefix.count).dropLast(4)) ?? 0) }
            if let newest { logs.append(LogTail.lastLines(of: folder + "/" + newest, count: Int.max, maxBytes: 8 << 20)) }
        }
        var found: [(name: String, value: Double)] = []
        for (name, regex) in definitions {
            for log in logs {
                let matches = regex.matches(in: log, range: NSRange(log.startIndex..., in: log))
                guard let last = matches.last else { continue }
                let group = last.numberOfRanges > 1 ? last.range(at: 1) : last.range
                if let range = Range(group, in: log), let value = Double(log[range].trimmingCharacters(in: .whitespaces)) {
                    found.append((name, value))
                    break
                }
            }
        }
        return found
    }
}
