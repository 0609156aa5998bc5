import Foundation
import ShoalEngine
import ShoalStore

/// Prints an execution's progress: one line per change, with the time since
/// the start, then a summary table.
final class ProgressPrinter {
    private let started = Date()

    func show(_ event: ProgressEvent) {
        let elapsed = String(format: "%6.2fs", Date().timeIntervalSince(started))
        switch event {
        case let .started(id, pipeline, steps):
            print("\(elapsed)  execution \(id) of \(pipeline): \(steps) steps")
        case let .step(name, type, status, detail):
            print("\(elapsed)  \(name) (\(type)) \(status)" + (detail.map { ": \($0)" } ?? ""))
        case let .instances(step, done, total):
            print("\(elapsed)  \(step): \(done)/\(total) instances done")
        case let .finished(status, reason):
            print("\(elapsed)  execution \(status)" + (reason.map { ": \($0)" } ?? ""))
        }
        fflush(nil)
    }

    func summary(_ execution: ExecutionRecord, steps: [StepRecord]) {
        print("")
        print(Formatting.table(["STEP", "TYPE", "STATUS", "ELAPSED"], steps.map { step in
            [step.name, step.type, step.status, Formatting.duration(from: step.startedAt, to: step.endedAt)]
        }))
        if execution.status != "Succeeded" {
            printError("execution \(execution.id) \(execution.status)" + (execution.failureReason.map { ": \($0)" } ?? ""))
        } else {
            print("execution \(execution.id) Succeeded in \(Formatting.duration(from: execution.startedAt, to: execution.endedAt))")
        }
    }
}
