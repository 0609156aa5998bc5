import Foundation
import ShoalDefinition
import ShoalRuntime
import ShoalStore

/// A pipeline graph laid out as SVG by Graphviz's `dot`, for `shoal graph
/// --format svg` and the console. Each step's group in the SVG has the id
/// `stepN` (N its index in the graph), so a page can find and recolour it.
public enum GraphLayout {
    public struct Failed: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Fill colours by status: the CLI writes them into the drawing; the
    /// console's stylesheet uses the same ones.
    public static let colours: [StepStatus: String] = [
        .pending: "#ffffff", .executing: "#cfe3ff", .succeeded: "#c9f0cf", .failed: "#ffc9c9", .stopped: "#e2e2e2", .notRun: "#f4f4f4",
    ]

    /// Bounds: a layout that takes longer is stopped; an SVG larger is refused.
    static let timeoutSeconds = 30.0
    static let maxSVGBytes = 64 << 20

    /// The SVG of `graph`; steps named in `statuses` are filled with their status's colour.
    public static func svg(_ graph: PipelineGraph, title: String, statuses: [String: StepStatus] = [:]) throws(Failed) -> String {
        let preamble = ["  bgcolor=\"transparent\";", "  node [style=\"rounded,filled\", fillcolor=\"#ffffff\", fontname=\"Helvetica\", fontsize=11];",
                        "  edge [fontname=\"Helvetica\", fontsize=10];"]
        let text = GraphRenderer.dot(graph, title: title, preamble: preamble) { index, node in
            let style = node.typeName == "Condition" || node.typeName == "Fail" ? ", style=filled" : ""
            let fill = statuses[node.name].flatMap { colours[$0] }.map { ", fillcolor=\"\($0)\"" } ?? ""
            // A map step's third line is where the console writes its item counts.
            return (isMap(node) ? " " : nil, ", id=\"step\(index)\"\(style)\(fill)")
        }
        return try run(dot: text)
    }

    public static func isMap(_ node: PipelineGraph.Node) -> Bool { node.typeName.hasSuffix("Map") }

    /// Runs `dot -Tsvg` on the text, through files: the layout of a large graph
    /// is megabytes, and a pipe would need a reader thread.
    static func run(dot text: String) throws(Failed) -> String {
        guard let dot = SandboxMode.executablePath("dot") else {
            throw Failed(description: "Graphviz's dot is not installed (Debian: apt-get install graphviz)")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-graph-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = folder.appendingPathComponent("graph.dot"), output = folder.appendingPathComponent("graph.svg")
        let messages = folder.appendingPathComponent("dot.log")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: input)
        } catch {
            throw Failed(description: "cannot write the graph for dot in \(folder.path): \(error)")
        }
        let process: ChildProcess
        do {
            process = try ChildProcess(arguments: [dot, "-Tsvg", "-o", output.path, input.path], environment: ["PATH": "/usr/bin:/bin"],
                                       directory: folder.path, outputFile: messages.path)
        } catch {
            throw Failed(description: "\(error)")
        }
        guard let exit = process.finish(within: timeoutSeconds) else {
            throw Failed(description: "dot did not lay the graph out within \(Int(timeoutSeconds)) s")
        }
        guard exit.code == 0 else {
            let said = (try? String(contentsOf: messages, encoding: .utf8))?.suffix(500) ?? ""
            throw Failed(description: "dot failed (\(exit.code.map { "exit code \($0)" } ?? "signal \(exit.signal ?? 0)")): \(said)")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: output.path)[.size] as? Int) ?? 0
        guard size <= maxSVGBytes, let svg = try? String(contentsOf: output, encoding: .utf8) else {
            throw Failed(description: "dot's drawing could not be read (\(size) bytes)")
        }
        // The XML prologue and doctype would be invalid inside an HTML page.
        guard let start = svg.range(of: "<svg") else { throw Failed(description: "dot wrote no <svg> element") }
        return String(svg[start.lowerBound...])
    }
}
