import Foundation
import ShoalDefinition
import ShoalEngine
import ShoalStore

/// One execution: its graph coloured by status (kept current by the event
/// stream), its steps, and a panel for the chosen step with its instances and log.
struct ExecutionPage {
    let home: ShoalHome
    let layouts: LayoutCache
    let csrf: String

    func render(id: String, query: [String: String]) throws -> String {
        guard let execution = try home.metadata.execution(id: id) else { throw ConsoleError.notFound("no execution '\(id)' in this home") }
        let check = DefinitionCheck.check(data: Data(execution.definition.utf8))
        let graph = check.graph
        let steps = try home.metadata.steps(executionId: id)
        let snapshot = ExecutionSnapshot(execution: execution, steps: steps, graph: graph)

        var drawing = "<p class=\"muted\">The definition has no graph to draw.</p>"
        if let graph {
            do {
                let svg = try layouts.svg(definition: execution.definition, graph: graph)
                drawing = LayoutCache.marked(svg, statuses: Dictionary(uniqueKeysWithValues: snapshot.steps.map { ($0.index, $0.status) }))
            } catch {
                drawing = "<p class=\"muted\">The graph cannot be drawn: \(HTML.escape("\(error)"))</p>"
            }
        }
        let base = "/console/executions/\(HTML.component(id))"
        let chosen = query["step"]
        let records = Dictionary(steps.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let rows = snapshot.steps.map { step in
            let record = records[step.name]
            let note = [record?.note, record?.retryNote, record?.failureReason].compactMap { $0 }.joined(separator: " · ")
            return """
                <tr id="row-\(step.index)"\(step.name == chosen ? " class=\"chosen\"" : "")><td><a href="\(base)?step=\(HTML.component(step.name))">\(HTML.escape(step.name))</a></td>
                <td>\(HTML.escape(record?.type ?? graph?.nodes[step.index].typeName ?? ""))</td><td class="status">\(HTML.status(step.status))</td>
                <td class="progress">\(HTML.escape(step.progress ?? ""))</td><td class="num">\(HTML.duration(from: step.started, to: step.ended))</td>
                <td class="num">\(record?.attempts ?? 0)</td><td class="muted">\(HTML.escape(String(note.prefix(240))))</td></tr>
                """
        }
        let stepTable = ConsolePage.table(["Step", "Type", "Status", "Items", "Duration", "Attempts", "Note"], rows, id: "steps")
        let panel = try chosen.map { try stepPanel(execution: execution, name: $0, steps: steps) } ?? "<p class=\"muted\">Choose a step in the graph or the table.</p>"

        let body = """
            <h1>Execution \(HTML.escape(id))</h1>
            \(summary(execution))
            <div class="graph" id="graph" data-events="\(base)/events" data-final="\(snapshot.isFinal)">\(drawing)</div>
            <h2>Steps</h2>\(stepTable)<div id="panel" class="panel">\(panel)</div>
            \(initialProgress(snapshot))
            """
        return ConsolePage.render(title: "Execution \(id)", section: .executions, body: body, scripts: ["/console/static/console.js"])
    }

    private func summary(_ execution: ExecutionRecord) -> String {
        var facts: [(String, String)] = [
            ("Status", "<span id=\"execution-status\">\(HTML.status(execution.status.rawValue))</span>"),
            ("Pipeline", "<a href=\"/console/executions?pipeline=\(HTML.component(execution.pipelineName))\">\(HTML.escape(execution.pipelineName))</a>"
                + (execution.pipelineVersion.map { " v\($0)" } ?? "")),
            ("Started (UTC)", HTML.time(execution.startedAt)),
            ("Duration", HTML.duration(from: execution.startedAt, to: execution.endedAt)),
        ]
        if let parent = execution.parentExecutionId {
            facts.append(("Map parent", "<a href=\"/console/executions/\(HTML.component(parent))\">\(HTML.escape(parent))</a>"))
        }
        if let experiment = execution.experimentName {
            facts.append(("Experiment", "<a href=\"/console/experiments/\(HTML.component(experiment))\">\(HTML.escape(experiment))</a> · trial \(HTML.escape(execution.trialName ?? ""))"))
        }
        if execution.parameters != "{}" && !execution.parameters.isEmpty { facts.append(("Parameters", "<code>\(HTML.escape(execution.parameters))</code>")) }
        if execution.tags != "{}" { facts.append(("Tags", "<code>\(HTML.escape(execution.tags))</code>")) }
        facts.append(("Failure", "<span id=\"execution-reason\">\(HTML.escape(execution.failureReason ?? ""))</span>"))
        let buttons = ConsolePage.actions(for: execution, csrf: csrf, marked: true)
        let list = facts.map { "<dt>\($0.0)</dt><dd>\($0.1)</dd>" }.joined()
        return "<div class=\"bar\">\(buttons)</div><dl class=\"kv card\">\(list)</dl><h2>Graph</h2>"
    }

    /// Map steps' counts go into the third line of their node, here and as events arrive.
    private func initialProgress(_ snapshot: ExecutionSnapshot) -> String {
        let entries = snapshot.steps.compactMap { step in step.progress.map { "\"\(step.index)\":\"\($0)\"" } }
        return "<script>window.shoalProgress={\(entries.joined(separator: ","))};</script>"
    }

    // MARK: Step panel

    private func stepPanel(execution: ExecutionRecord, name: String, steps: [StepRecord]) throws -> String {
        guard let record = steps.first(where: { $0.name == name }) else { throw ConsoleError.notFound("execution \(execution.id) has no step '\(name)'") }
        var html = "<h2>\(HTML.escape(name)) <span class=\"muted\">\(HTML.escape(record.type))</span> \(HTML.status(record.status.rawValue))</h2>"
        var facts: [(String, String)] = [
            ("Started (UTC)", HTML.time(record.startedAt)), ("Duration", HTML.duration(from: record.startedAt, to: record.endedAt)), ("Attempts", "\(record.attempts)"),
        ]
        if let reason = record.failureReason { facts.append(("Failure", HTML.escape(reason))) }
        if let note = record.note { facts.append(("Note", HTML.escape(note))) }
        if let source = record.cacheSourceExecutionId {
            facts.append(("Cached from", "<a href=\"/console/executions/\(HTML.component(source))\">\(HTML.escape(source))</a>"))
        }
        html += "<dl class=\"kv card\">" + facts.map { "<dt>\($0.0)</dt><dd>\($0.1)</dd>" }.joined() + "</dl>"

        let instances = try home.metadata.instances(executionId: execution.id, stepName: name)
        if !instances.isEmpty {
            let base = "/console/executions/\(HTML.component(execution.id))"
            let rows = instances.map { instance in
                let log = "\(base)/log?step=\(HTML.component(name))&instance=\(instance.instance)&attempt=\(instance.attempt)"
                return """
                    <tr><td>algo-\(instance.instance)</td><td class="num">\(instance.attempt)</td><td>\(HTML.escape(instance.worker ?? "–"))</td>
                    <td>\(HTML.status(instance.status.rawValue))</td><td>\(HTML.time(instance.startedAt))</td><td class="num">\(HTML.duration(from: instance.startedAt, to: instance.endedAt))</td>
                    <td class="num">\(instance.cpuSeconds.map { String(format: "%.2f", $0) } ?? "–")</td><td class="num">\(HTML.bytes(instance.peakRSSBytes))</td>
                    <td class="num">\(HTML.bytes(instance.bytesIn))</td><td class="num">\(HTML.bytes(instance.bytesOut))</td>
                    <td><a href="#log" data-log="\(log)" data-running="\(instance.status == .inProgress)">log</a></td></tr>
                    """
            }
            html += "<h2>Instances</h2>" + ConsolePage.table(["Host", "Attempt", "Worker", "Status", "Started", "Duration", "CPU s", "Peak memory", "In", "Out", ""], rows, id: "instances")
            let last = instances.last!
            let first = "\(base)/log?step=\(HTML.component(name))&instance=\(last.instance)&attempt=\(last.attempt)"
            html += "<h2>Log</h2><pre id=\"log\" data-log=\"\(first)\" data-running=\"\(last.status == .inProgress)\"></pre>"
        }
        if record.itemsTotal != nil {
            let children = try home.metadata.executions(parent: execution.id, limit: 1000)
            let rows = children.map { child in
                "<tr><td><a href=\"/console/executions/\(HTML.component(child.id))\">\(HTML.escape(child.id))</a></td><td>\(HTML.status(child.status.rawValue))</td><td class=\"num\">\(HTML.duration(from: child.startedAt, to: child.endedAt))</td></tr>"
            }
            html += "<h2>Children</h2>" + ConsolePage.table(["Execution", "Status", "Duration"], rows, id: "children", empty: "no child pipelines (a function map runs its items in batches)")
        }
        // What the step ran with, resolved: its run component records the arguments that matter.
        if let component = try home.metadata.components(matching: .init(step: (execution.id, name)), offset: 0, limit: 1).components.first?.component,
           component.parameters != "{}" {
            html += "<h2>Resolved arguments</h2><pre class=\"json\" id=\"resolved\">\(HTML.escape(pretty(component.parameters)))</pre>"
        }
        html += propertyFiles(of: name, in: execution, properties: record.properties)
        if let properties = record.properties {
            html += "<h2>Properties</h2><pre class=\"json\">\(HTML.escape(pretty(properties)))</pre>"
        }
        if let arguments = Self.definedStep(named: name, in: execution.definition) {
            html += "<h2>Definition</h2><p class=\"muted\">As the pipeline defines it; parameter values are in the summary above.</p><pre class=\"json\">\(HTML.escape(arguments))</pre>"
        }
        return html
    }

    /// The step's property files as it wrote them (each read from the store, up to 64 KiB).
    private func propertyFiles(of name: String, in execution: ExecutionRecord, properties: String?) -> String {
        guard let properties, let stepProperties = try? JSONParser.parse(properties),
              let text = Self.definedStep(named: name, in: execution.definition),
              let step = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
              let files = step["PropertyFiles"] as? [[String: Any]], !files.isEmpty
        else { return "" }
        var html = "<h2>Property files</h2>"
        for file in files.prefix(20) {
            let label = file["PropertyFileName"] as? String ?? "?"
            guard let output = file["OutputName"] as? String, let path = file["FilePath"] as? String,
                  let uri = PropertyFileLocation.uri(output: output, path: path, in: stepProperties)
            else { continue }
            let body: String
            do {
                let data = try home.objects.read(try S3URI(uri), maxBytes: 64 << 10)
                body = pretty(String(decoding: data, as: UTF8.self))
            } catch {
                body = "(cannot be read: \(error))"
            }
            html += "<p><b>\(HTML.escape(label))</b> <code>\(HTML.escape(uri))</code></p><pre class=\"json\" data-property-file=\"\(HTML.escape(label))\">\(HTML.escape(body))</pre>"
        }
        return html
    }

    private func pretty(_ json: String) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed]),
              let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .fragmentsAllowed])
        else { return json }
        return String(decoding: data, as: UTF8.self)
    }

    /// The step's object in the definition, wherever it sits (a condition's branches hold steps too).
    static func definedStep(named name: String, in definition: String) -> String? {
        guard let root = try? JSONSerialization.jsonObject(with: Data(definition.utf8)) else { return nil }
        func find(_ value: Any) -> [String: Any]? {
            if let object = value as? [String: Any] {
                if object["Name"] as? String == name, object["Type"] is String { return object }
                for child in object.values { if let found = find(child) { return found } }
            } else if let list = value as? [Any] {
                for child in list { if let found = find(child) { return found } }
            }
            return nil
        }
        guard var step = find(root) else { return nil }
        // A condition's branches are steps of their own, with panels of their own.
        if step["Type"] as? String == "Condition", var arguments = step["Arguments"] as? [String: Any] {
            for key in ["IfSteps", "ElseSteps"] { arguments[key] = (arguments[key] as? [[String: Any]])?.compactMap { $0["Name"] } }
            step["Arguments"] = arguments
        }
        guard let data = try? JSONSerialization.data(withJSONObject: step, options: [.prettyPrinted, .sortedKeys]) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    // MARK: Log

    /// Up to 256 KiB of an instance's log from `offset`, and where the next piece
    /// starts; the script asks again from there while the instance runs.
    func log(id: String, query: [String: String]) throws -> (Data, Int) {
        guard let step = query["step"], let instance = query["instance"].flatMap(Int.init), let attempt = query["attempt"].flatMap(Int.init) else {
            throw ConsoleError.invalid("a log is asked for with step, instance and attempt")
        }
        guard !step.contains("/"), step != "..", step != "." else { throw ConsoleError.invalid("'\(step)' is not a step name") }
        guard try home.metadata.execution(id: id) != nil else { throw ConsoleError.notFound("no execution '\(id)' in this home") }
        let file = home.logFile(execution: id, step: step, instance: instance, attempt: attempt)
        let offset = max(0, query["offset"].flatMap(Int.init) ?? 0)
        guard let handle = try? FileHandle(forReadingFrom: file) else { return (Data(), offset) }
        defer { try? handle.close() }
        try? handle.seek(toOffset: UInt64(offset))
        var data = (try? handle.read(upToCount: 256 << 10)) ?? Data()
        // A piece ends on a whole character, so the page never shows half of one.
        var lead = data.count - 1
        while lead >= 0, lead > data.count - 4, data[data.startIndex + lead] & 0xC0 == 0x80 { lead -= 1 }
        if lead >= 0 {
            let byte = data[data.startIndex + lead]
            let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
            if data.count - lead < length { data.removeLast(data.count - lead) }
        }
        return (data, offset + data.count)
    }
}
