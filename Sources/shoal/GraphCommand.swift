import ArgumentParser
import Foundation
import ShoalRuntime
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

    @Argument(help: "The definition file; - reads standard input.")
    var file: String

    @Option(help: "dot (Graphviz), mermaid, or json.")
    var format: GraphRenderer.Format = .dot

    func run() throws {
        let check: DefinitionCheck
        do {
            check = DefinitionCheck.check(data: try DefinitionFile.read(file))
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
        guard check.isValid, let graph = check.graph else {
            for line in check.lines(source: file) { printError(line) }
            throw ExitCode(1)
        }
        let title = file == "-" ? "pipeline" : URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        StandardStreams.output(GraphRenderer.render(graph, as: format, title: title))
        exitSkippingTeardown(0, keeping: check)
    }
}

extension GraphRenderer.Format: ExpressibleByArgument {}
