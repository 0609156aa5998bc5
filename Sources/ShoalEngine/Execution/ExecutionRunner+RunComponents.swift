import Foundation
import ShoalCluster
import ShoalDefinition
import ShoalRuntime
import ShoalStore

/// Experiments' run components: what each instance ran with and produced, and
/// the metrics of its property files. A view of the run: recording one never fails a step.
extension ExecutionRunner {
    func recordComponent(
        _ index: Int, instance: Int, status: InstanceStatus, started: Date?, parameters: OrderedFields<JSONValue>,
        inputs: [String], outputs: [String], metrics: [(name: String, value: Double)]
    ) {
        var component = TrialComponentRecord(
            executionId: executionId, stepName: steps[index].node.name, instance: instance, status: status,
            parameters: JSONWriter.string(.object(parameters)), inputs: JSONWriter.string(.array(inputs.map(JSONValue.string))),
            outputs: JSONWriter.string(.array(outputs.map(JSONValue.string)))
        )
        component.experimentName = record.experimentName
        component.trialName = record.trialName
        component.startedAt = started
        component.endedAt = Date()
        // Experiments are a view of the run; failing to record one never fails the step.
        if (try? home.metadata.record(&component, metrics: metrics)) != nil, let id = component.id {
            steps[index].componentIds[instance] = id
        }
    }

    func recordProcessingComponent(_ index: Int, host: Int, outcome: InstanceOutcome, started: Date?) {
        guard let plan = steps[index].plan else { return }
        var parameters = OrderedFields<JSONValue>()
        for key in ["ProcessingResources", "AppSpecification", "Environment", "NetworkConfig", "Tags"] { parameters[key] = plan.request[key] }
        let inputs: [String]
        if case let .array(items)? = plan.request["ProcessingInputs"] {
            inputs = items.compactMap { JSONNavigation.follow([.member("S3Input"), .member("S3Uri")], in: $0).map(ValueRendering.string) }
        } else {
            inputs = []
        }
        let metrics = outcome.metricsJSON.flatMap { try? JSONParser.parse($0) }.map { MetricFlattening.metrics(in: $0) } ?? []
        // Lineage names the objects this host wrote, or the prefix when there are very many.
        var outputs: [String] = []
        for output in plan.outputs {
            let files = outcome.outputs.first { $0.name == output.name }?.files ?? []
            if files.count > 1000 {
                outputs.append(output.uri.description)
            } else {
                outputs += files.compactMap { try? output.uri.appending($0).description }
            }
        }
        recordComponent(
            index, instance: host, status: outcome.status == .completed ? .completed : .failed, started: started, parameters: parameters,
            inputs: inputs, outputs: outputs, metrics: metrics
        )
    }

    /// Numbers in the step's property files become metrics of the instances that wrote them.
    func recordPropertyFileMetrics(_ index: Int) {
        let run = steps[index]
        guard let plan = run.plan else { return }
        for file in run.step?.propertyFiles ?? [] {
            guard let output = plan.outputs.first(where: { $0.name == file.outputName }),
                  let uri = try? output.uri.appending(file.filePath),
                  let data = try? home.objects.read(uri, maxBytes: ExecutionScope.maxPropertyFileBytes),
                  let document = try? JSONParser.parse(data)
            else { continue }
            let metrics = MetricFlattening.metrics(in: document)
            for (host, outcome) in run.completed where outcome.outputs.contains(where: { $0.name == file.outputName && $0.files.contains(file.filePath) }) {
                if let id = run.componentIds[host] { try? home.metadata.addMetrics(metrics, toComponent: id) }
            }
        }
    }
}
