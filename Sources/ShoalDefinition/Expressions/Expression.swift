/// A value in a definition: plain JSON, or one of the pipeline functions that the
/// engine resolves when the consuming step starts (`Get`, `Std:Join`, `Std:JsonGet`).
/// Any JSON value position may hold one (spec §2.1).
public indirect enum Expression: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([Expression])
    case object(OrderedFields<Expression>)
    /// `{"Get": "Parameters.X"}`, `{"Get": "Execution.V"}`, `{"Get": "Steps.S.…"}`.
    case get(Reference)
    /// `{"Std:Join": {"On": …, "Values": […]}}`.
    case join(on: String, values: [Expression])
    /// `{"Std:JsonGet": {"PropertyFile"|"S3Uri": …, "Path": …}}`.
    case jsonGet(JsonGet)

    /// Whether no function occurs anywhere inside.
    public var isLiteral: Bool {
        switch self {
        case .null, .bool, .number, .string: true
        case let .array(elements): elements.allSatisfy(\.isLiteral)
        case let .object(fields): fields.entries.allSatisfy { $0.value.isLiteral }
        case .get, .join, .jsonGet: false
        }
    }

    public var stringLiteral: String? {
        if case let .string(text) = self { return text }
        return nil
    }

    public var numberLiteral: JSONNumber? {
        if case let .number(number) = self { return number }
        return nil
    }

    /// The JSON the expression is written as.
    public var json: JSONValue {
        switch self {
        case .null: .null
        case let .bool(flag): .bool(flag)
        case let .number(number): .number(number)
        case let .string(text): .string(text)
        case let .array(elements): .array(elements.map(\.json))
        case let .object(fields): .object(fields.mapValues(\.json))
        case let .get(reference): ["Get": .string(reference.text)]
        case let .join(on, values): ["Std:Join": ["On": .string(on), "Values": .array(values.map(\.json))]]
        case let .jsonGet(jsonGet):
            switch jsonGet.source {
            case let .propertyFile(reference):
                ["Std:JsonGet": ["PropertyFile": ["Get": .string(reference.text)], "Path": .string(jsonGet.path)]]
            case let .s3Uri(uri):
                ["Std:JsonGet": ["S3Uri": uri.json, "Path": .string(jsonGet.path)]]
            }
        }
    }

    /// A pipeline function found inside an expression.
    public enum Function: Sendable {
        /// A `Get`; for the property file of a `Std:JsonGet` its path ends in `PropertyFile`.
        case get(Reference)
        case jsonGet(JsonGet)
    }
}

/// `Std:JsonGet`: a value read from a JSON file that a step wrote.
public struct JsonGet: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        /// `{"Get": "Steps.S.PropertyFiles.P"}`: a property file the step declares.
        case propertyFile(Reference)
        /// A URI, usually a `Std:Join` over a step property.
        case s3Uri(Expression)
    }

    public var source: Source
    /// JsonPath: names, `['key']`, `[n]`, with an optional leading `$.`.
    public var path: String

    public init(source: Source, path: String) {
        self.source = source
        self.path = path
    }
}

