import Foundation
import ShoalCluster
import ShoalDefinition
import ShoalStore

/// A Shoal:Map step's fan-out (spec/shoal-map.md): the items, what runs for
/// each, and the results gathered in item order.
final class MapRun {
    enum Work {
        /// The invocation every batch makes, without its events.
        case function(LambdaInvocation, outputs: [OutputParameter])
        case pipeline(definition: PipelineDefinition, graph: PipelineGraph, name: String, version: Int?)
    }

    let arguments: MapArguments
    let work: Work
    let items: [JSONValue]
    let maxConcurrency: Int
    let tolerated: Int
    let resultsURI: S3URI
    /// Evaluated once in the parent: extra event fields or child parameters.
    let extra: OrderedFields<JSONValue>
    var next = 0
    /// Items (function mode) or children (pipeline mode) under way.
    var running = 0
    /// Function mode sends items in batches, so a fast handler is not held back by one round trip per item.
    let batchSize: Int
    var results: [JSONValue?]
    var children: [Int: ExecutionRunner] = [:]
    /// Items whose child a resumed fan-out took back: they do not start again.
    var adopted: Set<Int> = []
    var succeeded = 0
    var failed = 0
    /// Items ended at the last progress report, so a report goes out only on change.
    var reported = 0
    /// When the counts were last saved to the step's record: at most a few times a second.
    var savedAt = Date.distantPast

    init(arguments: MapArguments, work: Work, items: [JSONValue], maxConcurrency: Int, tolerated: Int, resultsURI: S3URI, extra: OrderedFields<JSONValue>) {
        self.arguments = arguments
        self.work = work
        self.items = items
        self.maxConcurrency = maxConcurrency
        self.tolerated = tolerated
        self.resultsURI = resultsURI
        self.extra = extra
        results = Array(repeating: nil, count: items.count)
        if case .function = work {
            batchSize = max(1, min(MapRun.maxBatch, items.count / max(1, maxConcurrency * 4)))
        } else {
            batchSize = 1
        }
    }

    static let maxBatch = 500

    var isDone: Bool { next == items.count && running == 0 }
}

extension ExecutionRunner {
    static let defaultMapConcurrency = 16

    func startMap(_ index: Int, step: Step, arguments expression: Expression, evaluator: Evaluator) throws {
        let (arguments, problems) = MapArguments.read(expression)
        if let problem = problems.first { throw EvaluationError("Shoal:Map: \(problem.message).") }
        let items = try mapItems(arguments, evaluator: evaluator)
        func integer(_ value: Expression?, _ name: String, default fallback: Int) throws -> Int {
            guard let value else { return fallback }
            return try ValueRendering.integer(try evaluator.evaluate(value), name)
        }
        let maxConcurrency = max(1, try integer(arguments.maxConcurrency, "MaxConcurrency", default: Self.defaultMapConcurrency))
        var tolerated = try integer(arguments.toleratedFailureCount, "ToleratedFailureCount", default: 0)
        if let percentage = arguments.toleratedFailurePercentage {
            tolerated = max(tolerated, try integer(percentage, "ToleratedFailurePercentage", default: 0) * items.count / 100)
        }
        var extra = OrderedFields<JSONValue>()
        for (key, value) in arguments.parameters.entries { extra[key] = try evaluator.evaluate(value) }
        let resultsText = try arguments.resultsS3Uri.map { ValueRendering.string(try evaluator.evaluate($0)) }
            ?? "s3://shoal-results/\(options.pipelineName)/\(executionId)/\(step.name)/results.json"
        let resultsURI: S3URI
        do { resultsURI = try S3URI(resultsText) } catch { throw EvaluationError("ResultsS3Uri: \(error)") }

        let work: MapRun.Work
        // What the work is, for the cache key: the function as registered, or the child pipeline's digest.
        let workKey: JSONValue
        switch arguments.work {
        case let .function(arnExpression, outputs)?:
            let arn = ValueRendering.string(try evaluator.evaluate(arnExpression))
            let name = arn.split(separator: ":").last.map(String.init) ?? arn
            guard let function = try home.metadata.function(named: name) else {
                throw EvaluationError("Function '\(name)' (from FunctionArn '\(arn)') is not registered; add it with shoal functions create --name \(name).")
            }
            workKey = .object(StepCache.functionKey(function, outputs: outputs))
            var request = PolicyRequest(action: "shoal:InvokeFunction")
            request.set("shoal:FunctionName", function.name)
            try authorizeJob(&request, step: step)
            var invocation = try LambdaInvocation(calling: function, events: [])
            invocation.environment = try handlerEnvironment()
            work = .function(invocation, outputs: outputs)
        case let .pipeline(nameExpression, versionExpression)?:
            let name = ValueRendering.string(try evaluator.evaluate(nameExpression))
            let version = try versionExpression.map { try ValueRendering.integer(try evaluator.evaluate($0), "Pipeline.Version") }
            let record: PipelineVersionRecord
            do { record = try home.metadata.pipelineVersion(name, version: version) } catch {
                throw EvaluationError("The child pipeline cannot be run: \(error)")
            }
            let (definition, graph) = try childPipeline(DefinitionCheck.check(data: Data(record.definition.utf8)), what: "pipeline '\(name)' version \(record.version)")
            work = .pipeline(definition: definition, graph: graph, name: name, version: record.version)
            workKey = .object(["Pipeline": .string(name), "Version": .number(.int(record.version)), "Digest": .string(record.digest)])
        case let .definition(json)?:
            let (definition, graph) = try childPipeline(DefinitionCheck.check(json: json), what: "the inline child definition")
            work = .pipeline(definition: definition, graph: graph, name: "\(options.pipelineName)-\(step.name)", version: nil)
            workKey = .object(["Definition": json])
        case nil:
            throw EvaluationError("Shoal:Map has no work: give Function, Pipeline or Definition.")
        }
        let key: JSONValue = .object([
            "Items": .array(items), "Work": workKey, "Parameters": .object(extra), "ResultsS3Uri": .string(resultsURI.description),
            "Gathered": .array(arguments.outputs.map { .string([$0.name, $0.property ?? "", $0.propertyFile ?? "", $0.path ?? ""].joined(separator: "|")) }),
            "ToleratedFailures": .number(.int(tolerated)),
        ])
        // Items listed from a prefix are objects: their versions are part of the key.
        let itemFiles = arguments.itemsFromS3Prefix == nil ? [] : items.compactMap { item -> String? in
            guard case let .string(text) = item, let uri = try? S3URI(text) else { return nil }
            return home.objects.path(of: uri)
        }
        if try reuseCachedRun(index, step: step, type: "Shoal:Map", arguments: key, inputFiles: itemFiles) { return }
        steps[index].map = MapRun(
            arguments: arguments, work: work, items: items, maxConcurrency: maxConcurrency, tolerated: tolerated,
            resultsURI: resultsURI, extra: extra
        )
        if adoptsChildren {
            try adoptChildren(index)
            try adoptReplies(index)
        }
        try save(index)
        progress(.instances(step: step.name, done: 0, total: items.count))
    }

