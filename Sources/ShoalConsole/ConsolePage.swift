import ShoalEngine
import ShoalStore

/// The frame every console page shares: the navigation, the stylesheet and,
/// where a page updates live, the console's script.
enum ConsolePage {
    enum Section: String, CaseIterable {
        case executions = "Executions", pipelines = "Pipelines", experiments = "Experiments", cost = "Cost", cluster = "Cluster"
        var path: String { "/console/" + rawValue.lowercased() }
    }

    static func render(title: String, section: Section?, body: String, scripts: [String] = []) -> String {
        let navigation = Section.allCases.map { item in
            "<a href=\"\(item.path)\"\(item == section ? " class=\"here\"" : "")>\(item.rawValue)</a>"
        }.joined()
        // Deferred: they run once the page is parsed, before DOMContentLoaded, which inline chart code waits for.
        let tags = scripts.map { "<script defer src=\"\($0)\"></script>" }.joined()
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(HTML.escape(title)) · Shoal</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/console/static/console.css">\(tags)</head>
            <body><header><a class="brand" href="/console/">Shoal</a><nav>\(navigation)</nav></header>
            <main>\(body)</main></body></html>
            """
    }

    static func table(_ headings: [String], _ rows: [String], id: String? = nil, empty: String = "nothing yet") -> String {
        let head = headings.map { "<th>\($0)</th>" }.joined()
        let body = rows.isEmpty ? "<tr><td colspan=\"\(headings.count)\" class=\"empty\">\(HTML.escape(empty))</td></tr>" : rows.joined()
        return "<div class=\"scroll\"><table\(id.map { " id=\"\($0)\"" } ?? "")><thead><tr>\(head)</tr></thead><tbody>\(body)</tbody></table></div>"
    }

    /// Stop for a running execution, Retry for a failed or stopped one (a top-level one): forms
    /// that post the CSRF token. `marked` gives the button an id (one per page).
    static func actions(for execution: ExecutionRecord, csrf: String, marked: Bool = false) -> String {
        // A map's child is its parent's to stop or retry.
        guard execution.parentExecutionId == nil else { return "" }
        let action: (path: String, label: String, style: String)? = switch execution.status {
        case .executing: ("stop", "Stop", " class=\"danger\"")
        case .failed, .stopped: ("retry", "Retry", "")
        default: nil
        }
        guard let action else { return "" }
        return "<form method=\"post\" action=\"/console/executions/\(HTML.component(execution.id))/\(action.path)\">"
            + "<input type=\"hidden\" name=\"csrf\" value=\"\(csrf)\"><button\(action.style)\(marked ? " id=\"\(action.path)\"" : "")>\(action.label)</button></form>"
    }

    /// A Chart.js chart: `data` is the page's JSON (names become `data` inside
    /// `config`, a JavaScript expression); the chart is `window.shoalChart` for tests.
    static func chart(id: String, data: String, config: String) -> String {
        """
        <div class="chart"><canvas id="\(id)" height="110"></canvas></div>
        <script type="application/json" id="\(id)-data">\(data)</script>
        <script>
        document.addEventListener("DOMContentLoaded", function () {
          const data = JSON.parse(document.getElementById("\(id)-data").textContent);
          window.shoalChart = new Chart(document.getElementById("\(id)"), \(config));
        });
        </script>
        """
    }

    /// The stylesheet: step colours are GraphLayout's, so the CLI's drawing and the console agree.
    static let stylesheet: String = {
        let fills = GraphLayout.colours.map { status, colour in
            """
            g.node[data-status="\(status.rawValue)"] > polygon, g.node[data-status="\(status.rawValue)"] > path, g.node[data-status="\(status.rawValue)"] > ellipse { fill: \(colour); }
            .s-\(status.rawValue) { background: \(colour); }
            """
        }.joined(separator: "\n")
        return """
            :root { --ink: #1d2430; --muted: #6b7480; --line: #dde2ea; --accent: #2f6fdf; --bg: #f7f8fb; }
            * { box-sizing: border-box; }
            body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink); background: var(--bg); }
            header { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: #14233c; color: #fff; }
            header a { color: #c9d6ee; text-decoration: none; padding: 4px 8px; border-radius: 4px; }
            header a.here, header a:hover { color: #fff; background: rgba(255,255,255,.12); }
            .brand { font-weight: 700; font-size: 16px; color: #fff; letter-spacing: .5px; }
            nav { display: flex; gap: 4px; }
            main { padding: 20px 24px; max-width: 1400px; }
            h1 { font-size: 20px; margin: 0 0 12px; } h2 { font-size: 16px; margin: 22px 0 8px; }
            a { color: var(--accent); }
            table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
            th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
            th { background: #eef1f6; font-weight: 600; font-size: 12px; text-transform: uppercase; letter-spacing: .3px; color: #4a5260; }
            th a { color: inherit; }
            td.num { text-align: right; font-variant-numeric: tabular-nums; }
            td.empty { color: var(--muted); text-align: center; }
            .pill { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; border: 1px solid rgba(0,0,0,.12); background: #fff; }
            .s-Completed { background: \(GraphLayout.colours[.succeeded]!); } .s-InProgress { background: \(GraphLayout.colours[.executing]!); }
            .s-Lost, .s-Interrupted { background: #ffe2b8; } .s-Stopping { background: #e2e2e2; }
            \(fills)
            .muted { color: var(--muted); }
            .bar { display: flex; gap: 10px; align-items: center; margin: 0 0 14px; flex-wrap: wrap; }
            .bar form { display: inline; }
            input, select, button { font: inherit; padding: 4px 8px; border: 1px solid var(--line); border-radius: 4px; background: #fff; }
            button { cursor: pointer; background: var(--accent); color: #fff; border-color: var(--accent); }
            button.danger { background: #c8332b; border-color: #c8332b; }
            .graph { background: #fff; border: 1px solid var(--line); padding: 8px; overflow: auto; max-height: 70vh; }
            .graph svg { max-width: 100%; height: auto; }
            .graph g.node { cursor: pointer; }
            .scroll { overflow-x: auto; }
            .panel { margin-top: 18px; padding-top: 4px; border-top: 3px solid var(--line); }
            tr.chosen td { background: #f1f6ff; }
            td { white-space: nowrap; } td.muted, td code { white-space: normal; }
            pre { background: #101722; color: #d8e0ec; padding: 10px; overflow: auto; max-height: 420px; font-size: 12px; }
            .kv { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; }
            .kv dt { color: var(--muted); } .kv dd { margin: 0; word-break: break-all; }
            .card { background: #fff; border: 1px solid var(--line); padding: 12px; }
            .chart { background: #fff; border: 1px solid var(--line); padding: 12px; max-width: 980px; }
            .stream { background: #fff; border: 1px solid var(--line); overflow-x: auto; }
            .stream rect.task { stroke: rgba(0,0,0,.25); }
            .diff-removed { background: #ffe7e7; } .diff-added { background: #e6f7e8; } .diff-changed { background: #fff6d6; }
            """
    }()
}
