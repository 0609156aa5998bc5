/// Checks a decoded definition against the rules of spec §1–§5 and builds its
/// graph. Every problem is reported; nothing stops at the first.
final class Validator {
    /// Paths already found well formed; fan-outs repeat the same few many times.
    var checkedJsonPaths = Set<String>()
    let definition: PipelineDefinition
    let collector: DiagnosticCollector

    /// Every step of the document, in document order, depth-first through branches.
    var entries: [Entry] = []
    var indexByName: [String: Int] = [:]
    var parameters: [String: Parameter] = [:]
    var edges = Set<PipelineGraph.Edge>()

    /// A class, so that looking up a step does not copy it.
    final class Entry {
        let step: Step
        let path: JSONPath
        let branchOf: (condition: String, branch: PipelineGraph.Branch)?

        init(step: Step, path: JSONPath, branchOf: (condition: String, branch: PipelineGraph.Branch)?) {
            self.step = step
            self.path = path
            self.branchOf = branchOf
        }
    }

    init(definition: PipelineDefinition, collector: DiagnosticCollector) {
        self.definition = definition
        self.collector = collector
    }

    func run() -> PipelineGraph {
        checkVersion()
        checkParameters()
        collectSteps()
        let functions = collector.functions
        checkFunctions(functions.documentLevel, in: nil, index: nil)
        for (index, entry) in entries.enumerated() {
            checkStep(entry)
            checkFunctions(functions.byStep[index], in: entry, index: index)
            checkDependsOn(of: entry, at: index)
            for (branch, steps) in [(PipelineGraph.Branch.ifSteps, entry.step.branches.ifSteps), (.elseSteps, entry.step.branches.elseSteps)] {
                for step in steps {
                    if let target = indexByName[step.name] { edges.insert(.init(from: index, to: target, kind: .branch(branch))) }
                }
            }
        }
        let graph = PipelineGraph(
            nodes: entries.map { PipelineGraph.Node(name: $0.step.name, typeName: $0.step.typeName, path: $0.path, branchOf: $0.branchOf) },
            edges: edges
        )
        for cycle in graph.cycles {
            let names = (cycle + [cycle[0]]).map { graph.nodes[$0].name }.joined(separator: " -> ")
            collector.error("dependency-cycle", JSONPath.root.key("Steps"), "The steps form a dependency cycle: \(names).")
        }
        return graph
    }

    // MARK: Document

    func checkVersion() {
        guard definition.version != PipelineDefinition.supportedVersion, !definition.version.isEmpty else { return }
        collector.error(
            "unsupported-version", JSONPath.root.key("Version"),
            "Version '\(definition.version)' is not supported; the only known version is '\(PipelineDefinition.supportedVersion)'."
        )
    }

    func checkParameters() {
        let list = definition.parameters ?? []
        let base = JSONPath.root.key("Parameters")
        if list.count > Limits.maxParameters {
            collector.error("out-of-range", base, "A pipeline may declare at most \(Limits.maxParameters) parameters; this one declares \(list.count).")
        }
        for (index, parameter) in list.enumerated() {
            let path = base.index(index)
            if !isValidName(parameter.name) {
                collector.error(
                    "invalid-name", path.key("Name"),
                    "Parameter name '\(parameter.name)' may contain only letters, digits, '-' and '_' (1 to 64 characters)."
                )
            }
            if parameters[parameter.name] != nil {
                collector.error("duplicate-parameter", path.key("Name"), "Parameter '\(parameter.name)' is declared more than once.")
            }
            parameters[parameter.name] = parameter
            guard let type = parameter.type else {
                let known = Parameter.ParameterType.allCases.map(\.rawValue).joined(separator: ", ")
                collector.error(
                    "unknown-parameter-type", path.key("Type"),
                    "Parameter '\(parameter.name)' has type '\(parameter.typeName ?? "")'; the types are \(known)."
                )
                continue
            }
            if let value = parameter.defaultValue, !Self.value(value, fits: type) {
                collector.error(
                    "wrong-type", path.key("DefaultValue"),
                    "Parameter '\(parameter.name)' is declared \(type.rawValue) but its DefaultValue is \(value.kindDescription)."
                )
            }
            if let enumValues = parameter.enumValues {
                if type != .string {
                    collector.error("invalid-value", path.key("EnumValues"), "Parameter '\(parameter.name)' is \(type.rawValue); only String parameters take EnumValues.")
                } else if case let .string(value)? = parameter.defaultValue, !enumValues.contains(value) {
                    collector.error(
                        "invalid-value", path.key("DefaultValue"),
                        "Parameter '\(parameter.name)' defaults to '\(value)', which is not one of its EnumValues (\(enumValues.joined(separator: ", ")))."
                    )
                }
            }
        }
    }

