/// Bounds on what a definition may hold. SageMaker caps an inline definition at
/// 1 MiB; Shoal allows larger ones (generated fan-outs) but not unbounded ones.
public enum Limits {
    public static let maxDocumentBytes = 32 << 20
    public static let maxSteps = 20_000
    public static let maxParameters = 200
    public static let maxStepNameLength = 64
    public static let instanceCount = 1...100
    public static let volumeSizeInGB = 1...16384
    public static let maxRuntimeInSeconds = 1...777_600
    public static let maxProcessingInputs = 10
    public static let maxProcessingOutputs = 10
    public static let maxEnvironmentEntries = 100
    public static let maxContainerItems = 100
    public static let maxOutputParameters = 50
    /// Items one Shoal:Map step fans out over.
    public static let maxMapItems = 100_000
}
