/// The `Arguments` of a Processing step: a CreateProcessingJob request without
/// its name (spec §3.1). Any value may be an expression; members not modelled
/// here are kept in `extra`.
public struct ProcessingArguments: Sendable, Equatable, ObjectModel {
    public var processingResources: ProcessingResources?
    public var appSpecification: AppSpecification?
    public var roleArn: Expression?
    public var processingInputs: [ProcessingInput]?
    public var processingOutputConfig: ProcessingOutputConfig?
    public var environment: OrderedFields<Expression>?
    public var stoppingCondition: StoppingCondition?
    public var networkConfig: NetworkConfig?
    public var tags: [Tag]?
    public var extra = OrderedFields<Expression>()
    public var keyOrder = KeyOrder()

    public init() {}

    init(reading reader: inout FieldReader) {
        processingResources = reader.object("ProcessingResources", required: true)
        appSpecification = reader.object("AppSpecification", required: true)
        roleArn = reader.expression("RoleArn")
        processingInputs = reader.objects("ProcessingInputs") { "ProcessingInputs[\($0)]" }
        processingOutputConfig = reader.object("ProcessingOutputConfig")
        environment = reader.expressionFields("Environment")
        stoppingCondition = reader.object("StoppingCondition")
        networkConfig = reader.object("NetworkConfig")
        tags = reader.objects("Tags") { "Tags[\($0)]" }
    }

    func write(to writer: inout FieldWriter) {
        writer.put("ProcessingResources", processingResources)
        writer.put("AppSpecification", appSpecification)
        writer.put("RoleArn", roleArn)
        writer.put("ProcessingInputs", processingInputs)
        writer.put("ProcessingOutputConfig", processingOutputConfig)
        writer.put("Environment", environment)
        writer.put("StoppingCondition", stoppingCondition)
        writer.put("NetworkConfig", networkConfig)
        writer.put("Tags", tags)
    }
}

public struct ProcessingResources: Sendable, Equatable, ObjectModel {
    public var clusterConfig: ClusterConfig?
    public var extra = OrderedFields<Expression>()
    public var keyOrder = KeyOrder()

    public init(clusterConfig: ClusterConfig) { self.clusterConfig = clusterConfig }

    init(reading reader: inout FieldReader) { clusterConfig = reader.object("ClusterConfig", required: true) }
    func write(to writer: inout FieldWriter) { writer.put("ClusterConfig", clusterConfig) }
}

public struct ClusterConfig: Sendable, Equatable, ObjectModel {
    public var instanceType: Expression?
    public var instanceCount: Expression?
    public var volumeSizeInGB: Expression?
    public var extra = OrderedFields<Expression>()
    public var keyOrder = KeyOrder()

    public init(instanceType: Expression, instanceCount: Expression, volumeSizeInGB: Expression) {
        self.instanceType = instanceType
        self.instanceCount = instanceCount
        self.volumeSizeInGB = volumeSizeInGB
    }

    init(reading reader: inout FieldReader) {
        instanceType = reader.expression("InstanceType", required: true)
        instanceCount = reader.expression("InstanceCount", required: true)
        volumeSizeInGB = reader.expression("VolumeSizeInGB")
    }

    func write(to writer: inout FieldWriter) {
        writer.put("InstanceType", instanceType)
        writer.put("InstanceCount", instanceCount)
        writer.put("VolumeSizeInGB", volumeSizeInGB)
    }
}

public struct AppSpecification: Sendable, Equatable, ObjectModel {
    public var imageUri: Expression?
    public var containerArguments: [Expression]?
    public var containerEntrypoint: [Expression]?
    public var extra = OrderedFields<Expression>()
    public var keyOrder = KeyOrder()

    public init(imageUri: Expression, containerEntrypoint: [Expression]? = nil, containerArguments: [Expression]? = nil) {
        self.imageUri = imageUri
        self.containerEntrypoint = containerEntrypoint
        self.containerArguments = containerArguments
    }