    private func childPipeline(_ check: DefinitionCheck, what: String) throws -> (PipelineDefinition, PipelineGraph) {
        guard check.isValid, let definition = check.definition, let graph = check.graph else {
            throw EvaluationError("The child pipeline is not valid (\(what)): " + check.errors.prefix(3).map(\.description).joined(separator: "; "))
        }
        return (definition, graph)
    }

    /// Items: a list, a JSON list in a string (a parameter), or the object URIs under a prefix.
    private func mapItems(_ arguments: MapArguments, evaluator: Evaluator) throws -> [JSONValue] {
        var items: [JSONValue]
        if let prefix = arguments.itemsFromS3Prefix {
            let text = ValueRendering.string(try evaluator.evaluate(prefix))
            do {
                items = try home.objects.list(prefix: try S3URI(text), limit: Limits.maxMapItems).map { .string($0.uri.description) }
            } catch {
                throw EvaluationError("ItemsFromS3Prefix: \(error)")
            }
        } else {
            var value = try evaluator.evaluate(arguments.items ?? .array([]))
            if case let .string(text) = value, let parsed = try? JSONParser.parse(text) { value = parsed }
            guard case let .array(list) = value else {
                throw EvaluationError("Items resolved to \(value.kindDescription) (\(JSONWriter.string(value).prefix(80))), not a list.")
            }
            items = list
        }
        guard items.count <= Limits.maxMapItems else {
            throw EvaluationError("Items holds \(items.count) items; a Shoal:Map step takes at most \(Limits.maxMapItems).")
        }
        return items
    }

    /// Starts work up to the concurrency limit, moves child executions along,
    /// and ends the step when every item has ended.
    func advanceMap(_ index: Int) throws {
        guard let map = steps[index].map else { return }
        for (item, child) in map.children {
            try child.advance()
            guard child.isFinished else { continue }
            let record = try child.finish()
            map.children[item] = nil
            map.running -= 1
            take(child, record, item: item, into: map)
        }
        // MaxConcurrency counts items; a batch of function items counts as its size.
        while map.running < map.maxConcurrency * map.batchSize && map.next < map.items.count && state.statuses[index] == .executing {
            if map.adopted.contains(map.next) {
                map.next += 1
                continue
            }
            let first = map.next
            var count = 0
            while count < map.batchSize && first + count < map.items.count && !map.adopted.contains(first + count) { count += 1 }
            map.next += count
            map.running += count
            try startItems(index, map: map, first: first, count: count)
        }
        let done = map.succeeded + map.failed
        if done != map.reported {
            map.reported = done
            progress(.instances(step: steps[index].node.name, done: done, total: map.items.count))
            if map.isDone || Date().timeIntervalSince(map.savedAt) >= 0.2 {
                map.savedAt = Date()
                try save(index)
            }
        }
        if map.isDone && state.statuses[index] == .executing { try finishMap(index, map: map) }
    }

