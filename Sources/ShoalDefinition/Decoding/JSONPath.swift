/// Where a node sits in the definition document, printed as `$.Steps[2].Arguments`.
public struct JSONPath: Sendable, Hashable, CustomStringConvertible {
    public enum Component: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    /// A shared linked list, so that extending a path while walking a large
    /// document costs one small allocation instead of copying the whole path.
    private final class Node: Sendable {
        let parent: Node?
        let component: Component
        let depth: Int

        init(parent: Node?, component: Component) {
            self.parent = parent
            self.component = component
            self.depth = (parent?.depth ?? 0) + 1
        }
    }

    private let last: Node?

    public static let root = JSONPath(last: nil)

    private init(last: Node?) { self.last = last }

    public init(components: [Component]) {
        var node: Node? = nil
        for component in components { node = Node(parent: node, component: component) }
        last = node
    }

    public var components: [Component] {
        var result: [Component] = []
        result.reserveCapacity(last?.depth ?? 0)
        var node = last
        while let current = node {
            result.append(current.component)
            node = current.parent
        }
        return result.reversed()
    }

    /// The last component, without walking the path.
    public var lastComponent: Component? { last?.component }

    public func key(_ key: String) -> JSONPath { JSONPath(last: Node(parent: last, component: .key(key))) }

    public func appending(_ components: [Component]) -> JSONPath {
        var node = last
        for component in components { node = Node(parent: node, component: component) }
        return JSONPath(last: node)
    }

    public func index(_ index: Int) -> JSONPath { JSONPath(last: Node(parent: last, component: .index(index))) }

    public static func == (lhs: JSONPath, rhs: JSONPath) -> Bool {
        lhs.last === rhs.last || lhs.components == rhs.components
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(components) }

    public var description: String {
        var text = "$"
        for component in components {
            switch component {
            case let .index(index): text += "[\(index)]"
            case let .key(key):
                if !key.isEmpty && key.utf8.allSatisfy(isPlainKeyByte) {
                    text += "." + key
                } else {
                    text += "['" + key.replacingOccurrences(of: "'", with: "\\'") + "']"
                }
            }
        }
        return text
    }
}

private func isPlainKeyByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
         UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
        true
    default: false
    }
}