    init(reading reader: inout FieldReader) {
        imageUri = reader.expression("ImageUri", required: true)
        containerArguments = reader.expressions("ContainerArguments")
        containerEntrypoint = reader.expressions("ContainerEntrypoint")
    }

    func write(to writer: inout FieldWriter) {
        writer.put("ImageUri", imageUri)
        writer.put("ContainerArguments", containerArguments)
        writer.put("ContainerEntrypoint", containerEntrypoint)
    }
}

public struct ProcessingInput: Sendable, Equatable, ObjectModel {
    public var inputName: String?
    public var appManaged: Expression?
    public var s3Input: S3Input?
    public var extra = OrderedFields<Expression>()
    public var keyOrder = KeyOrder()

    public init(inputName: String, s3Input: S3Input, appManaged: Expression? = false) {
        self.inputName = inputName
        self.appManaged = appManaged
        self.s3Input = s3Input
    }

    init(reading reader: inout FieldReader) {
        inputName = reader.string("InputName", required: true)
        appManaged = reader.expression("AppManaged")
        s3Input = reader.object("S3Input")
    }

    func write(to writer: inout FieldWriter) {
        writer.put("InputName", inputName)
        writer.put("AppManaged", appManaged)
        writer.put("S3Input", s3Input)
    }
}

public struct S3Input: Sendable, Equatable, ObjectModel {
    public var s3Uri: Expression?
    public var localPath: Expression?
    public var s3DataType: Expression?
    public var s3InputMode: Expression?
    public var s3DataDistributionType: Expression?
    public var s3CompressionType: Expression?
    public var extra = OrderedFields<Expression>()
    public var keyOrder = KeyOrder()

    public init(
        s3Uri: Expression, localPath: Expression, s3DataType: Expression = "S3Prefix", s3InputMode: Expression = "File",
        s3DataDistributionType: Expression = "FullyReplicated", s3CompressionType: Expression = "None"
    ) {
        self.s3Uri = s3Uri
        self.localPath = localPath
        self.s3DataType = s3DataType
        self.s3InputMode = s3InputMode
        self.s3DataDistributionType = s3DataDistributionType
        self.s3CompressionType = s3CompressionType
    }

    init(reading reader: inout FieldReader) {
        s3Uri = reader.expression("S3Uri", required: true)
        localPath = reader.expression("LocalPath")
        s3DataType = reader.expression("S3DataType", required: true)
        s3InputMode = reader.expression("S3InputMode")
        s3DataDistributionType = reader.expression("S3DataDistributionType")
        s3CompressionType = reader.expression("S3CompressionType")
    }

    func write(to writer: inout FieldWriter) {
        writer.put("S3Uri", s3Uri)
        writer.put("LocalPath", localPath)
        writer.put("S3DataType", s3DataType)
        writer.put("S3InputMode", s3InputMode)
        writer.put("S3DataDistributionType", s3DataDistributionType)
        writer.put("S3CompressionType", s3CompressionType)
    }
}

public struct ProcessingOutputConfig: Sendable, Equatable, ObjectModel {
    public var outputs: [ProcessingOutput]?
    public var extra = OrderedFields<Expression>()
    public var keyOrder = KeyOrder()

    public init(outputs: [ProcessingOutput]) { self.outputs = outputs }

    init(reading reader: inout FieldReader) {
        outputs = reader.objects("Outputs") { "Outputs[\($0)]" }
        if reader.fields["Outputs"] == nil {
            reader.collector.error("missing-field", reader.path.key("Outputs"), "ProcessingOutputConfig has no Outputs.")
        }
    }

    func write(to writer: inout FieldWriter) { writer.put("Outputs", outputs) }
}

public struct ProcessingOutput: Sendable, Equatable, ObjectModel {
    public var outputName: String?
    public var appManaged: Expression?
    public var s3Output: S3Output?
    public var extra = OrderedFields<Expression>()
    public var keyOrder = KeyOrder()

