/// A pipeline parameter (spec §1.2).
public struct Parameter: Sendable, Equatable, ObjectModel {
    public enum ParameterType: String, Sendable, CaseIterable {
        case string = "String", integer = "Integer", float = "Float", boolean = "Boolean"
    }

    public var name: String
    /// As written; nil when the document leaves `Type` out, which means String.
    public var typeName: String?
    public var defaultValue: JSONValue?
    public var enumValues: [String]?
    public var extra = OrderedFields<Expression>()
    public var keyOrder = KeyOrder()

    public init(name: String, type: ParameterType, defaultValue: JSONValue? = nil, enumValues: [String]? = nil) {
        self.name = name
        self.typeName = type.rawValue
        self.defaultValue = defaultValue
        self.enumValues = enumValues
    }

    /// The declared type; nil for a name that is not a parameter type.
    public var type: ParameterType? { ParameterType(rawValue: typeName ?? "String") }

    init(reading reader: inout FieldReader) {
        name = reader.string("Name", required: true) ?? ""
        typeName = reader.string("Type")
        defaultValue = reader.raw("DefaultValue")
        enumValues = reader.strings("EnumValues")
    }

    func write(to writer: inout FieldWriter) {
        writer.put("Name", name)
        writer.put("Type", typeName)
        writer.put("DefaultValue", defaultValue.map(Expression.init(literal:)))
        writer.put("EnumValues", enumValues)
    }
}

extension Expression {
    /// The expression that is exactly this JSON, functions not interpreted
    /// (an inline child definition, for one, keeps its own `Get`s).
    public init(literal value: JSONValue) {
        switch value {
        case .null: self = .null
        case let .bool(flag): self = .bool(flag)
        case let .number(number): self = .number(number)
        case let .string(text): self = .string(text)
        case let .array(elements): self = .array(elements.map(Expression.init(literal:)))
        case let .object(fields): self = .object(fields.mapValues(Expression.init(literal:)))
        }
    }
}