extension Expression: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(dictionaryLiteral elements: (String, Expression)...) {
        self = .object(OrderedFields(elements.map { (key: $0.0, value: $0.1) }))
    }

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(.int(value)) }
    public init(floatLiteral value: Double) { self = .number(.double(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: Expression...) { self = .array(elements) }
}

extension Expression {
    /// Reads a JSON value, recognising the function objects in it.
    init(decoding value: JSONValue, at path: JSONPath, _ collector: DiagnosticCollector) {
        switch value {
        case .null: self = .null
        case let .bool(flag): self = .bool(flag)
        case let .number(number): self = .number(number)
        case let .string(text): self = .string(text)
        case let .array(elements):
            let parent = path.linkedForChildren
            self = .array(elements.enumerated().map { Expression(decoding: $1, at: parent.index($0), collector) })
        case let .object(fields):
            if fields.count == 1, let (key, body) = fields.entries.first, let function = Expression.function(key, body, at: path, collector) {
                self = function
            } else {
                let parent = path.linkedForChildren
                self = .object(fields.mapEntries { Expression(decoding: $1, at: parent.key($0), collector) })
            }
        }
    }

    private static func function(_ key: String, _ body: JSONValue, at path: JSONPath, _ collector: DiagnosticCollector) -> Expression? {
        switch key {
        case "Get":
            guard case let .string(text) = body else {
                collector.wrongType(path.key("Get"), "Get", expected: "a string such as 'Parameters.Name'", found: body)
                return .null
            }
            let reference = Reference(text)
            collector.functions.note(.get(reference), at: path)
            return .get(reference)
        case "Std:Join":
            let bodyPath = path.key("Std:Join")
            guard case let .object(fields) = body else {
                collector.wrongType(bodyPath, "Std:Join", expected: "an object with On and Values", found: body)
                return .null
            }
            var reader = FieldReader(fields, at: bodyPath, owner: "Std:Join", collector: collector)
            let on = reader.string("On", required: true) ?? ""
            let values = reader.expressions("Values")
            if values == nil && fields["Values"] == nil {
                collector.error("missing-field", bodyPath.key("Values"), "Std:Join has no Values.")
            }
            reportUnknownMembers(reader, of: "Std:Join", collector)
            return .join(on: on, values: values ?? [])
        case "Std:JsonGet":
            let bodyPath = path.key("Std:JsonGet")
            guard case let .object(fields) = body else {
                collector.wrongType(bodyPath, "Std:JsonGet", expected: "an object with PropertyFile or S3Uri, and Path", found: body)
                return .null
            }
            var reader = FieldReader(fields, at: bodyPath, owner: "Std:JsonGet", collector: collector)
            let jsonPath = reader.string("Path", required: true) ?? ""
            let propertyFile = reader.raw("PropertyFile")
            let s3Uri = reader.expression("S3Uri")
            reportUnknownMembers(reader, of: "Std:JsonGet", collector)
            switch (propertyFile, s3Uri) {
            case let (.object(getFields)?, nil):
                if getFields.count == 1, case let .string(text)? = getFields["Get"] {
                    let reference = Reference(text)
                    let jsonGet = JsonGet(source: .propertyFile(reference), path: jsonPath)
                    collector.functions.note(.jsonGet(jsonGet), at: path)
                    collector.functions.note(.get(reference), at: bodyPath.key("PropertyFile"))
                    return .jsonGet(jsonGet)
                }
                fallthrough
            case (.some, nil):
                collector.error(
                    "invalid-expression", bodyPath.key("PropertyFile"),
                    "Std:JsonGet's PropertyFile must be {\"Get\": \"Steps.<step>.PropertyFiles.<name>\"}."
                )
                return .null
            case let (nil, uri?):
                let jsonGet = JsonGet(source: .s3Uri(uri), path: jsonPath)
                collector.functions.note(.jsonGet(jsonGet), at: path)
                return .jsonGet(jsonGet)
            case (nil, nil):
                collector.error("missing-field", bodyPath, "Std:JsonGet needs either PropertyFile or S3Uri.")
                return .null
            case (.some, .some):
                collector.error("invalid-expression", bodyPath, "Std:JsonGet takes either PropertyFile or S3Uri, not both.")
                return .null
            }
        default:
            if key.hasPrefix("Std:") {
                collector.error(
                    "unknown-function", path.key(key),
                    "'\(key)' is not a pipeline function; the functions are Std:Join and Std:JsonGet."
                )
                return .null
            }
            return nil
        }
    }

    private static func reportUnknownMembers(_ reader: FieldReader, of function: String, _ collector: DiagnosticCollector) {
        for (key, _) in reader.remaining().entries {
            collector.error("unknown-property", reader.path.key(key), "\(function) has no member '\(key)'.")
        }
    }
}
