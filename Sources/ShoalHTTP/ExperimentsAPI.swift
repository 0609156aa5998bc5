import AWSSignature
import Foundation
import ShoalDefinition
import ShoalEngine
import ShoalStore

/// SageMaker's experiment reads over Shoal's records: experiments are the
/// pipelines' experiment names, trials their executions, trial components the
/// step instances' run components. What the SDK's ExperimentAnalytics reads
/// (Search over ExperimentTrialComponent), and the List/Describe calls.
struct ExperimentsAPI: Sendable {
    typealias Object = [String: Any]
    let home: ShoalHome

    static let operations: Set<String> = [
        "ListExperiments", "DescribeExperiment", "ListTrials", "ListTrialComponents", "DescribeTrialComponent", "Search",
    ]

    func handle(_ operation: String, _ input: Object) throws -> Object {
        switch operation {
        case "ListExperiments":
            let (slice, next) = try Page(input).cut(try home.metadata.experiments())
            return paged(["ExperimentSummaries": slice.map { experiment -> Object in
                ["ExperimentName": experiment.name, "ExperimentArn": Self.arn("experiment", experiment.name), "DisplayName": experiment.name,
                 "CreationTime": experiment.lastStarted.timeIntervalSince1970, "LastModifiedTime": experiment.lastStarted.timeIntervalSince1970]
            }], next)
        case "DescribeExperiment":
            let name = try Self.required("ExperimentName", input)
            guard let experiment = try home.metadata.experiments().first(where: { $0.name == name }) else {
                throw AWSError.notFound("Experiment '\(name)' does not exist.")
            }
            return ["ExperimentName": name, "ExperimentArn": Self.arn("experiment", name), "DisplayName": name,
                    "CreationTime": experiment.lastStarted.timeIntervalSince1970, "LastModifiedTime": experiment.lastStarted.timeIntervalSince1970]
        case "ListTrials":
            let page = try Page(input)
            let (rows, total) = try home.metadata.trialRows(experiment: input["ExperimentName"] as? String, offset: page.offset, limit: page.size)
            return paged(["TrialSummaries": rows.map { row -> Object in
                ["TrialName": row.name, "TrialArn": Self.arn("experiment-trial", row.name), "DisplayName": row.name,
                 "CreationTime": row.startedAt.timeIntervalSince1970, "LastModifiedTime": (row.endedAt ?? row.startedAt).timeIntervalSince1970]
            }], page.offset + rows.count < total ? String(page.offset + rows.count) : nil)
        case "ListTrialComponents":
            let filter = MetadataStore.ComponentFilter(experiment: input["ExperimentName"] as? String, trial: input["TrialName"] as? String)
            if filter.experiment != nil && filter.trial != nil { throw AWSError.validation("Give ExperimentName or TrialName, not both.") }
            if input["SourceArn"] != nil { throw AWSError.validation("Shoal lists trial components by ExperimentName or TrialName, not by SourceArn.") }
            let page = try Page(input)
            let (components, total) = try home.metadata.components(matching: filter, offset: page.offset, limit: page.size,
                                                                   newestFirst: input["SortOrder"] as? String != "Ascending")
            return paged(["TrialComponentSummaries": components.map { entry -> Object in
                var summary = Self.component(entry.component, metrics: [])
                for key in ["Parameters", "InputArtifacts", "OutputArtifacts", "Metrics", "Parents"] { summary[key] = nil }
                return summary
            }], page.offset + components.count < total ? String(page.offset + components.count) : nil)
        case "DescribeTrialComponent":
            let name = try Self.required("TrialComponentName", input)
            guard let id = Self.componentId(name),
                  let entry = try home.metadata.components(matching: .init(ids: [id]), offset: 0, limit: 1).components.first,
                  Self.name(entry.component) == name
            else { throw AWSError.notFound("Trial component '\(name.prefix(128))' does not exist.") }
            var described = Self.component(entry.component, metrics: entry.metrics)
            described["Parents"] = nil
            return described
        case "Search":
            return try search(input)
        default:
            throw AWSError(code: "UnknownOperationException", status: 400, message: "Shoal does not implement SageMaker.\(operation) yet.")
        }
    }

