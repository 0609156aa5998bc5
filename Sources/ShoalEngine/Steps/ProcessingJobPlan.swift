import Foundation
import ShoalCluster
import ShoalDefinition
import ShoalRuntime
import ShoalStore

/// A processing step resolved into what its instances run: every expression
/// evaluated and coerced to its destination's type (spec §2.7), inputs listed
/// and dealt to hosts (spec §4.3), and the resolved request that becomes the
/// step's properties (spec §4.9).
struct ProcessingJobPlan {
    struct Output {
        let name: String
        let uri: S3URI
        let localPath: String
    }

    let jobName: String
    let instanceCount: Int
    let instanceType: String
    /// The step's `Tags`, resolved.
    let tags: [(key: String, value: String)]
    /// The resolved CreateProcessingJob request plus name and ARN.
    let request: OrderedFields<JSONValue>
    let specs: [ProcessingInstanceSpec]
    let outputs: [Output]
    /// Warnings for the step log (Pipe mode treated as File, …).
    let notes: [String]
    /// Worker labels an instance needs: VpcConfig.Subnets and SecurityGroupIds map
    /// to `subnet=` and `security-group=` labels.
    let requirements: [String: [String]]
    /// Set for a training job: where its model goes and which metrics its log holds.
    var training: TrainingDetails? = nil
    /// A batch transform: its properties are DescribeTransformJob's.
    var isTransform = false

    static let defaultMaxRuntimeSeconds = 86_400
    static let maxInputObjects = 1_000_000

