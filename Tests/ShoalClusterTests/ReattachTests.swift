import Foundation
import ShoalCluster
import Testing

/// A restarted coordinator's registry takes back the tasks workers report
/// holding: expected ones run on, held ones wait for an execution, the rest
/// are cancelled on their workers, and nothing waits past its window.
@Suite struct ReattachTests {
    static let start = Date(timeIntervalSince1970: 1_000)
    let a = Array("a".utf8)

    func hello(slots: Int = 2, holding: [TaskKey]) -> Register {
        Register(workerId: "a", host: "h", pid: 1, slots: slots, version: "t", holding: holding)
    }

    func key(_ id: String, _ attempt: Int = 1) -> TaskKey { TaskKey(taskId: id, attempt: attempt) }

    @Test func anExpectedTaskRunsOnWhereItIsReported() {
        var registry = WorkerRegistry(liveness: 3)
        #expect(registry.reattach(key("e/s/algo-1"), waitingUntil: Self.start.addingTimeInterval(10)) == .waiting)
        let registration = registry.register(identity: a, hello(holding: [key("e/s/algo-1")]), now: Self.start)
        #expect(registration.forgotten.isEmpty && registration.unwanted.isEmpty)
        #expect(registration.takenBack == [key("e/s/algo-1")])
        #expect(registry.workers[a]?.running == [key("e/s/algo-1")])
        #expect(registry.workers[a]?.freeSlots == 1)
        _ = registry.heard(from: a, now: Self.start.addingTimeInterval(10))
        #expect(registry.tick(now: Self.start.addingTimeInterval(11)).notReattached.isEmpty, "a task taken back does not expire")
        #expect(registry.release(key("e/s/algo-1"), from: a) == a, "its result is the current assignment's")
    }

    @Test func aReportedTaskIsHeldUntilAnExecutionTakesItBackWithItsResult() {
        var registry = WorkerRegistry(liveness: 3)
        registry.acceptHoldings(for: 10, now: Self.start)
        _ = registry.register(identity: a, hello(holding: [key("e/s/algo-1"), key("e/s/algo-2")]), now: Self.start)
        #expect(registry.workers[a]?.freeSlots == 0, "held tasks hold their slots")
        var finished = TaskFinished(key: key("e/s/algo-2"), result: .rejected(reason: "x"))
        #expect(registry.release(finished.key, from: a) == nil)
        let kept = registry.keepResult(finished, from: a)
        #expect(kept)
        #expect(registry.reattach(key("e/s/algo-1"), waitingUntil: Self.start.addingTimeInterval(10)) == .running(workerId: "a"))
        finished.worker = "a"
        #expect(registry.reattach(key("e/s/algo-2"), waitingUntil: Self.start.addingTimeInterval(10)) == .finished(finished))
        #expect(registry.workers[a]?.held.isEmpty == true)
        #expect(registry.workers[a]?.running == [key("e/s/algo-1")])
    }

    @Test func whatNobodyTakesBackIsCancelledAndWhatNobodyReportsIsLost() {
        var registry = WorkerRegistry(liveness: 3)
        registry.acceptHoldings(for: 10, now: Self.start)
        _ = registry.reattach(key("e/s/algo-9"), waitingUntil: Self.start.addingTimeInterval(10))
        _ = registry.register(identity: a, hello(holding: [key("old/s/algo-1")]), now: Self.start.addingTimeInterval(1))
        _ = registry.heard(from: a, now: Self.start.addingTimeInterval(4))
        let early = registry.tick(now: Self.start.addingTimeInterval(5))
        #expect(early.notReattached.isEmpty && early.unwanted.isEmpty)
        _ = registry.heard(from: a, now: Self.start.addingTimeInterval(11))
        let late = registry.tick(now: Self.start.addingTimeInterval(11.5))
        #expect(late.notReattached == [key("e/s/algo-9")])
        #expect(late.unwanted.map(\.key) == [key("old/s/algo-1")])
        #expect(registry.workers[a]?.freeSlots == 2)
        // Past the window a holding nobody waits for is cancelled at once.
        let after = registry.register(identity: a, hello(holding: [key("old/s/algo-2")]), now: Self.start.addingTimeInterval(12))
        #expect(after.unwanted == [key("old/s/algo-2")])
    }

    @Test func aWorkerReconnectingKeepsWhatItSaysItHoldsAndLosesTheRest() throws {
        var registry = WorkerRegistry(liveness: 3)
        _ = registry.register(identity: a, hello(holding: []), now: Self.start)
        let task = Task.lambda(LambdaInvocation(functionName: "f", handler: "m.f", codePath: "/x", events: ["{}"], timeoutSeconds: 5))
        try registry.submit(key("t1"), task)
        try registry.submit(key("t2"), task)
        #expect(registry.tick(now: Self.start).assignments.count == 2)
        let again = registry.register(identity: a, hello(holding: [key("t1")]), now: Self.start.addingTimeInterval(1))
        #expect(again.forgotten == [key("t2")])
        #expect(again.unwanted.isEmpty)
        #expect(registry.workers[a]?.running == [key("t1")])
    }

