import Foundation
import ShoalDefinition
import ShoalRuntime
import ShoalStore

/// Where a training job's artifacts go and what its log is searched for.
struct TrainingDetails {
    /// `<S3OutputPath>/<job name>/output/`: model.tar.gz and output.tar.gz.
    let outputPrefix: S3URI
    let metricDefinitions: [(name: String, regex: NSRegularExpression)]
}

/// A Training step (the CreateTrainingJob request, every expression resolved)
/// as instances to run: channels under /opt/ml/input/data/<channel>, the
/// container contract's config files, and SageMaker's script mode for the
/// framework images (`sagemaker_program`, `sagemaker_submit_directory`, SM_*).
enum TrainingJobPlan {
    static func make(
        step: Step, request resolved: JSONValue, executionId: String, objects: ObjectStore, limitTable: InstanceLimitTable, imageMap: ImageMap,
        hostsOnThisMachine: Bool
    ) throws(EvaluationError) -> ProcessingJobPlan {
        guard case let .object(request) = resolved else { throw EvaluationError("The Training step's Arguments must be an object.") }
        func at(_ path: String...) -> JSONValue? { JSONNavigation.follow(path.map { .member($0) }, in: resolved) }
        func text(_ value: JSONValue?) -> String? { value.map(ValueRendering.string) }
        func strings(_ value: JSONValue?, _ what: String) throws(EvaluationError) -> [String]? {
            guard let value else { return nil }
            guard case let .array(items) = value else { throw EvaluationError("\(what) must be a list of strings.") }
            return items.map(ValueRendering.string)
        }
        let jobName = Identifiers.jobName(execution: executionId, step: step.name)
        var notes: [String] = []

        guard let image = text(at("AlgorithmSpecification", "TrainingImage")) else {
            if at("AlgorithmSpecification", "AlgorithmName") != nil {
                throw EvaluationError("AlgorithmSpecification.AlgorithmName: Shoal runs training images, not algorithm resources; name a TrainingImage.")
            }
            throw EvaluationError("AlgorithmSpecification.TrainingImage is missing.")
        }
        var runtime: JobRuntime
        do { runtime = try imageMap.runtime(for: image) } catch { throw EvaluationError("AlgorithmSpecification.TrainingImage: \(error.description)") }
        let inputMode = text(at("AlgorithmSpecification", "TrainingInputMode")) ?? "File"
        if inputMode != "File" { notes.append("TrainingInputMode \(inputMode) is run as File mode") }
        guard at("ResourceConfig", "InstanceGroups") == nil else { throw EvaluationError("ResourceConfig.InstanceGroups (heterogeneous clusters) is not supported; use InstanceCount and InstanceType.") }
        guard let countValue = at("ResourceConfig", "InstanceCount") else { throw EvaluationError("ResourceConfig.InstanceCount is missing.") }
        let instanceCount = try ValueRendering.integer(countValue, "ResourceConfig.InstanceCount")
        guard Limits.instanceCount.contains(instanceCount) else { throw EvaluationError("ResourceConfig.InstanceCount must be between 1 and 100; got \(instanceCount).") }
        let instanceType = text(at("ResourceConfig", "InstanceType")) ?? "ml.m5.large"
        let maxRuntime = try at("StoppingCondition", "MaxRuntimeInSeconds")
            .map { v throws(EvaluationError) in try ValueRendering.integer(v, "StoppingCondition.MaxRuntimeInSeconds") } ?? ProcessingJobPlan.defaultMaxRuntimeSeconds
        guard let outputText = text(at("OutputDataConfig", "S3OutputPath")) else { throw EvaluationError("OutputDataConfig.S3OutputPath is missing.") }
        let outputPrefix: S3URI
        do {
            let base = try S3URI(outputText)
            outputPrefix = try S3URI("s3://\(base.bucket)/" + (base.key.isEmpty ? "" : base.key.hasSuffix("/") ? base.key : base.key + "/") + "\(jobName)/output/")
        } catch { throw EvaluationError("OutputDataConfig.S3OutputPath: \(error)") }

        var metrics: [(name: String, regex: NSRegularExpression)] = []
        if case let .array(definitions)? = at("AlgorithmSpecification", "MetricDefinitions") {
            for (index, definition) in definitions.enumerated() {
                guard let name = text(JSONNavigation.follow([.member("Name")], in: definition)),
                      let pattern = text(JSONNavigation.follow([.member("Regex")], in: definition))
                else { throw EvaluationError("AlgorithmSpecification.MetricDefinitions[\(index)] needs Name and Regex.") }
                do { metrics.append((name, try NSRegularExpression(pattern: pattern))) } catch {
                    throw EvaluationError("AlgorithmSpecification.MetricDefinitions[\(index)] ('\(name)'): the Regex '\(pattern)' is not a regular expression.")
                }
            }
        }

        // Hyperparameters are strings; the SDK writes framework ones as JSON text ("\"train.py\"").
        var hyperparameters = OrderedFields<JSONValue>()
        if case let .object(given)? = at("HyperParameters") {
            for (key, value) in given.entries { hyperparameters[key] = .string(ValueRendering.string(value)) }
        }
        func decoded(_ key: String) -> JSONValue? {
            guard case let .string(raw)? = hyperparameters[key] else { return nil }
            return (try? JSONParser.parse(raw)) ?? .string(raw)
        }
        let program = decoded("sagemaker_program").map(ValueRendering.string)
        let submitDirectory = decoded("sagemaker_submit_directory").map(ValueRendering.string)
        var userHyperparameters = OrderedFields<JSONValue>()
        for (key, _) in hyperparameters.entries where !key.hasPrefix("sagemaker_") { userHyperparameters[key] = decoded(key) }

        // Channels, each dealt to hosts like a processing input.
        var inputsPerHost = Array(repeating: [ProcessingInstanceSpec.Input](), count: instanceCount)
        var channels: [String] = []
        var channelConfig = OrderedFields<JSONValue>()
        if case let .array(entries)? = at("InputDataConfig") {
            for (index, entry) in entries.enumerated() {
                guard let name = text(JSONNavigation.follow([.member("ChannelName")], in: entry)), !name.isEmpty,
                      !name.contains("/"), name != ".", name != ".."
                else { throw EvaluationError("InputDataConfig[\(index)].ChannelName is missing or not a plain name.") }
                guard let source = JSONNavigation.follow([.member("DataSource"), .member("S3DataSource")], in: entry),
                      let uri = text(JSONNavigation.follow([.member("S3Uri")], in: source))
                else { throw EvaluationError("Channel '\(name)': only DataSource.S3DataSource is supported (with an S3Uri).") }
                let dataType = text(JSONNavigation.follow([.member("S3DataType")], in: source)) ?? "S3Prefix"
                let distribution = text(JSONNavigation.follow([.member("S3DataDistributionType")], in: source)) ?? "FullyReplicated"
                let files = try ProcessingJobPlan.listInput(name: name, uri: uri, dataType: dataType, objects: objects)
                let shares = distribution == "ShardedByS3Key" ? ShardAssignment.deal(files, among: instanceCount) : Array(repeating: files, count: instanceCount)
                for host in 0..<instanceCount {
                    inputsPerHost[host].append(.init(name: name, localPath: "/opt/ml/input/data/\(name)", files: shares[host]))
                }
                channels.append(name)
                var config: OrderedFields<JSONValue> = ["TrainingInputMode": .string(inputMode), "S3DistributionType": .string(distribution), "RecordWrapperType": "None"]
                if let type = text(JSONNavigation.follow([.member("ContentType")], in: entry)) { config["ContentType"] = .string(type) }
                channelConfig[name] = .object(config)
            }
        }
        if let submitDirectory {
            guard submitDirectory.hasPrefix("s3://") else {
                throw EvaluationError("HyperParameters.sagemaker_submit_directory '\(submitDirectory)' must be an s3:// URI (the SDK uploads the source directory there).")
            }
            let code = try ProcessingJobPlan.stagedObject(
                submitDirectory, as: ScriptMode.archiveName, name: "HyperParameters.sagemaker_submit_directory", folder: ScriptMode.archiveFolder, objects: objects
            )
            for host in 0..<instanceCount { inputsPerHost[host].append(code) }
            if case .python = runtime, let archive = code.files.first {
                runtime = SourceRequirements.runtime(runtime, adding: try SourceRequirements.read(archive: archive.source, name: "HyperParameters.sagemaker_submit_directory"))
            }
        }

        let command: [String]
        var imageArguments: [String]?
        if let entrypoint = try strings(at("AlgorithmSpecification", "ContainerEntrypoint"), "AlgorithmSpecification.ContainerEntrypoint"), !entrypoint.isEmpty {
            command = entrypoint + (try strings(at("AlgorithmSpecification", "ContainerArguments"), "AlgorithmSpecification.ContainerArguments") ?? [])
        } else if case .oci = runtime {
            // The container's own entrypoint, as SageMaker starts it: `docker run IMAGE train`
            // (a framework image does script mode itself, from the same hyperparameters and SM_*).
            command = []
            imageArguments = ["train"]
        } else if program != nil {
            command = ["python3", "-c", ScriptMode.launcher]
        } else {
            // What SageMaker runs in an image of one's own: `docker run IMAGE train`.
            command = ["train"]
        }

        var environment: [String: String] = [:]
        if case let .object(given)? = at("Environment") { for (key, value) in given.entries { environment[key] = ValueRendering.string(value) } }
        let hosts = (1...instanceCount).map { "algo-\($0)" }
        var requirements: [String: [String]] = [:]
        if let subnets = try strings(at("VpcConfig", "Subnets"), "VpcConfig.Subnets"), !subnets.isEmpty { requirements["subnet"] = subnets }
        if let groups = try strings(at("VpcConfig", "SecurityGroupIds"), "VpcConfig.SecurityGroupIds"), !groups.isEmpty { requirements["security-group"] = groups }
        let isolation = try at("EnableNetworkIsolation").map { v throws(EvaluationError) in try ValueRendering.boolean(v, "EnableNetworkIsolation") } ?? false
        if instanceCount > 1 && !hostsOnThisMachine {
            notes.append("the hosts algo-1…algo-\(instanceCount) resolve by name only when every worker is on one machine (shoal run, shoal serve); across a cluster they do not yet")
        }
        if instanceCount > 1 && isolation {
            notes.append("with EnableNetworkIsolation each host has a network of its own: the hosts of this job cannot reach each other")
        }

        var tags: [(key: String, value: String)] = []
        if case let .array(items)? = at("Tags") {
            for item in items {
                tags.append((text(JSONNavigation.follow([.member("Key")], in: item)) ?? "", text(JSONNavigation.follow([.member("Value")], in: item)) ?? ""))
            }
        }
        do { try Tags.validate(tags, source: "Step '\(step.name)'") } catch { throw EvaluationError(error.description) }

        var fullRequest = request
        fullRequest["TrainingJobName"] = .string(jobName)
        fullRequest["TrainingJobArn"] = .string(Identifiers.trainingJobArn(jobName))
        fullRequest["HyperParameters"] = .object(hyperparameters)
        let requestText = JSONWriter.string(.object(fullRequest), pretty: true)
        let hyperparameterText = JSONWriter.string(.object(hyperparameters))
        let channelText = JSONWriter.string(.object(channelConfig))

        var specs: [ProcessingInstanceSpec] = []
        for host in 1...instanceCount {
            let current = "algo-\(host)"
            var own = environment
            let script = ScriptMode.environment(
                currentHost: current, hosts: hosts, channels: channels, hyperparameters: userHyperparameters, program: program,
                instanceType: instanceType, jobName: jobName
            )
            for (key, value) in script where own[key] == nil { own[key] = value }
            var spec = ProcessingInstanceSpec(
                jobName: jobName, host: host, hostCount: instanceCount, instanceType: instanceType, command: command, environment: own,
                inputs: inputsPerHost[host - 1],
                outputs: [.init(name: "model", localPath: "/opt/ml/model"), .init(name: "output-data", localPath: "/opt/ml/output/data")],
                maxRuntimeSeconds: maxRuntime, jobConfigJSON: requestText, networkIsolation: isolation
            )
            spec.jobConfigName = "trainingjobconfig.json"
            let resource: JSONValue = [
                "current_host": .string(current), "current_group_name": "homogeneousCluster", "current_instance_type": .string(instanceType),
                "hosts": .array(hosts.map(JSONValue.string)), "network_interface_name": "lo",
            ]
            spec.configFiles = [
                "/opt/ml/input/config/hyperparameters.json": hyperparameterText,
                "/opt/ml/input/config/inputdataconfig.json": channelText,
                "/opt/ml/input/config/resourceconfig.json": JSONWriter.string(resource),
            ]
            spec.runtime = runtime
            spec.imageArguments = imageArguments
            // The model and its outputs are not bounded by a volume yet: their folders lie in /opt/ml/output's.
            spec.limits = limitTable.limits(for: instanceType)
            if hostsOnThisMachine && instanceCount > 1 { spec.peerAddresses = hosts.map { _ in "127.0.0.1" } }
            specs.append(spec)
        }
        try ProcessingJobPlan.checkMessageSize(specs)
        let outputs: [ProcessingJobPlan.Output]
        do {
            outputs = [
                .init(name: "model", uri: try outputPrefix.appending("model.tar.gz"), localPath: "/opt/ml/model"),
                .init(name: "output-data", uri: try outputPrefix.appending("output.tar.gz"), localPath: "/opt/ml/output/data"),
            ]
        } catch { throw EvaluationError("OutputDataConfig.S3OutputPath: \(error)") }
        var plan = ProcessingJobPlan(
            jobName: jobName, instanceCount: instanceCount, instanceType: instanceType, tags: tags, request: fullRequest, specs: specs,
            outputs: outputs, notes: notes, requirements: requirements
        )
        plan.training = TrainingDetails(outputPrefix: outputPrefix, metricDefinitions: metrics)
        return plan
    }
}
