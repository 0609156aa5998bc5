/// Lets `JSONValue` (and so the definition model) travel through any Coder.
/// Key order survives only where the coder keeps it, and a number written
/// `6.0` comes back as `6` from Foundation's JSONDecoder: for text that
/// round-trips exactly, read with `JSONParser` (as `DefinitionCheck` does).
extension JSONValue: Codable {
    private struct MemberKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: Decoder) throws {
        if let object = try? decoder.container(keyedBy: MemberKey.self) {
            var fields = OrderedFields<JSONValue>()
            for key in object.allKeys { fields.entries.append((key.stringValue, try object.decode(JSONValue.self, forKey: key))) }
            self = .object(fields)
        } else if var array = try? decoder.unkeyedContainer() {
            var elements: [JSONValue] = []
            while !array.isAtEnd { elements.append(try array.decode(JSONValue.self)) }
            self = .array(elements)
        } else {
            let single = try decoder.singleValueContainer()
            if single.decodeNil() {
                self = .null
            } else if let flag = try? single.decode(Bool.self) {
                self = .bool(flag)
            } else if let integer = try? single.decode(Int.self) {
                self = .number(.int(integer))
            } else if let double = try? single.decode(Double.self) {
                self = .number(.double(double))
            } else {
                self = .string(try single.decode(String.self))
            }
        }
    }

    public func encode(to encoder: Encoder) throws {
        switch self {
        case let .object(fields):
            var container = encoder.container(keyedBy: MemberKey.self)
            for (key, value) in fields.entries { try container.encode(value, forKey: MemberKey(stringValue: key)) }
        case let .array(elements):
            var container = encoder.unkeyedContainer()
            for element in elements { try container.encode(element) }
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case let .bool(flag):
            var container = encoder.singleValueContainer()
            try container.encode(flag)
        case let .number(.int(value)):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case let .number(.double(value)):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case let .string(text):
            var container = encoder.singleValueContainer()
            try container.encode(text)
        }
    }
}
