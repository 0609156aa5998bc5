import Foundation
import ShoalCluster
import ShoalRuntime
import Testing
import ZeroMQ

/// The coordinator's worker bookkeeping, fed events without any socket.
@Suite struct WorkerRegistryTests {
    static let start = Date(timeIntervalSince1970: 1_000)
    static let task = Task.lambda(LambdaInvocation(functionName: "f", handler: "m.f", codePath: "/x", events: ["{}"], timeoutSeconds: 5))

    func registry(workers: [(String, Int)]) -> WorkerRegistry {
        var registry = WorkerRegistry(liveness: 3)
        for (id, slots) in workers {
            _ = registry.register(identity: Array(id.utf8), Register(workerId: id, host: "h-\(id)", pid: 1, slots: slots, version: "t"), now: Self.start)
        }
        return registry
    }

    @Test func instancesSpreadToTheWorkerWithMostFreeSlots() throws {
        var registry = registry(workers: [("a", 2), ("b", 2)])
        for instance in 1...4 { try registry.submit(TaskKey(taskId: "job/algo-\(instance)", attempt: 1), Self.task) }
        let assigned = registry.tick(now: Self.start).assignments.map { String(decoding: $0.identity, as: UTF8.self) }
        #expect(assigned.sorted() == ["a", "a", "b", "b"])
        #expect(assigned[0] != assigned[1], "the first two instances go to different workers")
        #expect(registry.queue.isEmpty)
    }

    @Test func tasksWaitWhenEverySlotIsBusy() throws {
        var registry = registry(workers: [("a", 1)])
        try registry.submit(TaskKey(taskId: "t1", attempt: 1), Self.task)
        try registry.submit(TaskKey(taskId: "t2", attempt: 1), Self.task)
        #expect(registry.tick(now: Self.start).assignments.count == 1)
        #expect(registry.queue.count == 1)
        #expect(registry.release(TaskKey(taskId: "t1", attempt: 1), from: Array("a".utf8)) != nil)
        #expect(registry.tick(now: Self.start).assignments.map(\.assignment.key.taskId) == ["t2"])
    }

    @Test func aSilentWorkerIsLostWithItsTasks() throws {
        var registry = registry(workers: [("a", 1), ("b", 1)])
        try registry.submit(TaskKey(taskId: "t1", attempt: 1), Self.task)
        _ = registry.tick(now: Self.start)
        let holder = registry.workers.values.first { !$0.running.isEmpty }!
        let other = registry.workers.values.first { $0.running.isEmpty }!
        let known = registry.heard(from: other.identity, now: Self.start.addingTimeInterval(2.5))
        #expect(known)
        let directives = registry.tick(now: Self.start.addingTimeInterval(3.5))
        #expect(directives.lost.map(\.worker.id) == [holder.id])
        #expect(directives.lost.first?.tasks == [TaskKey(taskId: "t1", attempt: 1)])
        #expect(registry.workers.count == 1)
    }

    @Test func aLateResultOfAnOldAttemptIsNotAccepted() throws {
        var registry = registry(workers: [("a", 1), ("b", 1)])
        try registry.submit(TaskKey(taskId: "t1", attempt: 2), Self.task)
        _ = registry.tick(now: Self.start)
        #expect(registry.release(TaskKey(taskId: "t1", attempt: 1)) == nil)
        #expect(registry.release(TaskKey(taskId: "t1", attempt: 2)) != nil)
    }

    @Test func tasksGoOnlyToWorkersCarryingTheRequiredLabels() throws {
        var registry = WorkerRegistry(liveness: 3)
        _ = registry.register(identity: Array("a".utf8), Register(workerId: "a", host: "h", pid: 1, slots: 4, version: "t"), now: Self.start)
        _ = registry.register(identity: Array("b".utf8), Register(workerId: "b", host: "h", pid: 1, slots: 1, version: "t", labels: ["subnet": ["s-1", "s-2"]]), now: Self.start)
        let needs = ["subnet": ["s-2", "s-9"]]
        #expect(registry.canPlace(needs))
        #expect(!registry.canPlace(["subnet": ["s-9"]]))
        try registry.submit(TaskKey(taskId: "pinned-1", attempt: 1), Self.task, requirements: needs)
        try registry.submit(TaskKey(taskId: "pinned-2", attempt: 1), Self.task, requirements: needs)
        try registry.submit(TaskKey(taskId: "free", attempt: 1), Self.task)
        let assignments = registry.tick(now: Self.start).assignments.map { ($0.assignment.key.taskId, String(decoding: $0.identity, as: UTF8.self)) }
        #expect(assignments.map { $0.0 } == ["pinned-1", "free"], "the second pinned task waits for b without holding back the free one")
        #expect(assignments.first?.1 == "b")
        let waiting = registry.queue.map { $0.key.taskId }
        #expect(waiting == ["pinned-2"])
    }

