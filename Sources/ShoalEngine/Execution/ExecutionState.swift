import ShoalDefinition
import ShoalStore

/// The scheduling of one execution as a value: which steps wait, run and
/// ended, and what each change makes happen next. No I/O, no clock, no
/// sockets: the runner feeds it what happened and performs what it returns,
/// so every rule here is tested by feeding events (`ExecutionStateTests`).
///
/// Rules (SageMaker's): a step starts when every step it depends on has
/// succeeded and, inside a condition's branch, when that branch was taken;
/// a step downstream of one that did not run does not run either; after a
/// failure or a stop no step starts, running ones end on their own (or are
/// stopped); steps that are ready together start together, at most
/// `maxParallelSteps` at once.
public struct ExecutionState: Sendable {
    public enum Event: Sendable, Equatable {
        /// Look for steps that can start or can never run.
        case advance
        /// A step ended; a Condition step with its outcome.
        case stepEnded(step: Int, status: StepStatus, outcome: Bool?)
        /// Stop: running steps are stopped, nothing starts.
        case stopRequested
        /// The last word: steps still waiting will not run.
        case finish
    }

    public enum Directive: Sendable, Equatable {
        /// Start the step (now recorded as executing).
        case start(step: Int)
        /// Record that the step does not run (now recorded as NotRun), and why.
        case skip(step: Int, reason: String)
        /// Stop the running step.
        case stop(step: Int)
    }

    public private(set) var statuses: [StepStatus]
    /// Condition steps' outcomes, by step.
    public private(set) var outcomes: [Int: Bool] = [:]
    /// The first step that failed.
    public private(set) var failedStep: Int?
    public private(set) var isStopping = false
    private let names: [String]
    private let upstream: [[PipelineGraph.Edge]]
    private let maxParallelSteps: Int?

    public init(graph: PipelineGraph, maxParallelSteps: Int? = nil) {
        names = graph.nodes.map(\.name)
        statuses = Array(repeating: .pending, count: graph.nodes.count)
        var upstream = Array(repeating: [PipelineGraph.Edge](), count: graph.nodes.count)
        for edge in graph.edges { upstream[edge.to].append(edge) }
        self.upstream = upstream
        self.maxParallelSteps = maxParallelSteps
    }

    /// No step is running.
    public var isFinished: Bool { !statuses.contains(.executing) }

    /// What the execution ends as (meaningful once finished).
    public var outcome: ExecutionStatus { isStopping ? .stopped : (failedStep == nil ? .succeeded : .failed) }

    public mutating func on(_ event: Event) -> [Directive] {
        switch event {
        case .advance:
            return advance()
        case let .stepEnded(step, status, outcome):
            guard statuses.indices.contains(step), statuses[step] == .executing || statuses[step] == .pending, status.isFinal else { return [] }
            statuses[step] = status
            if let outcome { outcomes[step] = outcome }
            if status == .failed && failedStep == nil { failedStep = step }
            return []
        case .stopRequested:
            guard !isStopping else { return [] }
            isStopping = true
            return statuses.indices.filter { statuses[$0] == .executing }.map { .stop(step: $0) }
        case .finish:
            let reason = isStopping ? "the execution was stopped" : (failedStep.map { "step '\(names[$0])' failed" } ?? "it was never ready")
            return statuses.indices.filter { statuses[$0] == .pending }.map { step in
                statuses[step] = .notRun
                return .skip(step: step, reason: reason)
            }
        }
    }

    private enum Readiness { case waiting, ready, skip(String) }

    private func readiness(of step: Int) -> Readiness {
        for edge in upstream[step] {
            switch (edge.kind, statuses[edge.from]) {
            case (_, .notRun), (_, .stopped):
                return .skip("upstream step '\(names[edge.from])' did not run")
            case let (.branch(branch), .succeeded):
                let taken: PipelineGraph.Branch = outcomes[edge.from] == true ? .ifSteps : .elseSteps
                if taken != branch { return .skip("the \(branch.rawValue) branch of '\(names[edge.from])' was not taken") }
            case (_, .succeeded):
                continue
            default:
                return .waiting
            }
        }
        return .ready
    }

    private mutating func advance() -> [Directive] {
        var directives: [Directive] = []
        var running = statuses.lazy.filter { $0 == .executing }.count
        var progressed = true
        // A skip can make further steps skippable; repeat until nothing changes.
        while progressed {
            progressed = false
            for step in statuses.indices where statuses[step] == .pending {
                switch readiness(of: step) {
                case .waiting:
                    continue
                case let .skip(reason):
                    statuses[step] = .notRun
                    directives.append(.skip(step: step, reason: reason))
                    progressed = true
                case .ready:
                    guard failedStep == nil, !isStopping else { continue }
                    if let cap = maxParallelSteps, running >= cap { continue }
                    statuses[step] = .executing
                    running += 1
                    directives.append(.start(step: step))
                    progressed = true
                }
            }
        }
        return directives
    }
}
