/// Reads the members of one JSON object into a model type, reporting wrong types
/// and missing members, and keeping every member it was not asked for so that
/// nothing of the document is lost when it is written back.
struct FieldReader {
    let fields: OrderedFields<JSONValue>
    let path: JSONPath
    /// How error messages name the object, e.g. "Step 'Prepare'".
    let owner: String
    let collector: DiagnosticCollector
    /// Which entries were read, by position; a definition's objects are small, so
    /// this avoids hashing every key (objects beyond 64 members fall back to names).
    private var consumedMask: UInt64 = 0
    private var consumedBeyondMask: Set<String> = []

    init(_ fields: OrderedFields<JSONValue>, at path: JSONPath, owner: String, collector: DiagnosticCollector) {
        self.fields = fields
        self.path = path.linkedForChildren
        self.owner = owner
        self.collector = collector
    }

    /// The raw member, marked as read.
    mutating func raw(_ key: String, required: Bool = false) -> JSONValue? {
        guard let position = fields.entries.firstIndex(where: { $0.key == key }) else {
            if required { collector.error("missing-field", path.key(key), "\(owner) has no \(key).") }
            return nil
        }
        if position < 64 { consumedMask |= 1 << UInt64(position) } else { consumedBeyondMask.insert(key) }
        return fields.entries[position].value
    }

    mutating func string(_ key: String, required: Bool = false) -> String? {
        guard let value = raw(key, required: required) else { return nil }
        guard case let .string(text) = value else {
            collector.wrongType(path.key(key), key, expected: "a string", found: value)
            return nil
        }
        return text
    }

    mutating func bool(_ key: String) -> Bool? {
        guard let value = raw(key) else { return nil }
        guard case let .bool(flag) = value else {
            collector.wrongType(path.key(key), key, expected: "true or false", found: value)
            return nil
        }
        return flag
    }

    mutating func number(_ key: String) -> JSONNumber? {
        guard let value = raw(key) else { return nil }
        guard case let .number(number) = value else {
            collector.wrongType(path.key(key), key, expected: "a number", found: value)
            return nil
        }
        return number
    }

    mutating func strings(_ key: String, describedAs what: String = "an array of strings") -> [String]? {
        guard let value = raw(key) else { return nil }
        guard case let .array(elements) = value else {
            collector.wrongType(path.key(key), key, expected: what, found: value)
            return nil
        }
        var result: [String] = []
        for (index, element) in elements.enumerated() {
            guard case let .string(text) = element else {
                collector.wrongType(path.key(key).index(index), "\(key)[\(index)]", expected: "a string", found: element)
                continue
            }
            result.append(text)
        }
        return result
    }

    mutating func expression(_ key: String, required: Bool = false) -> Expression? {
        raw(key, required: required).map { Expression(decoding: $0, at: path.key(key), collector) }
    }

    mutating func expressions(_ key: String) -> [Expression]? {
        guard let value = raw(key) else { return nil }
        guard case let .array(elements) = value else {
            collector.wrongType(path.key(key), key, expected: "an array", found: value)
            return nil
        }
        return elements.enumerated().map { Expression(decoding: $1, at: path.key(key).index($0), collector) }
    }

    mutating func expressionFields(_ key: String) -> OrderedFields<Expression>? {
        guard let value = raw(key) else { return nil }
        guard case let .object(object) = value else {
            collector.wrongType(path.key(key), key, expected: "an object", found: value)
            return nil
        }
        return object.mapEntries { Expression(decoding: $1, at: path.key(key).key($0), collector) }
    }

    mutating func object<T: ObjectModel>(_ key: String, required: Bool = false) -> T? {
        guard let value = raw(key, required: required) else { return nil }
        return T.decode(value, at: path.key(key), owner: key, collector)
    }

    mutating func objects<T: ObjectModel>(_ key: String, owner: (Int) -> String) -> [T]? {
        guard let value = raw(key) else { return nil }
        guard case let .array(elements) = value else {
            collector.wrongType(path.key(key), key, expected: "an array", found: value)
            return nil
        }
        return elements.enumerated().compactMap { index, element in
            T.decode(element, at: path.key(key).index(index), owner: owner(index), collector)
        }
    }

