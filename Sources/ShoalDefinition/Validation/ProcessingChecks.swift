/// The job-argument constraints of a Processing step (spec §3.1), checked at
/// submit time on every value that is a literal; expressions are checked when
/// the engine resolves them.
struct ProcessingChecks {
    let step: Step
    let arguments: ProcessingArguments
    let path: JSONPath
    let collector: DiagnosticCollector

    private var argumentsPath: JSONPath { path.key("Arguments") }

    func run() {
        if let cluster = arguments.processingResources?.clusterConfig {
            let clusterPath = argumentsPath.key("ProcessingResources").key("ClusterConfig")
            checkInteger(cluster.instanceCount, "InstanceCount", in: Limits.instanceCount, at: clusterPath.key("InstanceCount"))
            checkInteger(cluster.volumeSizeInGB, "VolumeSizeInGB", in: Limits.volumeSizeInGB, at: clusterPath.key("VolumeSizeInGB"))
        }
        if let stopping = arguments.stoppingCondition {
            checkInteger(
                stopping.maxRuntimeInSeconds, "MaxRuntimeInSeconds", in: Limits.maxRuntimeInSeconds,
                at: argumentsPath.key("StoppingCondition").key("MaxRuntimeInSeconds")
            )
        }
        checkApp()
        checkInputs()
        let outputNames = checkOutputs()
        checkEnvironment()
        checkPropertyFiles(outputNames: outputNames)
        checkItemShards()
    }

    /// Shoal's `Shoal:ItemShards` extension: `{"Items": <a list, or an expression giving one>}`.
    private func checkItemShards() {
        guard let shards = arguments.extra["Shoal:ItemShards"] else { return }
        let shardsPath = argumentsPath.key("Shoal:ItemShards")
        guard case let .object(fields) = shards, let items = fields["Items"], fields.count == 1 else {
            collector.error("invalid-value", shardsPath, "Shoal:ItemShards must be {\"Items\": …} in step '\(step.name)'.")
            return
        }
        if items.isLiteral {
            guard case let .array(list) = items else {
                collector.error("wrong-type", shardsPath.key("Items"), "Shoal:ItemShards.Items must be a list, not \(items.json.kindDescription).")
                return
            }
            if list.count > Limits.maxMapItems {
                collector.error("out-of-range", shardsPath.key("Items"), "Shoal:ItemShards holds \(list.count) items; at most \(Limits.maxMapItems).")
            }
        }
    }

    private func checkInteger(_ value: Expression?, _ name: String, in range: ClosedRange<Int>, at path: JSONPath) {
        switch value {
        case let .number(number)?:
            guard let integer = number.exactInt else {
                collector.error("wrong-type", path, "\(name) must be a whole number; got \(number).")
                return
            }
            if !range.contains(integer) {
                collector.error("out-of-range", path, "\(name) must be between \(range.lowerBound) and \(range.upperBound); got \(integer).")
            }
        case .string?, .bool?, .array?, .object?, .null?:
            collector.error("wrong-type", path, "\(name) must be a whole number, not \(value!.json.kindDescription).")
        default:
            break
        }
    }

    private func checkApp() {
        guard let app = arguments.appSpecification else { return }
        let appPath = argumentsPath.key("AppSpecification")
        for (name, items) in [("ContainerEntrypoint", app.containerEntrypoint), ("ContainerArguments", app.containerArguments)] {
            guard let items else { continue }
            if items.isEmpty || items.count > Limits.maxContainerItems {
                collector.error("out-of-range", appPath.key(name), "\(name) must hold 1 to \(Limits.maxContainerItems) items; it holds \(items.count).")
            }
        }
    }

    private func checkChoice(_ value: Expression?, _ name: String, _ allowed: [String], at path: JSONPath) {
        guard case let .string(text)? = value, !allowed.contains(text) else { return }
        collector.error("invalid-value", path, "\(name) '\(text)' is not one of \(allowed.joined(separator: ", ")).")
    }

    private func checkLocalPath(_ value: Expression?, at path: JSONPath) {
        guard case let .string(text)? = value else { return }
        if !text.hasPrefix("/opt/ml/processing/") || text.hasSuffix("/..") || text.contains("/../") {
            collector.error("invalid-value", path, "LocalPath '\(text)' must lie under /opt/ml/processing/.")
        }
    }

    private func checkURI(_ value: Expression?, at path: JSONPath) {
        guard case let .string(text)? = value else { return }
        if !(text.hasPrefix("s3://") || text.hasPrefix("https://") || text.hasPrefix("file://")) {
            collector.error("invalid-value", path, "S3Uri '\(text)' must start with s3://, https:// or file://.")
        }
    }

