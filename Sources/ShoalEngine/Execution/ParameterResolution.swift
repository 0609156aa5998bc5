import ShoalDefinition

/// Turns `--param Name=Value` texts and the declared defaults into typed
/// values, refusing unknown names, wrong types, missing values and values
/// outside EnumValues, all before anything runs (spec §1.2).
public enum ParameterResolution {
    public struct Refused: Error, CustomStringConvertible {
        public let problems: [String]
        public var description: String { problems.joined(separator: "\n") }
    }

    public static func resolve(_ definition: PipelineDefinition, given: [(name: String, value: String)]) throws(Refused) -> OrderedFields<JSONValue> {
        let declared = definition.parameters ?? []
        var problems: [String] = []
        var supplied: [String: String] = [:]
        for (name, value) in given {
            if !declared.contains(where: { $0.name == name }) {
                let known = declared.map(\.name).joined(separator: ", ")
                problems.append("Unknown parameter '\(name)'; the pipeline declares \(known.isEmpty ? "no parameters" : known).")
            } else if supplied[name] != nil {
                problems.append("Parameter '\(name)' is given more than once.")
            }
            supplied[name] = value
        }
        var values = OrderedFields<JSONValue>()
        for parameter in declared {
            guard let type = parameter.type else { continue }
            if let text = supplied[parameter.name] {
                guard let value = ValueRendering.parameter(text, as: type) else {
                    problems.append("Parameter '\(parameter.name)' is \(type.rawValue); '\(text)' is not one.")
                    continue
                }
                if let allowed = parameter.enumValues, !allowed.contains(text) {
                    problems.append("Parameter '\(parameter.name)' must be one of \(allowed.joined(separator: ", ")); got '\(text)'.")
                    continue
                }
                values[parameter.name] = value
            } else if let value = parameter.defaultValue {
                // A Float default written as 6 is still a float.
                if type == .float, case let .number(number) = value { values[parameter.name] = .number(.double(number.doubleValue)) } else { values[parameter.name] = value }
            } else {
                problems.append("Parameter '\(parameter.name)' has no default; give it with --param \(parameter.name)=VALUE.")
            }
        }
        if !problems.isEmpty { throw Refused(problems: problems) }
        return values
    }
}
