import Foundation
import ShoalDefinition
import ShoalStore

/// Selective execution (SelectiveExecutionConfig): only the selected steps
/// run; every step upstream of them is taken, properties and outputs, from
/// the source execution; the rest do not run.
extension ExecutionRunner {
    public struct Selection: Sendable, Equatable {
        public var sourceExecutionId: String
        public var steps: [String]

        public init(sourceExecutionId: String, steps: [String]) {
            self.sourceExecutionId = sourceExecutionId
            self.steps = steps
        }
    }

    /// Ends every step that is not selected before anything runs; returns
    /// their indices. Refused, naming the step, when a selected step needs one
    /// the source execution did not run successfully.
    func applySelection() throws -> [Int] {
        guard let selection = options.selection else { return [] }
        let sourceId = selection.sourceExecutionId
        guard let source = try home.metadata.execution(id: sourceId) else { throw Refused(description: "no execution '\(sourceId)' to take steps from") }
        guard source.pipelineName == options.pipelineName else {
            throw Refused(description: "execution '\(sourceId)' ran pipeline '\(source.pipelineName)', not '\(options.pipelineName)'; select steps from an execution of the same pipeline")
        }
        guard !selection.steps.isEmpty else { throw Refused(description: "select at least one step") }
        let unknown = selection.steps.filter { graph.index(of: $0) == nil }
        guard unknown.isEmpty else {
            throw Refused(description: "the pipeline has no step named \(unknown.map { "'\($0)'" }.joined(separator: ", ")); its steps are \(graph.orderedNames.joined(separator: ", "))")
        }
        let selected = Set(selection.steps.compactMap(graph.index(of:)))
        let recorded = Dictionary(try home.metadata.steps(executionId: sourceId).map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        // What a selected step reads or waits for must have succeeded in the source.
        for edge in graph.edges where selected.contains(edge.to) && !selected.contains(edge.from) {
            let needed = graph.nodes[edge.from].name
            guard let stored = recorded[needed], stored.status == .succeeded else {
                let how = recorded[needed].map { "it ended \($0.status.rawValue)" } ?? "it has no such step"
                throw Refused(description: "step '\(graph.nodes[edge.to].name)' needs '\(needed)', which execution '\(sourceId)' did not run successfully (\(how)); select '\(needed)' too")
            }
        }
        var upstream = Set<Int>()
        var queue = Array(selected)
        while let step = queue.popLast() {
            for edge in graph.edges where edge.to == step && !selected.contains(edge.from) && upstream.insert(edge.from).inserted {
                queue.append(edge.from)
            }
        }
        var taken: [Int] = []
        for index in steps.indices where !selected.contains(index) {
            let run = steps[index]
            if upstream.contains(index), let stored = recorded[run.node.name] {
                takeEnd(index, from: stored)
                run.note = "not selected: taken from execution \(sourceId), where it ended \(stored.status.rawValue)"
            } else {
                _ = state.on(.stepEnded(step: index, status: .notRun, outcome: nil))
                run.failureReason = "not selected (selective execution from \(sourceId))"
            }
            taken.append(index)
        }
        return taken
    }
}
