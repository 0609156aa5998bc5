import Foundation
import ShoalCluster
import ShoalStore

/// The workers (slots, labels, load, liveness) and the task stream: one lane
/// per worker slot, one bar per instance over the last minutes, coloured by step.
struct ClusterPage {
    let home: ShoalHome
    static let maxBars = 5000

    static func workers(_ coordinator: CoordinatorClientPool) throws -> [ApiMessage.WorkerStatus] {
        guard case let .workers(workers) = try coordinator.request(.clusterStatus) else { return [] }
        return workers
    }

    func render(workers: [ApiMessage.WorkerStatus]?, query: [String: String], now: Date = Date()) throws -> String {
        let minutes = min(max(query["minutes"].flatMap(Int.init) ?? 15, 1), 24 * 60)
        var body = "<h1>Cluster</h1>"
        if let workers {
            let rows = workers.sorted { $0.id < $1.id }.map { worker in
                let labels = worker.labels.keys.sorted().map { "\($0)=\(worker.labels[$0]!.joined(separator: ","))" }.joined(separator: " ")
                let silent = now.timeIntervalSince(worker.lastHeartbeat)
                return """
                    <tr><td>\(HTML.escape(worker.id))</td><td>\(HTML.escape(worker.host))</td><td class="num">\(worker.slots)</td>
                    <td class="num">\(worker.busy)</td><td class="num">\(worker.slots - worker.busy)</td><td class="muted">\(HTML.escape(labels))</td>
                    <td>\(silent < 10 ? "<span class=\"pill s-Succeeded\">alive</span>" : "<span class=\"pill s-Failed\">silent</span>") \(String(format: "%.1f s ago", max(0, silent)))</td>
                    <td class="muted">\(HTML.escape(worker.sandbox ?? ""))</td></tr>
                    """
            }
            body += ConsolePage.table(["Worker", "Host", "Slots", "Busy", "Free", "Labels", "Heartbeat", "Sandbox"], rows, id: "workers", empty: "no worker has joined")
        } else {
            body += "<p class=\"muted\">The coordinator did not answer; the task stream below is from the store.</p>"
        }
        let since = now.addingTimeInterval(-Double(minutes) * 60)
        let instances = try home.metadata.instances(activeSince: since, limit: Self.maxBars)
        body += """
            <h2>Task stream</h2><form class="bar" method="get"><label>Last <input name="minutes" type="number" min="1" max="1440" value="\(minutes)"> minutes</label>
            <button type="submit">Show</button></form>
            <div class="stream">\(TaskStream.svg(placed(instances, on: workers ?? []), from: since, to: now, slots: Dictionary((workers ?? []).map { ($0.id, $0.slots) }, uniquingKeysWith: max)))</div>
            """
        return ConsolePage.render(title: "Cluster", section: .cluster, body: body)
    }
}

extension ClusterPage {
    /// Running instances learn their worker from the coordinator (the store
    /// records it when they end).
    func placed(_ instances: [InstanceRecord], on workers: [ApiMessage.WorkerStatus]) -> [InstanceRecord] {
        var placement: [String: String] = [:]
        for worker in workers { for task in worker.running ?? [] { placement[task] = worker.id } }
        guard !placement.isEmpty else { return instances }
        return instances.map { instance in
            guard instance.worker == nil else { return instance }
            var instance = instance
            // Task ids are the runner's: algo-N for a job's hosts, batch-N for a map's batches.
            let task = "\(instance.executionId)/\(instance.stepName)/"
            instance.worker = placement[task + "algo-\(instance.instance)#\(instance.attempt)"] ?? placement[task + "batch-\(instance.instance)#\(instance.attempt)"]
            return instance
        }
    }
}

