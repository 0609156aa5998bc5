import CoreMetrics
import Foundation
import ShoalStore

/// What the engine counts, through swift-metrics: the process that serves
/// `/metrics` bootstraps a Prometheus factory; elsewhere these go nowhere.
/// Each call looks its metric up anew, so a bootstrap after the runner was
/// built still receives everything from then on.
enum EngineMetrics {
    static func instancesStarted(_ count: Int) {
        Counter(label: "shoal_instances_started_total").increment(by: count)
    }

    /// An attempt that ended: its status, how long it held its slot, how long
    /// it spent outside its job (dispatch and data movement), and the bytes it moved.
    static func instanceEnded(_ record: InstanceRecord) {
        Counter(label: "shoal_instances_ended_total", dimensions: [("status", record.status.rawValue)]).increment()
        if let start = record.startedAt, let end = record.endedAt {
            let elapsed = max(0, end.timeIntervalSince(start))
            CoreMetrics.Timer(label: "shoal_instance_duration_seconds").recordSeconds(elapsed)
            if let wall = record.wallSeconds { CoreMetrics.Timer(label: "shoal_instance_overhead_seconds").recordSeconds(max(0, elapsed - wall)) }
        }
        if let bytes = record.bytesIn, bytes > 0 { Counter(label: "shoal_bytes_in_total").increment(by: bytes) }
        if let bytes = record.bytesOut, bytes > 0 { Counter(label: "shoal_bytes_out_total").increment(by: bytes) }
    }

    static func stepEnded(_ status: StepStatus) {
        Counter(label: "shoal_steps_ended_total", dimensions: [("status", status.rawValue)]).increment()
    }

    static func cacheLookup(hit: Bool) {
        Counter(label: "shoal_step_cache_lookups_total", dimensions: [("result", hit ? "hit" : "miss")]).increment()
    }

    /// The coordinator's queue and workers, after each poll.
    static func cluster(waiting: Int, workers: Int, freeSlots: Int) {
        Gauge(label: "shoal_tasks_waiting").record(waiting)
        Gauge(label: "shoal_workers").record(workers)
        Gauge(label: "shoal_free_slots").record(freeSlots)
    }
}
