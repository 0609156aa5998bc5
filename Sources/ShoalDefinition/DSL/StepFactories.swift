/// Step constructors for the DSL, one per step type Shoal runs.
extension Step {
    public static func processing(
        _ name: String, arguments: ProcessingArguments, propertyFiles: [PropertyFile]? = nil, dependsOn: [String]? = nil,
        displayName: String? = nil, description: String? = nil, cacheConfig: CacheConfig? = nil, retryPolicies: [RetryPolicy]? = nil
    ) -> Step {
        var step = Step(name: name, type: .processing, arguments: .processing(arguments))
        step.propertyFiles = propertyFiles
        step.apply(dependsOn: dependsOn, displayName: displayName, description: description, cacheConfig: cacheConfig, retryPolicies: retryPolicies)
        return step
    }

    public static func lambda(
        _ name: String, functionArn: String, arguments: OrderedFields<Expression> = [:], outputs: [OutputParameter] = [],
        dependsOn: [String]? = nil, displayName: String? = nil, description: String? = nil, cacheConfig: CacheConfig? = nil
    ) -> Step {
        var step = Step(name: name, type: .lambda, arguments: .lambda(arguments))
        step.functionArn = functionArn
        step.outputParameters = outputs
        step.apply(dependsOn: dependsOn, displayName: displayName, description: description, cacheConfig: cacheConfig, retryPolicies: nil)
        return step
    }

    public static func condition(
        _ name: String, _ conditions: [Condition], dependsOn: [String]? = nil, displayName: String? = nil, description: String? = nil,
        @StepsBuilder ifSteps: () -> [Step] = { [] }, @StepsBuilder elseSteps: () -> [Step] = { [] }
    ) -> Step {
        var step = Step(
            name: name, type: .condition,
            arguments: .condition(ConditionArguments(conditions: conditions, ifSteps: ifSteps(), elseSteps: elseSteps()))
        )
        step.apply(dependsOn: dependsOn, displayName: displayName, description: description, cacheConfig: nil, retryPolicies: nil)
        return step
    }

    public static func fail(_ name: String, message: Expression = "", dependsOn: [String]? = nil, displayName: String? = nil) -> Step {
        var step = Step(name: name, type: .fail, arguments: .fail(FailArguments(errorMessage: message)))
        step.apply(dependsOn: dependsOn, displayName: displayName, description: nil, cacheConfig: nil, retryPolicies: nil)
        return step
    }

    /// A `Shoal:Map` step (spec/shoal-map.md): `work` is `Function`, `Pipeline` or
    /// `Definition` with its value; `extra` holds the other arguments (`MaxConcurrency`, `Outputs`, …).
    public static func map(
        _ name: String, items: Expression, work: (key: String, value: Expression), extra: OrderedFields<Expression> = [:],
        dependsOn: [String]? = nil
    ) -> Step {
        var arguments: OrderedFields<Expression> = ["Items": items]
        arguments.entries.append(work)
        arguments.entries += extra.entries
        var step = Step(name: name, type: .shoalMap, arguments: .other(.object(arguments)))
        step.apply(dependsOn: dependsOn, displayName: nil, description: nil, cacheConfig: nil, retryPolicies: nil)
        return step
    }

    private mutating func apply(dependsOn: [String]?, displayName: String?, description: String?, cacheConfig: CacheConfig?, retryPolicies: [RetryPolicy]?) {
        // The SDK writes DependsOn only when it is not empty.
        self.dependsOn = dependsOn?.isEmpty == false ? dependsOn : nil
        self.displayName = displayName
        self.description = description
        self.cacheConfig = cacheConfig
        self.retryPolicies = retryPolicies
    }

    /// `Get` of one of this step's properties, e.g. `ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri`.
    public func property(_ path: String) -> Expression { .get(Reference("Steps.\(name).\(path)")) }

    /// `Get` of a Lambda output.
    public func output(_ name: String) -> Expression { property("OutputParameters['\(name)']") }

    /// `Std:JsonGet` of a value in one of this step's property files.
    public func jsonGet(_ propertyFile: PropertyFile, path: String) -> Expression {
        .jsonGet(JsonGet(source: .propertyFile(Reference("Steps.\(name).PropertyFiles.\(propertyFile.name)")), path: path))
    }
}

extension ProcessingArguments {
    /// A processing job request with the members the SDK writes most.
    public init(
        instanceType: Expression, instanceCount: Expression, volumeSizeInGB: Expression = 30,
        imageUri: Expression, entrypoint: [Expression]? = nil, arguments: [Expression]? = nil,
        roleArn: Expression, inputs: [ProcessingInput]? = nil, outputs: [ProcessingOutput]? = nil,
        environment: OrderedFields<Expression>? = nil, maxRuntimeInSeconds: Expression? = nil,
        networkConfig: NetworkConfig? = nil, tags: [Tag]? = nil
    ) {
        self.init()
        processingResources = ProcessingResources(
            clusterConfig: ClusterConfig(instanceType: instanceType, instanceCount: instanceCount, volumeSizeInGB: volumeSizeInGB)
        )
        appSpecification = AppSpecification(imageUri: imageUri, containerEntrypoint: entrypoint, containerArguments: arguments)
        self.roleArn = roleArn
        processingInputs = inputs
        processingOutputConfig = outputs.map(ProcessingOutputConfig.init(outputs:))
        self.environment = environment
        stoppingCondition = maxRuntimeInSeconds.map(StoppingCondition.init(maxRuntimeInSeconds:))
        self.networkConfig = networkConfig
        self.tags = tags
    }
}
