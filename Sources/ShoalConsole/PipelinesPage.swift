import Foundation
import ShoalDefinition
import ShoalStore

/// Registered pipelines, their versions, and the difference between two versions by JSON path.
struct PipelinesPage {
    let home: ShoalHome

    func list() throws -> String {
        let rows = try home.metadata.pipelines().map { pipeline in
            let versions = (try? home.metadata.pipelineVersions(pipeline.name)) ?? []
            let link = "/console/pipelines/\(HTML.component(pipeline.name))"
            return """
                <tr><td><a href="\(link)">\(HTML.escape(pipeline.name))</a></td><td class="num">\(versions.count)</td>
                <td>\(HTML.time(versions.last?.createdAt))</td><td class="muted">\(HTML.escape(pipeline.description ?? ""))</td>
                <td><a href="/console/executions?pipeline=\(HTML.component(pipeline.name))">executions</a></td></tr>
                """
        }
        let table = ConsolePage.table(["Pipeline", "Versions", "Latest (UTC)", "Description", ""], rows, id: "pipelines",
                                      empty: "no pipeline registered (shoal pipelines register, or pipeline.upsert() through the endpoint)")
        return ConsolePage.render(title: "Pipelines", section: .pipelines, body: "<h1>Pipelines</h1>" + table)
    }

    func render(name: String, query: [String: String]) throws -> String {
        let versions: [PipelineVersionRecord]
        do { versions = try home.metadata.pipelineVersions(name) } catch { throw ConsoleError.notFound("\(error)") }
        guard !versions.isEmpty else { throw ConsoleError.notFound("no pipeline '\(name)' is registered") }
        let latest = versions.map(\.version).max() ?? 1
        let from = query["from"].flatMap(Int.init) ?? max(1, latest - 1)
        let to = query["to"].flatMap(Int.init) ?? latest
        let rows = versions.sorted { $0.version > $1.version }.map { version in
            """
            <tr><td class="num">v\(version.version)</td><td>\(HTML.time(version.createdAt))</td><td>\(HTML.escape(version.author))</td>
            <td><code>\(HTML.escape(String(version.digest.prefix(12))))</code></td></tr>
            """
        }
        var body = "<h1>\(HTML.escape(name))</h1>" + ConsolePage.table(["Version", "Registered (UTC)", "By", "Digest"], rows, id: "versions")
        let options = { (chosen: Int) in
            versions.map { "<option value=\"\($0.version)\"\($0.version == chosen ? " selected" : "")>v\($0.version)</option>" }.joined()
        }
        body += """
            <h2>Difference</h2><form class="bar" method="get"><select name="from">\(options(from))</select> →
            <select name="to">\(options(to))</select><button type="submit">Compare</button></form>
            """
        guard let old = versions.first(where: { $0.version == from }), let new = versions.first(where: { $0.version == to }) else {
            throw ConsoleError.invalid("pipeline '\(name)' has no version \(from) or \(to)")
        }
        let changes: [JSONDiff.Change]
        do {
            changes = JSONDiff.changes(from: try JSONParser.parse(old.definition), to: try JSONParser.parse(new.definition))
        } catch {
            throw ConsoleError.invalid("a stored definition of '\(name)' is not JSON: \(error)")
        }
        let diffRows = changes.prefix(2000).map { change -> String in
            switch change {
            case let .added(path, value):
                "<tr class=\"diff-added\"><td>added</td><td><code>\(HTML.escape(path))</code></td><td></td><td><code>\(HTML.escape(JSONWriter.string(value)))</code></td></tr>"
            case let .removed(path, value):
                "<tr class=\"diff-removed\"><td>removed</td><td><code>\(HTML.escape(path))</code></td><td><code>\(HTML.escape(JSONWriter.string(value)))</code></td><td></td></tr>"
            case let .changed(path, before, after):
                "<tr class=\"diff-changed\"><td>changed</td><td><code>\(HTML.escape(path))</code></td><td><code>\(HTML.escape(JSONWriter.string(before)))</code></td><td><code>\(HTML.escape(JSONWriter.string(after)))</code></td></tr>"
            }
        }
        body += ConsolePage.table(["", "JSON path", "v\(from)", "v\(to)"], diffRows, id: "diff", empty: "v\(from) and v\(to) are the same")
        return ConsolePage.render(title: name, section: .pipelines, body: body)
    }
}
