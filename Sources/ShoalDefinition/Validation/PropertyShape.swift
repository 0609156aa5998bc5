/// The shape of what a step exposes as properties (the botocore Describe response
/// for job steps, spec §2.4), used to refuse a `Get` of a property that cannot exist.
indirect enum PropertyShape: Sendable {
    /// A leaf value.
    case scalar
    /// Not modelled: any path below is accepted.
    case any
    case structure([String: PropertyShape])
    /// A list indexed by position or, with a key, by the element's `keyField`.
    case list(PropertyShape, keyField: String?)
    case map(PropertyShape)

    static func of(_ type: StepType) -> PropertyShape {
        switch type {
        case .processing: processingJob
        case .condition: .structure(["Outcome": .scalar])
        case .lambda, .callback: .structure(["OutputParameters": .map(.scalar)])
        case .fail: .structure([:])
        case .training: trainingJob
        case .shoalMap: .structure(scalars("ResultsS3Uri", "ItemCount", "Succeeded", "Failed"))
        default: .any
        }
    }

    private static func scalars(_ names: String...) -> [String: PropertyShape] {
        Dictionary(uniqueKeysWithValues: names.map { ($0, PropertyShape.scalar) })
    }

    static let processingJob: PropertyShape = {
        var members = scalars(
            "ProcessingJobName", "RoleArn", "ProcessingJobArn", "ProcessingJobStatus", "ExitMessage", "FailureReason",
            "ProcessingEndTime", "ProcessingStartTime", "LastModifiedTime", "CreationTime", "MonitoringScheduleArn",
            "AutoMLJobArn", "TrainingJobArn"
        )
        members["ProcessingInputs"] = .list(.structure([
            "InputName": .scalar, "AppManaged": .scalar, "DatasetDefinition": .any,
            "S3Input": .structure(scalars("S3Uri", "LocalPath", "S3DataType", "S3InputMode", "S3DataDistributionType", "S3CompressionType")),
        ]), keyField: "InputName")
        members["ProcessingOutputConfig"] = .structure([
            "KmsKeyId": .scalar,
            "Outputs": .list(.structure([
                "OutputName": .scalar, "AppManaged": .scalar, "FeatureStoreOutput": .any,
                "S3Output": .structure(scalars("S3Uri", "LocalPath", "S3UploadMode")),
            ]), keyField: "OutputName"),
        ])
        members["ProcessingResources"] = .structure([
            "ClusterConfig": .structure(scalars("InstanceCount", "InstanceType", "VolumeKmsKeyId", "VolumeSizeInGB")),
        ])
        members["StoppingCondition"] = .structure(scalars("MaxRuntimeInSeconds"))
        members["AppSpecification"] = .structure([
            "ImageUri": .scalar, "ContainerEntrypoint": .list(.scalar, keyField: nil), "ContainerArguments": .list(.scalar, keyField: nil),
        ])
        members["Environment"] = .map(.scalar)
        members["NetworkConfig"] = .structure([
            "EnableInterContainerTrafficEncryption": .scalar, "EnableNetworkIsolation": .scalar,
            "VpcConfig": .structure(["SecurityGroupIds": .list(.scalar, keyField: nil), "Subnets": .list(.scalar, keyField: nil)]),
        ])
        members["ExperimentConfig"] = .structure(scalars("ExperimentName", "TrialName", "TrialComponentDisplayName", "RunName"))
        return .structure(members)
    }()

    static let trainingJob: PropertyShape = {
        var members = scalars(
            "TrainingJobName", "TrainingJobArn", "TuningJobArn", "LabelingJobArn", "AutoMLJobArn", "TrainingJobStatus",
            "SecondaryStatus", "FailureReason", "RoleArn", "CreationTime", "TrainingStartTime", "TrainingEndTime",
            "LastModifiedTime", "EnableNetworkIsolation", "EnableInterContainerTrafficEncryption",
            "EnableManagedSpotTraining", "TrainingTimeInSeconds", "BillableTimeInSeconds", "ProfilingStatus"
        )
        for name in [
            "AlgorithmSpecification", "ResourceConfig", "WarmPoolStatus", "VpcConfig", "StoppingCondition",
            "SecondaryStatusTransitions", "CheckpointConfig", "DebugHookConfig", "ExperimentConfig", "DebugRuleConfigurations",
            "TensorBoardOutputConfig", "DebugRuleEvaluationStatuses", "ProfilerConfig", "ProfilerRuleConfigurations",
            "ProfilerRuleEvaluationStatuses", "RetryStrategy", "RemoteDebugConfig", "InfraCheckConfig", "InputDataConfig",
        ] { members[name] = .any }
        members["ModelArtifacts"] = .structure(scalars("S3ModelArtifacts"))
        members["HyperParameters"] = .map(.scalar)
        members["Environment"] = .map(.scalar)
        members["OutputDataConfig"] = .structure(scalars("KmsKeyId", "S3OutputPath", "CompressionType"))
        members["FinalMetricDataList"] = .list(.structure(scalars("MetricName", "Value", "Timestamp")), keyField: "MetricName")
        return .structure(members)
    }()

    /// The first segment of `path` that this shape does not have, rendered as the
    /// path up to and including it; nil when the whole path fits.
    func firstMismatch(_ path: [PropertyPath.Segment]) -> String? {
        var shape = self
        for (position, segment) in path.enumerated() {
            let fits: PropertyShape?
            switch (shape, segment) {
            case (.any, _): return nil
            case let (.structure(members), .member(name)): fits = members[name]
            case let (.list(element, _), .index): fits = element
            case let (.list(element, keyField), .key): fits = keyField == nil ? nil : element
            case let (.map(value), .key): fits = value
            default: fits = nil
            }
            guard let next = fits else { return PropertyPath.render(Array(path[...position])) }
            shape = next
        }
        return nil
    }
}
