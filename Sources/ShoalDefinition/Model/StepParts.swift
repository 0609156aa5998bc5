/// `CacheConfig` of a step (spec §5.7).
public struct CacheConfig: Sendable, Equatable, ObjectModel {
    public var enabled: Bool?
    /// ISO 8601 duration as written (`PT1H`, `p30d`).
    public var expireAfter: String?
    public var extra = OrderedFields<Expression>()
    public var keyOrder = KeyOrder()

    public init(enabled: Bool, expireAfter: String? = nil) {
        self.enabled = enabled
        self.expireAfter = expireAfter
    }

    init(reading reader: inout FieldReader) {
        enabled = reader.bool("Enabled")
        expireAfter = reader.string("ExpireAfter")
    }

    func write(to writer: inout FieldWriter) {
        writer.put("Enabled", enabled)
        writer.put("ExpireAfter", expireAfter)
    }
}

/// One entry of `RetryPolicies` (spec §5.8). Numbers keep the way they were written.
public struct RetryPolicy: Sendable, Equatable, ObjectModel {
    public var exceptionTypes: [String]?
    public var intervalSeconds: JSONNumber?
    public var backoffRate: JSONNumber?
    public var maxAttempts: JSONNumber?
    public var expireAfterMin: JSONNumber?
    public var extra = OrderedFields<Expression>()
    public var keyOrder = KeyOrder()

    public init(exceptionTypes: [String], intervalSeconds: Int = 1, backoffRate: Double = 2.0, maxAttempts: Int? = nil, expireAfterMin: Int? = nil) {
        self.exceptionTypes = exceptionTypes
        self.intervalSeconds = .int(intervalSeconds)
        self.backoffRate = .double(backoffRate)
        self.maxAttempts = maxAttempts.map(JSONNumber.int)
        self.expireAfterMin = expireAfterMin.map(JSONNumber.int)
    }

    init(reading reader: inout FieldReader) {
        exceptionTypes = reader.strings("ExceptionType")
        intervalSeconds = reader.number("IntervalSeconds")
        backoffRate = reader.number("BackoffRate")
        maxAttempts = reader.number("MaxAttempts")
        expireAfterMin = reader.number("ExpireAfterMin")
    }

    func write(to writer: inout FieldWriter) {
        writer.put("ExceptionType", exceptionTypes)
        writer.put("IntervalSeconds", intervalSeconds)
        writer.put("BackoffRate", backoffRate)
        writer.put("MaxAttempts", maxAttempts)
        writer.put("ExpireAfterMin", expireAfterMin)
    }
}

/// A JSON file a processing step writes into one of its outputs, which
/// `Std:JsonGet` reads (spec §2.6).
public struct PropertyFile: Sendable, Equatable, ObjectModel {
    public var name: String
    public var outputName: String
    public var filePath: String
    public var extra = OrderedFields<Expression>()
    public var keyOrder = KeyOrder()

    public init(name: String, outputName: String, filePath: String) {
        self.name = name
        self.outputName = outputName
        self.filePath = filePath
    }

    init(reading reader: inout FieldReader) {
        name = reader.string("PropertyFileName", required: true) ?? ""
        outputName = reader.string("OutputName", required: true) ?? ""
        filePath = reader.string("FilePath", required: true) ?? ""
    }

    func write(to writer: inout FieldWriter) {
        writer.put("PropertyFileName", name)
        writer.put("OutputName", outputName)
        writer.put("FilePath", filePath)
    }
}

/// A declared output of a Lambda or Callback step (spec §3.2).
public struct OutputParameter: Sendable, Equatable, ObjectModel {
    public enum OutputType: String, Sendable, CaseIterable {
        case string = "String", integer = "Integer", boolean = "Boolean", float = "Float"
    }

    public var name: String
    public var typeName: String?
    public var extra = OrderedFields<Expression>()
    public var keyOrder = KeyOrder()

    public init(name: String, type: OutputType) {
        self.name = name
        self.typeName = type.rawValue
    }

    public var type: OutputType? { OutputType(rawValue: typeName ?? "String") }

    init(reading reader: inout FieldReader) {
        name = reader.string("OutputName", required: true) ?? ""
        typeName = reader.string("OutputType")
    }

    func write(to writer: inout FieldWriter) {
        writer.put("OutputName", name)
        writer.put("OutputType", typeName)
    }
}

/// `{"Key": …, "Value": …}`; either may be an expression (fx:13).
public struct Tag: Sendable, Equatable, ObjectModel {
    public var key: Expression?
    public var value: Expression?
    public var extra = OrderedFields<Expression>()
    public var keyOrder = KeyOrder()

    public init(key: String, value: Expression) {
        self.key = .string(key)
        self.value = value
    }

    init(reading reader: inout FieldReader) {
        key = reader.expression("Key", required: true)
        value = reader.expression("Value", required: true)
    }

    func write(to writer: inout FieldWriter) {
        writer.put("Key", key)
        writer.put("Value", value)
    }
}
