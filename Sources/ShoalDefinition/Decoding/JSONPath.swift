/// Where a node sits in the definition document, printed as `$.Steps[2].Arguments`.
public struct JSONPath: Sendable, Hashable, CustomStringConvertible {
    public enum Component: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    /// A shared linked list, so that extending a path while walking a large
    /// document costs at most one small allocation instead of copying the path.
    /// The last component stays unlinked (`tip`) until the path is extended
    /// again, so the paths of leaf values, the most common, allocate nothing.
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

    private let linked: Node?
    private let tip: Component?

    public static let root = JSONPath(linked: nil, tip: nil)

    private init(linked: Node?, tip: Component?) {
        self.linked = linked
        self.tip = tip
    }

    public init(components: [Component]) {
        self = JSONPath.root.appending(components)
    }

    public var components: [Component] {
        var result: [Component] = []
        result.reserveCapacity((linked?.depth ?? 0) + 1)
        if let tip { result.append(tip) }
        var node = linked
        while let current = node {
            result.append(current.component)
            node = current.parent
        }
        return result.reversed()
    }

    /// The last component, without walking the path.
    public var lastComponent: Component? { tip ?? linked?.component }

    /// The same path with every component linked, so that many children made
    /// from it share one allocation.
    public var linkedForChildren: JSONPath {
        guard let tip else { return self }
        return JSONPath(linked: Node(parent: linked, component: tip), tip: nil)
    }

    public func key(_ key: String) -> JSONPath { linkedForChildren.withTip(.key(key)) }

    public func index(_ index: Int) -> JSONPath { linkedForChildren.withTip(.index(index)) }

    public func appending(_ components: [Component]) -> JSONPath {
        var path = self
        for component in components { path = path.linkedForChildren.withTip(component) }
        return path
    }

    private func withTip(_ component: Component) -> JSONPath { JSONPath(linked: linked, tip: component) }

    public static func == (lhs: JSONPath, rhs: JSONPath) -> Bool {
        (lhs.linked === rhs.linked && lhs.tip == rhs.tip) || lhs.components == rhs.components
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
