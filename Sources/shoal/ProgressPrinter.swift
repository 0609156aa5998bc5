import Foundation
import ShoalRuntime
import ShoalEngine
import ShoalStore

/// Shows an execution's progress. On a terminal: a live table (each step's
/// status, instances done/total, elapsed), redrawn in place. Otherwise: one
/// plain line per change. Then a summary table.
final class ProgressPrinter {
    private let started = Date()
    private let live = isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    private var header = ""
    private var rows: [(name: String, type: String, status: StepStatus, instances: String, started: Date?, ended: Date?, detail: String)] = []
    private var drawnLines = 0

    func show(_ event: ProgressEvent) {
        switch event {
        case let .started(id, pipeline, steps):
            header = "execution \(id) of \(pipeline): \(steps) steps"
            if !live { line(header) }
        case let .step(name, type, status, detail):
            let now = Date()
            if let index = rows.firstIndex(where: { $0.name == name }) {
                rows[index].status = status
                rows[index].detail = detail ?? ""
                if status != .executing { rows[index].ended = now }
            } else {
                rows.append((name, type, status, "", status == .executing ? now : nil, status == .executing ? nil : now, detail ?? ""))
            }
            if !live { line("\(name) (\(type)) \(status.rawValue)" + (detail.map { ": \($0)" } ?? "")) }
        case let .instances(step, done, total):
            if let index = rows.firstIndex(where: { $0.name == step }) { rows[index].instances = "\(done)/\(total)" }
            if !live { line("\(step): \(done)/\(total) instances done") }
        case let .finished(status, reason):
            if !live { line("execution \(status.rawValue)" + (reason.map { ": \($0)" } ?? "")) }
        case .tick:
            break
        }
        if live { redraw() }
    }

    private func line(_ text: String) {
        print(String(format: "%6.2fs  ", Date().timeIntervalSince(started)) + text)
        fflush(nil)
    }

    private func redraw() {
        let table = Formatting.table(["STEP", "TYPE", "STATUS", "INSTANCES", "ELAPSED", ""], rows.map { row in
            let elapsed = row.started.map { String(format: "%.1fs", (row.ended ?? Date()).timeIntervalSince($0)) } ?? "-"
            return [row.name, row.type, row.status.rawValue, row.instances, elapsed, String(row.detail.prefix(60))]
        })
        let text = header + "\n" + table
        // Move up over the previous drawing and clear it, then draw again.
        var output = drawnLines > 0 ? "\u{1B}[\(drawnLines)F\u{1B}[J" : ""
        output += text + "\n"
        drawnLines = text.split(separator: "\n", omittingEmptySubsequences: false).count
        StandardStreams.output(output)
    }

    func summary(_ execution: ExecutionRecord, steps: [StepRecord]) {
        if !live {
            print("")
            print(Formatting.table(["STEP", "TYPE", "STATUS", "ELAPSED"], steps.map { step in
                [step.name, step.type, step.status.rawValue, Formatting.duration(from: step.startedAt, to: step.endedAt)]
            }))
        }
        for step in steps where step.status == .failed {
            printError("step \(step.name) failed: \(step.failureReason ?? "no reason recorded")")
        }
        if execution.status != .succeeded {
            printError("execution \(execution.id) \(execution.status.rawValue)" + (execution.failureReason.map { ": \($0)" } ?? ""))
        } else {
            print("execution \(execution.id) \(execution.status.rawValue) in \(Formatting.duration(from: execution.startedAt, to: execution.endedAt))")
        }
    }
}