    /// An ended child's result, entered as its item's.
    private func take(_ child: ExecutionRunner, _ record: ExecutionRecord, item: Int, into map: MapRun) {
        let (outputs, errors) = child.gather(map.arguments.outputs)
        var entry: OrderedFields<JSONValue> = [
            "index": .number(.int(item)), "item": map.items[item], "status": .string(record.status.rawValue), "executionId": .string(record.id),
            "outputs": .object(outputs),
        ]
        if !errors.isEmpty { entry["outputErrors"] = .object(errors) }
        if let reason = record.failureReason { entry["failureReason"] = .string(reason) }
        record.status == .succeeded ? (map.succeeded += 1) : (map.failed += 1)
        map.results[item] = .object(entry)
    }

    /// A resumed fan-out takes back the children the run it carries on had
    /// started: one that ended gives its result as it ended, one left running
    /// is carried on (its ended steps kept); items without a child start as
    /// usual. Function items are sent again: their replies were held only in
    /// the dead owner's memory, so a handler may see an item twice.
    private func adoptChildren(_ index: Int) throws {
        guard let map = steps[index].map, case .pipeline = map.work, let since = steps[index].resumedFrom else { return }
        let name = steps[index].node.name
        var newest: [Int: ExecutionRecord] = [:]
        // Newest first: an item started twice (a child that could not be recorded whole) keeps its last child.
        for child in try home.metadata.executions(parent: executionId) where child.parentStepName == name && child.startedAt >= since {
            guard let item = child.parentItem, map.items.indices.contains(item), newest[item] == nil else { continue }
            newest[item] = child
        }
        for (item, record) in newest.sorted(by: { $0.key < $1.key }) {
            if !record.status.isRunning {
                take(try endedChild(record), record, item: item, into: map)
            } else {
                map.children[item] = try resumingChild(record)
                map.running += 1
            }
            map.adopted.insert(item)
        }
    }

    /// A resumed fan-out of function items takes back the replies its
    /// batches had recorded; only the items without one are sent again.
    private func adoptReplies(_ index: Int) throws {
        guard let map = steps[index].map, case .function = map.work, let since = steps[index].resumedFrom else { return }
        for record in try home.metadata.instances(executionId: executionId, stepName: steps[index].node.name)
        where record.instanceType == "lambda" && (record.startedAt ?? .distantPast) >= since {
            guard let text = record.outcome, let batch = try? JSONDecoder().decode(MapBatchReplies.self, from: Data(text.utf8)) else { continue }
            let items = (batch.first..<batch.first + batch.replies.count).filter { map.items.indices.contains($0) }
            guard items.allSatisfy({ !map.adopted.contains($0) }) else { continue }
            take(batch.replies, first: batch.first, into: map)
            map.adopted.formUnion(items)
        }
    }

    private func startItems(_ index: Int, map: MapRun, first: Int, count: Int) throws {
        switch map.work {
        case .function(var invocation, _):
            invocation.events = (first..<first + count).map { item in
                var event = map.extra
                event["item"] = map.items[item]
                event["index"] = .number(.int(item))
                return JSONWriter.string(.object(event))
            }
            try submit(index, instance: first / map.batchSize + 1, task: .lambda(invocation), owner: .mapBatch(first: first))
        case let .pipeline(definition, graph, name, version):
            let item = first
            let rendered: (JSONValue) -> String = { if case let .string(text) = $0 { text } else { JSONWriter.string($0) } }
            var given: [(name: String, value: String)] = [(map.arguments.itemParameter, rendered(map.items[item])), (map.arguments.indexParameter, String(item))]
            given += map.extra.entries.map { ($0.key, rendered($0.value)) }
            var childOptions = Options(pipelineName: name)
            childOptions.pipelineVersion = version
            childOptions.parentExecutionId = executionId
            childOptions.parentStepName = steps[index].node.name
            childOptions.parentItem = item
            childOptions.tags = options.tags
            childOptions.policy = options.policy
            childOptions.maxAttempts = options.maxAttempts
            childOptions.maxLogBytes = options.maxLogBytes
            childOptions.failWhenNoWorkerFits = options.failWhenNoWorkerFits
            childOptions.endpointURL = options.endpointURL
            childOptions.endpointCABundle = options.endpointCABundle
            childOptions.owner = options.owner
            do {
                childOptions.parameters = try ParameterResolution.resolve(definition, given: given)
                let child = ExecutionRunner(definition: definition, graph: graph, home: home, dispatcher: dispatcher, options: childOptions)
                try child.begin()
                map.children[item] = child
            } catch {
                // The item fails; the fan-out goes on (its tolerance decides the step).
                map.running -= 1
                map.failed += 1
                map.results[item] = .object([
                    "index": .number(.int(item)), "item": map.items[item], "status": .string(ExecutionStatus.failed.rawValue), "failureReason": .string("\(error)"), "outputs": .object([:]),
                ])
            }
        }
    }

