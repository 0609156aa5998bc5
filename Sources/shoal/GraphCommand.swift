import ArgumentParser
import Foundation
import ShoalDefinition

struct GraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Draw a pipeline's steps and the edges between them.",
        discussion: """
            Edges come from data references (solid), DependsOn (dashed) and condition
            branches (labelled if/else). `--format json` prints the nodes, edges and the
            topological order Shoal runs steps in.

            Examples:
              shoal graph pipeline.json | dot -Tpng > pipeline.png
              shoal graph pipeline.json --format mermaid
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case dot, mermaid, json
    }

    @Argument(help: "The definition file; - reads standard input.")
    var file: String

    @Option(help: "dot (Graphviz), mermaid, or json.")
    var format: Format = .dot

    struct GraphReport: Encodable {
        struct Node: Encodable {
            let name: String
            let type: String
            let path: String
            let branchOf: String?
            let branch: String?
        }

        struct Edge: Encodable {
            let from: String
            let to: String
            let kind: String
        }

        let nodes: [Node]
        let edges: [Edge]
        let order: [String]
    }

    func run() throws {
        let check: DefinitionCheck
        do {
            check = DefinitionCheck.check(data: try DefinitionFile.read(file))
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
        guard check.isValid, let graph = check.graph else {
            for diagnostic in check.errors { printError("\(file): \(diagnostic.path): \(diagnostic.message) [\(diagnostic.code)]") }
            throw ExitCode(1)
        }
        switch format {
        case .dot:
            let title = file == "-" ? "pipeline" : URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
            print(GraphRenderer.render(graph, as: .dot, title: title), terminator: "")
        case .mermaid: print(GraphRenderer.render(graph, as: .mermaid), terminator: "")
        case .json:
            try printJSON(GraphReport(
                nodes: graph.nodes.map {
                    .init(name: $0.name, type: $0.typeName, path: $0.path.description, branchOf: $0.branchOf?.condition, branch: $0.branchOf?.branch.rawValue)
                },
                edges: graph.edges.map { edge in
                    let kind = switch edge.kind {
                    case .data: "data"
                    case .dependsOn: "dependsOn"
                    case .branch(.ifSteps): "if"
                    case .branch(.elseSteps): "else"
                    }
                    return .init(from: graph.nodes[edge.from].name, to: graph.nodes[edge.to].name, kind: kind)
                },
                order: graph.orderedNames
            ))
        }
    }
}
