import Foundation
import ShoalDefinition

/// What an expression can read while a step is being started.
public protocol EvaluationScope {
    func parameter(_ name: String) -> JSONValue?
    func executionVariable(_ variable: ExecutionVariable) -> JSONValue?
    func experimentConfig(_ name: String) -> JSONValue?
    /// The resolved properties of a step that succeeded.
    func properties(ofStep name: String) -> JSONValue?
    /// Reads a JSON document from the object store (bounded).
    func readJSONObject(at uri: String) throws(EvaluationError) -> JSONValue
    /// Where a step's property file is: a processing step's output plus the file's
    /// path, or a Shoal:Map step's gathered results.
    func propertyFileURI(_ name: String, ofStep step: String) throws(EvaluationError) -> String
}

/// Resolves expressions to JSON values (spec §2).
public struct Evaluator {
    public let scope: any EvaluationScope

    public init(scope: any EvaluationScope) { self.scope = scope }

    public func evaluate(_ expression: Expression) throws(EvaluationError) -> JSONValue {
        switch expression {
        case .null: return .null
        case let .bool(flag): return .bool(flag)
        case let .number(number): return .number(number)
        case let .string(text): return .string(text)
        case let .array(elements):
            var values: [JSONValue] = []
            for element in elements { values.append(try evaluate(element)) }
            return .array(values)
        case let .object(fields):
            var values = OrderedFields<JSONValue>()
            for (key, value) in fields.entries { values.entries.append((key, try evaluate(value))) }
            return .object(values)
        case let .get(reference):
            return try resolve(reference)
        case let .join(on, values):
            var parts: [String] = []
            for value in values { parts.append(ValueRendering.string(try evaluate(value))) }
            return .string(parts.joined(separator: on))
        case let .jsonGet(jsonGet):
            return try read(jsonGet)
        }
    }

    public func resolve(_ reference: Reference) throws(EvaluationError) -> JSONValue {
        let undefined = EvaluationError("{\"Get\": \"\(reference.text)\"} is undefined.")
        switch reference.target {
        case let .parameter(name):
            guard let value = scope.parameter(name) else { throw undefined }
            return value
        case let .execution(name):
            guard let variable = ExecutionVariable(rawValue: name), let value = scope.executionVariable(variable) else { throw undefined }
            return value
        case let .experimentConfig(name):
            guard let value = scope.experimentConfig(name) else { throw undefined }
            return value
        case let .step(name, path):
            guard let properties = scope.properties(ofStep: name), let value = JSONNavigation.follow(path, in: properties) else {
                throw undefined
            }
            return value
        case let .invalid(reason):
            throw EvaluationError("{\"Get\": \"\(reference.text)\"} cannot be read: \(reason).")
        }
    }

    private func read(_ jsonGet: JsonGet) throws(EvaluationError) -> JSONValue {
        let uri: String
        switch jsonGet.source {
        case let .propertyFile(reference):
            guard case let .step(stepName, segments) = reference.target, segments.count == 2, case let .member(fileName) = segments[1] else {
                throw EvaluationError("Std:JsonGet's PropertyFile '\(reference.text)' does not name a property file.")
            }
            uri = try scope.propertyFileURI(fileName, ofStep: stepName)
        case let .s3Uri(expression):
            uri = ValueRendering.string(try evaluate(expression))
        }
        let document = try scope.readJSONObject(at: uri)
        let segments: [PropertyPath.Segment]
        switch PropertyPath.parseJsonPath(jsonGet.path) {
        case let .success(parsed): segments = parsed
        case let .failure(error): throw EvaluationError("Invalid json path '\(jsonGet.path)': \(error.reason).")
        }
        guard let value = JSONNavigation.follow(segments, in: document) else {
            throw EvaluationError("Invalid json path '\(jsonGet.path)': it is not in \(uri).")
        }
        return value
    }
}
