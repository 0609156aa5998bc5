import ShoalDefinition

/// Follows a property path or a `Std:JsonGet` path through a JSON value.
enum JSONNavigation {
    static func follow(_ segments: [PropertyPath.Segment], in root: JSONValue) -> JSONValue? {
        var current = root
        for segment in segments {
            switch (segment, current) {
            case let (.member(name), .object(fields)), let (.key(name), .object(fields)):
                guard let next = fields[name] else { return nil }
                current = next
            case let (.index(index), .array(elements)):
                guard index < elements.count else { return nil }
                current = elements[index]
            case let (.key(key), .array(elements)):
                // A list indexed by name: the element whose name member is the key.
                guard let element = elements.first(where: { element in
                    guard case let .object(fields) = element else { return false }
                    return PropertyPath.listKeyFields.contains { fields[$0] == .string(key) }
                }) else { return nil }
                current = element
            default:
                return nil
            }
        }
        return current
    }
}
