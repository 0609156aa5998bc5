import Foundation
import ShoalStore

/// Executions, newest first, filtered by pipeline, status and tag.
struct ExecutionsPage {
    let home: ShoalHome
    let csrf: String
    static let limit = 200

    func render(query: [String: String]) throws -> String {
        var filter = ExecutionFilter()
        filter.pipeline = query["pipeline"].flatMap { $0.isEmpty ? nil : $0 }
        if let status = query["status"], !status.isEmpty {
            guard let known = ExecutionStatus(rawValue: status) else {
                throw ConsoleError.invalid("status '\(status)' is not one of \(ExecutionStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            filter.status = known
        }
        if let tag = query["tag"], !tag.isEmpty {
            let parts = tag.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ConsoleError.invalid("a tag filter is KEY=VALUE; got '\(tag)'") }
            filter.tag = (parts[0], parts[1])
        }
        filter.includeChildren = query["children"] == "on"
        let executions = try home.metadata.executions(matching: filter, limit: Self.limit)
        let pipelines = try home.metadata.pipelines().map(\.name)

        let pipelineOptions = ([""] + pipelines).map { name in
            "<option value=\"\(HTML.escape(name))\"\(name == (filter.pipeline ?? "") ? " selected" : "")>\(name.isEmpty ? "any pipeline" : HTML.escape(name))</option>"
        }.joined()
        let statusOptions = ([""] + ExecutionStatus.allCases.map(\.rawValue)).map { status in
            "<option value=\"\(status)\"\(status == (filter.status?.rawValue ?? "") ? " selected" : "")>\(status.isEmpty ? "any status" : status)</option>"
        }.joined()
        let filters = """
            <form class="bar" method="get" action="/console/executions">
            <select name="pipeline">\(pipelineOptions)</select><select name="status">\(statusOptions)</select>
            <input name="tag" placeholder="tag KEY=VALUE" value="\(HTML.escape(query["tag"] ?? ""))">
            <label><input type="checkbox" name="children"\(filter.includeChildren ? " checked" : "")> map children</label>
            <button type="submit">Filter</button></form>
            """
        let now = Date()
        let rows = executions.map { execution in
            let link = "/console/executions/\(HTML.component(execution.id))"
            let version = execution.pipelineVersion.map { "v\($0)" } ?? "–"
            let tags = (try? JSONSerialization.jsonObject(with: Data(execution.tags.utf8)) as? [String: String]) ?? [:]
            let tagText = tags.keys.sorted().map { "\($0)=\(tags[$0] ?? "")" }.joined(separator: " ")
            return """
                <tr data-execution="\(HTML.escape(execution.id))"><td><a href="\(link)">\(HTML.escape(execution.id))</a></td>
                <td>\(HTML.escape(execution.pipelineName))</td><td>\(version)</td><td>\(HTML.status(execution.status.rawValue))</td>
                <td>\(HTML.time(execution.startedAt))</td><td class="num">\(HTML.duration(from: execution.startedAt, to: execution.endedAt, now: now))</td>
                <td class="muted">\(HTML.escape(tagText))</td><td class="muted">\(HTML.escape(String((execution.failureReason ?? "").prefix(160))))</td>
                <td>\(ConsolePage.actions(for: execution, csrf: csrf))</td></tr>
                """
        }
        let table = ConsolePage.table(["Execution", "Pipeline", "Version", "Status", "Started (UTC)", "Duration", "Tags", "Reason", ""], rows,
                                      id: "executions", empty: "no execution matches")
        let more = executions.count == Self.limit ? "<p class=\"muted\">The newest \(Self.limit) shown; filter to see others.</p>" : ""
        return ConsolePage.render(title: "Executions", section: .executions, body: "<h1>Executions</h1>" + filters + table + more)
    }
}
