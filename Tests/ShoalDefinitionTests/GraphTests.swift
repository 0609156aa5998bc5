import Foundation
import ShoalDefinition
import ShoalTestSupport
import Testing

@Suite struct GraphTests {
    static func graph(_ fixture: String) throws -> PipelineGraph {
        let data = try Data(contentsOf: Fixtures.sagemaker.appendingPathComponent(fixture))
        return try #require(DefinitionCheck.check(data: data).graph)
    }

    @Test func edgesComeFromDataDependsOnAndBranches() throws {
        let graph = try Self.graph("01_abalone_seed.json")
        let edges = Set(graph.edges.map { "\(graph.nodes[$0.from].name)->\(graph.nodes[$0.to].name):\($0.kind)" })
        #expect(edges == [
            "MyLambdaStep->AbaloneProcess:data",
            "AbaloneProcess->CheckMse:data",
            "CheckMse->MseFail:branch(ShoalDefinition.PipelineGraph.Branch.elseSteps)",
        ])
        #expect(graph.nodes[3].branchOf?.condition == "CheckMse")
    }

    @Test func orderIsTopologicalAndTakesReadyStepsInDocumentOrder() throws {
        let graph = try Self.graph("05_depends_on.json")
        #expect(graph.orderedNames == ["Extract", "Audit", "CleanA", "CleanB", "Merge", "Notify"])
        var position: [Int: Int] = [:]
        for (index, node) in graph.order.enumerated() { position[node] = index }
        for edge in graph.edges { #expect(position[edge.from]! < position[edge.to]!) }
    }

    @Test func orderIsTheSameOnEveryRun() throws {
        let first = try Self.graph("14_training_model_transform.json").orderedNames
        for _ in 0..<5 { #expect(try Self.graph("14_training_model_transform.json").orderedNames == first) }
    }

    @Test func dotAndMermaidLabelBranchesAndDependsOn() throws {
        let graph = try Self.graph("09_fail_step_join.json")
        let dot = GraphRenderer.render(graph, as: .dot)
        let mermaid = GraphRenderer.render(graph, as: .mermaid)
        #expect(dot.hasPrefix("digraph \"pipeline\" {"))
        #expect(dot.contains("[label=\"if\"]") && dot.contains("[label=\"else\"]"))
        #expect(mermaid.hasPrefix("flowchart LR"))
        #expect(mermaid.contains("-->|if|") && mermaid.contains("-->|else|"))
        for node in graph.nodes { #expect(dot.contains("\"\(node.name)\" [label=")) }
    }
}
