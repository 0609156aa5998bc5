/// One condition of a Condition step (spec §3.3).
public indirect enum Condition: Sendable, Equatable {
    public enum Comparison: String, Sendable, CaseIterable {
        case equals = "Equals"
        case greaterThan = "GreaterThan"
        case greaterThanOrEqualTo = "GreaterThanOrEqualTo"
        case lessThan = "LessThan"
        case lessThanOrEqualTo = "LessThanOrEqualTo"
    }

    case compare(Comparison, left: Expression, right: Expression)
    case `in`(query: Expression, values: [Expression])
    case not(Condition)
    case or([Condition])

    public var typeName: String {
        switch self {
        case let .compare(comparison, _, _): comparison.rawValue
        case .in: "In"
        case .not: "Not"
        case .or: "Or"
        }
    }

    public var json: JSONValue { .object(fields.mapValues(\.json)) }

    var fields: OrderedFields<Expression> {
        switch self {
        case let .compare(comparison, left, right):
            ["Type": .string(comparison.rawValue), "LeftValue": left, "RightValue": right]
        case let .in(query, values):
            ["Type": "In", "QueryValue": query, "Values": .array(values)]
        case let .not(condition):
            ["Type": "Not", "Condition": .object(condition.fields)]
        case let .or(conditions):
            ["Type": "Or", "Conditions": .array(conditions.map { .object($0.fields) })]
        }
    }

    /// Visits every operand, with its path, through Not and Or.
    public func forEachOperand(at path: JSONPath, _ body: (Expression, JSONPath) throws -> Void) rethrows {
        switch self {
        case let .compare(_, left, right):
            try body(left, path.key("LeftValue"))
            try body(right, path.key("RightValue"))
        case let .in(query, values):
            try body(query, path.key("QueryValue"))
            for (index, value) in values.enumerated() { try body(value, path.key("Values").index(index)) }
        case let .not(condition):
            try condition.forEachOperand(at: path.key("Condition"), body)
        case let .or(conditions):
            for (index, condition) in conditions.enumerated() { try condition.forEachOperand(at: path.key("Conditions").index(index), body) }
        }
    }

    /// Conditions are parsed strictly: the service refuses unknown members (spec §1.1).
    static func decode(_ value: JSONValue, at path: JSONPath, _ collector: DiagnosticCollector) -> Condition? {
        guard case let .object(fields) = value else {
            collector.wrongType(path, "A condition", expected: "an object", found: value)
            return nil
        }
        var reader = FieldReader(fields, at: path, owner: "The condition", collector: collector)
        guard let type = reader.string("Type", required: true) else { return nil }
        let condition: Condition?
        if let comparison = Comparison(rawValue: type) {
            let left = reader.expression("LeftValue", required: true)
            let right = reader.expression("RightValue", required: true)
            condition = left.flatMap { left in right.map { .compare(comparison, left: left, right: $0) } }
        } else {
            switch type {
            case "In":
                let query = reader.expression("QueryValue", required: true)
                let values = reader.expressions("Values")
                if fields["Values"] == nil { collector.error("missing-field", path.key("Values"), "The In condition has no Values.") }
                condition = query.map { .in(query: $0, values: values ?? []) }
            case "Not":
                let inner = reader.raw("Condition", required: true).flatMap { decode($0, at: path.key("Condition"), collector) }
                condition = inner.map { .not($0) }
            case "Or":
                let inner = decodeList(reader.raw("Conditions", required: true), at: path.key("Conditions"), collector)
                condition = inner.map { .or($0) }
            default:
                let known = (Comparison.allCases.map(\.rawValue) + ["In", "Not", "Or"]).joined(separator: ", ")
                collector.error("unknown-condition-type", path.key("Type"), "Condition type '\(type)' is not one of \(known).")
                return nil
            }
        }
        for (key, _) in reader.remaining().entries {
            collector.error("unknown-property", path.key(key), "A condition of type \(type) has no member '\(key)'.")
        }
        return condition
    }

    static func decodeList(_ value: JSONValue?, at path: JSONPath, _ collector: DiagnosticCollector) -> [Condition]? {
        guard let value else { return nil }
        guard case let .array(elements) = value else {
            collector.wrongType(path, "Conditions", expected: "an array of conditions", found: value)
            return nil
        }
        return elements.enumerated().compactMap { decode($1, at: path.index($0), collector) }
    }
}

/// The `Arguments` of a Condition step.
public struct ConditionArguments: Sendable, Equatable, ObjectModel {
    /// All must hold for IfSteps to run (an AND).
    public var conditions: [Condition]
    public var ifSteps: [Step]
    public var elseSteps: [Step]
    public var extra = OrderedFields<Expression>()
    public var keyOrder = KeyOrder()

    public init(conditions: [Condition], ifSteps: [Step], elseSteps: [Step]) {
        self.conditions = conditions
        self.ifSteps = ifSteps
        self.elseSteps = elseSteps
    }

    init(reading reader: inout FieldReader) {
        conditions = Condition.decodeList(reader.raw("Conditions", required: true), at: reader.path.key("Conditions"), reader.collector) ?? []
        ifSteps = Step.decodeList(reader.raw("IfSteps"), at: reader.path.key("IfSteps"), reader.collector)
        elseSteps = Step.decodeList(reader.raw("ElseSteps"), at: reader.path.key("ElseSteps"), reader.collector)
    }

    func write(to writer: inout FieldWriter) {
        writer.put("Conditions", .array(conditions.map { .object($0.fields) }))
        writer.put("IfSteps", ifSteps)
        writer.put("ElseSteps", elseSteps)
    }
}

/// The `Arguments` of a Fail step.
public struct FailArguments: Sendable, Equatable, ObjectModel {
    public var errorMessage: Expression?
    public var extra = OrderedFields<Expression>()
    public var keyOrder = KeyOrder()

    public init(errorMessage: Expression) { self.errorMessage = errorMessage }

    init(reading reader: inout FieldReader) { errorMessage = reader.expression("ErrorMessage") }
    func write(to writer: inout FieldWriter) { writer.put("ErrorMessage", errorMessage) }
}