    /// The members nobody asked for, kept as written.
    func remaining() -> OrderedFields<Expression> {
        var rest = OrderedFields<Expression>()
        for (position, (key, value)) in fields.entries.enumerated() {
            let used = position < 64 ? consumedMask & (1 << UInt64(position)) != 0 : consumedBeyondMask.contains(key)
            if !used { rest.entries.append((key, Expression(decoding: value, at: path.key(key), collector))) }
        }
        return rest
    }
}

extension OrderedFields {
    func mapEntries<T>(_ transform: (String, Value) throws -> T) rethrows -> OrderedFields<T> {
        OrderedFields<T>(try entries.map { ($0.key, try transform($0.key, $0.value)) })
    }
}

/// A part of the definition that is a JSON object.
public protocol DefinitionObject: Sendable {
    /// The object as written in a definition, expressions included.
    var fields: OrderedFields<Expression> { get }
}

/// A part of the document that is a JSON object with known members and keeps
/// the unknown ones in `extra`.
protocol ObjectModel: DefinitionObject {
    init(reading reader: inout FieldReader)
    func write(to writer: inout FieldWriter)
    var extra: OrderedFields<Expression> { get set }
    var keyOrder: KeyOrder { get set }
}

extension ObjectModel {
    static func decode(_ value: JSONValue, at path: JSONPath, owner: String, _ collector: DiagnosticCollector) -> Self? {
        guard case let .object(fields) = value else {
            collector.wrongType(path, owner, expected: "an object", found: value)
            return nil
        }
        var reader = FieldReader(fields, at: path, owner: owner, collector: collector)
        var model = Self(reading: &reader)
        model.extra = reader.remaining()
        model.keyOrder = KeyOrder(fields.entries.map(\.key))
        return model
    }

    /// The object as written in a definition, expressions included.
    public var fields: OrderedFields<Expression> {
        var writer = FieldWriter()
        write(to: &writer)
        for entry in extra.entries where writer.fields[entry.key] == nil { writer.fields.entries.append(entry) }
        keyOrder.arrange(&writer.fields)
        return writer.fields
    }
}

/// Builds the members of one object, in the SDK's key order, skipping absent ones.
struct FieldWriter {
    var fields = OrderedFields<Expression>()

    mutating func put(_ key: String, _ value: Expression?) {
        if let value { fields.entries.append((key, value)) }
    }

    mutating func put(_ key: String, _ value: String?) { put(key, value.map(Expression.string)) }
    mutating func put(_ key: String, _ value: Bool?) { put(key, value.map(Expression.bool)) }
    mutating func put(_ key: String, _ value: JSONNumber?) { put(key, value.map(Expression.number)) }
    mutating func put(_ key: String, _ value: [String]?) { put(key, value.map { .array($0.map(Expression.string)) }) }
    mutating func put(_ key: String, _ value: [Expression]?) { put(key, value.map(Expression.array)) }
    mutating func put(_ key: String, _ value: OrderedFields<Expression>?) { put(key, value.map(Expression.object)) }
    mutating func put(_ key: String, _ value: (some ObjectModel)?) { put(key, value.map { .object($0.fields) }) }
    mutating func put(_ key: String, _ value: [some ObjectModel]?) { put(key, value.map { .array($0.map { .object($0.fields) }) }) }
}

/// The order an object's keys had in the document it was read from, so that
/// writing it back gives the same text. Order is presentation, not meaning:
/// two models that differ only in it are equal.
public struct KeyOrder: Sendable, Equatable {
    var keys: [String] = []

    public init() {}
    init(_ keys: [String]) { self.keys = keys }

    public static func == (lhs: KeyOrder, rhs: KeyOrder) -> Bool { true }

    /// Puts the written members in document order; members the document did
    /// not have (set since) follow in the writer's order.
    func arrange(_ fields: inout OrderedFields<Expression>) {
        guard !keys.isEmpty, fields.entries.count > 1 else { return }
        var position: [String: Int] = [:]
        position.reserveCapacity(keys.count)
        for (index, key) in keys.enumerated() where position[key] == nil { position[key] = index }
        let ranks = fields.entries.map { position[$0.key] ?? Int.max }
        if zip(ranks, ranks.dropFirst()).allSatisfy({ $0 <= $1 }) { return }
        fields.entries = fields.entries.indices.sorted { (ranks[$0], $0) < (ranks[$1], $1) }.map { fields.entries[$0] }
    }
}
