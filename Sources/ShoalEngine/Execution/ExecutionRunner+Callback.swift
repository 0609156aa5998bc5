import Foundation
import ShoalCluster
import ShoalDefinition
import ShoalStore

/// Callback steps: the step sends a message carrying a token and its
/// arguments, and waits until SendPipelineExecutionStepSuccess or …Failure
/// arrives for that token (`shoal callbacks succeed|fail`, through the API
/// socket of the process running the execution).
extension ExecutionRunner {
    func startCallback(_ index: Int, step: Step, evaluator: Evaluator) throws {
        let run = steps[index]
        // Resumed, the step keeps the token it sent: whoever holds it can still answer.
        if let sent = try home.metadata.callback(executionId: executionId, stepName: step.name), sent.status == .waiting {
            run.callbackToken = sent.token
            return
        }
        var arguments: JSONValue = .object([:])
        if case let .other(expression)? = step.arguments { arguments = try evaluator.evaluate(expression) }
        let queue = try step.extra["SqsQueueUrl"].map { expression throws(EvaluationError) in ValueRendering.string(try evaluator.evaluate(expression)) }
        let token = Identifiers.callbackToken()
        let message: JSONValue = .object([
            "token": .string(token), "pipelineExecutionArn": .string(Identifiers.executionArn(options.pipelineName, executionId)),
            "arguments": arguments, "status": .string("Executing"),
        ])
        try home.metadata.insert(CallbackRecord(
            token: token, executionId: executionId, stepName: step.name, queueUrl: queue, message: JSONWriter.string(message), createdAt: Date()
        ))
        try post(message, to: queue)
        run.callbackToken = token
        run.note = "waiting for its callback: shoal callbacks succeed \(token) (or fail)"
        try save(index)
        progress(.step(name: run.node.name, type: run.node.typeName, status: .executing, detail: run.note))
    }

    /// The runner of execution `id`: this one, or a child of one of its fan-outs.
    func runner(for id: String) -> ExecutionRunner? {
        if id == executionId { return self }
        for map in steps.compactMap(\.map) {
            for child in map.children.values {
                if let found = child.runner(for: id) { return found }
            }
        }
        return nil
    }

    public struct CallbackRefused: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Ends the Callback step waiting on `answer.token` as the answer says.
    /// Refused, with nothing changed, for a token that is not waiting here or
    /// outputs that do not cast to their declared types.
    func answerCallback(_ answer: ApiMessage.CallbackAnswer) throws {
        guard var callback = try home.metadata.callback(token: answer.token), callback.executionId == executionId else {
            throw CallbackRefused(description: "no callback with token '\(answer.token)'")
        }
        if let used = callback.used { throw CallbackRefused(description: used) }
        guard let index = graph.index(of: callback.stepName), state.statuses[index] == .executing, steps[index].callbackToken == answer.token else {
            throw CallbackRefused(description: "step \(callback.stepName) of execution \(executionId) is not waiting for token '\(answer.token)'")
        }
        let run = steps[index]
        callback.answeredAt = Date()
        if answer.succeeded {
            let outputs: OrderedFields<JSONValue>
            do {
                let given = JSONValue.object(OrderedFields(answer.outputs.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) }))
                outputs = try LambdaOutputs.cast(result: given, declared: run.step?.outputParameters ?? [], kind: "Callback output", source: "the answer")
            } catch {
                throw CallbackRefused(description: "\(error.message) The step still waits.")
            }
            callback.status = .succeeded
            callback.outputs = JSONWriter.string(.object(outputs))
            try home.metadata.update(callback)
            run.properties = .object(["OutputParameters": .object(outputs)])
            run.note = nil
            try end(index, .succeeded, reason: nil, detail: "its callback succeeded")
        } else {
            let reason = String((answer.reason ?? "the callback reported a failure").prefix(1024))
            callback.status = .failed
            callback.failureReason = reason
            try home.metadata.update(callback)
            run.note = nil
            try end(index, .failed, reason: "callback failed: \(reason)")
        }
    }

    /// A Callback step that ends without its answer (stopped) fails its token,
    /// and tells the queue, as SageMaker does, with a `Stopping` message.
    func closeCallback(of index: Int, because status: StepStatus) throws {
        guard let token = steps[index].callbackToken, var callback = try home.metadata.callback(token: token), callback.status == .waiting else { return }
        callback.status = .stopped
        callback.answeredAt = Date()
        callback.failureReason = "its step ended \(status.rawValue) before an answer came"
        try home.metadata.update(callback)
        let stopping: JSONValue = .object([
            "token": .string(token), "pipelineExecutionArn": .string(Identifiers.executionArn(options.pipelineName, executionId)), "status": .string("Stopping"),
        ])
        try? post(stopping, to: callback.queueUrl)
    }

    /// Sends a callback message on the queue `url` names (its last path
    /// component), made first if it does not exist: the consumer may start after the step.
    private func post(_ message: JSONValue, to url: String?) throws {
        guard let url, let name = url.split(separator: "/").last.map(String.init), !name.isEmpty else { return }
        do {
            try home.metadata.createQueue(name)
            _ = try home.metadata.send(JSONWriter.string(message), to: name)
        } catch let refused as MetadataStore.QueueError {
            throw EvaluationError("the callback message cannot be sent on queue '\(name)': \(refused.description)")
        }
    }
}
