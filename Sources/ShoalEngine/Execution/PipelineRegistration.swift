import Foundation
import ShoalDefinition
import ShoalStore

/// Registering a pipeline (CreatePipeline, UpdatePipeline, `shoal pipelines
/// create|update`): the name rule, the definition checked before anything is
/// stored, and the registry's answer.
public enum PipelineRegistration {
    public struct Refused: Error, Sendable, CustomStringConvertible {
        public let problems: [String]
        public var description: String { problems.joined(separator: "\n") }
    }

    /// SageMaker's rule for pipeline names.
    public static func checkName(_ name: String) throws(Refused) {
        guard name.range(of: "^[a-zA-Z0-9](-*[a-zA-Z0-9_.]){0,255}$", options: .regularExpression) != nil else {
            throw Refused(problems: ["'\(name)' is not a pipeline name: letters and digits, '-', '_' and '.' inside, up to 256."])
        }
    }

    /// The version a create or update of `name` sent with this client token
    /// (ClientRequestToken) registered, if one went through: the same request
    /// sent again (botocore retries after a lost reply) answers it and registers nothing.
    public static func version(of name: String, registeredBy requestToken: String, update: Bool, in home: ShoalHome) throws -> Int? {
        try home.metadata.pipelineRequest(token: tokenKey(name, requestToken, update ? "update" : "create"))?.version
    }

    /// Removes a pipeline (its executions stay); sent again with its client token, it answers as the first did.
    public static func delete(_ name: String, requestToken: String?, in home: ShoalHome) throws {
        let key = requestToken.map { tokenKey(name, $0, "delete") }
        if let key, try home.metadata.pipelineRequest(token: key) != nil { return }
        try home.metadata.deletePipeline(name)
        if let key { try home.metadata.remember(pipelineRequestToken: key, name: name, version: nil) }
    }

    private static func tokenKey(_ name: String, _ token: String, _ operation: String) -> String { "\(operation)-pipeline/\(name)/\(token)" }

    /// Checks `definition` (JSON text, `source` naming it in diagnostics) and
    /// registers it as `name`, a new pipeline or (with `update`) a new version.
    public static func register(
        name: String, definition: Data, source: String, description: String?, tags: [(key: String, value: String)]?, author: String, update: Bool,
        requestToken: String? = nil, in home: ShoalHome
    ) throws -> MetadataStore.RegistryChange {
        try checkName(name)
        let check = DefinitionCheck.check(data: definition)
        guard check.isValid, let model = check.definition else { throw Refused(problems: check.lines(source: source)) }
        let tagText = tags.map { pairs in JSONWriter.string(.object(OrderedFields(pairs.map { ($0.key, JSONValue.string($0.value)) }))) }
        let change = try home.metadata.register(
            name: name, definition: model.jsonText(), canonical: JSONWriter.canonical(model.json), description: description, tags: tagText,
            author: author, update: update
        )
        if let requestToken {
            let version = switch change { case let .created(version), let .newVersion(version), let .unchanged(version): version }
            try home.metadata.remember(pipelineRequestToken: tokenKey(name, requestToken, update ? "update" : "create"), name: name, version: version)
        }
        return change
    }
}