    static func make(
        step: Step, arguments: ProcessingArguments, executionId: String, evaluator: Evaluator, objects: ObjectStore,
        limitTable: InstanceLimitTable = .default, imageMap: ImageMap
    ) throws(EvaluationError) -> ProcessingJobPlan {
        let jobName = Identifiers.jobName(execution: executionId, step: step.name)
        var notes: [String] = []
        func value(_ expression: Expression?, _ what: String) throws(EvaluationError) -> JSONValue? {
            guard let expression else { return nil }
            do {
                return try evaluator.evaluate(expression)
            } catch {
                throw EvaluationError("\(what): \(error.message)")
            }
        }
        func string(_ expression: Expression?, _ what: String) throws(EvaluationError) -> String? {
            try value(expression, what).map(ValueRendering.string)
        }
        func strings(_ expressions: [Expression]?, _ what: String) throws(EvaluationError) -> [String]? {
            guard let expressions else { return nil }
            var result: [String] = []
            for (index, expression) in expressions.enumerated() { result.append(try string(expression, "\(what)[\(index)]")!) }
            return result
        }

        let cluster = arguments.processingResources?.clusterConfig
        guard let countValue = try value(cluster?.instanceCount, "InstanceCount") else { throw EvaluationError("InstanceCount is missing.") }
        let instanceCount = try ValueRendering.integer(countValue, "InstanceCount")
        guard Limits.instanceCount.contains(instanceCount) else {
            throw EvaluationError("InstanceCount must be between 1 and 100; got \(instanceCount).")
        }
        let instanceType = try string(cluster?.instanceType, "InstanceType") ?? "ml.m5.large"
        let volume = try value(cluster?.volumeSizeInGB, "VolumeSizeInGB").map { v throws(EvaluationError) in try ValueRendering.integer(v, "VolumeSizeInGB") }
        let entrypoint = try strings(arguments.appSpecification?.containerEntrypoint, "ContainerEntrypoint") ?? []
        let containerArguments = try strings(arguments.appSpecification?.containerArguments, "ContainerArguments")
        let imageUri = try string(arguments.appSpecification?.imageUri, "ImageUri") ?? ""
        var environment: [String: String] = [:]
        var environmentJSON = OrderedFields<JSONValue>()
        for (key, expression) in arguments.environment?.entries ?? [] {
            let text = try string(expression, "Environment['\(key)']")!
            environment[key] = text
            environmentJSON[key] = .string(text)
        }
        let maxRuntime = try value(arguments.stoppingCondition?.maxRuntimeInSeconds, "MaxRuntimeInSeconds")
            .map { v throws(EvaluationError) in try ValueRendering.integer(v, "MaxRuntimeInSeconds") } ?? defaultMaxRuntimeSeconds
        var runtime: JobRuntime
        do { runtime = try imageMap.runtime(for: imageUri) } catch { throw EvaluationError("AppSpecification.ImageUri: \(error.description)") }
        let ownEntrypoint: Bool
        if case .oci = runtime { ownEntrypoint = entrypoint.isEmpty } else { ownEntrypoint = false }
        guard entrypoint.count > 0 || ownEntrypoint else {
            throw EvaluationError("The job has no ContainerEntrypoint; Shoal runs a processing image by its entrypoint unless the image maps to the oci runtime (image '\(imageUri)').")
        }

        // Inputs: each host's share, and their resolved description.
        var inputsPerHost = Array(repeating: [ProcessingInstanceSpec.Input](), count: instanceCount)
        var inputsJSON: [JSONValue] = []
        for (position, input) in (arguments.processingInputs ?? []).enumerated() {
            let name = input.inputName ?? "input-\(position + 1)"
            guard let s3 = input.s3Input else { throw EvaluationError("Input '\(name)' has no S3Input; Shoal does not support dataset definitions yet.") }
            let appManaged = try value(input.appManaged, "AppManaged").map { v throws(EvaluationError) in try ValueRendering.boolean(v, "AppManaged") } ?? false
            let uriText = try string(s3.s3Uri, "Input '\(name)' S3Uri") ?? ""
            let localPath = try string(s3.localPath, "Input '\(name)' LocalPath") ?? "/opt/ml/processing/input/\(name)"
            let dataType = try string(s3.s3DataType, "S3DataType") ?? "S3Prefix"
            let mode = try string(s3.s3InputMode, "S3InputMode") ?? "File"
            let distribution = try string(s3.s3DataDistributionType, "S3DataDistributionType") ?? "FullyReplicated"
            let compression = try string(s3.s3CompressionType, "S3CompressionType") ?? "None"
            guard localPath.hasPrefix("/opt/ml/processing/"), !localPath.split(separator: "/").contains("..") else {
                throw EvaluationError("Input '\(name)': LocalPath '\(localPath)' must lie under /opt/ml/processing/.")
            }
            if mode == "Pipe" { notes.append("input '\(name)': Pipe mode is run as File mode") }
            inputsJSON.append(.object([
                "InputName": .string(name), "AppManaged": .bool(appManaged),
                "S3Input": .object([
                    "S3Uri": .string(uriText), "LocalPath": .string(localPath), "S3DataType": .string(dataType),
                    "S3InputMode": .string(mode), "S3DataDistributionType": .string(distribution),
                    "S3CompressionType": .string(compression), "S3DownloadMode": "StartOfJob",
                ]),
            ]))
            if appManaged { continue }
            let files = try listInput(name: name, uri: uriText, dataType: dataType, objects: objects)
            // FrameworkProcessor's code: the source directory, whose requirements the runtime takes in.
            if case .python = runtime, files.count == 1, files[0].relativePath == "sourcedir.tar.gz" {
                runtime = SourceRequirements.runtime(runtime, adding: try SourceRequirements.read(archive: files[0].source, name: "Input '\(name)'"))
            }
            let shares = distribution == "ShardedByS3Key"
                ? ShardAssignment.deal(files, among: instanceCount)
                : Array(repeating: files, count: instanceCount)
            for host in 0..<instanceCount {
                inputsPerHost[host].append(ProcessingInstanceSpec.Input(name: name, localPath: localPath, files: shares[host]))
            }
        }

        var outputs: [Output] = []
        var outputsJSON: [JSONValue] = []
        for (position, output) in (arguments.processingOutputConfig?.outputs ?? []).enumerated() {
            let name = output.outputName ?? "output-\(position + 1)"
            guard let s3 = output.s3Output else { throw EvaluationError("Output '\(name)' has no S3Output; Shoal does not support Feature Store outputs yet.") }
            let uriText = try string(s3.s3Uri, "Output '\(name)' S3Uri") ?? ""
            let localPath = try string(s3.localPath, "Output '\(name)' LocalPath") ?? "/opt/ml/processing/output/\(name)"
            let uploadMode = try string(s3.s3UploadMode, "S3UploadMode") ?? "EndOfJob"
            guard localPath.hasPrefix("/opt/ml/processing/"), !localPath.split(separator: "/").contains("..") else {
                throw EvaluationError("Output '\(name)': LocalPath '\(localPath)' must lie under /opt/ml/processing/.")
            }
            let uri: S3URI
            do { uri = try S3URI(uriText) } catch { throw EvaluationError("Output '\(name)': \(error)") }
            outputs.append(Output(name: name, uri: uri, localPath: localPath))
            outputsJSON.append(.object([
                "OutputName": .string(name), "AppManaged": false,
                "S3Output": .object(["S3Uri": .string(uriText), "LocalPath": .string(localPath), "S3UploadMode": .string(uploadMode)]),
            ]))
        }

        var clusterJSON: OrderedFields<JSONValue> = ["InstanceCount": .number(.int(instanceCount)), "InstanceType": .string(instanceType)]
        if let volume { clusterJSON["VolumeSizeInGB"] = .number(.int(volume)) }
        var app: OrderedFields<JSONValue> = ["ImageUri": .string(imageUri), "ContainerEntrypoint": .array(entrypoint.map(JSONValue.string))]
        if let containerArguments { app["ContainerArguments"] = .array(containerArguments.map(JSONValue.string)) }
        var request: OrderedFields<JSONValue> = [
            "ProcessingJobName": .string(jobName),
            "ProcessingJobArn": .string(Identifiers.processingJobArn(jobName)),
            "ProcessingInputs": .array(inputsJSON),
            "ProcessingOutputConfig": .object(["Outputs": .array(outputsJSON)]),
            "ProcessingResources": .object(["ClusterConfig": .object(clusterJSON)]),
            "StoppingCondition": .object(["MaxRuntimeInSeconds": .number(.int(maxRuntime))]),
            "AppSpecification": .object(app),
            "Environment": .object(environmentJSON),
        ]
        if let role = try string(arguments.roleArn, "RoleArn") { request["RoleArn"] = .string(role) }
        var isolation = false
        var requirements: [String: [String]] = [:]
        if let network = arguments.networkConfig {
            request["NetworkConfig"] = try value(.object(network.fields), "NetworkConfig")
            isolation = try value(network.enableNetworkIsolation, "EnableNetworkIsolation")
                .map { v throws(EvaluationError) in try ValueRendering.boolean(v, "EnableNetworkIsolation") } ?? false
            if let subnets = try strings(network.vpcConfig?.subnets, "VpcConfig.Subnets"), !subnets.isEmpty { requirements["subnet"] = subnets }
            if let groups = try strings(network.vpcConfig?.securityGroupIds, "VpcConfig.SecurityGroupIds"), !groups.isEmpty {
                requirements["security-group"] = groups
            }
            if network.enableInterContainerTrafficEncryption != nil {
                notes.append("EnableInterContainerTrafficEncryption is ignored: instances of one job do not talk through Shoal")
            }
        }
        let requestText = JSONWriter.string(.object(request), pretty: true)

        var tags: [(key: String, value: String)] = []
        for (index, tag) in (arguments.tags ?? []).enumerated() {
            tags.append((try string(tag.key, "Tags[\(index)].Key") ?? "", try string(tag.value, "Tags[\(index)].Value") ?? ""))
        }
        do { try Tags.validate(tags, source: "Step '\(step.name)'") } catch { throw EvaluationError(error.description) }
        if !tags.isEmpty { request["Tags"] = .array(tags.map { ["Key": .string($0.key), "Value": .string($0.value)] }) }

        // Shoal's extension: an item list dealt across the instances like ShardedByS3Key.
        var itemShares: [String]?
        if let shards = arguments.extra["Shoal:ItemShards"] {
            guard case let .object(fields) = shards, let itemsExpression = fields["Items"] else {
                throw EvaluationError("Shoal:ItemShards must be {\"Items\": …}.")
            }
            var items = try value(itemsExpression, "Shoal:ItemShards.Items") ?? .array([])
            if case let .string(text) = items, let parsed = try? JSONParser.parse(text) { items = parsed }
            guard case let .array(list) = items else { throw EvaluationError("Shoal:ItemShards.Items resolved to \(items.kindDescription), not a list.") }
            guard list.count <= Limits.maxMapItems else { throw EvaluationError("Shoal:ItemShards holds \(list.count) items; at most \(Limits.maxMapItems).") }
            itemShares = ShardAssignment.deal(list, among: instanceCount).map { JSONWriter.string(.array($0)) }
        }

        // An oci image without ContainerEntrypoint runs its own, given ContainerArguments (imageArguments below).
        let command = ownEntrypoint ? [] : entrypoint + (containerArguments ?? [])
        let specs = (0..<instanceCount).map { host in
            var spec = ProcessingInstanceSpec(
                jobName: jobName, host: host + 1, hostCount: instanceCount, instanceType: instanceType, command: command,
                environment: environment, inputs: inputsPerHost[host],
                outputs: outputs.map { .init(name: $0.name, localPath: $0.localPath) },
                maxRuntimeSeconds: maxRuntime, jobConfigJSON: requestText, networkIsolation: isolation
            )
            spec.items = itemShares?[host]
            spec.runtime = runtime
            if ownEntrypoint { spec.imageArguments = containerArguments ?? [] }
            spec.limits = limitTable.limits(for: instanceType)
            spec.limits?.volumeBytes = volume.map { $0 << 30 }
            return spec
        }
        try checkMessageSize(specs)
        return ProcessingJobPlan(
            jobName: jobName, instanceCount: instanceCount, instanceType: instanceType, tags: tags, request: request, specs: specs, outputs: outputs, notes: notes, requirements: requirements
        )
    }