    public init(outputName: String, s3Output: S3Output, appManaged: Expression? = false) {
        self.outputName = outputName
        self.appManaged = appManaged
        self.s3Output = s3Output
    }

    init(reading reader: inout FieldReader) {
        outputName = reader.string("OutputName", required: true)
        appManaged = reader.expression("AppManaged")
        s3Output = reader.object("S3Output")
    }

    func write(to writer: inout FieldWriter) {
        writer.put("OutputName", outputName)
        writer.put("AppManaged", appManaged)
        writer.put("S3Output", s3Output)
    }
}

public struct S3Output: Sendable, Equatable, ObjectModel {
    public var s3Uri: Expression?
    public var localPath: Expression?
    public var s3UploadMode: Expression?
    public var extra = OrderedFields<Expression>()
    public var keyOrder = KeyOrder()

    public init(s3Uri: Expression, localPath: Expression, s3UploadMode: Expression = "EndOfJob") {
        self.s3Uri = s3Uri
        self.localPath = localPath
        self.s3UploadMode = s3UploadMode
    }

    init(reading reader: inout FieldReader) {
        s3Uri = reader.expression("S3Uri", required: true)
        localPath = reader.expression("LocalPath")
        s3UploadMode = reader.expression("S3UploadMode", required: true)
    }

    func write(to writer: inout FieldWriter) {
        writer.put("S3Uri", s3Uri)
        writer.put("LocalPath", localPath)
        writer.put("S3UploadMode", s3UploadMode)
    }
}

public struct StoppingCondition: Sendable, Equatable, ObjectModel {
    public var maxRuntimeInSeconds: Expression?
    public var extra = OrderedFields<Expression>()
    public var keyOrder = KeyOrder()

    public init(maxRuntimeInSeconds: Expression) { self.maxRuntimeInSeconds = maxRuntimeInSeconds }

    init(reading reader: inout FieldReader) { maxRuntimeInSeconds = reader.expression("MaxRuntimeInSeconds", required: true) }
    func write(to writer: inout FieldWriter) { writer.put("MaxRuntimeInSeconds", maxRuntimeInSeconds) }
}

public struct NetworkConfig: Sendable, Equatable, ObjectModel {
    public var enableNetworkIsolation: Expression?
    public var enableInterContainerTrafficEncryption: Expression?
    public var vpcConfig: VpcConfig?
    public var extra = OrderedFields<Expression>()
    public var keyOrder = KeyOrder()

    public init(enableNetworkIsolation: Expression? = nil, vpcConfig: VpcConfig? = nil) {
        self.enableNetworkIsolation = enableNetworkIsolation
        self.vpcConfig = vpcConfig
    }

    init(reading reader: inout FieldReader) {
        enableInterContainerTrafficEncryption = reader.expression("EnableInterContainerTrafficEncryption")
        enableNetworkIsolation = reader.expression("EnableNetworkIsolation")
        vpcConfig = reader.object("VpcConfig")
    }

    func write(to writer: inout FieldWriter) {
        writer.put("EnableInterContainerTrafficEncryption", enableInterContainerTrafficEncryption)
        writer.put("EnableNetworkIsolation", enableNetworkIsolation)
        writer.put("VpcConfig", vpcConfig)
    }
}

public struct VpcConfig: Sendable, Equatable, ObjectModel {
    public var securityGroupIds: [Expression]?
    public var subnets: [Expression]?
    public var extra = OrderedFields<Expression>()
    public var keyOrder = KeyOrder()

    public init(securityGroupIds: [Expression], subnets: [Expression]) {
        self.securityGroupIds = securityGroupIds
        self.subnets = subnets
    }

    init(reading reader: inout FieldReader) {
        securityGroupIds = reader.expressions("SecurityGroupIds")
        subnets = reader.expressions("Subnets")
    }

    func write(to writer: inout FieldWriter) {
        writer.put("SecurityGroupIds", securityGroupIds)
        writer.put("Subnets", subnets)
    }
}
