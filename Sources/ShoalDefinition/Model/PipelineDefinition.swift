import Foundation

/// A SageMaker pipeline definition document, `"Version": "2020-12-01"`.
public struct PipelineDefinition: Sendable, Equatable, ObjectModel {
    public static let supportedVersion = "2020-12-01"

    public var version: String
    public var metadata: Expression?
    public var parameters: [Parameter]?
    public var experimentConfig: ExperimentConfigSetting
    public var steps: [Step]
    public var extra = OrderedFields<Expression>()
    public var keyOrder = KeyOrder()

    public init(
        parameters: [Parameter] = [], experimentConfig: ExperimentConfigSetting = .configured(.sdkDefault),
        steps: [Step], metadata: Expression? = .object([:])
    ) {
        self.version = Self.supportedVersion
        self.metadata = metadata
        self.parameters = parameters
        self.experimentConfig = experimentConfig
        self.steps = steps
    }

    init(reading reader: inout FieldReader) {
        version = reader.string("Version", required: true) ?? ""
        metadata = reader.expression("Metadata")
        parameters = reader.objects("Parameters") { "Parameters[\($0)]" }
        switch reader.raw("PipelineExperimentConfig") {
        case nil: experimentConfig = .absent
        case .null?: experimentConfig = .disabled
        case let value?:
            experimentConfig = PipelineExperimentConfig.decode(
                value, at: reader.path.key("PipelineExperimentConfig"), owner: "PipelineExperimentConfig", reader.collector
            ).map(ExperimentConfigSetting.configured) ?? .absent
        }
        if reader.fields["Steps"] == nil {
            reader.collector.error("missing-field", reader.path.key("Steps"), "The definition has no Steps.")
        }
        steps = Step.decodeList(reader.raw("Steps"), at: reader.path.key("Steps"), reader.collector)
    }

    func write(to writer: inout FieldWriter) {
        writer.put("Version", version)
        writer.put("Metadata", metadata)
        writer.put("Parameters", parameters)
        switch experimentConfig {
        case .absent: break
        case .disabled: writer.put("PipelineExperimentConfig", Expression.null)
        case let .configured(config): writer.put("PipelineExperimentConfig", config)
        }
        writer.put("Steps", steps)
    }

    /// The document as JSON, every member kept.
    public var json: JSONValue { Expression.object(fields).json }

    /// The document as JSON text (compact, as the SDK writes it, or indented).
    public func jsonText(pretty: Bool = false) -> String { JSONWriter.string(json, pretty: pretty) }
}

/// Thrown by the Codable path when a document cannot be decoded.
public struct DefinitionError: Error, Sendable, CustomStringConvertible {
    public let diagnostics: [Diagnostic]
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

extension PipelineDefinition: Codable {
    /// Decodes through `JSONValue`; fails with every error the document has.
    public init(from decoder: Decoder) throws {
        let json = try JSONValue(from: decoder)
        let collector = DiagnosticCollector()
        let decoded = PipelineDefinition.decode(json, at: .root, owner: "The definition", collector)
        let errors = collector.diagnostics.filter { $0.severity == .error }
        guard let decoded, errors.isEmpty else { throw DefinitionError(diagnostics: errors) }
        self = decoded
    }

    public func encode(to encoder: Encoder) throws {
        try json.encode(to: encoder)
    }
}
