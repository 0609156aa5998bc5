import ShoalDefinition

/// Casts a handler's returned keys (or a callback's answer) to the declared
/// output types (spec §3.2); `kind` and `source` name them in errors.
enum LambdaOutputs {
    static func cast(
        result: JSONValue, declared: [OutputParameter], kind: String = "Lambda output", source: String = "the function"
    ) throws(EvaluationError) -> OrderedFields<JSONValue> {
        guard case let .object(fields) = result else {
            if declared.isEmpty { return [:] }
            throw EvaluationError("\(source.prefix(1).uppercased() + source.dropFirst()) returned \(result.kindDescription), not an object with the outputs \(declared.map(\.name).joined(separator: ", ")).")
        }
        var outputs = OrderedFields<JSONValue>()
        for output in declared {
            guard let value = fields[output.name] else {
                throw EvaluationError("\(kind) '\(output.name)' is missing from \(source)'s result.")
            }
            let type = output.type ?? .string
            let cast: JSONValue?
            switch type {
            case .string:
                cast = .string(ValueRendering.string(value))
            case .integer:
                cast = (try? ValueRendering.integer(value, output.name)).map { .number(.int($0)) }
            case .float:
                switch value {
                case let .number(number): cast = .number(.double(number.doubleValue))
                case let .string(text): cast = Double(text).map { .number(.double($0)) }
                default: cast = nil
                }
            case .boolean:
                cast = (try? ValueRendering.boolean(value, output.name)).map(JSONValue.bool)
            }
            guard let cast else {
                throw EvaluationError("\(kind) '\(output.name)' is not \(type.rawValue): \(source) returned \(JSONWriter.string(value)).")
            }
            outputs[output.name] = cast
        }
        return outputs
    }
}
