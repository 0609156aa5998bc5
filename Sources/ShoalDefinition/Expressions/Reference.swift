/// The text of a `Get` and what it names.
public struct Reference: Sendable, Equatable, CustomStringConvertible {
    public enum Target: Sendable, Equatable {
        /// `Parameters.X`
        case parameter(String)
        /// `Execution.V`
        case execution(String)
        /// `PipelineExperimentConfig.ExperimentName` / `.TrialName`
        case experimentConfig(String)
        /// `Steps.S.<path>`
        case step(name: String, path: [PropertyPath.Segment])
        /// Text that follows none of the forms; `reason` says why.
        case invalid(reason: String)
    }

    /// Exactly as written in the definition.
    public let text: String
    public let target: Target

    public init(_ text: String) {
        self.text = text
        self.target = Reference.parse(text)
    }

    public init(step: String, path: [PropertyPath.Segment]) {
        self.text = "Steps." + step + PropertyPath.render(path)
        self.target = .step(name: step, path: path)
    }

    public static func parameter(_ name: String) -> Reference { Reference("Parameters." + name) }
    public static func execution(_ variable: ExecutionVariable) -> Reference { Reference("Execution." + variable.rawValue) }

    public var description: String { text }

    /// The step this reference reads from, if any.
    public var stepName: String? {
        if case let .step(name, _) = target { return name }
        return nil
    }

    private static func parse(_ text: String) -> Target {
        guard let dot = text.utf8.firstIndex(of: UInt8(ascii: ".")) else {
            return .invalid(reason: "it has no root; use Parameters.<name>, Execution.<variable> or Steps.<step>.<property>")
        }
        let root = text[..<dot]
        let rest = String(text[text.index(after: dot)...])
        switch root {
        case "Parameters":
            return rest.isEmpty ? .invalid(reason: "it names no parameter") : .parameter(rest)
        case "Execution":
            return rest.isEmpty ? .invalid(reason: "it names no execution variable") : .execution(rest)
        case "PipelineExperimentConfig":
            return .experimentConfig(rest)
        case "Steps":
            let nameEnd = rest.utf8.firstIndex { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "[") } ?? rest.endIndex
            let name = String(rest[..<nameEnd])
            guard !name.isEmpty else { return .invalid(reason: "it names no step") }
            switch PropertyPath.parse(rest[nameEnd...]) {
            case let .success(segments):
                guard !segments.isEmpty else { return .invalid(reason: "it names step '\(name)' but no property of it") }
                return .step(name: name, path: segments)
            case let .failure(error):
                return .invalid(reason: error.reason)
            }
        default:
            return .invalid(reason: "'\(root)' is not a root; use Parameters, Execution, PipelineExperimentConfig or Steps")
        }
    }
}

/// The execution variables of spec §2.2.
public enum ExecutionVariable: String, Sendable, CaseIterable {
    case pipelineExecutionId = "PipelineExecutionId"
    case pipelineExecutionArn = "PipelineExecutionArn"
    case pipelineName = "PipelineName"
    case pipelineArn = "PipelineArn"
    case startDateTime = "StartDateTime"
    case currentDateTime = "CurrentDateTime"
    case processingJobName = "ProcessingJobName"
    case trainingJobName = "TrainingJobName"
}
