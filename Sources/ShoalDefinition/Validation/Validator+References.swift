import Foundation

/// References (`Get`, `Std:JsonGet`, property paths) and `DependsOn`: each
/// names a step that exists, a property its type exposes, a file it declares.
extension Validator {
    /// Checks every function the reader noted in the step's own content (for a
    /// Condition step only its Conditions, spec §5.1) and adds its data edges.
    func checkFunctions(_ sites: [FunctionIndex.Site], in entry: Entry?, index: Int?) {
        for site in sites {
            switch site.function {
            case let .get(reference): checkReference(reference, at: site.path, in: entry, index: index)
            case let .jsonGet(jsonGet): checkJsonGet(jsonGet, at: site.path.key("Std:JsonGet"))
            }
        }
    }

    func checkReference(_ reference: Reference, at path: JSONPath, in entry: Entry?, index: Int?) {
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

    func checkProperty(_ segments: [PropertyPath.Segment], of producer: Step, text: String, at path: JSONPath) {
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

    func processingArguments(_ step: Step) -> ProcessingArguments? {
        if case let .processing(arguments)? = step.arguments { return arguments }
        return nil
    }

    func checkJsonGet(_ jsonGet: JsonGet, at path: JSONPath) {
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

    func checkDependsOn(of entry: Entry, at index: Int) {
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
