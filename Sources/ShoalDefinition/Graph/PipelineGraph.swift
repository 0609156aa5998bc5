/// The steps of a definition and the edges between them (spec §5.1), with a
/// deterministic topological order.
public struct PipelineGraph: Sendable, Equatable {
    public struct Node: Sendable, Equatable {
        public let name: String
        public let typeName: String
        /// Where the step sits in the document.
        public let path: JSONPath
        /// The condition step whose branch holds this step, and which branch.
        public let branchOf: (condition: String, branch: Branch)?

        public static func == (lhs: Node, rhs: Node) -> Bool {
            lhs.name == rhs.name && lhs.typeName == rhs.typeName && lhs.path == rhs.path
                && lhs.branchOf?.condition == rhs.branchOf?.condition && lhs.branchOf?.branch == rhs.branchOf?.branch
        }
    }

    public enum Branch: String, Sendable {
        case ifSteps = "IfSteps"
        case elseSteps = "ElseSteps"
    }

    public enum EdgeKind: Sendable, Hashable {
        /// A `Get` of one of the upstream step's properties.
        case data
        /// Listed in `DependsOn`.
        case dependsOn
        /// The downstream step sits in a branch of the upstream condition step.
        case branch(Branch)
    }

    public struct Edge: Sendable, Hashable {
        public let from: Int
        public let to: Int
        public let kind: EdgeKind
    }

    /// Every step, in document order (depth-first through branches).
    public let nodes: [Node]
    /// Distinct edges; a pair linked several ways has one edge per kind.
    public let edges: [Edge]
    /// Node indices in topological order; ready steps are taken in document order.
    /// Holds every node only when `cycles` is empty.
    public let order: [Int]
    /// Each cycle found, as node indices in edge direction, starting from its
    /// earliest step in the document.
    public let cycles: [[Int]]

    public func index(of name: String) -> Int? { nodes.firstIndex { $0.name == name } }

    public var orderedNames: [String] { order.map { nodes[$0].name } }

    init(nodes: [Node], edges: Set<Edge>) {
        self.nodes = nodes
        // One integer key per edge: sorting tuples is several times slower on large graphs.
        self.edges = edges.map { ($0, $0.from << 34 | $0.to << 2 | $0.kind.rank) }.sorted { $0.1 < $1.1 }.map { $0.0 }
        var upstream = Array(repeating: [Int](), count: nodes.count)
        var downstream = Array(repeating: [Int](), count: nodes.count)
        var seen = Set<[Int]>()
        for edge in self.edges where seen.insert([edge.from, edge.to]).inserted {
            downstream[edge.from].append(edge.to)
            upstream[edge.to].append(edge.from)
        }
        (order, cycles) = PipelineGraph.sort(count: nodes.count, upstream: upstream, downstream: downstream)
    }

    /// Kahn's algorithm with a min-heap on document position, then a walk over
    /// the steps left behind to name the cycles that held them back.
    private static func sort(count: Int, upstream: [[Int]], downstream: [[Int]]) -> ([Int], [[Int]]) {
        var indegree = upstream.map(\.count)
        var ready = MinHeap()
        for node in 0..<count where indegree[node] == 0 { ready.push(node) }
        var order: [Int] = []
        order.reserveCapacity(count)
        while let node = ready.pop() {
            order.append(node)
            for next in downstream[node] {
                indegree[next] -= 1
                if indegree[next] == 0 { ready.push(next) }
            }
        }
        guard order.count < count else { return (order, []) }

        var stuck = Array(repeating: false, count: count)
        for node in 0..<count where indegree[node] > 0 { stuck[node] = true }
        var reported = Array(repeating: false, count: count)
        var cycles: [[Int]] = []
        for start in 0..<count where stuck[start] && !reported[start] {
            // Every stuck step has a stuck predecessor, so walking upstream must
            // come back to a step already on the walk.
            var walk: [Int] = []
            var position: [Int: Int] = [:]
            var node = start
            while position[node] == nil && !reported[node] {
                position[node] = walk.count
                walk.append(node)
                node = upstream[node].filter { stuck[$0] }.min()!
            }
            for visited in walk { reported[visited] = true }
            guard let loopStart = position[node] else { continue }
            var cycle = Array(walk[loopStart...].reversed())
            let first = cycle.firstIndex(of: cycle.min()!)!
            cycle = Array(cycle[first...] + cycle[..<first])
            cycles.append(cycle)
        }
        return (order, cycles)
    }
}

extension PipelineGraph.EdgeKind {
    var rank: Int {
        switch self {
        case .data: 0
        case .dependsOn: 1
        case .branch(.ifSteps): 2
        case .branch(.elseSteps): 3
        }
    }
}

/// A binary min-heap of node indices.
struct MinHeap {
    private var items: [Int] = []

    mutating func push(_ value: Int) {
        items.append(value)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child] < items[parent] else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Int? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < items.count && items[left] < items[smallest] { smallest = left }
                if right < items.count && items[right] < items[smallest] { smallest = right }
                if smallest == parent { break }
                items.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return top
    }
}
