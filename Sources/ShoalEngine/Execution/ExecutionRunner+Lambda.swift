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
        var key = StepCache.functionKey(function, outputs: step.outputParameters ?? [])
        key["Event"] = payload
        if try reuseCachedRun(index, step: step, type: "Lambda", arguments: .object(key), inputFiles: []) { return }
        var request = PolicyRequest(action: "shoal:InvokeFunction")
        request.set("shoal:FunctionName", function.name)
        request.set("shoal:FunctionArn", Identifiers.functionArn(function.name))
        try authorizeJob(&request, step: step)
        var invocation = try LambdaInvocation(calling: function, events: [JSONWriter.string(payload)])
        invocation.environment = try handlerEnvironment()
        try submit(index, instance: 1, task: .lambda(invocation), owner: .lambda)
    }

    func finishLambda(_ index: Int, result: String?, error: String?) throws {
        let run = steps[index]
        guard let step = run.step else { return }
        if let error { return try end(index, .failed, reason: error) }
        let outputs: OrderedFields<JSONValue>
        do {
            outputs = try LambdaOutputs.cast(result: try JSONParser.parse(result ?? "null"), declared: step.outputParameters ?? [])
        } catch let failure as EvaluationError {
            return try end(index, .failed, reason: failure.message)
        } catch {
            return try end(index, .failed, reason: "The function's result cannot be read: \(error)")
        }
        let properties: JSONValue = .object(["OutputParameters": .object(outputs), "FunctionArn": .string(step.functionArn ?? "")])
        run.properties = properties
        if let key = run.cacheKey {
            try stepCache.record(step: run.node.name, key: key, executionId: executionId, properties: properties, outputs: [])
        }
        try end(index, .succeeded, reason: nil)
    }
}