    /// Each instance goes to its worker as one message: one that could not travel
    /// fails the step before anything starts, instead of never reaching a worker.
    static func checkMessageSize(_ specs: [ProcessingInstanceSpec]) throws(EvaluationError) {
        let limit = WireCodec.maxPayloadBytes - (64 << 10)
        for spec in specs {
            // A cheap upper bound first; only an instance near the limit is encoded to be sure.
            let files = spec.inputs.reduce(0) { $0 + $1.files.count }
            let bound = spec.inputs.reduce(0) { $0 + $1.files.reduce(0) { $0 + 2 * ($1.source.utf8.count + $1.relativePath.utf8.count) + 64 } }
                + 2 * ((spec.items?.utf8.count ?? 0) + spec.jobConfigJSON.utf8.count) + (64 << 10)
            guard bound > limit, let size = try? JSONEncoder().encode(spec).count, size > limit else { continue }
            throw EvaluationError(
                "algo-\(spec.host): the instance's task (\(files) input files) is \(size >> 20) MiB as a message, over the \(limit >> 20) MiB a message to a worker may carry; use fewer, larger input objects or more instances"
            )
        }
    }

    /// One object (a model's artifact, a source archive) as an input of its own, staged under `folder` as `staged`.
    /// Every input file of every host (store paths): what a step cache key holds the versions of.
    var inputSources: [String] { specs.flatMap { $0.inputs.flatMap { $0.files.map(\.source) } } }

