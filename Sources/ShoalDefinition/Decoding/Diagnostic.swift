/// One problem found in a definition: what is wrong, where, in one sentence.
public struct Diagnostic: Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Severity: String, Sendable, Codable {
        /// The definition cannot run.
        case error
        /// The definition is valid but something in it will not behave as on SageMaker.
        case warning
    }

    /// `SOURCE: [warning: ]PATH: MESSAGE [CODE]`, as every command prints it.
    public func line(source: String) -> String {
        "\(source): \(severity == .warning ? "warning: " : "")\(path): \(message) [\(code)]"
    }

    public let severity: Severity
    /// A stable kebab-case name, e.g. `unknown-step`.
    public let code: String
    /// The JSON path of the offending node, e.g. `$.Steps[1].DependsOn[0]`.
    public let path: String
    public let message: String
    /// Set for syntax errors only.
    public let line: Int?
    public let column: Int?

    public init(_ severity: Severity, code: String, path: JSONPath, message: String) {
        self.severity = severity
        self.code = code
        self.path = path.description
        self.message = message
        self.line = nil
        self.column = nil
    }

    init(syntax error: JSONSyntaxError) {
        severity = .error
        code = "malformed-json"
        path = "$"
        message = "The document is not valid JSON: \(error.reason) at line \(error.line), column \(error.column)."
        line = error.line
        column = error.column
    }

    public var description: String { "\(path): \(message) [\(code)]" }
}

/// Collects diagnostics while a document is decoded and validated, so that
/// every problem is reported at once instead of the first one only.
final class DiagnosticCollector {
    private(set) var diagnostics: [Diagnostic] = []
    /// Where each pipeline function occurs, noted while reading so that the
    /// validator need not walk the document again.
    let functions = FunctionIndex()

    func error(_ code: String, _ path: JSONPath, _ message: String) {
        diagnostics.append(Diagnostic(.error, code: code, path: path, message: message))
    }

    func warning(_ code: String, _ path: JSONPath, _ message: String) {
        diagnostics.append(Diagnostic(.warning, code: code, path: path, message: message))
    }

    func wrongType(_ path: JSONPath, _ name: String, expected: String, found: JSONValue) {
        error("wrong-type", path, "\(name) must be \(expected), not \(found.kindDescription).")
    }
}

/// Every `Get` and `Std:JsonGet` of a document with its path, grouped by the step
/// whose own content holds it (spec §5.1: a condition's branches are separate
/// steps). Groups are numbered in document order, depth-first through branches,
/// the order in which steps are read.
final class FunctionIndex: @unchecked Sendable {
    struct Site {
        let function: Expression.Function
        let path: JSONPath
    }

    /// Functions outside every step (PipelineExperimentConfig, Metadata).
    private(set) var documentLevel: [Site] = []
    private(set) var byStep: [[Site]] = []
    private var open: [Int] = []

    func beginStep() {
        byStep.append([])
        open.append(byStep.count - 1)
    }

    func endStep() { open.removeLast() }

    func note(_ function: Expression.Function, at path: JSONPath) {
        if let step = open.last { byStep[step].append(Site(function: function, path: path)) } else { documentLevel.append(Site(function: function, path: path)) }
    }
}
