import Foundation
import ShoalStore

/// Experiments, and one experiment's trials as a table sortable by any metric
/// with a chart of a chosen metric across trials.
struct ExperimentsPage {
    let home: ShoalHome

    func list() throws -> String {
        let rows = try home.metadata.experiments().map { experiment in
            """
            <tr><td><a href="/console/experiments/\(HTML.component(experiment.name))">\(HTML.escape(experiment.name))</a></td>
            <td class="num">\(experiment.trials)</td><td>\(HTML.time(experiment.lastStarted))</td></tr>
            """
        }
        let table = ConsolePage.table(["Experiment", "Trials", "Last started (UTC)"], rows, id: "experiments",
                                      empty: "no experiment yet (a pipeline's executions are trials of the experiment its PipelineExperimentConfig names)")
        return ConsolePage.render(title: "Experiments", section: .experiments, body: "<h1>Experiments</h1>" + table)
    }

    func render(name: String, query: [String: String]) throws -> String {
        let trials = try home.metadata.trials(ofExperiment: name, limit: 2000)
        guard !trials.isEmpty else { throw ConsoleError.notFound("no experiment '\(name)' in this home") }
        let metrics = Set(trials.flatMap(\.metrics.keys)).sorted()
        let sort = query["sort"].flatMap { metrics.contains($0) ? $0 : nil }
        let descending = query["order"] == "desc"
        let chartMetric = query["metric"].flatMap { metrics.contains($0) ? $0 : nil } ?? sort ?? metrics.first

        var ordered = trials
        if let sort {
            // Trials without the metric go last whichever way the column is sorted.
            ordered.sort { a, b in
                switch (a.metrics[sort], b.metrics[sort]) {
                case let (x?, y?): descending ? x > y : x < y
                case (.some, nil): true
                default: false
                }
            }
        }
        let base = "/console/experiments/\(HTML.component(name))"
        let headings = ["Trial", "Execution", "Status", "Started (UTC)"] + metrics.map { metric in
            let order = sort == metric && !descending ? "desc" : "asc"
            let arrow = sort == metric ? (descending ? " ▼" : " ▲") : ""
            return "<a href=\"\(base)?sort=\(HTML.component(metric))&order=\(order)\">\(HTML.escape(metric))\(arrow)</a>"
        }
        let rows = ordered.map { trial in
            let cells = metrics.map { "<td class=\"num\">\(trial.metrics[$0].map { String(format: "%.6g", $0) } ?? "–")</td>" }.joined()
            return """
                <tr><td>\(HTML.escape(trial.execution.trialName ?? trial.execution.id))</td>
                <td><a href="/console/executions/\(HTML.component(trial.execution.id))">\(HTML.escape(trial.execution.id))</a></td>
                <td>\(HTML.status(trial.execution.status.rawValue))</td><td>\(HTML.time(trial.execution.startedAt))</td>\(cells)</tr>
                """
        }
        var body = "<h1>Experiment \(HTML.escape(name))</h1>"
        if let chartMetric {
            // Oldest first along the axis: a metric's trend over the trials.
            let points = trials.reversed().compactMap { trial in trial.metrics[chartMetric].map { (trial.execution.trialName ?? trial.execution.id, $0) } }
            let options = metrics.map { "<option\($0 == chartMetric ? " selected" : "")>\(HTML.escape($0))</option>" }.joined()
            let data = JSONText.object(["labels": points.map(\.0), "values": points.map(\.1), "metric": chartMetric])
            body += """
                <form class="bar" method="get"><label>Chart <select name="metric" onchange="this.form.submit()">\(options)</select></label>
                \(sort.map { "<input type=\"hidden\" name=\"sort\" value=\"\(HTML.escape($0))\">" } ?? "")</form>
                \(ConsolePage.chart(id: "metric-chart", data: data, config: """
                    { type: "line", data: { labels: data.labels, datasets: [{ label: data.metric, data: data.values, borderColor: "#2f6fdf", backgroundColor: "#2f6fdf", tension: 0.2 }] },
                      options: { animation: false, scales: { x: { title: { display: true, text: "trial" } } } } }
                    """))
                """
        }
        body += "<h2>Trials</h2>" + ConsolePage.table(headings, rows, id: "trials")
        if let trial = query["trial"] ?? trials.first?.execution.trialName {
            let components = try home.metadata.components(ofTrial: trial)
            let componentRows = components.map { entry in
                let component = entry.component
                let metricText = entry.metrics.map { "\($0.name)=\(String(format: "%.6g", $0.value))" }.joined(separator: " ")
                return """
                    <tr><td>\(HTML.escape(component.stepName))</td><td>algo-\(component.instance)</td><td>\(HTML.status(component.status.rawValue))</td>
                    <td><code>\(HTML.escape(String(component.inputs.prefix(300))))</code></td><td><code>\(HTML.escape(String(component.outputs.prefix(300))))</code></td>
                    <td class="muted">\(HTML.escape(metricText))</td></tr>
                    """
            }
            body += "<h2>Run components of trial \(HTML.escape(trial))</h2>"
                + ConsolePage.table(["Step", "Host", "Status", "Inputs (lineage)", "Outputs", "Metrics"], componentRows, id: "components")
        }
        return ConsolePage.render(title: "Experiment \(name)", section: .experiments, body: body, scripts: ["/console/static/chart.js"])
    }
}

/// JSON for a page's inline data: `</` is escaped so no value can end the script element.
enum JSONText {
    static func object(_ value: [String: Any]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "</", with: "<\\/")
    }
}
