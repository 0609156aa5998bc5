/// Draws a pipeline graph as Graphviz dot or Mermaid text.
public enum GraphRenderer {
    public enum Format: String, Sendable, CaseIterable {
        case dot, mermaid
    }

    public static func render(_ graph: PipelineGraph, as format: Format, title: String = "pipeline") -> String {
        switch format {
        case .dot: dot(graph, title: title)
        case .mermaid: mermaid(graph)
        }
    }

    static func dot(_ graph: PipelineGraph, title: String) -> String {
        var lines = ["digraph \(quoted(title)) {", "  rankdir=LR;", "  node [shape=box, style=rounded];"]
        for node in graph.nodes {
            let shape = switch node.typeName {
            case "Condition": ", shape=diamond, style=solid"
            case "Fail": ", shape=octagon, style=solid"
            default: ""
            }
            lines.append("  \(quoted(node.name)) [label=\(quoted(node.name + "\n" + node.typeName))\(shape)];")
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