    func finishMapBatch(_ index: Int, first: Int, replies: [LambdaReply]) throws {
        guard let map = steps[index].map else { return }
        map.running -= replies.indices.filter { first + $0 < map.items.count }.count
        take(replies, first: first, into: map)
        try advanceMap(index)
    }

    /// A batch's replies, entered as its items' results.
    private func take(_ replies: [LambdaReply], first: Int, into map: MapRun) {
        guard case let .function(_, declared) = map.work else { return }
        for (offset, reply) in replies.enumerated() where first + offset < map.items.count {
            let item = first + offset
            var entry: OrderedFields<JSONValue> = ["index": .number(.int(item)), "item": map.items[item]]
            do {
                if let error = reply.error { throw EvaluationError(error) }
                let value = try JSONParser.parse(reply.result ?? "null")
                // Without declared outputs the whole returned value is kept.
                entry["outputs"] = declared.isEmpty ? value : .object(try LambdaOutputs.cast(result: value, declared: declared))
                entry["status"] = .string(ExecutionStatus.succeeded.rawValue)
                map.succeeded += 1
            } catch {
                entry["status"] = .string(ExecutionStatus.failed.rawValue)
                entry["failureReason"] = .string("\(error)")
                map.failed += 1
            }
            map.results[item] = .object(entry)
        }
    }

    private func finishMap(_ index: Int, map: MapRun) throws {
        let document: JSONValue = [
            "results": .array(map.results.map { $0 ?? .null }),
            "succeeded": .number(.int(map.succeeded)), "failed": .number(.int(map.failed)), "total": .number(.int(map.items.count)),
        ]
        do {
            try home.objects.write(Data(JSONWriter.string(document).utf8), to: map.resultsURI)
        } catch {
            return try end(index, .failed, reason: "the gathered results cannot be written to \(map.resultsURI): \(error)")
        }
        let properties: JSONValue = [
            "ResultsS3Uri": .string(map.resultsURI.description), "ItemCount": .number(.int(map.items.count)),
            "Succeeded": .number(.int(map.succeeded)), "Failed": .number(.int(map.failed)),
        ]
        steps[index].properties = properties
        if map.failed <= map.tolerated, let key = steps[index].cacheKey {
            try stepCache.record(step: steps[index].node.name, key: key, executionId: executionId, properties: properties, outputs: [map.resultsURI])
        }
        if map.failed > map.tolerated {
            try end(index, .failed, reason: "\(map.failed) of \(map.items.count) items failed; at most \(map.tolerated) may (results in \(map.resultsURI))")
        } else {
            try end(index, .succeeded, reason: nil, detail: "\(map.succeeded) of \(map.items.count) items succeeded")
        }
    }

    /// Values a finished child execution offers its parent: named step properties
    /// and property-file values. A value that cannot be read is null, with the reason.
    func gather(_ outputs: [MapArguments.Output]) -> (OrderedFields<JSONValue>, OrderedFields<JSONValue>) {
        let evaluator = Evaluator(scope: scope(for: nil))
        var values = OrderedFields<JSONValue>()
        var errors = OrderedFields<JSONValue>()
        for output in outputs {
            do {
                if let property = output.property {
                    values[output.name] = try evaluator.resolve(Reference(property))
                } else if let file = output.propertyFile {
                    values[output.name] = try evaluator.evaluate(.jsonGet(JsonGet(source: .propertyFile(Reference(file)), path: output.path ?? "")))
                }
            } catch {
                values[output.name] = .null
                errors[output.name] = .string(error.message)
            }
        }
        return (values, errors)
    }
}

/// What a function fan-out's batch replied, kept with its attempt so that a
/// resumed fan-out does not send those items again.
struct MapBatchReplies: Codable {
    let first: Int
    let replies: [LambdaReply]

    var json: String? { (try? JSONEncoder().encode(self)).map { String(decoding: $0, as: UTF8.self) } }
}
