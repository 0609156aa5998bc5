/// Draws a pipeline graph as Graphviz dot or Mermaid text.
public enum GraphRenderer {
    public enum Format: String, Sendable, CaseIterable {
        case dot, mermaid, json
    }

    public static func render(_ graph: PipelineGraph, as format: Format, title: String = "pipeline") -> String {
        switch format {
        case .dot: dot(graph, title: title)
        case .mermaid: mermaid(graph)
        case .json: json(graph)
        }
    }

    /// Nodes (name, type, document path, branch), edges (kind data, dependsOn,
    /// if or else) and the run order, for programs.
    static func json(_ graph: PipelineGraph) -> String {
        let nodes: [JSONValue] = graph.nodes.map { node in
            var fields: OrderedFields<JSONValue> = ["name": .string(node.name), "type": .string(node.typeName), "path": .string(node.path.description)]
            if let (condition, branch) = node.branchOf {
                fields["branchOf"] = .string(condition)
                fields["branch"] = .string(branch.rawValue)
            }
            return .object(fields)
        }
        let edges: [JSONValue] = graph.edges.map { edge in
            let kind = switch edge.kind {
            case .data: "data"
            case .dependsOn: "dependsOn"
            case .branch(.ifSteps): "if"
            case .branch(.elseSteps): "else"
            }
            return ["from": .string(graph.nodes[edge.from].name), "to": .string(graph.nodes[edge.to].name), "kind": .string(kind)]
        }
        return JSONWriter.string(["nodes": .array(nodes), "edges": .array(edges), "order": .array(graph.orderedNames.map(JSONValue.string))], pretty: true) + "\n"
    }

    /// `preamble` adds graph-wide lines; `decorate` adds to each node a label
    /// line and attributes (later attributes win), as the SVG layout does.
    public static func dot(
        _ graph: PipelineGraph, title: String, preamble: [String] = [],
        decorate: (Int, PipelineGraph.Node) -> (labelLine: String?, attributes: String) = { _, _ in (nil, "") }
    ) -> String {
        var lines = ["digraph \(quoted(title)) {", "  rankdir=LR;", "  node [shape=box, style=rounded];"] + preamble
        for (index, node) in graph.nodes.enumerated() {
            let shape = switch node.typeName {
            case "Condition": ", shape=diamond, style=solid"
            case "Fail": ", shape=octagon, style=solid"
            default: ""
            }
            let (extra, attributes) = decorate(index, node)
            let label = node.name + "\n" + node.typeName + (extra.map { "\n" + $0 } ?? "")
            lines.append("  \(quoted(node.name)) [label=\(quoted(label))\(shape)\(attributes)];")
        }
        for edge in graph.edges {
            let attributes = switch edge.kind {
            case .data: ""
            case .dependsOn: " [style=dashed]"
            case .branch(.ifSteps): " [label=\"if\"]"
            case .branch(.elseSteps): " [label=\"else\"]"
            }
            lines.append("  \(quoted(graph.nodes[edge.from].name)) -> \(quoted(graph.nodes[edge.to].name))\(attributes);")
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    static func mermaid(_ graph: PipelineGraph) -> String {
        var lines = ["flowchart LR"]
        for (index, node) in graph.nodes.enumerated() {
            let label = "\"" + (node.name + "<br/>" + node.typeName).replacingOccurrences(of: "\"", with: "#quot;") + "\""
            let shaped = switch node.typeName {
            case "Condition": "{\(label)}"
            case "Fail": "[[\(label)]]"
            default: "[\(label)]"
            }
            lines.append("  n\(index)\(shaped)")
        }
        for edge in graph.edges {
            let arrow = switch edge.kind {
            case .data: "-->"
            case .dependsOn: "-.->"
            case .branch(.ifSteps): "-->|if|"
            case .branch(.elseSteps): "-->|else|"
            }
            lines.append("  n\(edge.from) \(arrow) n\(edge.to)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }
}
