import Foundation
import ShoalDefinition
import ShoalRuntime
import ShoalStore

/// A Transform step (the CreateTransformJob request, resolved) as instances:
/// the input objects dealt across them, each with the model's artifact and
/// code, run by `TransformDriver` in the runtime the model's image maps to;
/// outputs are `<input>.out` under S3OutputPath.
enum TransformJobPlan {
    static func make(
        step: Step, request resolved: JSONValue, executionId: String, home: ShoalHome, limitTable: InstanceLimitTable, imageMap: ImageMap
    ) throws(EvaluationError) -> ProcessingJobPlan {
        guard case let .object(request) = resolved else { throw EvaluationError("The Transform step's Arguments must be an object.") }
        func at(_ path: String...) -> JSONValue? { JSONNavigation.follow(path.map { .member($0) }, in: resolved) }
        func text(_ value: JSONValue?) -> String? { value.map(ValueRendering.string) }
        let jobName = Identifiers.jobName(execution: executionId, step: step.name)

        guard let modelName = text(at("ModelName")) else { throw EvaluationError("ModelName is missing.") }
        let model: ModelRecord
        do {
            guard let found = try home.metadata.model(named: modelName) else {
                throw EvaluationError("ModelName: no model '\(modelName)' (a Model step or CreateModel makes one; `shoal models list --models` shows them).")
            }
            model = found
        } catch let error as EvaluationError { throw error } catch { throw EvaluationError("ModelName: cannot read the model registry: \(error)") }
        let runtime: JobRuntime
        do { runtime = try imageMap.runtime(for: model.image) } catch { throw EvaluationError("the model '\(modelName)''s image: \(error.description)") }
        if case .oci = runtime {
            throw EvaluationError("the model '\(modelName)''s image maps to the oci runtime: a transform would run the image's own `serve` on port 8080, which Shoal does not do yet; map the image to python or host to run its inference code")
        }
        let modelRequest = (try? JSONParser.parse(model.request)) ?? .object([:])
        var environment: [String: String] = [:]
        if case let .object(given)? = JSONNavigation.follow([.member("PrimaryContainer"), .member("Environment")], in: modelRequest) {
            for (key, value) in given.entries { environment[key] = ValueRendering.string(value) }
        }
        if case let .object(given)? = at("Environment") { for (key, value) in given.entries { environment[key] = ValueRendering.string(value) } }

        guard let countValue = at("TransformResources", "InstanceCount") else { throw EvaluationError("TransformResources.InstanceCount is missing.") }
        let instanceCount = try ValueRendering.integer(countValue, "TransformResources.InstanceCount")
        guard Limits.instanceCount.contains(instanceCount) else { throw EvaluationError("TransformResources.InstanceCount must be between 1 and 100; got \(instanceCount).") }
        let instanceType = text(at("TransformResources", "InstanceType")) ?? "ml.m5.large"
        guard let inputText = text(at("TransformInput", "DataSource", "S3DataSource", "S3Uri")) else {
            throw EvaluationError("TransformInput.DataSource.S3DataSource.S3Uri is missing.")
        }
        let dataType = text(at("TransformInput", "DataSource", "S3DataSource", "S3DataType")) ?? "S3Prefix"
        let split = text(at("TransformInput", "SplitType")) ?? "None"
        guard ["None", "Line"].contains(split) else { throw EvaluationError("TransformInput.SplitType '\(split)': Shoal splits None and Line, not RecordIO or TFRecord.") }
        let compression = text(at("TransformInput", "CompressionType")) ?? "None"
        guard compression == "None" else { throw EvaluationError("TransformInput.CompressionType '\(compression)' is not supported; give uncompressed objects.") }
        let batch = text(at("BatchStrategy")) ?? "MultiRecord"
        guard ["SingleRecord", "MultiRecord"].contains(batch) else { throw EvaluationError("BatchStrategy must be SingleRecord or MultiRecord, not '\(batch)'.") }
        let maxPayload = try at("MaxPayloadInMB").map { v throws(EvaluationError) in try ValueRendering.integer(v, "MaxPayloadInMB") } ?? 6
        guard (1...100).contains(maxPayload) else { throw EvaluationError("MaxPayloadInMB must be between 1 and 100; got \(maxPayload).") }
        guard let outputText = text(at("TransformOutput", "S3OutputPath")) else { throw EvaluationError("TransformOutput.S3OutputPath is missing.") }
        let outputURI: S3URI
        do { outputURI = try S3URI(outputText.hasSuffix("/") ? outputText : outputText + "/") } catch { throw EvaluationError("TransformOutput.S3OutputPath: \(error)") }
        let contentType = text(at("TransformInput", "ContentType")) ?? "text/csv"
        let accept = text(at("TransformOutput", "Accept")) ?? contentType
        let assemble = text(at("TransformOutput", "AssembleWith")) ?? "None"
        let join = text(at("DataProcessing", "JoinSource")) ?? "None"
        let config: JSONValue = [
            "split": .string(split), "batch": .string(batch), "maxPayloadBytes": .number(.int(maxPayload << 20)),
            "contentType": .string(contentType), "accept": .string(accept), "assembleWith": .string(assemble),
            "inputFilter": text(at("DataProcessing", "InputFilter")).map(JSONValue.string) ?? .null,
            "outputFilter": text(at("DataProcessing", "OutputFilter")).map(JSONValue.string) ?? .null,
            "joinSource": .string(join), "program": environment["SAGEMAKER_PROGRAM"].map(JSONValue.string) ?? .null,
        ]
        environment["SHOAL_TRANSFORM"] = JSONWriter.string(config)

        // Each input object goes to one instance, as SageMaker deals them.
        let files = try ProcessingJobPlan.listInput(name: "TransformInput", uri: inputText, dataType: dataType, objects: home.objects)
        let shares = ShardAssignment.deal(files, among: instanceCount)
        var shared: [ProcessingInstanceSpec.Input] = []
        if let artifact = model.modelDataUrl {
            shared.append(try ProcessingJobPlan.stagedObject(artifact, as: "model.tar.gz", name: "model artifact", folder: TransformDriver.modelArchiveFolder, objects: home.objects))
        }
        if let submit = environment["SAGEMAKER_SUBMIT_DIRECTORY"], submit.hasPrefix("s3://") {
            shared.append(try ProcessingJobPlan.stagedObject(submit, as: ScriptMode.archiveName, name: "SAGEMAKER_SUBMIT_DIRECTORY", folder: ScriptMode.archiveFolder, objects: home.objects))
        }

        var fullRequest = request
        fullRequest["TransformJobName"] = .string(jobName)
        fullRequest["TransformJobArn"] = .string(Identifiers.transformJobArn(jobName))
        let requestText = JSONWriter.string(.object(fullRequest), pretty: true)
        let maxRuntime = ProcessingJobPlan.defaultMaxRuntimeSeconds
        let specs = (1...instanceCount).map { host in
            var spec = ProcessingInstanceSpec(
                jobName: jobName, host: host, hostCount: instanceCount, instanceType: instanceType, command: ["python3", "-c", TransformDriver.source],
                environment: environment, inputs: [.init(name: "transform", localPath: TransformDriver.inputFolder, files: shares[host - 1])] + shared,
                outputs: [.init(name: "transform", localPath: TransformDriver.outputFolder)], maxRuntimeSeconds: maxRuntime, jobConfigJSON: requestText
            )
            spec.jobConfigName = "transformjobconfig.json"
            spec.runtime = runtime
            spec.limits = limitTable.limits(for: instanceType)
            return spec
        }
        try ProcessingJobPlan.checkMessageSize(specs)
        var plan = ProcessingJobPlan(
            jobName: jobName, instanceCount: instanceCount, instanceType: instanceType, tags: [], request: fullRequest, specs: specs,
            outputs: [.init(name: "transform", uri: outputURI, localPath: TransformDriver.outputFolder)], notes: [], requirements: [:]
        )
        plan.isTransform = true
        return plan
    }
}
