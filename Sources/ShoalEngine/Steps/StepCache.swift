import Foundation
import ShoalDefinition
import ShoalStore

/// Step caching (`CacheConfig`), as SageMaker documents it: a successful
/// earlier run of the same step of the same pipeline with the same arguments,
/// within `ExpireAfter`, is reused. Past SageMaker, which keys inputs by their
/// URI alone: the key also holds the version of every input object, so new
/// data at the same URI is a miss; and a hit whose outputs were since deleted
/// or replaced in the store is a miss too.
struct StepCache {
    let metadata: MetadataStore
    let objects: ObjectStore
    let pipelineName: String

    struct Key: Equatable {
        let arguments: String
        let inputs: String
    }

    enum Lookup {
        case hit(StepCacheEntry, properties: JSONValue)
        case miss(String)
    }

    /// What SageMaker keys a processing step by; its outputs, resources,
    /// stopping condition and network are left out, so changing them still hits.
    static let processingAttributes = ["AppSpecification", "Environment", "ProcessingInputs"]
    /// What keys a training step: what it runs, with what, on what; its output
    /// path, resources and stopping condition are left out, as for processing.
    static let trainingAttributes = ["AlgorithmSpecification", "HyperParameters", "InputDataConfig", "Environment"]
    /// What keys a transform step: the model's container (not its name, which a
    /// Model step makes anew each run), the input and how it is split and batched.
    static let transformAttributes = ["ModelContainer", "TransformInput", "BatchStrategy", "MaxPayloadInMB", "Environment", "DataProcessing"]

    /// The key of a step: its type, name and evaluated arguments (of an
    /// object, only `attributes` when given), and the version of each input
    /// file (store paths) it reads.
    static func key(type: String, step: String, arguments: JSONValue, attributes: [String]? = nil, inputFiles: [String]) -> Key {
        var keyed = arguments
        if let attributes, case let .object(fields) = arguments {
            keyed = .object(OrderedFields(fields.entries.filter { attributes.contains($0.key) }.map { ($0.key, $0.value) }))
        }
        let argumentsText = JSONWriter.canonical(.object(["stepType": .string(type), "stepName": .string(step), "attributes": keyed]))
        let versions = Set(inputFiles).sorted().map { path in
            path + "=" + ((try? FileManager.default.attributesOfItem(atPath: path)).map(ObjectStore.version) ?? "missing")
        }
        return Key(arguments: ContentDigest.sha256Hex(Array(argumentsText.utf8)), inputs: ContentDigest.sha256Hex(Array(versions.joined(separator: "\n").utf8)))
    }

    /// What keys a function's work: the function as registered (its
    /// registration time stands for its code: `shoal functions create`
    /// replaces both) and the outputs its result is cast to.
    static func functionKey(_ function: FunctionRecord, outputs: [OutputParameter]) -> OrderedFields<JSONValue> {
        [
            "Function": .string(function.name), "Handler": .string(function.handler), "Registered": .string(Identifiers.timestamp(function.createdAt)),
            "Outputs": .array(outputs.map { .string("\($0.name):\($0.typeName ?? "String")") }),
        ]
    }

    /// The newest usable entry, or why there is none.
    func lookup(step: String, key: Key, expireAfter: TimeInterval?, now: Date = Date()) throws -> Lookup {
        let entries = try metadata.cacheEntries(pipelineName: pipelineName, stepName: step, argumentsKey: key.arguments)
        guard let newest = entries.first else { return .miss("no earlier successful run of this step with these arguments") }
        var reason = ""
        for entry in entries {
            if let expireAfter, now.timeIntervalSince(entry.createdAt) > expireAfter {
                if reason.isEmpty { reason = "the run of execution \(entry.executionId) expired (ExpireAfter)" }
                continue
            }
            guard entry.inputsKey == key.inputs else {
                if reason.isEmpty { reason = "an input object changed since the run of execution \(entry.executionId)" }
                continue
            }
            if let gone = missingOutput(entry) {
                if reason.isEmpty { reason = "the outputs of execution \(entry.executionId)'s run changed in the store (\(gone))" }
                continue
            }
            guard let properties = try? JSONParser.parse(entry.properties) else { continue }
            return .hit(entry, properties: properties)
        }
        return .miss(reason.isEmpty ? "no usable run among \(entries.count) (newest: execution \(newest.executionId))" : reason)
    }

    /// Remembers a successful run: its properties and the objects it wrote.
    func record(step: String, key: Key, executionId: String, properties: JSONValue, outputs: [S3URI], now: Date = Date()) throws {
        var written: OrderedFields<JSONValue> = [:]
        for uri in outputs {
            written[uri.description] = .string(version(of: uri) ?? "missing")
        }
        var entry = StepCacheEntry(
            pipelineName: pipelineName, stepName: step, argumentsKey: key.arguments, inputsKey: key.inputs, executionId: executionId,
            properties: JSONWriter.string(properties), outputs: JSONWriter.string(.object(written)), createdAt: now
        )
        try metadata.insert(&entry)
    }

    private func version(of uri: S3URI) -> String? {
        (try? FileManager.default.attributesOfItem(atPath: objects.path(of: uri))).map(ObjectStore.version)
    }

    /// The first output object that is gone or was replaced since the entry was made.
    private func missingOutput(_ entry: StepCacheEntry) -> String? {
        guard case let .object(written)? = try? JSONParser.parse(entry.outputs) else { return "its record is unreadable" }
        for (text, recorded) in written.entries {
            guard let uri = try? S3URI(text) else { return text }
            guard case let .string(expected) = recorded, version(of: uri) == expected else { return text }
        }
        return nil
    }
}
