/// The `Type` values a definition may hold (spec §3).
public enum StepType: String, Sendable, CaseIterable {
    case processing = "Processing"
    case lambda = "Lambda"
    case condition = "Condition"
    case fail = "Fail"
    case training = "Training"
    case transform = "Transform"
    case tuning = "Tuning"
    case model = "Model"
    case registerModel = "RegisterModel"
    case createModel = "CreateModel"
    case callback = "Callback"
    case qualityCheck = "QualityCheck"
    case clarifyCheck = "ClarifyCheck"
    case emr = "EMR"
    case autoML = "AutoML"
    case endpointConfig = "EndpointConfig"
    case endpoint = "Endpoint"
    case inferenceComponent = "InferenceComponent"
    case lineage = "Lineage"
    case notebook = "Notebook"
    case job = "Job"
    case athena = "Athena"
    case cleanup = "Cleanup"
    case forEach = "ForEach"
    case emrServerless = "EMRServerless"
    /// Shoal's fan-out step (spec/shoal-map.md): a function or a child pipeline per item.
    case shoalMap = "Shoal:Map"

    /// Whether Shoal runs steps of this type; the others are kept as written and
    /// reported "not supported yet".
    public var isSupported: Bool {
        switch self {
        case .processing, .training, .model, .createModel, .registerModel, .transform, .lambda, .condition, .fail, .callback, .shoalMap: true
        default: false
        }
    }
}