    /// Search over trial components, with the filters ExperimentAnalytics and
    /// people write: equality on the parents' names or the component's name.
    private func search(_ input: Object) throws -> Object {
        guard input["Resource"] as? String == "ExperimentTrialComponent" else {
            throw AWSError.validation("Shoal searches Resource ExperimentTrialComponent only, not '\(String(describing: input["Resource"] ?? "nothing").prefix(64))'.")
        }
        var filter = MetadataStore.ComponentFilter()
        let expression = input["SearchExpression"] as? Object ?? [:]
        for key in expression.keys where key != "Filters" {
            throw AWSError.validation("SearchExpression.\(key) is not supported by Shoal; use Filters with Equals.")
        }
        for (index, item) in (expression["Filters"] as? [Object] ?? []).enumerated() {
            let name = item["Name"] as? String ?? "", value = item["Value"] as? String ?? ""
            let operation = item["Operator"] as? String ?? "Equals"
            guard operation == "Equals" else {
                throw AWSError.validation("SearchExpression.Filters[\(index)]: operator '\(operation.prefix(32))' is not supported by Shoal; it matches with Equals.")
            }
            switch name {
            case "Parents.ExperimentName": filter.experiment = value
            case "Parents.TrialName": filter.trial = value
            case "TrialComponentName": filter.ids = [Self.componentId(value) ?? -1]
            default:
                throw AWSError.validation("SearchExpression.Filters[\(index)]: Shoal filters on Parents.ExperimentName, Parents.TrialName and TrialComponentName, not '\(name.prefix(64))'.")
            }
        }
        let page = try Page(input)
        let (components, total) = try home.metadata.components(matching: filter, offset: page.offset, limit: page.size,
                                                               newestFirst: input["SortOrder"] as? String != "Ascending")
        return paged(["Results": components.map { ["TrialComponent": Self.component($0.component, metrics: $0.metrics)] }],
                     page.offset + components.count < total ? String(page.offset + components.count) : nil)
    }

    private func paged(_ output: Object, _ next: String?) -> Object {
        var output = output
        if let next { output["NextToken"] = next }
        return output
    }

    static func required(_ key: String, _ input: Object) throws -> String {
        guard let value = input[key] as? String, !value.isEmpty else { throw AWSError.validation("\(key) is required.") }
        return value
    }

    static func arn(_ kind: String, _ name: String) -> String {
        "arn:aws:sagemaker:\(Identifiers.region):\(Identifiers.account):\(kind)/\(name.lowercased())"
    }

    /// `<execution>-<step>-algo-<n>-c<id>`: readable, and the record's id after the last `-c`.
    static func name(_ component: TrialComponentRecord) -> String {
        let step = String(component.stepName.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "-" }.prefix(64))
        return "\(component.executionId)-\(step)-algo-\(component.instance)-c\(component.id ?? 0)"
    }

    static func componentId(_ name: String) -> Int64? {
        name.range(of: "-c", options: .backwards).flatMap { Int64(name[$0.upperBound...]) }
    }

    /// The TrialComponent shape Search and DescribeTrialComponent return.
    static func component(_ component: TrialComponentRecord, metrics: [MetricRecord]) -> Object {
        let name = name(component)
        let status = switch component.status {
        case .completed: "Completed"
        case .inProgress: "InProgress"
        case .stopped: "Stopped"
        case .failed, .lost, .interrupted: "Failed"
        }
        var object: Object = [
            "TrialComponentName": name, "TrialComponentArn": arn("experiment-trial-component", name),
            "DisplayName": "\(component.stepName) algo-\(component.instance)", "Status": ["PrimaryStatus": status],
        ]
        if let started = component.startedAt {
            object["StartTime"] = started.timeIntervalSince1970
            object["CreationTime"] = started.timeIntervalSince1970
        }
        if let ended = component.endedAt {
            object["EndTime"] = ended.timeIntervalSince1970
            object["LastModifiedTime"] = ended.timeIntervalSince1970
        }
        var parameters: Object = [:]
        if case let .object(fields)? = try? JSONParser.parse(component.parameters) {
            for (key, value) in fields.entries {
                switch value {
                case let .number(number): parameters[key] = ["NumberValue": number.doubleValue]
                case let .string(text): parameters[key] = ["StringValue": String(text.prefix(2500))]
                default: parameters[key] = ["StringValue": String(JSONWriter.string(value).prefix(2500))]
                }
            }
        }
        object["Parameters"] = parameters
        func artifacts(_ text: String, _ prefix: String) -> Object {
            let uris = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String] ?? []
            return Dictionary(uniqueKeysWithValues: uris.prefix(60).enumerated().map { ("\(prefix)-\($0.offset + 1)", ["Value": $0.element] as Object) })
        }
        object["InputArtifacts"] = artifacts(component.inputs, "input")
        object["OutputArtifacts"] = artifacts(component.outputs, "output")
        // Shoal keeps one value per metric and component: each summary is that value.
        object["Metrics"] = metrics.map { metric -> Object in
            ["MetricName": metric.name, "Last": metric.value, "Max": metric.value, "Min": metric.value, "Avg": metric.value, "StdDev": 0, "Count": 1,
             "TimeStamp": (component.endedAt ?? component.startedAt ?? Date(timeIntervalSince1970: 0)).timeIntervalSince1970]
        }
        if let trial = component.trialName, let experiment = component.experimentName {
            object["Parents"] = [["TrialName": trial, "ExperimentName": experiment]]
        }
        return object
    }
}