    @Test func aRegistrationCannotHoldOrReportMoreThanItsSlots() {
        let keys = (1...3).map { key("e/s/algo-\($0)") }
        #expect(hello(slots: 2, holding: keys).refusal?.contains("holds 3 tasks with 2 slots") == true)
        #expect(Register(workerId: "a", host: "h", pid: 1, slots: 2, version: "t", reported: keys).refusal?.contains("reports 3 tasks with 2 slots") == true)
        #expect(Register(workerId: "a", host: "h", pid: 1, slots: 2, version: "t", holding: Array(keys.prefix(2)), reported: Array(keys.prefix(2))).refusal == nil)
        #expect(hello(holding: [key(String(repeating: "x", count: 2000))]).refusal?.contains("longer than 1024 bytes") == true)
    }

    /// A result sent just before the coordinator died comes again: taken back
    /// when expected, kept when early, and never holding a slot.
    @Test func reportedResultsHoldNoSlot() {
        var registry = WorkerRegistry(liveness: 3)
        registry.acceptHoldings(for: 10, now: Self.start)
        _ = registry.reattach(key("e/s/algo-1"), waitingUntil: Self.start.addingTimeInterval(10))
        let hello = Register(workerId: "a", host: "h", pid: 1, slots: 2, version: "t", reported: [key("e/s/algo-1"), key("done/s/algo-1")])
        let registration = registry.register(identity: a, hello, now: Self.start)
        #expect(registration.unwanted.isEmpty)
        #expect(registry.workers[a]?.running == [key("e/s/algo-1")], "expected: its result is the assignment's")
        #expect(registry.workers[a]?.held[key("done/s/algo-1")]?.ended == true)
        #expect(registry.workers[a]?.freeSlots == 1)
        _ = registry.heard(from: a, now: Self.start.addingTimeInterval(10))
        #expect(registry.tick(now: Self.start.addingTimeInterval(10.5)).unwanted.isEmpty, "nothing runs to be cancelled")
    }

    /// A worker cannot take more slots than it has by reporting tasks.
    @Test func holdingsBeyondTheSlotsAreUnwanted() {
        var registry = WorkerRegistry(liveness: 3)
        registry.acceptHoldings(for: 10, now: Self.start)
        _ = registry.register(identity: a, hello(holding: []), now: Self.start)
        let task = Task.lambda(LambdaInvocation(functionName: "f", handler: "m.f", codePath: "/x", events: ["{}"], timeoutSeconds: 5))
        try? registry.submit(key("new"), task)
        _ = registry.tick(now: Self.start)
        let registration = registry.register(identity: a, hello(holding: [key("new"), key("e/s/algo-1"), key("e/s/algo-2")]), now: Self.start)
        #expect(registration.unwanted == [key("e/s/algo-2")])
        #expect(registry.workers[a]?.held.count == 1)
        #expect(registry.workers[a]?.freeSlots == 0)
    }

    /// Once every worker of the previous life is back, what none of them
    /// reported (it was queued, or its worker stopped it) is lost at once
    /// rather than at the end of the window.
    @Test func whenEveryPreviousWorkerIsBackTheRestIsNotWaitedFor() {
        var registry = WorkerRegistry(liveness: 3)
        registry.acceptHoldings(for: 10, now: Self.start, from: ["a", "b"])
        _ = registry.reattach(key("e/s/algo-1"), waitingUntil: Self.start.addingTimeInterval(10))
        _ = registry.reattach(key("e/s/algo-2"), waitingUntil: Self.start.addingTimeInterval(10))
        _ = registry.register(identity: a, hello(holding: [key("e/s/algo-1")]), now: Self.start.addingTimeInterval(0.2))
        #expect(registry.tick(now: Self.start.addingTimeInterval(0.3)).notReattached.isEmpty, "worker b may still hold algo-2")
        _ = registry.register(identity: Array("b".utf8), Register(workerId: "b", host: "h", pid: 2, slots: 2, version: "t"), now: Self.start.addingTimeInterval(0.5))
        #expect(registry.tick(now: Self.start.addingTimeInterval(0.6)).notReattached == [key("e/s/algo-2")])
        #expect(registry.workers[a]?.running == [key("e/s/algo-1")])
        // Asked for after everyone is back, a task nobody holds is lost at the next tick.
        _ = registry.reattach(key("e/s/algo-3"), waitingUntil: Self.start.addingTimeInterval(10))
        #expect(registry.tick(now: Self.start.addingTimeInterval(0.7)).notReattached == [key("e/s/algo-3")])
    }
}