    static func value(_ value: JSONValue, fits type: Parameter.ParameterType) -> Bool {
        switch (type, value) {
        case (.string, .string), (.boolean, .bool), (.float, .number), (.integer, .number(.int)): true
        default: false
        }
    }

    // MARK: Steps and names

    func collectSteps() {
        var topLevel: [String: Int] = [:]
        for (index, step) in definition.steps.enumerated() {
            let path = JSONPath.root.key("Steps").index(index)
            checkName(step, at: path)
            if let first = topLevel[step.name] {
                collector.error(
                    "duplicate-step-name", path.key("Name"),
                    "Step name '\(step.name)' is used more than once ($.Steps[\(first)] and $.Steps[\(index)])."
                )
            } else {
                topLevel[step.name] = index
            }
        }
        var placeOf: [String: String] = [:]
        for step in definition.steps { placeOf[step.name] = placeOf[step.name] ?? "at the top level" }
        for (index, step) in definition.steps.enumerated() {
            add(step, at: JSONPath.root.key("Steps").index(index), branchOf: nil, placeOf: &placeOf)
        }
    }

    func add(_ step: Step, at path: JSONPath, branchOf: (condition: String, branch: PipelineGraph.Branch)?, placeOf: inout [String: String]) {
        if indexByName[step.name] == nil { indexByName[step.name] = entries.count }
        entries.append(Entry(step: step, path: path, branchOf: branchOf))
        for (branch, steps) in [(PipelineGraph.Branch.ifSteps, step.branches.ifSteps), (.elseSteps, step.branches.elseSteps)] {
            for (index, child) in steps.enumerated() {
                let childPath = path.key("Arguments").key(branch.rawValue).index(index)
                checkName(child, at: childPath)
                let place = "in the \(branch.rawValue) of '\(step.name)'"
                if let other = placeOf[child.name] {
                    collector.error(
                        "duplicate-step-name", childPath.key("Name"),
                        "Step '\(child.name)' appears both \(other) and \(place); a step may appear in one place only."
                    )
                } else {
                    placeOf[child.name] = place
                }
                add(child, at: childPath, branchOf: (step.name, branch), placeOf: &placeOf)
            }
        }
    }

    func checkName(_ step: Step, at path: JSONPath) {
        // An empty name was reported as a missing Name while decoding.
        guard !isValidName(step.name), !step.name.isEmpty else { return }
        // '.' first: it is the character that splits a property path.
        var bad: [String] = step.name.contains(".") ? ["'.'"] : []
        for character in step.name where !isNameCharacter(character) {
            let shown = "'\(character)'"
            if !bad.contains(shown) { bad.append(shown) }
        }
        var message = "Step name '\(step.name)' may contain only letters, digits, '-' and '_' (1 to \(Limits.maxStepNameLength) characters)"
        if !bad.isEmpty { message += "; \(listed(bad)) would also break property paths" }
        collector.error("invalid-name", path.key("Name"), message + ".")
    }

    func isValidName(_ name: String) -> Bool {
        // Valid names are ASCII, so bytes and characters coincide.
        !name.isEmpty && name.utf8.count <= Limits.maxStepNameLength && name.utf8.allSatisfy { isNameCharacter(Character(Unicode.Scalar($0))) }
    }

