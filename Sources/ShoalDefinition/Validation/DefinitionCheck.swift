import Foundation

/// The outcome of reading and validating a definition: the model (when the
/// document could be read at all), its graph, and every problem found.
public struct DefinitionCheck: Sendable {
    public let definition: PipelineDefinition?
    public let graph: PipelineGraph?
    /// Errors and warnings, in document order within each phase.
    public let diagnostics: [Diagnostic]
    /// Where each function occurs. Kept with the check, so that a large index is
    /// freed with the model, not in the middle of checking (which a command
    /// line that exits at once never pays for).
    let functions: FunctionIndex?

    init(definition: PipelineDefinition?, graph: PipelineGraph?, diagnostics: [Diagnostic], functions: FunctionIndex? = nil) {
        self.definition = definition
        self.graph = graph
        self.diagnostics = diagnostics
        self.functions = functions
    }

    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }
    public var warnings: [Diagnostic] { diagnostics.filter { $0.severity == .warning } }
    public var isValid: Bool { definition != nil && errors.isEmpty }

    /// One line per diagnostic, as every command prints them:
    /// `SOURCE: [warning: ]PATH: MESSAGE [CODE]` (warnings only when asked).
    public func lines(source: String, warnings includeWarnings: Bool = false) -> [String] {
        diagnostics.filter { $0.severity == .error || includeWarnings }.map { $0.line(source: source) }
    }

    /// Reads a document from bytes and validates it.
    public static func check(data: Data) -> DefinitionCheck {
        guard data.count <= Limits.maxDocumentBytes else {
            return DefinitionCheck(definition: nil, graph: nil, diagnostics: [Diagnostic(
                .error, code: "too-large", path: .root,
                message: "The document is \(data.count) bytes; Shoal reads definitions of at most \(Limits.maxDocumentBytes) bytes."
            )])
        }
        let collector = DiagnosticCollector()
        let definition: PipelineDefinition?
        do {
            // The parsed tree is dropped as soon as the model is read, before
            // validation, which halves peak memory on large documents.
            definition = read(try JSONParser.parse(data), collector)
        } catch {
            return DefinitionCheck(definition: nil, graph: nil, diagnostics: [Diagnostic(syntax: error)])
        }
        return validate(definition, collector)
    }

    /// Validates an already parsed document.
    public static func check(json: JSONValue) -> DefinitionCheck {
        let collector = DiagnosticCollector()
        return validate(read(json, collector), collector)
    }

    private static func read(_ json: JSONValue, _ collector: DiagnosticCollector) -> PipelineDefinition? {
        if case let .object(fields) = json, case let .array(steps)? = fields["Steps"], steps.count > Limits.maxSteps {
            collector.error(
                "too-many-steps", JSONPath.root.key("Steps"),
                "The definition has \(steps.count) top-level steps; Shoal runs at most \(Limits.maxSteps)."
            )
            return nil
        }
        return PipelineDefinition.decode(json, at: .root, owner: "The definition", collector)
    }

    private static func validate(_ definition: PipelineDefinition?, _ collector: DiagnosticCollector) -> DefinitionCheck {
        guard let definition else { return DefinitionCheck(definition: nil, graph: nil, diagnostics: collector.diagnostics) }
        let graph = Validator(definition: definition, collector: collector).run()
        return DefinitionCheck(definition: definition, graph: graph, diagnostics: collector.diagnostics, functions: collector.functions)
    }

    /// Validates a model built in code (for example with the DSL).
    public static func check(_ definition: PipelineDefinition) -> DefinitionCheck {
        check(json: definition.json)
    }
}
