/// A step of a pipeline (spec §1.3), with its type-specific arguments.
public struct Step: Sendable, Equatable, ObjectModel {
    public var name: String
    /// `Type` as written (empty when missing); see `type`.
    public var typeName: String
    public var arguments: StepArguments?
    public var dependsOn: [String]?
    public var displayName: String?
    public var description: String?
    public var cacheConfig: CacheConfig?
    public var retryPolicies: [RetryPolicy]?
    public var propertyFiles: [PropertyFile]?
    /// Lambda only.
    public var functionArn: String?
    /// Lambda only (Callback keeps its own in `extra`).
    public var outputParameters: [OutputParameter]?
    /// Type-specific members Shoal does not model (Callback's SqsQueueUrl, check steps' keys…).
    public var extra = OrderedFields<Expression>()

    public init(name: String, type: StepType, arguments: StepArguments?) {
        self.name = name
        self.typeName = type.rawValue
        self.arguments = arguments
    }

    public var type: StepType? { StepType(rawValue: typeName) }

    /// The steps directly inside this step's branches (Condition only).
    public var branches: (ifSteps: [Step], elseSteps: [Step]) {
        if case let .condition(condition)? = arguments { return (condition.ifSteps, condition.elseSteps) }
        return ([], [])
    }

    init(reading reader: inout FieldReader) {
        name = reader.string("Name", required: true) ?? ""
        typeName = reader.string("Type", required: true) ?? ""
        let type = StepType(rawValue: typeName)
        if reader.fields["Type"] != nil && type == nil && !typeName.isEmpty {
            reader.collector.error("unknown-step-type", reader.path.key("Type"), "Step type '\(typeName)' is not a known step type.")
        }
        let argumentsRequired = type != .lambda && type != .callback && type != nil
        if let value = reader.raw("Arguments", required: argumentsRequired) {
            arguments = StepArguments.decode(value, type: type, at: reader.path.key("Arguments"), reader.collector)
        }
        dependsOn = reader.strings("DependsOn", describedAs: "an array of step names")
        displayName = reader.string("DisplayName")
        description = reader.string("Description")
        cacheConfig = reader.object("CacheConfig")
        retryPolicies = reader.objects("RetryPolicies") { "RetryPolicies[\($0)]" }
        propertyFiles = reader.objects("PropertyFiles") { "PropertyFiles[\($0)]" }
        if type == .lambda {
            functionArn = reader.string("FunctionArn", required: true)
            outputParameters = reader.objects("OutputParameters") { "OutputParameters[\($0)]" }
        }
    }

    func write(to writer: inout FieldWriter) {
        writer.put("Name", name)
        writer.put("Type", typeName)
        writer.put("Arguments", arguments?.expression)
        writer.put("DependsOn", dependsOn)
        writer.put("DisplayName", displayName)
        writer.put("Description", description)
        writer.put("CacheConfig", cacheConfig)
        writer.put("RetryPolicies", retryPolicies)
        writer.put("PropertyFiles", propertyFiles)
        writer.put("FunctionArn", functionArn)
        writer.put("OutputParameters", outputParameters)
    }

    static func decodeList(_ value: JSONValue?, at path: JSONPath, _ collector: DiagnosticCollector) -> [Step] {
        guard let value else { return [] }
        guard case let .array(elements) = value else {
            collector.wrongType(path, path.components.last.map(keyName) ?? "Steps", expected: "an array of steps", found: value)
            return []
        }
        return elements.enumerated().compactMap { index, element in
            guard case let .object(fields) = element else {
                collector.wrongType(path.index(index), "A step", expected: "an object", found: element)
                return nil
            }
            let owner = if case let .string(name)? = fields["Name"] { "Step '\(name)'" } else { "The step at \(path.index(index))" }
            collector.functions.beginStep()
            defer { collector.functions.endStep() }
            return Step.decode(element, at: path.index(index), owner: owner, collector)
        }
    }
}

private func keyName(_ component: JSONPath.Component) -> String {
    if case let .key(key) = component { return key }
    return "Steps"
}

/// A step's `Arguments`, typed for the step types Shoal runs.
public enum StepArguments: Sendable, Equatable {
    case processing(ProcessingArguments)
    /// The event a Lambda step's function receives.
    case lambda(OrderedFields<Expression>)
    case condition(ConditionArguments)
    case fail(FailArguments)
    /// Any other step type, kept as written.
    case other(Expression)

    public var expression: Expression {
        switch self {
        case let .processing(arguments): .object(arguments.fields)
        case let .lambda(event): .object(event)
        case let .condition(arguments): .object(arguments.fields)
        case let .fail(arguments): .object(arguments.fields)
        case let .other(expression): expression
        }
    }

    static func decode(_ value: JSONValue, type: StepType?, at path: JSONPath, _ collector: DiagnosticCollector) -> StepArguments? {
        switch type {
        case .processing:
            return ProcessingArguments.decode(value, at: path, owner: "Arguments", collector).map(StepArguments.processing)
        case .condition:
            return ConditionArguments.decode(value, at: path, owner: "Arguments", collector).map(StepArguments.condition)
        case .fail:
            return FailArguments.decode(value, at: path, owner: "Arguments", collector).map(StepArguments.fail)
        case .lambda:
            guard case let .object(fields) = value else {
                collector.wrongType(path, "Arguments", expected: "an object", found: value)
                return nil
            }
            return .lambda(fields.mapEntries { Expression(decoding: $1, at: path.key($0), collector) })
        case .shoalMap:
            guard case let .object(fields) = value else {
                collector.wrongType(path, "Arguments", expected: "an object", found: value)
                return nil
            }
            // An inline child definition has its own parameters and steps: its
            // functions belong to the child, so it is kept as plain JSON here.
            return .other(.object(fields.mapEntries { key, member in
                key == "Definition" ? Expression(literal: member) : Expression(decoding: member, at: path.key(key), collector)
            }))
        default:
            return .other(Expression(decoding: value, at: path, collector))
        }
    }
}
