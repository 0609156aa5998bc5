import Foundation
import ShoalCluster
import ShoalStore

/// An Invoke request while its function runs: who waits for the answer (nil
/// for an asynchronous one, answered when it was queued) and until when.
struct HeldInvocation {
    let client: [UInt8]?
    let function: String
    let until: Date
}

/// Lambda's Invoke through the endpoint: the registered function runs on a
/// worker, as a Lambda step's does (same warm runtime, same sandbox), outside
/// any execution. The client's request is held until the worker answers.
extension CoordinatorService {
    /// Invocations running at once; past this an Invoke is refused (Lambda's TooManyRequests).
    static let maxInvocations = 256
    /// How long past the function's own timeout an invocation may take (queueing, a cold start).
    static let invocationGrace: TimeInterval = 60

    func startInvocation(_ invoke: ApiMessage.Invoke, for client: [UInt8]) {
        do {
            guard invocations.count < Self.maxInvocations else {
                throw ApiRefusal(description: "too many invocations are running (\(Self.maxInvocations)); try again")
            }
            guard let function = try home.metadata.function(named: invoke.functionName) else {
                throw ApiRefusal(description: "no function '\(invoke.functionName)'")
            }
            guard workers.canPlace([:]) else { throw ApiRefusal(description: "no worker has joined to run function '\(function.name)'") }
            let key = TaskKey(taskId: "invoke/\(function.name)/\(UUID().uuidString.lowercased())", attempt: 1)
            try workers.submit(key, .lambda(try LambdaInvocation(calling: function, events: [invoke.payload])), requirements: [:])
            let until = Date().addingTimeInterval(Double(function.timeoutSeconds) + Self.invocationGrace)
            invocations[key] = HeldInvocation(client: invoke.asynchronous ? nil : client, function: function.name, until: until)
            if invoke.asynchronous { api.reply(.invoked(.init(result: nil, error: nil, ran: false)), to: client) }
        } catch {
            api.reply(.failure("\(error)"), to: client)
        }
    }

    /// Whether the event was an invocation's (then it concerns no execution).
    func takeInvocationEvent(_ event: CoordinatorEndpoint.Event) -> Bool {
        switch event {
        case let .finished(finished):
            guard let held = invocations.removeValue(forKey: finished.key) else { return false }
            let outcome: ApiMessage.Invoked = switch finished.result {
            case let .lambda(replies, _):
                replies.first.map { .init(result: $0.result, error: $0.error, ran: true) } ?? .init(result: nil, error: "the worker sent no reply", ran: false)
            case let .rejected(reason), let .interrupted(reason): .init(result: nil, error: reason, ran: false)
            case .processing: .init(result: nil, error: "the worker answered with a processing result", ran: false)
            }
            reply(held, outcome)
            return true
        case let .log(chunk):
            return invocations[chunk.key] != nil
        case let .workerLost(id, host, keys):
            for key in keys {
                guard let held = invocations.removeValue(forKey: key) else { continue }
                reply(held, .init(result: nil, error: "worker \(id) on \(host) was lost while function '\(held.function)' ran", ran: false))
            }
            return false
        case .workerJoined, .reattached, .notReattached:
            return false
        }
    }

    /// Invocations past their time are cancelled and answered.
    func expireInvocations(now: Date = Date()) {
        for (key, held) in invocations where held.until <= now {
            invocations[key] = nil
            workers.cancel(key)
            reply(held, .init(result: nil, error: "function '\(held.function)' did not answer within its timeout", ran: false))
        }
    }

    private func reply(_ held: HeldInvocation, _ outcome: ApiMessage.Invoked) {
        if let client = held.client {
            api.reply(.invoked(outcome), to: client)
        } else if let error = outcome.error {
            log("asynchronous invocation of \(held.function) failed: \(error.prefix(500))")
        } else {
            // Nobody waits for an Event invocation's answer: the log is where it goes.
            log("asynchronous invocation of \(held.function) returned \((outcome.result ?? "null").prefix(200))")
        }
    }
}
