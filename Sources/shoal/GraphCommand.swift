import ArgumentParser
import Foundation
import ShoalDefinition
import ShoalEngine
import ShoalRuntime
import ShoalStore

struct GraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Draw a pipeline's steps and the edges between them.",
        discussion: """
            Edges come from data references (solid), DependsOn (dashed) and condition
            branches (labelled if/else). `--format json` prints the nodes, edges and the
            topological order Shoal runs steps in. `--format svg` lays the graph out with
            Graphviz's dot (Debian: graphviz), as the console does; with `--execution ID`
            it draws that execution's pipeline with each step filled by its status.

            Examples:
              shoal graph pipeline.json | dot -Tpng > pipeline.png
              shoal graph pipeline.json --format mermaid
              shoal graph --execution 0poannr6qc93 --format svg > run.svg
            """
    )

    enum Format: String, CaseIterable, ExpressibleByArgument {
        case dot, mermaid, json, svg
    }

    @Argument(help: "The definition file; - reads standard input. Not needed with --execution.")
    var file: String?

    @Option(help: "dot (Graphviz), mermaid, json, or svg (laid out by dot).")
    var format: Format = .dot

    @Option(help: "Draw this execution's pipeline, its steps coloured by status (svg only).")
    var execution: String?

    @OptionGroup var home: HomeOptions

    func validate() throws {
        if file == nil && execution == nil { throw ValidationError("Give a definition file, or --execution ID.") }
        if file != nil && execution != nil { throw ValidationError("Give a definition file or --execution, not both.") }
        if execution != nil && format != .svg { throw ValidationError("--execution draws statuses, which only --format svg shows.") }
    }

    func run() throws {
        var statuses: [String: StepStatus] = [:]
        let data: Data, title: String
        if let execution {
            let store = try home.open()
            guard let record = try store.metadata.execution(id: execution) else { throw CommandFailure("no execution '\(execution)' in \(store.root.path)") }
            data = Data(record.definition.utf8)
            title = record.pipelineName
            for step in try store.metadata.steps(executionId: execution) { statuses[step.name] = step.status }
        } else {
            let file = file ?? "-"
            do { data = try DefinitionFile.read(file) } catch {
                printError("\(error)")
                throw ExitCode(1)
            }
            title = file == "-" ? "pipeline" : URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        }
        let check = DefinitionCheck.check(data: data)
        guard check.isValid, let graph = check.graph else {
            for line in check.lines(source: file ?? "execution \(execution ?? "")") { printError(line) }
            throw ExitCode(1)
        }
        switch format {
        case .svg:
            do { StandardStreams.output(try GraphLayout.svg(graph, title: title, statuses: statuses) + "\n") } catch { throw CommandFailure(error.description) }
        case .dot: StandardStreams.output(GraphRenderer.render(graph, as: .dot, title: title))
        case .mermaid: StandardStreams.output(GraphRenderer.render(graph, as: .mermaid, title: title))
        case .json: StandardStreams.output(GraphRenderer.render(graph, as: .json, title: title))
        }
        exitSkippingTeardown(0, keeping: check)
    }
}
