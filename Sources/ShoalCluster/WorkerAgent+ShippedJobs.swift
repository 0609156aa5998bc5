import CShoalSystem
import Foundation
import ShoalRuntime
import ZeroMQ

/// Jobs whose data travels over the connection (`--fetch-data`): launched once
/// their inputs arrived, their outputs sent back, stalled transfers failed.
extension WorkerAgent {
    func launch(_ job: ShippedJob) throws {
        let log = logFile(for: job.key)
        let running = try RunningJob(
            spec: job.localSpec, workFolder: configuration.workFolder.appendingPathComponent("jobs"), logFile: log,
            outputStaging: job.folder.appendingPathComponent("out"), mode: configuration.sandbox
        )
        job.phase = .running(running, LogFollower(path: log, key: job.key, ownsFile: true))
        job.lastProgress = Date()
    }

    /// A shipped instance that could not move its data is interrupted, so the coordinator runs it again.
    func fail(_ job: ShippedJob, _ reason: String) {
        job.stop()
        shipped[job.key] = nil
        finish(job.key, .interrupted(reason: "on worker \(configuration.workerId): \(reason)"))
    }

    func takeChunk(_ header: ChunkHeader, _ data: DataFrame) {
        if let (local, fetch) = codeFetches.first(where: { $0.value.fetcher.owns(header.transfer) }) {
            return takeCodeChunk(fetch, into: local, header, data)
        }
        guard let job = shipped.values.first(where: { $0.fetcher.owns(header.transfer) }), case .fetching = job.phase else { return }
        do {
            try job.take(header, data).forEach(send)
            if job.fetched { try launch(job) }
        } catch {
            fail(job, "\(error)")
        }
    }

    func takeAck(_ ack: PutAck) {
        guard let job = shipped.values.first(where: { $0.transferId == ack.transfer }), case .putting = job.phase else { return }
        do {
            for message in try job.take(ack) { send(message) }
        } catch {
            fail(job, "\(error)")
        }
    }

    func advanceShipped(now: Date) {
        for (local, fetch) in codeFetches where now.timeIntervalSince(fetch.lastProgress) > ShippedJob.stallSeconds {
            failCode(fetch, into: local, "fetching stalled for \(Int(ShippedJob.stallSeconds)) s")
        }
        // Adrift, what runs is held as it is until a coordinator takes it back.
        guard adrift == nil else { return }
        for (key, job) in shipped {
            switch job.phase {
            case .fetching:
                if now.timeIntervalSince(job.lastProgress) > ShippedJob.stallSeconds { fail(job, "fetching its inputs stalled for \(Int(ShippedJob.stallSeconds)) s") }
            case let .running(running, log):
                sendLog(log)
                guard let outcome = running.poll() else { continue }
                sendLog(log, final: true)
                do {
                    for message in try job.startPutting(outcome) { send(message) }
                } catch {
                    fail(job, "\(error)")
                }
            case let .putting(outcome):
                if job.putDone {
                    StandardStreams.error("shoal worker \(configuration.workerId): task \(key.taskId) moved \(job.bytesFetched) bytes in and \(job.bytesPut) bytes out over the wire (inputs in \(String(format: "%.3f", job.fetchSeconds)) s from \(String(format: "%.3f", job.fetchStarted.timeIntervalSince1970)); \(job.bytesFromCache) bytes from its input cache)\n")
                    // Reported before the copies are removed: deleting them is not the coordinator's wait.
                    finish(key, .processing(job.remoteOutcome(outcome)))
                    shipped[key] = nil
                    job.stop()
                } else if now.timeIntervalSince(job.lastProgress) > ShippedJob.stallSeconds {
                    fail(job, "putting its outputs stalled for \(Int(ShippedJob.stallSeconds)) s")
                }
            }
        }
    }
}