    @Test func theQueueIsBounded() throws {
        var registry = WorkerRegistry(liveness: 3, maxQueued: 2)
        try registry.submit(TaskKey(taskId: "1", attempt: 1), Self.task)
        try registry.submit(TaskKey(taskId: "2", attempt: 1), Self.task)
        #expect(throws: WorkerRegistry.QueueFull.self) { try registry.submit(TaskKey(taskId: "3", attempt: 1), Self.task) }
    }
}

@Suite struct WireCodecTests {
    @Test func messagesRoundTrip() throws {
        let message = WireMessage.finished(TaskFinished(key: TaskKey(taskId: "x", attempt: 2), result: .lambda(replies: [LambdaReply(result: "{\"a\":1}", error: nil)], seconds: 0.5)))
        #expect(try WireCodec.decode(WireCodec.encode(message)) == message)
        let chunk = WireMessage.chunk(ChunkHeader(transfer: "t", offset: 0, crc32: 7), DataFrame([1, 2, 3]))
        #expect(try WireCodec.decode(WireCodec.encode(chunk)) == chunk)
    }

    private func decode(_ frames: [[UInt8]]) throws -> WireMessage {
        try WireCodec.decode(frames.map { Message($0) })
    }

    @Test func malformedFramesAreRefusedWithAReason() {
        #expect(throws: WireCodec.Malformed(reason: "unknown protocol version 'shoal/9'")) {
            try decode([Array("shoal/9".utf8), Array("heartbeat".utf8), Array("{}".utf8)])
        }
        #expect(throws: WireCodec.Malformed(reason: "unknown message kind 'explode'")) {
            try decode([Array("shoal/1".utf8), Array("explode".utf8), Array("{}".utf8)])
        }
        #expect(throws: WireCodec.Malformed(reason: "expected 3 frames, got 1")) { try decode([[1]]) }
        #expect(throws: WireCodec.Malformed(reason: "expected 4 frames, got 3")) { try decode([Array("shoal/1".utf8), Array("chunk".utf8), Array("{}".utf8)]) }
        #expect(throws: WireCodec.Malformed(reason: "a data frame of \(TransferLimits.chunkBytes + 1) bytes is over the \(TransferLimits.chunkBytes)-byte chunk size")) {
            try decode([Array("shoal/1".utf8), Array("put".utf8), Array("{}".utf8), [UInt8](repeating: 0, count: TransferLimits.chunkBytes + 1)])
        }
        #expect(throws: WireCodec.Malformed.self) {
            try decode([Array("shoal/1".utf8), Array("assign".utf8), Array("{\"key\": 5}".utf8)])
        }
    }
}

@Suite struct ApiCodecTests {
    private let running = ApiMessage.ExecutionStatusReply(
        executionId: "e", status: "Executing", failureReason: nil,
        steps: [.init(name: "A", type: "Processing", status: "Executing", failureReason: nil), .init(name: "B", type: "Fail", status: "Pending", failureReason: nil)]
    )

    @Test func aWatchAndItsReplyRoundTrip() throws {
        let watch = ApiMessage.watch(.init(executionId: "e", seen: running.fingerprint))
        #expect(try ApiCodec.decode(ApiCodec.encode(watch)) == watch)
        #expect(try ApiCodec.decode(ApiCodec.encode(.execution(running))) == .execution(running))
    }

    /// A held watch is answered when the fingerprint moves: any status or reason, of the execution or a step.
    @Test func theFingerprintMovesWithEveryStatusAndReason() {
        var stepDone = running
        stepDone.steps[0].status = "Succeeded"
        var reason = running
        reason.steps[1].failureReason = "boom"
        var finished = running
        finished.status = "Failed"
        let prints = [running, stepDone, reason, finished].map(\.fingerprint)
        #expect(Set(prints).count == 4)
        #expect(running.fingerprint == ApiMessage.ExecutionStatusReply(executionId: "e", status: "Executing", failureReason: nil, steps: running.steps).fingerprint)
    }
}