    private func checkInputs() {
        guard let inputs = arguments.processingInputs else { return }
        let inputsPath = argumentsPath.key("ProcessingInputs")
        if inputs.count > Limits.maxProcessingInputs {
            collector.error("out-of-range", inputsPath, "A processing job takes at most \(Limits.maxProcessingInputs) inputs; step '\(step.name)' has \(inputs.count).")
        }
        var names = Set<String>()
        for (index, input) in inputs.enumerated() {
            let inputPath = inputsPath.index(index)
            if let name = input.inputName, !names.insert(name).inserted {
                collector.error("duplicate-name", inputPath.key("InputName"), "Step '\(step.name)' has two inputs named '\(name)'.")
            }
            guard let s3 = input.s3Input else {
                collector.warning(
                    "not-supported", inputPath,
                    "Input '\(input.inputName ?? "?")' of step '\(step.name)' has no S3Input; Shoal does not support dataset definitions yet."
                )
                continue
            }
            let s3Path = inputPath.key("S3Input")
            checkURI(s3.s3Uri, at: s3Path.key("S3Uri"))
            checkLocalPath(s3.localPath, at: s3Path.key("LocalPath"))
            checkChoice(s3.s3DataType, "S3DataType", ["S3Prefix", "ManifestFile"], at: s3Path.key("S3DataType"))
            checkChoice(s3.s3InputMode, "S3InputMode", ["File", "Pipe"], at: s3Path.key("S3InputMode"))
            checkChoice(s3.s3DataDistributionType, "S3DataDistributionType", ["FullyReplicated", "ShardedByS3Key"], at: s3Path.key("S3DataDistributionType"))
            checkChoice(s3.s3CompressionType, "S3CompressionType", ["None", "Gzip"], at: s3Path.key("S3CompressionType"))
        }
    }

    private func checkOutputs() -> [String] {
        guard let outputs = arguments.processingOutputConfig?.outputs else { return [] }
        let outputsPath = argumentsPath.key("ProcessingOutputConfig").key("Outputs")
        if outputs.count > Limits.maxProcessingOutputs {
            collector.error("out-of-range", outputsPath, "A processing job has at most \(Limits.maxProcessingOutputs) outputs; step '\(step.name)' has \(outputs.count).")
        }
        var names: [String] = []
        // Each output is a folder of its own, committed on its own: two outputs
        // sharing one, or one inside another, would move the same files twice.
        var folders: [(folder: String, name: String)] = []
        for (index, output) in outputs.enumerated() {
            let outputPath = outputsPath.index(index)
            if let name = output.outputName {
                if names.contains(name) {
                    collector.error("duplicate-name", outputPath.key("OutputName"), "Step '\(step.name)' has two outputs named '\(name)'.")
                }
                names.append(name)
            }
            guard let s3 = output.s3Output else {
                collector.warning(
                    "not-supported", outputPath,
                    "Output '\(output.outputName ?? "?")' of step '\(step.name)' has no S3Output; Shoal does not support Feature Store outputs yet."
                )
                continue
            }
            let s3Path = outputPath.key("S3Output")
            checkURI(s3.s3Uri, at: s3Path.key("S3Uri"))
            checkLocalPath(s3.localPath, at: s3Path.key("LocalPath"))
            if case let .string(text)? = s3.localPath {
                let folder = text.hasSuffix("/") ? String(text.dropLast()) : text
                let name = output.outputName ?? "#\(index)"
                if let other = folders.first(where: { $0.folder == folder || folder.hasPrefix($0.folder + "/") || $0.folder.hasPrefix(folder + "/") }) {
                    let how = other.folder == folder ? "both use LocalPath '\(text)'" : "use LocalPaths '\(other.folder)' and '\(folder)', one inside the other"
                    collector.error("duplicate-path", s3Path.key("LocalPath"), "Outputs '\(other.name)' and '\(name)' of step '\(step.name)' \(how); each output needs a folder of its own.")
                }
                folders.append((folder, name))
            }
            checkChoice(s3.s3UploadMode, "S3UploadMode", ["EndOfJob", "Continuous"], at: s3Path.key("S3UploadMode"))
        }
        return names
    }

    private func checkEnvironment() {
        guard let environment = arguments.environment else { return }
        let environmentPath = argumentsPath.key("Environment")
        if environment.count > Limits.maxEnvironmentEntries {
            collector.error("out-of-range", environmentPath, "Environment holds \(environment.count) variables; at most \(Limits.maxEnvironmentEntries) are allowed.")
        }
        for (key, _) in environment.entries {
            let bytes = key.utf8
            let valid = !bytes.isEmpty && bytes.count <= 256 && !isDigit(bytes.first!) && bytes.allSatisfy(isIdentifierByte)
            if !valid {
                collector.error("invalid-name", environmentPath.key(key), "Environment variable name '\(key)' must match [a-zA-Z_][a-zA-Z0-9_]*.")
            }
        }
    }

    private func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    private func isIdentifierByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"): true
        default: false
        }
    }

    private func checkPropertyFiles(outputNames: [String]) {
        var seen = Set<String>()
        for (index, file) in (step.propertyFiles ?? []).enumerated() {
            let filePath = path.key("PropertyFiles").index(index)
            if !seen.insert(file.name).inserted {
                collector.error("duplicate-name", filePath.key("PropertyFileName"), "Step '\(step.name)' declares property file '\(file.name)' more than once.")
            }
            if !outputNames.contains(file.outputName) {
                let known = outputNames.isEmpty ? "it has no outputs" : "its outputs are \(outputNames.joined(separator: ", "))"
                collector.error(
                    "unknown-output", filePath.key("OutputName"),
                    "Property file '\(file.name)' is written to output '\(file.outputName)', which step '\(step.name)' does not declare (\(known))."
                )
            }
            if file.filePath.isEmpty || file.filePath.hasPrefix("/") || file.filePath.split(separator: "/").contains("..") {
                collector.error("invalid-value", filePath.key("FilePath"), "FilePath '\(file.filePath)' must be a relative path inside the output.")
            }
        }
    }
}
