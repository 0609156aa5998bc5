/// A JSON document as parsed, keeping what `JSONSerialization` loses: the order of
/// object keys and whether a number was written as an integer (`2`) or not (`2.0`).
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(OrderedFields<JSONValue>)

    /// The kind, as an error message names it ("a string", "an array").
    public var kindDescription: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// A JSON number: integers stay integers; everything else is a Double.
public enum JSONNumber: Sendable, Hashable, CustomStringConvertible {
    case int(Int)
    case double(Double)

    public var doubleValue: Double {
        switch self {
        case let .int(value): Double(value)
        case let .double(value): value
        }
    }

    /// The integer this number is exactly, if any (`3` and `3.0` both are 3).
    public var exactInt: Int? {
        switch self {
        case let .int(value): value
        case let .double(value): value.rounded() == value && abs(value) < 9.0e15 ? Int(value) : nil
        }
    }

    /// JSON text; a double keeps a fraction (`6.0`), as Python writes it.
    public var description: String {
        switch self {
        case let .int(value): String(value)
        case let .double(value): value.description
        }
    }

    /// Numbers are equal by value, whichever way they were written.
    public static func == (lhs: JSONNumber, rhs: JSONNumber) -> Bool {
        switch (lhs, rhs) {
        case let (.int(a), .int(b)): a == b
        default: lhs.doubleValue == rhs.doubleValue
        }
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(doubleValue) }
}

/// Object members in document order. Equality ignores order, as JSON does.
public struct OrderedFields<Value: Sendable & Equatable>: Sendable, Equatable, Sequence {
    public var entries: [(key: String, value: Value)]

    public init(_ entries: [(key: String, value: Value)] = []) { self.entries = entries }

    public var isEmpty: Bool { entries.isEmpty }
    public var count: Int { entries.count }
    public var keys: [String] { entries.map(\.key) }

    public subscript(key: String) -> Value? {
        get { entries.first { $0.key == key }?.value }
        set {
            if let index = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[index].value = newValue } else { entries.remove(at: index) }
            } else if let newValue {
                entries.append((key, newValue))
            }
        }
    }

    public func makeIterator() -> IndexingIterator<[(key: String, value: Value)]> { entries.makeIterator() }

    public func mapValues<T>(_ transform: (Value) throws -> T) rethrows -> OrderedFields<T> {
        OrderedFields<T>(try entries.map { ($0.key, try transform($0.value)) })
    }

    public static func == (lhs: OrderedFields, rhs: OrderedFields) -> Bool {
        guard lhs.entries.count == rhs.entries.count else { return false }
        if zip(lhs.entries, rhs.entries).allSatisfy({ $0.key == $1.key && $0.value == $1.value }) { return true }
        var right: [String: Value] = [:]
        for (key, value) in rhs.entries { right[key] = value }
        return lhs.entries.allSatisfy { right[$0.key] == $0.value }
    }
}

extension OrderedFields: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, Value)...) {
        self.init(elements.map { (key: $0.0, value: $0.1) })
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(.int(value)) }
    public init(floatLiteral value: Double) { self = .number(.double(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(OrderedFields(elements.map { (key: $0.0, value: $0.1) }))
    }
    public init(nilLiteral: ()) { self = .null }
}
