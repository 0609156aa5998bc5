import Foundation
import ShoalDefinition
import ShoalStore

/// Model (CreateModel) and RegisterModel steps: records in the model
/// registry, made at once; their properties are what the Describe calls return.
extension ExecutionRunner {
    func startModel(_ index: Int, step: Step, arguments: Expression, evaluator: Evaluator) throws {
        let request = try evaluator.evaluate(arguments)
        let name = String(Identifiers.jobName(execution: executionId, step: step.name).dropFirst("pipelines-".count))
        let model: ModelRecord
        do { model = try ModelRegistration.createModel(home: home, request: request, name: name, executionId: executionId, stepName: step.name) } catch {
            throw EvaluationError("\(error)")
        }
        var properties = ModelRegistration.describe(model)
        properties["CreationTime"] = .string(Identifiers.timestamp(model.createdAt))
        steps[index].properties = .object(properties)
        try end(index, .succeeded, reason: nil, detail: model.name)
    }

    func startRegisterModel(_ index: Int, step: Step, arguments: Expression, evaluator: Evaluator) throws {
        let request = try evaluator.evaluate(arguments)
        let package: ModelPackageRecord
        do { package = try ModelRegistration.register(home: home, request: request, executionId: executionId, stepName: step.name, creatingGroup: true) } catch {
            throw EvaluationError("\(error)")
        }
        var properties = ModelRegistration.describe(package)
        properties["CreationTime"] = .string(Identifiers.timestamp(package.createdAt))
        properties["LastModifiedTime"] = .string(Identifiers.timestamp(package.modifiedAt))
        steps[index].properties = .object(properties)
        try end(index, .succeeded, reason: nil, detail: "\(package.groupName) version \(package.version) (\(package.approvalStatus.rawValue))")
    }
}
