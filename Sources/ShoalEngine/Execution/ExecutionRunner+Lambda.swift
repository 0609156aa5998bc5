import Foundation
import ShoalCluster
import ShoalDefinition
import ShoalRuntime
import ShoalStore

/// Lambda steps: the function resolved in the registry, one invocation on a
/// warm runtime, its result cast to the declared outputs.
extension ExecutionRunner {
    func startLambda(_ index: Int, step: Step, event: StepArguments?, evaluator: Evaluator) throws {
        let arn = step.functionArn ?? ""
        let name = arn.split(separator: ":").last.map(String.init) ?? arn
        guard let function = try home.metadata.function(named: name) else {
            throw EvaluationError("Function '\(name)' (from FunctionArn '\(arn)') is not registered; add it with shoal functions create --name \(name).")
        }
        var payload: JSONValue = .object([:])
        if case let .lambda(fields)? = event { payload = try evaluator.evaluate(.object(fields)) }
        var request = PolicyRequest(action: "shoal:InvokeFunction")
        request.set("shoal:FunctionName", function.name)
        try authorizeJob(&request, step: step)
        let invocation = try LambdaInvocation(calling: function, events: [JSONWriter.string(payload)])
        try submit(index, instance: 1, task: .lambda(invocation), owner: .lambda)
    }

    func finishLambda(_ index: Int, result: String?, error: String?) throws {
        let run = steps[index]
        guard let step = run.step else { return }
        if let error { return try end(index, .failed, reason: error) }
        do {
            let value = try JSONParser.parse(result ?? "null")
            let outputs = try LambdaOutputs.cast(result: value, declared: step.outputParameters ?? [])
            run.properties = .object(["OutputParameters": .object(outputs), "FunctionArn": .string(step.functionArn ?? "")])
            try end(index, .succeeded, reason: nil)
        } catch let failure as EvaluationError {
            try end(index, .failed, reason: failure.message)
        } catch {
            try end(index, .failed, reason: "The function's result cannot be read: \(error)")
        }
    }
}