    func isNameCharacter(_ character: Character) -> Bool {
        guard let ascii = character.asciiValue else { return false }
        switch ascii {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }

    func checkStep(_ entry: Entry) {
        let step = entry.step
        guard let type = step.type else { return }
        if !type.isSupported {
            collector.warning(
                "not-supported", entry.path.key("Type"),
                "Step '\(step.name)' has type \(type.rawValue), which Shoal does not run yet; it is kept as written."
            )
        }
        if step.propertyFiles != nil && type != .processing {
            collector.error("invalid-value", entry.path.key("PropertyFiles"), "Step '\(step.name)' is \(type.rawValue); only Processing steps declare PropertyFiles.")
        }
        StepPolicyChecks(step: step, path: entry.path, collector: collector).run()
        switch step.arguments {
        case let .processing(arguments)?:
            ProcessingChecks(step: step, arguments: arguments, path: entry.path, collector: collector).run()
        case let .other(expression)? where type == .shoalMap:
            checkMap(step, expression, at: entry.path)
        case .lambda?, nil:
            if type == .lambda { checkLambda(step, at: entry.path) }
        default:
            break
        }
    }

    func checkLambda(_ step: Step, at path: JSONPath) {
        let outputs = step.outputParameters ?? []
        if outputs.count > Limits.maxOutputParameters {
            collector.error("out-of-range", path.key("OutputParameters"), "Step '\(step.name)' declares \(outputs.count) outputs; at most \(Limits.maxOutputParameters) are allowed.")
        }
        var seen = Set<String>()
        for (index, output) in outputs.enumerated() {
            let outputPath = path.key("OutputParameters").index(index)
            if !seen.insert(output.name).inserted {
                collector.error("duplicate-name", outputPath.key("OutputName"), "Step '\(step.name)' declares output '\(output.name)' more than once.")
            }
            if output.type == nil {
                let known = OutputParameter.OutputType.allCases.map(\.rawValue).joined(separator: ", ")
                collector.error("invalid-value", outputPath.key("OutputType"), "Output '\(output.name)' has type '\(output.typeName ?? "")'; the types are \(known).")
            }
        }
    }

    func checkMap(_ step: Step, _ expression: Expression, at path: JSONPath) {
        let (arguments, problems) = MapArguments.read(expression)
        let argumentsPath = path.key("Arguments")
        for (member, message) in problems {
            collector.error("invalid-map", member.isEmpty ? argumentsPath : argumentsPath.key(member), "Step '\(step.name)': \(message).")
        }
        if let items = arguments.items, items.isLiteral {
            if case let .array(list) = items {
                if list.count > Limits.maxMapItems {
                    collector.error("out-of-range", argumentsPath.key("Items"), "Step '\(step.name)' maps over \(list.count) items; at most \(Limits.maxMapItems) are allowed.")
                }
            } else {
                collector.error("wrong-type", argumentsPath.key("Items"), "Items must be a list (or an expression giving one), not \(items.json.kindDescription).")
            }
        }
        for (name, value, range) in [("MaxConcurrency", arguments.maxConcurrency, 1...10_000), ("ToleratedFailureCount", arguments.toleratedFailureCount, 0...Limits.maxMapItems), ("ToleratedFailurePercentage", arguments.toleratedFailurePercentage, 0...100)] {
            guard case let .number(number)? = value else { continue }
            guard let integer = number.exactInt, range.contains(integer) else {
                collector.error("out-of-range", argumentsPath.key(name), "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound); got \(number).")
                continue
            }
        }
        if case let .definition(json)? = arguments.work {
            // The inline child is a pipeline of its own: check it whole, and report under this path.
            let child = DefinitionCheck.check(json: json)
            for problem in child.errors {
                collector.error(problem.code, JSONPath(components: argumentsPath.key("Definition").components + Self.components(of: problem.path)), problem.message)
            }
            let declared = Set((child.definition?.parameters ?? []).map(\.name))
            for name in [arguments.itemParameter, arguments.indexParameter] + arguments.parameters.keys where !declared.contains(name) {
                collector.error("unknown-parameter", argumentsPath.key("Definition"), "Step '\(step.name)' passes parameter '\(name)', which the inline child definition does not declare.")
            }
        }
    }

    /// The components of a printed JSON path (`$.Steps[0].Name`), for re-rooting a child's diagnostics.
    static func components(of path: String) -> [JSONPath.Component] {
        var components: [JSONPath.Component] = []
        var rest = Substring(path.dropFirst())
        while let first = rest.first {
            if first == "." {
                rest = rest.dropFirst()
                let end = rest.firstIndex { $0 == "." || $0 == "[" } ?? rest.endIndex
                components.append(.key(String(rest[..<end])))
                rest = rest[end...]
            } else if rest.hasPrefix("['"), let close = rest.range(of: "']") {
                components.append(.key(String(rest[rest.index(rest.startIndex, offsetBy: 2)..<close.lowerBound])))
                rest = rest[close.upperBound...]
            } else if let close = rest.firstIndex(of: "]"), let index = Int(rest[rest.index(after: rest.startIndex)..<close]) {
                components.append(.index(index))
                rest = rest[rest.index(after: close)...]
            } else {
                break
            }
        }
        return components
    }
}