    static func stagedObject(_ uri: String, as staged: String, name: String, folder: String, objects: ObjectStore) throws(EvaluationError) -> ProcessingInstanceSpec.Input {
        let last = String(uri.split(separator: "/").last ?? "")
        let found = try ProcessingJobPlan.listInput(name: name, uri: uri, dataType: "S3Prefix", objects: objects)
        guard var file = found.first(where: { $0.relativePath == last }) else { throw EvaluationError("\(name): no object at \(uri).") }
        file.relativePath = staged
        return .init(name: name, localPath: folder, files: [file])
    }

    /// The objects an input names, each with its path under LocalPath.
    static func listInput(name: String, uri text: String, dataType: String, objects: ObjectStore) throws(EvaluationError) -> [ProcessingInstanceSpec.InputFile] {
        let uri: S3URI
        do { uri = try S3URI(text) } catch { throw EvaluationError("Input '\(name)': \(error)") }
        func listed(_ prefix: S3URI) throws(EvaluationError) -> [ObjectStore.Object] {
            do { return try objects.list(prefix: prefix, limit: maxInputObjects) } catch { throw EvaluationError("Input '\(name)': \(error)") }
        }
        switch dataType {
        case "ManifestFile":
            let document: JSONValue
            do {
                document = try JSONParser.parse(try objects.read(uri, maxBytes: 64 << 20))
            } catch let error as ObjectStore.NotFound {
                throw EvaluationError("Input '\(name)': the manifest \(error.uri) does not exist.")
            } catch {
                throw EvaluationError("Input '\(name)': the manifest at \(uri) cannot be read: \(error)")
            }
            guard case let .array(items) = document, case let .object(head)? = items.first, case let .string(prefixText)? = head["prefix"] else {
                throw EvaluationError("Input '\(name)': the manifest at \(uri) must be [{\"prefix\": \"s3://…\"}, \"relative/key\", …].")
            }
            let prefix: S3URI
            do { prefix = try S3URI(prefixText) } catch { throw EvaluationError("Input '\(name)': manifest prefix: \(error)") }
            var files: [ProcessingInstanceSpec.InputFile] = []
            for item in items.dropFirst() {
                guard case let .string(relative) = item else { throw EvaluationError("Input '\(name)': manifest items must be strings.") }
                let object: S3URI
                do { object = try prefix.appending(relative) } catch { throw EvaluationError("Input '\(name)': \(error)") }
                let path = objects.path(of: object)
                // One stat: whether it exists, its size and its version.
                guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
                    throw EvaluationError("Input '\(name)': \(object) (listed in the manifest) does not exist.")
                }
                files.append(.init(source: path, relativePath: relative, size: (attributes[.size] as? Int) ?? 0, version: ObjectStore.version(attributes)))
            }
            return files
        default:
            let found = try listed(uri).filter { !$0.uri.key.hasSuffix("/") }
            guard !found.isEmpty else { throw EvaluationError("Input '\(name)': no objects at \(uri).") }
            // As the SDK's local mode and SageMaker's own examples have it: the
            // object the URI names is kept under its base name; objects below a
            // "folder" prefix (`…/output/train` + `/train.csv`) lose the whole
            // prefix; a prefix ending mid-name keeps the name from its last `/`.
            let cut = uri.key.lastIndex(of: "/").map { uri.key.index(after: $0) } ?? uri.key.startIndex
            let lastSlash = uri.key.distance(from: uri.key.startIndex, to: cut)
            return found.map { object in
                let key = object.uri.key
                let rest = key.dropFirst(uri.key.count)
                let relative = rest.hasPrefix("/") ? String(rest.drop { $0 == "/" }) : String(key.dropFirst(lastSlash))
                return .init(source: object.path, relativePath: relative, size: object.size, version: object.version)
            }
        }
    }
}
