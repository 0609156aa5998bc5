import Foundation
import ShoalCluster
import ShoalDefinition
import ShoalRuntime
import ShoalStore

/// What expressions see: parameters, execution variables, experiment names,
/// the properties of steps that succeeded.
extension ExecutionRunner {
    /// Files the execution under an experiment and a trial (spec §5.12): the
    /// pipeline name and the execution id unless PipelineExperimentConfig says
    /// otherwise; nothing when it is null. A name that cannot be stored refuses the run.
    func resolveExperimentConfig() throws {
        let evaluator = Evaluator(scope: scope(for: nil))
        func name(_ expression: Expression?, _ fallback: String, _ what: String) throws -> String {
            guard let expression else { return fallback }
            do { return ValueRendering.string(try evaluator.evaluate(expression)) } catch { throw ExperimentNames.Invalid(description: "\(what): \(error.message)") }
        }
        switch definition.experimentConfig {
        case .disabled: return
        case .absent:
            experiment["ExperimentName"] = .string(options.pipelineName)
            experiment["TrialName"] = .string(executionId)
        case let .configured(config):
            experiment["ExperimentName"] = .string(try name(config.experimentName, options.pipelineName, "PipelineExperimentConfig.ExperimentName"))
            experiment["TrialName"] = .string(try name(config.trialName, executionId, "PipelineExperimentConfig.TrialName"))
        }
        guard case let .string(experimentName)? = experiment["ExperimentName"], case let .string(trialName)? = experiment["TrialName"] else { return }
        try ExperimentNames.validate(experimentName, as: "Experiment name")
        try ExperimentNames.validate(trialName, as: "Trial name")
        record.experimentName = experimentName
        record.trialName = trialName
    }

    func scope(for step: Step?) -> ExecutionScope {
        var variables: [ExecutionVariable: JSONValue] = [
            .pipelineExecutionId: .string(executionId),
            .pipelineExecutionArn: .string(Identifiers.executionArn(options.pipelineName, executionId)),
            .pipelineName: .string(options.pipelineName),
            .pipelineArn: .string(Identifiers.pipelineArn(options.pipelineName)),
            .startDateTime: .string(Identifiers.timestamp(startedAt)),
        ]
        variables[.currentDateTime] = .string(Identifiers.timestamp(Date()))
        return ExecutionScope(
            parameters: parameters, variables: variables, experiment: experiment, properties: succeededProperties,
            propertyFiles: succeededPropertyFiles, objects: home.objects
        )
    }

    /// The step a graph node stands for, found by its document path.
    static func step(at path: JSONPath, in definition: PipelineDefinition) -> Step? {
        var current: Step?
        var list = definition.steps
        var components = path.components.dropFirst() // "Steps"
        while let first = components.first {
            components = components.dropFirst()
            switch first {
            case let .index(position):
                guard position < list.count else { return nil }
                current = list[position]
            case .key("Arguments"):
                guard case let .key(branch)? = components.first else { return nil }
                components = components.dropFirst()
                list = branch == "IfSteps" ? (current?.branches.ifSteps ?? []) : (current?.branches.elseSteps ?? [])
            default:
                return nil
            }
        }
        return current
    }
}
