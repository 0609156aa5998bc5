/// Where executions are filed as experiment and trial (spec §1.1, §5.12).
public struct PipelineExperimentConfig: Sendable, Equatable, ObjectModel {
    public var experimentName: Expression?
    public var trialName: Expression?
    public var extra = OrderedFields<Expression>()
    public var keyOrder = KeyOrder()

    public init(experimentName: Expression?, trialName: Expression?) {
        self.experimentName = experimentName
        self.trialName = trialName
    }

    /// What the SDK writes by default: the pipeline name and the execution id.
    public static let sdkDefault = PipelineExperimentConfig(
        experimentName: .get(.execution(.pipelineName)),
        trialName: .get(.execution(.pipelineExecutionId))
    )

    init(reading reader: inout FieldReader) {
        experimentName = reader.expression("ExperimentName")
        trialName = reader.expression("TrialName")
    }

    func write(to writer: inout FieldWriter) {
        writer.put("ExperimentName", experimentName)
        writer.put("TrialName", trialName)
    }
}

/// The three states of `PipelineExperimentConfig` in a document.
public enum ExperimentConfigSetting: Sendable, Equatable {
    /// The key is absent.
    case absent
    /// `"PipelineExperimentConfig": null`: experiments are off.
    case disabled
    case configured(PipelineExperimentConfig)
}
