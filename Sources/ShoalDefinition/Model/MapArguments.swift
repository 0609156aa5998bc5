/// The `Arguments` of a `Shoal:Map` step, read from its expression tree
/// (spec/shoal-map.md). A view: the definition keeps the JSON as written.
public struct MapArguments: Sendable {
    public enum Work: Sendable {
        /// Invoke a registered function once per item.
        case function(functionArn: Expression, outputs: [OutputParameter])
        /// Start one child execution of a registered pipeline per item.
        case pipeline(name: Expression, version: Expression?)
        /// Start one child execution of this inline definition per item.
        case definition(JSONValue)
    }

    /// A value to gather from each child: a property of one of its steps, or a
    /// value in one of its property files.
    public struct Output: Sendable {
        public let name: String
        /// `Steps.S.<path>` of the child.
        public let property: String?
        /// `Steps.S.PropertyFiles.P` of the child, with a JsonGet path.
        public let propertyFile: String?
        public let path: String?
    }

    public var items: Expression?
    public var itemsFromS3Prefix: Expression?
    public var work: Work?
    public var itemParameter: String
    public var indexParameter: String
    /// Extra parameters for every child (or fields of every function event).
    public var parameters: OrderedFields<Expression>
    public var maxConcurrency: Expression?
    public var toleratedFailureCount: Expression?
    public var toleratedFailurePercentage: Expression?
    public var outputs: [Output]
    public var resultsS3Uri: Expression?

    /// Reads the arguments; problems are returned as (path, message) pairs for the validator.
    public static func read(_ expression: Expression) -> (MapArguments, [(member: String, message: String)]) {
        var problems: [(String, String)] = []
        var arguments = MapArguments(
            items: nil, itemsFromS3Prefix: nil, work: nil, itemParameter: "Item", indexParameter: "ItemIndex", parameters: [:],
            maxConcurrency: nil, toleratedFailureCount: nil, toleratedFailurePercentage: nil, outputs: [], resultsS3Uri: nil
        )
        guard case let .object(fields) = expression else { return (arguments, [("", "Arguments must be an object")]) }
        let known = [
            "Items", "ItemsFromS3Prefix", "Function", "Pipeline", "Definition", "ItemParameter", "IndexParameter", "Parameters",
            "MaxConcurrency", "ToleratedFailureCount", "ToleratedFailurePercentage", "Outputs", "ResultsS3Uri",
        ]
        for key in fields.keys where !known.contains(key) { problems.append((key, "'\(key)' is not an argument of Shoal:Map")) }
        arguments.items = fields["Items"]
        arguments.itemsFromS3Prefix = fields["ItemsFromS3Prefix"]
        if (arguments.items == nil) == (arguments.itemsFromS3Prefix == nil) {
            problems.append(("Items", "give exactly one of Items and ItemsFromS3Prefix"))
        }
        var works: [Work] = []
        if case let .object(function)? = fields["Function"] {
            var outputs: [OutputParameter] = []
            if case let .array(items)? = function["OutputParameters"] {
                for item in items {
                    if case let .object(output) = item, case let .string(name)? = output["OutputName"] {
                        var parameter = OutputParameter(name: name, type: .string)
                        parameter.typeName = output["OutputType"]?.stringLiteral
                        outputs.append(parameter)
                    } else {
                        problems.append(("Function", "OutputParameters hold {\"OutputName\", \"OutputType\"} objects"))
                    }
                }
            }
            if let arn = function["FunctionArn"] { works.append(.function(functionArn: arn, outputs: outputs)) } else { problems.append(("Function", "Function needs a FunctionArn")) }
        } else if fields["Function"] != nil {
            problems.append(("Function", "Function must be an object with FunctionArn"))
        }
        if case let .object(pipeline)? = fields["Pipeline"] {
            if let name = pipeline["Name"] { works.append(.pipeline(name: name, version: pipeline["Version"])) } else { problems.append(("Pipeline", "Pipeline needs a Name")) }
        } else if fields["Pipeline"] != nil {
            problems.append(("Pipeline", "Pipeline must be an object with Name and, optionally, Version"))
        }
        if let definition = fields["Definition"] { works.append(.definition(definition.json)) }
        if works.count != 1 { problems.append(("Function", "give exactly one of Function, Pipeline and Definition")) }
        arguments.work = works.first
        for (key, keyPath) in [("ItemParameter", \MapArguments.itemParameter), ("IndexParameter", \MapArguments.indexParameter)] {
            guard let value = fields[key] else { continue }
            if case let .string(name) = value { arguments[keyPath: keyPath] = name } else { problems.append((key, "\(key) must be a parameter name")) }
        }
        if let parameters = fields["Parameters"] {
            if case let .object(values) = parameters { arguments.parameters = values } else { problems.append(("Parameters", "Parameters must be an object")) }
        }
        arguments.maxConcurrency = fields["MaxConcurrency"]
        arguments.toleratedFailureCount = fields["ToleratedFailureCount"]
        arguments.toleratedFailurePercentage = fields["ToleratedFailurePercentage"]
        arguments.resultsS3Uri = fields["ResultsS3Uri"]
        if let outputs = fields["Outputs"] {
            guard case let .array(items) = outputs else { return (arguments, problems + [("Outputs", "Outputs must be an array")]) }
            for (index, item) in items.enumerated() {
                guard case let .object(output) = item, case let .string(name)? = output["Name"] else {
                    problems.append(("Outputs", "Outputs[\(index)] needs a Name"))
                    continue
                }
                let property = output["Property"]?.stringLiteral
                let file = output["PropertyFile"]?.stringLiteral
                if (property == nil) == (file == nil) { problems.append(("Outputs", "Outputs[\(index)] needs exactly one of Property and PropertyFile")) }
                if file != nil && output["Path"]?.stringLiteral == nil { problems.append(("Outputs", "Outputs[\(index)] reads a property file and needs a Path")) }
                arguments.outputs.append(Output(name: name, property: property, propertyFile: file, path: output["Path"]?.stringLiteral))
            }
        }
        return (arguments, problems)
    }
}
