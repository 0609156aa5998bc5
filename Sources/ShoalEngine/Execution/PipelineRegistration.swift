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

    /// Checks `definition` (JSON text, `source` naming it in diagnostics) and
    /// registers it as `name`, a new pipeline or (with `update`) a new version.
    public static func register(
        name: String, definition: Data, source: String, description: String?, tags: [(key: String, value: String)]?, author: String, update: Bool,
        in home: ShoalHome
    ) throws -> MetadataStore.RegistryChange {
        try checkName(name)
        let check = DefinitionCheck.check(data: definition)
        guard check.isValid, let model = check.definition else { throw Refused(problems: check.lines(source: source)) }
        let tagText = tags.map { pairs in JSONWriter.string(.object(OrderedFields(pairs.map { ($0.key, JSONValue.string($0.value)) }))) }
        return try home.metadata.register(
            name: name, definition: model.jsonText(), canonical: JSONWriter.canonical(model.json), description: description, tags: tagText,
            author: author, update: update
        )
    }
}
