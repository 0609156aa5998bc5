/// Checks a decoded definition against the rules of spec §1–§5 and builds its
/// graph. Every problem is reported; nothing stops at the first.
final class Validator {
    private let definition: PipelineDefinition
    private let collector: DiagnosticCollector

    /// Every step of the document, in document order, depth-first through branches.
    private var entries: [Entry] = []
    private var indexByName: [String: Int] = [:]
    private var parameters: [String: Parameter] = [:]
    private var edges = Set<PipelineGraph.Edge>()

    /// A class, so that looking up a step does not copy it.
    private final class Entry {
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

    private func checkVersion() {
        guard definition.version != PipelineDefinition.supportedVersion, !definition.version.isEmpty else { return }
        collector.error(
            "unsupported-version", JSONPath.root.key("Version"),
            "Version '\(definition.version)' is not supported; the only known version is '\(PipelineDefinition.supportedVersion)'."
        )
    }

    private func checkParameters() {
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

    private func collectSteps() {
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

    private func add(_ step: Step, at path: JSONPath, branchOf: (condition: String, branch: PipelineGraph.Branch)?, placeOf: inout [String: String]) {
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

    private func checkName(_ step: Step, at path: JSONPath) {
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

    private func isValidName(_ name: String) -> Bool {
        // Valid names are ASCII, so bytes and characters coincide.
        !name.isEmpty && name.utf8.count <= Limits.maxStepNameLength && name.utf8.allSatisfy { isNameCharacter(Character(Unicode.Scalar($0))) }
    }

    private func isNameCharacter(_ character: Character) -> Bool {
        guard let ascii = character.asciiValue else { return false }
        switch ascii {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }

    private func checkStep(_ entry: Entry) {
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

    private func checkLambda(_ step: Step, at path: JSONPath) {
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

    private func checkMap(_ step: Step, _ expression: Expression, at path: JSONPath) {
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

    // MARK: References and dependencies

    /// Checks every function the reader noted in the step's own content (for a
    /// Condition step only its Conditions, spec §5.1) and adds its data edges.
    private func checkFunctions(_ sites: [FunctionIndex.Site], in entry: Entry?, index: Int?) {
        for site in sites {
            switch site.function {
            case let .get(reference): checkReference(reference, at: site.path, in: entry, index: index)
            case let .jsonGet(jsonGet): checkJsonGet(jsonGet, at: site.path.key("Std:JsonGet"))
            }
        }
    }

    private func checkReference(_ reference: Reference, at path: JSONPath, in entry: Entry?, index: Int?) {
        let text = "Get '\(reference.text)'"
        switch reference.target {
        case let .invalid(reason):
            collector.error("invalid-reference", path, "\(text) cannot be read: \(reason).")
        case let .parameter(name):
            guard parameters[name] == nil else { return }
            let declared = (definition.parameters ?? []).map(\.name)
            let known = declared.isEmpty ? "no parameters are declared" : "declared: \(declared.joined(separator: ", "))"
            collector.error("unknown-parameter", path, "\(text) names a parameter that is not declared (\(known)).")
        case let .execution(name):
            guard let variable = ExecutionVariable(rawValue: name) else {
                let known = ExecutionVariable.allCases.map(\.rawValue).joined(separator: ", ")
                collector.error("unknown-execution-variable", path, "\(text) names no execution variable; they are \(known).")
                return
            }
            let owner: StepType? = switch variable {
            case .processingJobName: .processing
            case .trainingJobName: .training
            default: nil
            }
            if let owner, entry?.step.type != owner {
                let place = entry.map { "'\($0.step.name)' is a \($0.step.typeName) step" } ?? "this is outside every step"
                collector.error("invalid-reference", path, "\(text) is only defined inside a \(owner.rawValue) step, and \(place).")
            }
        case let .experimentConfig(name):
            if name != "ExperimentName" && name != "TrialName" {
                collector.error("invalid-reference", path, "\(text) names neither PipelineExperimentConfig.ExperimentName nor .TrialName.")
            }
        case let .step(name, segments):
            guard let target = indexByName[name] else {
                collector.error("unknown-step", path, "\(text) names step '\(name)', which does not exist.")
                return
            }
            if let index { edges.insert(.init(from: target, to: index, kind: .data)) }
            let producer = entries[target].step
            if segments.first == .member("PropertyFiles") {
                if path.lastComponent != .key("PropertyFile") {
                    collector.error("invalid-reference", path, "\(text) reads a property file; property files are read only through Std:JsonGet.")
                }
                return
            }
            checkProperty(segments, of: producer, text: text, at: path)
        }
    }

    private func checkProperty(_ segments: [PropertyPath.Segment], of producer: Step, text: String, at path: JSONPath) {
        guard let type = producer.type else { return }
        if type == .fail {
            collector.error("unknown-property", path, "\(text) reads step '\(producer.name)', a Fail step, which has no properties.")
            return
        }
        if let mismatch = PropertyShape.of(type).firstMismatch(segments) {
            let shown = mismatch.hasPrefix(".") ? String(mismatch.dropFirst()) : mismatch
            collector.error(
                "unknown-property", path,
                "\(text) reads '\(shown)', which a \(type.rawValue) step does not expose."
            )
            return
        }
        // Named list elements and Lambda outputs must be ones the producer declares.
        let declared: (kind: String, names: [String])? = switch (type, segments.first, segments.dropFirst().first) {
        case (.lambda, .member("OutputParameters"), .key):
            ("output", (producer.outputParameters ?? []).map(\.name))
        case (.processing, .member("ProcessingOutputConfig"), _) where segments.count > 2:
            ("output", processingArguments(producer)?.processingOutputConfig?.outputs?.compactMap(\.outputName) ?? [])
        case (.processing, .member("ProcessingInputs"), .key):
            ("input", processingArguments(producer)?.processingInputs?.compactMap(\.inputName) ?? [])
        default: nil
        }
        let key: String? = switch (segments.first, segments.dropFirst().first, segments.dropFirst(2).first) {
        case (.member("ProcessingOutputConfig"), .member("Outputs"), let .key(name)?): name
        case (.member("ProcessingOutputConfig"), _, _): nil
        case (_, let .key(name)?, _): name
        default: nil
        }
        if let declared, let key, !declared.names.contains(key) {
            let known = declared.names.isEmpty ? "it declares none" : "declared: \(declared.names.joined(separator: ", "))"
            collector.error(
                "unknown-property", path,
                "\(text) reads \(declared.kind) '\(key)' of step '\(producer.name)', which does not declare it (\(known))."
            )
        }
    }

    private func processingArguments(_ step: Step) -> ProcessingArguments? {
        if case let .processing(arguments)? = step.arguments { return arguments }
        return nil
    }

    /// Paths already found well formed; fan-outs repeat the same few many times.
    private var checkedJsonPaths = Set<String>()

    private func checkJsonGet(_ jsonGet: JsonGet, at path: JSONPath) {
        if checkedJsonPaths.contains(jsonGet.path) {
            // Well formed: nothing to report.
        } else if case let .failure(error) = PropertyPath.parseJsonPath(jsonGet.path) {
            collector.error("invalid-json-path", path.key("Path"), "Std:JsonGet path '\(jsonGet.path)' cannot be read: \(error.reason).")
        } else {
            checkedJsonPaths.insert(jsonGet.path)
        }
        guard case let .propertyFile(reference) = jsonGet.source else { return }
        let filePath = path.key("PropertyFile")
        guard case let .step(name, segments) = reference.target,
              segments.count == 2, segments[0] == .member("PropertyFiles"), case let .member(fileName) = segments[1]
        else {
            collector.error(
                "invalid-reference", filePath,
                "Std:JsonGet's PropertyFile must be a Get of 'Steps.<step>.PropertyFiles.<name>', not '\(reference.text)'."
            )
            return
        }
        guard let target = indexByName[name] else { return } // reported as unknown-step
        let producer = entries[target].step
        // A Shoal:Map step's gathered results are its one property file, `Results`.
        let declared = producer.type == .shoalMap ? ["Results"] : (producer.propertyFiles ?? []).map(\.name)
        guard !declared.contains(fileName) else { return }
        let known = declared.isEmpty ? "which declares no property files" : "which declares only \(declared.map { "'\($0)'" }.joined(separator: ", "))"
        collector.error(
            "unknown-property-file", filePath,
            "Std:JsonGet reads property file '\(fileName)' of step '\(name)', \(known)."
        )
    }

    private func checkDependsOn(of entry: Entry, at index: Int) {
        for (position, name) in (entry.step.dependsOn ?? []).enumerated() {
            let path = entry.path.key("DependsOn").index(position)
            guard let target = indexByName[name] else {
                collector.error("unknown-step", path, "Step '\(entry.step.name)' depends on '\(name)', which is not a step of this pipeline.")
                continue
            }
            switch entries[target].step.type {
            case .condition?:
                collector.error(
                    "invalid-dependency", path,
                    "Step '\(entry.step.name)' depends on condition step '\(name)'; depend on a step inside its branches instead."
                )
            case .fail?:
                collector.error("invalid-dependency", path, "Step '\(entry.step.name)' depends on Fail step '\(name)', which never succeeds.")
            default:
                break
            }
            edges.insert(.init(from: target, to: index, kind: .dependsOn))
        }
    }
}

/// "'a'", "'a' and 'b'", "'a', 'b' and 'c'".
func listed(_ items: [String]) -> String {
    guard items.count > 1 else { return items.first ?? "" }
    return items.dropLast().joined(separator: ", ") + " and " + items.last!
}
