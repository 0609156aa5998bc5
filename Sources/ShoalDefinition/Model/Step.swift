/// A step of a pipeline (spec §1.3), with its type-specific arguments.
public struct Step: Sendable, Equatable, ObjectModel {
    /// The members live in one shared box, copied only when a shared step is
    /// changed: steps are passed around a lot, and a plain struct of this many
    /// references costs a retain per member on every copy.
    private final class Storage: @unchecked Sendable {
        var name: String = ""
        var typeName: String = ""
        var arguments: StepArguments? = nil
        var dependsOn: [String]? = nil
        var displayName: String? = nil
        var description: String? = nil
        var cacheConfig: CacheConfig? = nil
        var retryPolicies: [RetryPolicy]? = nil
        var propertyFiles: [PropertyFile]? = nil
        var functionArn: String? = nil
        var outputParameters: [OutputParameter]? = nil
        var extra: OrderedFields<Expression> = OrderedFields<Expression>()
        var keyOrder = KeyOrder()

        func copy() -> Storage {
            let other = Storage()
            other.name = name
            other.typeName = typeName
            other.arguments = arguments
            other.dependsOn = dependsOn
            other.displayName = displayName
            other.description = description
            other.cacheConfig = cacheConfig
            other.retryPolicies = retryPolicies
            other.propertyFiles = propertyFiles
            other.functionArn = functionArn
            other.outputParameters = outputParameters
            other.extra = extra
            other.keyOrder = keyOrder
            return other
        }
    }

    private var storage = Storage()

    private mutating func unique() -> Storage {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        return storage
    }

    public var name: String {
        get { storage.name }
        set { unique().name = newValue }
    }

    /// `Type` as written (empty when missing); see `type`.
    public var typeName: String {
        get { storage.typeName }
        set { unique().typeName = newValue }
    }

    public var arguments: StepArguments? {
        get { storage.arguments }
        set { unique().arguments = newValue }
    }

    public var dependsOn: [String]? {
        get { storage.dependsOn }
        set { unique().dependsOn = newValue }
    }

    public var displayName: String? {
        get { storage.displayName }
        set { unique().displayName = newValue }
    }

    public var description: String? {
        get { storage.description }
        set { unique().description = newValue }
    }

    public var cacheConfig: CacheConfig? {
        get { storage.cacheConfig }
        set { unique().cacheConfig = newValue }
    }

    public var retryPolicies: [RetryPolicy]? {
        get { storage.retryPolicies }
        set { unique().retryPolicies = newValue }
    }

    public var propertyFiles: [PropertyFile]? {
        get { storage.propertyFiles }
        set { unique().propertyFiles = newValue }
    }

    /// Lambda only.
    public var functionArn: String? {
        get { storage.functionArn }
        set { unique().functionArn = newValue }
    }

    /// Lambda only (Callback keeps its own in `extra`).
    public var outputParameters: [OutputParameter]? {
        get { storage.outputParameters }
        set { unique().outputParameters = newValue }
    }

    /// Type-specific members Shoal does not model (Callback's SqsQueueUrl, check steps' keys…).
    public var extra: OrderedFields<Expression> {
        get { storage.extra }
        set { unique().extra = newValue }
    }

    public var keyOrder: KeyOrder {
        get { storage.keyOrder }
        set { unique().keyOrder = newValue }
    }

    public static func == (lhs: Step, rhs: Step) -> Bool {
        lhs.storage === rhs.storage || (
            lhs.name == rhs.name &&
            lhs.typeName == rhs.typeName &&
            lhs.arguments == rhs.arguments &&
            lhs.dependsOn == rhs.dependsOn &&
            lhs.displayName == rhs.displayName &&
            lhs.description == rhs.description &&
            lhs.cacheConfig == rhs.cacheConfig &&
            lhs.retryPolicies == rhs.retryPolicies &&
            lhs.propertyFiles == rhs.propertyFiles &&
            lhs.functionArn == rhs.functionArn &&
            lhs.outputParameters == rhs.outputParameters &&
            lhs.extra == rhs.extra
        )
    }

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
        }
        if type == .lambda || type == .callback {
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
