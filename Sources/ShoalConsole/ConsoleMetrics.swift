import Foundation
import Prometheus
import ShoalCluster
import ShoalStore

/// `/metrics`: what the engine counts as it runs (through swift-metrics, into
/// this registry once the command bootstraps `factory`), and the executions by
/// status and the steps of running ones, read from the store when scraped.
public final class ConsoleMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let home: ShoalHome
    private let executions: [ExecutionStatus: Gauge]
    private let steps: [StepStatus: Gauge]

    init(home: ShoalHome, coordinator: CoordinatorClientPool) {
        self.home = home
        let registry = self.registry
        executions = Dictionary(uniqueKeysWithValues: ExecutionStatus.allCases.map { status in
            (status, registry.makeGauge(name: "shoal_executions", labels: [("status", status.rawValue)], help: "Executions in this home by status."))
        })
        steps = Dictionary(uniqueKeysWithValues: StepStatus.allCases.map { status in
            (status, registry.makeGauge(name: "shoal_running_steps", labels: [("status", status.rawValue)], help: "Steps of the executions still running, by status (ended steps: shoal_steps_ended_total)."))
        })
    }

    /// The factory a command bootstraps swift-metrics with, so the engine's
    /// counters land here. Instance durations run from milliseconds to hours.
    public var factory: PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets["shoal_instance_duration_seconds"] = [
            .milliseconds(50), .milliseconds(250), .seconds(1), .seconds(5), .seconds(30), .seconds(120), .seconds(600), .seconds(1800), .seconds(3600), .seconds(14400),
        ]
        factory.durationHistogramBuckets["shoal_dispatch_latency_seconds"] = [
            .microseconds(100), .milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(2), .seconds(10), .seconds(60), .seconds(600),
        ]
        factory.durationHistogramBuckets["shoal_instance_overhead_seconds"] = [
            .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1), .seconds(5), .seconds(30),
        ]
        return factory
    }

    func exposition() throws -> String {
        let executionCounts = try home.metadata.executionCounts()
        for (status, gauge) in executions { gauge.set(Int64(executionCounts[status] ?? 0)) }
        let stepCounts = try home.metadata.runningStepCounts()
        for (status, gauge) in steps { gauge.set(Int64(stepCounts[status] ?? 0)) }
        return registry.emitToString()
    }
}
