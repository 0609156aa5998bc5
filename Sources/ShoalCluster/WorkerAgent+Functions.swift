import CShoalSystem
import Foundation
import ShoalRuntime
import ZeroMQ

/// Warm function slots: one Python process per function, fed batches of
/// events, retired when a newer registration replaces it.
extension WorkerAgent {
    func advanceFunctions(now: Date) {
        // `advance` may start invocations anew, which can add slots to both collections.
        for (name, slot) in functions where !advance(slot, now: now) && functions[name] === slot { functions[name] = nil }
        let old = retiring
        retiring.removeAll()
        let busy = old.filter { advance($0, now: now) && ($0.current != nil || !$0.waiting.isEmpty) }
        retiring = busy + retiring
    }

    /// Serves a function process's replies and next events; false when the process is to go.
    func advance(_ slot: FunctionSlot, now: Date) -> Bool {
        if !slot.ready {
            switch slot.process.readReply() {
            case .ready?: slot.ready = true
            case let .loadFailed(message)?, let .failed(message)?:
                for (key, invocation) in slot.waiting { finishFunction(slot, key, Array(repeating: LambdaReply(result: nil, error: message), count: invocation.events.count), seconds: 0) }
                slot.waiting.removeAll()
                slot.process.terminate()
                return false
            default:
                return true
            }
        }
        if let batch = slot.current {
            // Replies come one per event; the next event goes out as soon as one arrives.
            while batch.replies.count < batch.invocation.events.count, let reply = slot.process.readReply() {
                switch reply {
                case .ready: continue
                case let .result(data): batch.replies.append(LambdaReply(result: String(decoding: data, as: UTF8.self), error: nil))
                case let .failed(message), let .loadFailed(message): batch.replies.append(LambdaReply(result: nil, error: message))
                }
                if batch.replies.count < batch.invocation.events.count { send(batch.invocation.events[batch.replies.count], to: slot, batch: batch, now: now) }
            }
            if batch.replies.count == batch.invocation.events.count {
                slot.current = nil
                finishFunction(slot, batch.key, batch.replies, seconds: now.timeIntervalSince(batch.started))
            } else if now.timeIntervalSince(batch.eventStarted) > Double(batch.invocation.timeoutSeconds) {
                // A handler cannot be interrupted: the process goes, and a new one serves what follows.
                slot.process.terminate()
                batch.replies.append(LambdaReply(result: nil, error: "the function timed out after \(batch.invocation.timeoutSeconds) s"))
                while batch.replies.count < batch.invocation.events.count {
                    batch.replies.append(LambdaReply(result: nil, error: "not run: an earlier event of the same batch timed out"))
                }
                finishFunction(slot, batch.key, batch.replies, seconds: now.timeIntervalSince(batch.started))
                let waiting = slot.waiting
                slot.waiting.removeAll()
                if functions[batch.invocation.functionName] === slot { functions[batch.invocation.functionName] = nil }
                for (key, invocation) in waiting { start(Assignment(key: key, task: .lambda(invocation))) }
                return false
            }
            return true
        }
        guard !slot.waiting.isEmpty else { return true }
        let (key, invocation) = slot.waiting.removeFirst()
        slot.logOffset = LogFollower.size(of: slot.log)
        let batch = FunctionSlot.Batch(key: key, invocation: invocation, started: now)
        slot.current = batch
        if let first = invocation.events.first { send(first, to: slot, batch: batch, now: now) } else { finishFunction(slot, key, [], seconds: 0) ; slot.current = nil }
        return true
    }

    func send(_ event: String, to slot: FunctionSlot, batch: FunctionSlot.Batch, now: Date) {
        batch.eventStarted = now
        do {
            try slot.process.invoke(event: Data(event.utf8), environment: batch.invocation.environment)
        } catch {
            while batch.replies.count < batch.invocation.events.count {
                batch.replies.append(LambdaReply(result: nil, error: "cannot reach the function's Python process: \(error)"))
            }
        }
    }

    func finishFunction(_ slot: FunctionSlot, _ key: TaskKey, _ replies: [LambdaReply], seconds: Double) {
        // The log goes first: once finished, the coordinator takes no more messages for the task.
        sendFunctionLog(slot, key: key)
        finish(key, .lambda(replies: replies, seconds: seconds))
    }

    /// Sends what the handler wrote to the shared function log during this invocation.
    func sendFunctionLog(_ slot: FunctionSlot, key: TaskKey) {
        let follower = LogFollower(path: slot.log, key: key, startingAt: slot.logOffset)
        for chunk in follower.read() { send(.log(LogChunk(key: key, offset: chunk.offset - slot.logOffset, text: chunk.text))) }
        slot.logOffset = LogFollower.size(of: slot.log)
    }
}

/// A warm function process and the invocations waiting for it (one at a time).
final class FunctionSlot {
    let process: FunctionProcess
    let log: String
    var ready = false
    var waiting: [(key: TaskKey, invocation: LambdaInvocation)] = []
    var current: Batch?
    var logOffset = 0

    /// The invocation being served and the replies so far.
    final class Batch {
        let key: TaskKey
        let invocation: LambdaInvocation
        let started: Date
        var eventStarted: Date
        var replies: [LambdaReply] = []

        init(key: TaskKey, invocation: LambdaInvocation, started: Date) {
            self.key = key
            self.invocation = invocation
            self.started = started
            eventStarted = started
        }
    }

    init(process: FunctionProcess, log: String) {
        self.process = process
        self.log = log
    }
}