/// The task stream drawing, made on the server: one bar per instance.
enum TaskStream {
    static let palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]

    static func svg(_ instances: [InstanceRecord], from: Date, to: Date, slots: [String: Int]) -> String {
        // Lanes: each worker's instances go into the first of its lanes free at
        // their start, which is the slot they must have had.
        var lanes: [String: [Date]] = [:]
        var placed: [(lane: String, slot: Int, instance: InstanceRecord)] = []
        for instance in instances {
            guard let start = instance.startedAt else { continue }
            let worker = instance.worker ?? "(unplaced)"
            let end = instance.endedAt ?? to
            var free = lanes[worker, default: []]
            let slot = free.firstIndex { $0 <= start } ?? free.count
            if slot == free.count { free.append(end) } else { free[slot] = end }
            lanes[worker] = free
            placed.append((worker, slot, instance))
        }
        for (worker, count) in slots where (lanes[worker]?.count ?? 0) < count {
            lanes[worker, default: []] += Array(repeating: from, count: count - (lanes[worker]?.count ?? 0))
        }
        let workers = lanes.keys.sorted()
        var laneIndex: [String: Int] = [:]
        var rows = 0
        for worker in workers {
            laneIndex[worker] = rows
            rows += lanes[worker]!.count
        }
        let (left, width, laneHeight) = (140.0, 1000.0, 18.0)
        let span = max(1, to.timeIntervalSince(from))
        let height = Double(rows) * laneHeight + 30
        var parts = ["<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"task-stream\" width=\"\(Int(left + width + 10))\" height=\"\(Int(height))\" font-family=\"Helvetica\" font-size=\"11\">"]
        for worker in workers {
            for slot in 0..<lanes[worker]!.count {
                let y = Double(laneIndex[worker]! + slot) * laneHeight
                parts.append("<text x=\"4\" y=\"\(y + 13)\">\(HTML.escape(String(worker.prefix(16)))) #\(slot + 1)</text>")
                parts.append("<line x1=\"\(left)\" x2=\"\(left + width)\" y1=\"\(y + laneHeight)\" y2=\"\(y + laneHeight)\" stroke=\"#eee\"/>")
            }
        }
        var colours: [String: String] = [:]
        for (worker, slot, instance) in placed {
            let start = max(instance.startedAt!, from), end = min(instance.endedAt ?? to, to)
            let x = left + start.timeIntervalSince(from) / span * width
            let w = max(2, end.timeIntervalSince(start) / span * width)
            let y = Double(laneIndex[worker]! + slot) * laneHeight + 2
            let colour = colours[instance.stepName] ?? palette[colours.count % palette.count]
            colours[instance.stepName] = colour
            let title = "\(instance.stepName) algo-\(instance.instance) attempt \(instance.attempt) · \(instance.status.rawValue) · \(HTML.duration(from: instance.startedAt, to: instance.endedAt)) · \(instance.executionId)"
            parts.append("<rect class=\"task\" data-worker=\"\(HTML.escape(worker))\" data-step=\"\(HTML.escape(instance.stepName))\" data-execution=\"\(HTML.escape(instance.executionId))\" x=\"\(String(format: "%.1f", x))\" y=\"\(y)\" width=\"\(String(format: "%.1f", w))\" height=\"\(laneHeight - 4)\" fill=\"\(colour)\"><title>\(HTML.escape(title))</title></rect>")
        }
        // The time axis: the window's start, middle and end.
        let axis = Double(rows) * laneHeight + 14
        for fraction in [0.0, 0.5, 1.0] {
            let date = from.addingTimeInterval(span * fraction)
            let anchor = fraction == 0 ? "start" : fraction == 1 ? "end" : "middle"
            parts.append("<text x=\"\(left + width * fraction)\" y=\"\(axis)\" text-anchor=\"\(anchor)\" fill=\"#6b7480\">\(HTML.time(date).suffix(8))</text>")
        }
        let legend = colours.keys.sorted().enumerated().map { offset, step in
            "<rect x=\"\(left + Double(offset % 6) * 160)\" y=\"\(axis + 6 + Double(offset / 6) * 14)\" width=\"10\" height=\"10\" fill=\"\(colours[step]!)\"/><text x=\"\(left + Double(offset % 6) * 160 + 14)\" y=\"\(axis + 15 + Double(offset / 6) * 14)\">\(HTML.escape(String(step.prefix(22))))</text>"
        }
        parts += legend
        let total = axis + 20 + Double((colours.count + 5) / 6) * 14
        parts[0] = parts[0].replacingOccurrences(of: "height=\"\(Int(height))\"", with: "height=\"\(Int(total))\"")
        parts.append("</svg>")
        return parts.joined()
    }
}
