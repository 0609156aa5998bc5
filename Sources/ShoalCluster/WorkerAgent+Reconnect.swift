import Foundation
import ShoalRuntime

/// Losing the coordinator and coming back: a cluster worker holds its running
/// jobs, registers saying which it holds and which results it sent lately,
/// and once welcomed sends those results again.
extension WorkerAgent {
    func register() {
        let holding = Set(jobs.keys).union(shipped.keys).sorted { $0.description < $1.description }
        let sent = reported.map(\.finished.key)
        send(.register(Register(
            workerId: configuration.workerId, host: ProcessInfo.processInfo.hostName, pid: getpid(),
            slots: configuration.slots, version: configuration.version, labels: configuration.labels,
            sandbox: configuration.sandbox.summary, holding: holding.isEmpty ? nil : holding, reported: sent.isEmpty ? nil : sent
        )))
    }

    /// The coordinator is gone or was replaced: a cluster worker keeps its
    /// running jobs (and those whose outputs it was sending) for a restarted
    /// one to take back, and stops the rest; a local one stops everything.
    func loseCoordinator(now: Date, because reason: String) {
        guard configuration.reconnect, configuration.holdJobs > 0 else {
            let busy = !jobs.isEmpty || !shipped.isEmpty || allFunctionSlots.contains(where: { $0.current != nil })
            StandardStreams.error("shoal worker \(configuration.workerId): \(reason); registering again\(busy ? "; its running tasks were stopped" : "")\n")
            return stopAllWork()
        }
        for (key, job) in shipped {
            if case .fetching = job.phase {
                job.stop()
                shipped[key] = nil
            }
        }
        for fetch in codeFetches.values { fetch.discard() }
        codeFetches.removeAll()
        // A handler's reply cannot be taken back: what they ran is answered again elsewhere.
        for slot in allFunctionSlots { slot.process.terminate() }
        functions.removeAll()
        retiring.removeAll()
        if adrift == nil { adrift = now }
        StandardStreams.error("shoal worker \(configuration.workerId): \(reason); registering again, holding \(jobs.count + shipped.count) jobs for up to \(Int(configuration.holdJobs)) s\n")
    }

    /// Welcomed again after holding its jobs: what ended meanwhile is reaped
    /// in the next turns, results sent lately go again, and outputs that were
    /// being sent start over (the previous coordinator's transfers are gone).
    func rejoin() {
        adrift = nil
        for entry in reported { send(.finished(entry.finished)) }
        for job in shipped.values {
            do {
                for message in try job.restartPutting() { send(message) }
            } catch {
                fail(job, "\(error)")
            }
        }
    }
}
