import Foundation
import ShoalDefinition
import ShoalStore

/// How an execution is asked for, resolved the same way for `shoal run`, a
/// coordinator's clients and (next) the HTTP API: a definition document or a
/// registered `NAME@VERSION`, parameters as `Name=Value` text, tags and limits.
public struct ExecutionRequest: Sendable {
    public enum Source: Sendable {
        /// A definition document; `label` names it in errors and, without a
        /// pipeline name, names the pipeline (its file name without extension).
        case document(Data, label: String)
        /// A registered pipeline, at its latest version unless one is given.
        case registered(name: String, version: Int?)
    }

    /// Everything that keeps the execution from starting, one line each.
    public struct Refused: Error, Sendable, CustomStringConvertible {
        public let problems: [String]
        public init(_ problems: [String]) { self.problems = problems }
        public var description: String { problems.joined(separator: "\n") }
    }

    public var source: Source
    public var pipelineName: String?
    public var parameters: [(name: String, value: String)] = []
    public var tags: [(key: String, value: String)] = []
    public var maxParallelSteps: Int?
    public var maxLogBytes = JobLogFile.defaultCapBytes
    public var policy: Policy?
    /// Run only these steps, the rest taken from an earlier execution (SelectiveExecutionConfig).
    public var selection: ExecutionRunner.Selection?

    public init(source: Source, pipelineName: String? = nil) {
        self.source = source
        self.pipelineName = pipelineName
    }

    /// `NAME` or `NAME@VERSION`.
    public static func registered(_ text: String) throws(Refused) -> Source {
        let parts = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        guard let name = parts.first, !name.isEmpty else { throw Refused(["'\(text)' names no pipeline; give NAME or NAME@VERSION"]) }
        guard parts.count == 2 else { return .registered(name: String(name), version: nil) }
        guard let version = Int(parts[1]), version >= 1 else { throw Refused(["'\(parts[1])' is not a version number (in '\(text)')"]) }
        return .registered(name: String(name), version: version)
    }

    /// `Name=Value`; the value may itself hold `=`.
    public static func parameter(_ text: String) throws(Refused) -> (name: String, value: String) {
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty else { throw Refused(["a parameter is given as Name=Value; got '\(text)'"]) }
        return (String(parts[0]), String(parts[1]))
    }

    public struct Resolved {
        public let definition: PipelineDefinition
        public let graph: PipelineGraph
        public let options: ExecutionRunner.Options
    }

    /// The checked definition and the runner's options: the definition valid,
    /// parameters converted by their declared types, tags merged (the
    /// pipeline's first, the execution's replacing them key by key).
    public func resolve(in home: ShoalHome) throws -> Resolved {
        let data: Data
        let label: String
        let defaultName: String
        var version: Int?
        var pipelineTags: [(key: String, value: String)] = []
        switch source {
        case let .document(document, documentLabel):
            data = document
            label = documentLabel
            defaultName = URL(fileURLWithPath: documentLabel).deletingPathExtension().lastPathComponent
        case let .registered(name, wanted):
            let record = try home.metadata.pipelineVersion(name, version: wanted)
            data = Data(record.definition.utf8)
            label = "\(name)@\(record.version)"
            defaultName = name
            version = record.version
            if let stored = try home.metadata.pipeline(named: name), case let .object(fields)? = try? JSONParser.parse(stored.tags) {
                pipelineTags = fields.entries.compactMap { entry in if case let .string(value) = entry.value { (entry.key, value) } else { nil } }
            }
        }
        let check = DefinitionCheck.check(data: data)
        guard check.isValid, let definition = check.definition, let graph = check.graph else { throw Refused(check.lines(source: label)) }
        do { try Tags.validate(tags, source: "tags") } catch { throw Refused([error.description]) }
        var options = ExecutionRunner.Options(pipelineName: pipelineName ?? defaultName)
        options.pipelineVersion = version
        options.maxParallelSteps = maxParallelSteps
        options.maxLogBytes = maxLogBytes
        options.policy = policy
        options.selection = selection
        options.tags = Tags.merge(pipelineTags, tags)
        do { options.parameters = try ParameterResolution.resolve(definition, given: parameters) } catch { throw Refused(error.problems) }
        return Resolved(definition: definition, graph: graph, options: options)
    }
}
