/// The differences between two JSON documents, each at its JSON path. Lists of
/// named objects (steps, parameters, inputs, outputs) are matched by name, so
/// inserting a step shows as one addition, not as every later step changing.
public enum JSONDiff {
    public enum Change: Sendable, Equatable, CustomStringConvertible {
        case added(path: String, value: JSONValue)
        case removed(path: String, value: JSONValue)
        case changed(path: String, from: JSONValue, to: JSONValue)

        public var description: String {
            switch self {
            case let .added(path, value): "+ \(path): \(JSONWriter.string(value))"
            case let .removed(path, value): "- \(path): \(JSONWriter.string(value))"
            case let .changed(path, from, to): "~ \(path): \(JSONWriter.string(from)) -> \(JSONWriter.string(to))"
            }
        }
    }

    static let nameKeys = ["Name", "OutputName", "InputName", "PropertyFileName"]

    public static func changes(from old: JSONValue, to new: JSONValue) -> [Change] {
        var changes: [Change] = []
        compare(old, new, .root, &changes)
        return changes
    }

    private static func compare(_ old: JSONValue, _ new: JSONValue, _ path: JSONPath, _ changes: inout [Change]) {
        switch (old, new) {
        case let (.object(a), .object(b)):
            for (key, value) in a.entries {
                if let other = b[key] { compare(value, other, path.key(key), &changes) } else { changes.append(.removed(path: path.key(key).description, value: value)) }
            }
            for (key, value) in b.entries where a[key] == nil { changes.append(.added(path: path.key(key).description, value: value)) }
        case let (.array(a), .array(b)):
            if let keyA = names(a), let keyB = names(b) {
                for (index, name) in keyA.enumerated() {
                    if let other = keyB.firstIndex(of: name) {
                        compare(a[index], b[other], path.index(other), &changes)
                    } else {
                        changes.append(.removed(path: path.index(index).description + " (\(name))", value: a[index]))
                    }
                }
                for (index, name) in keyB.enumerated() where !keyA.contains(name) {
                    changes.append(.added(path: path.index(index).description + " (\(name))", value: b[index]))
                }
            } else {
                for index in 0..<max(a.count, b.count) {
                    switch (index < a.count, index < b.count) {
                    case (true, true): compare(a[index], b[index], path.index(index), &changes)
                    case (true, false): changes.append(.removed(path: path.index(index).description, value: a[index]))
                    default: changes.append(.added(path: path.index(index).description, value: b[index]))
                    }
                }
            }
        default:
            if old != new { changes.append(.changed(path: path.description, from: old, to: new)) }
        }
    }

    /// The names of a list's elements, if every element is an object named by one of the name keys.
    private static func names(_ elements: [JSONValue]) -> [String]? {
        guard !elements.isEmpty else { return nil }
        var names: [String] = []
        for element in elements {
            guard case let .object(fields) = element,
                  let name = nameKeys.lazy.compactMap({ key -> String? in if case let .string(text)? = fields[key] { text } else { nil } }).first
            else { return nil }
            names.append(name)
        }
        return Set(names).count == names.count ? names : nil
    }
}
