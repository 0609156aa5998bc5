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

    /// Fields that name the run rather than describe the work.
    static let unkeyedFields: Set<String> = ["ProcessingJobName", "ProcessingJobArn"]

    /// The key of a step: its type and evaluated arguments, and the version of
    /// each input file (store paths) it reads.
    static func key(type: String, arguments: JSONValue, inputFiles: [String]) -> Key {
        var request = arguments
        if case let .object(fields) = arguments {
            request = .object(OrderedFields(fields.entries.filter { !unkeyedFields.contains($0.key) }.map { ($0.key, $0.value) }))
        }
        let argumentsText = type + "\n" + JSONWriter.canonical(request)
        let versions = Set(inputFiles).sorted().map { path in
            path + "=" + ((try? FileManager.default.attributesOfItem(atPath: path)).map(ObjectStore.version) ?? "missing")
        }
        return Key(arguments: SHA256.hex(Array(argumentsText.utf8)), inputs: SHA256.hex(Array(versions.joined(separator: "\n").utf8)))
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

/// ISO 8601 durations as `ExpireAfter` takes them (`PT1H`, `P30D`, `p1dt12h`,
/// `P1W`); a month is 30 days and a year 365, as the service counts them.
public enum ISODuration {
    public static func seconds(_ text: String) -> TimeInterval? {
        let upper = text.uppercased()
        guard upper.hasPrefix("P"), upper.count > 1 else { return nil }
        var total = 0.0
        var number = ""
        var inTime = false
        var sawUnit = false
        var sawTimeUnit = false
        for character in upper.dropFirst() {
            if character == "T" {
                guard !inTime, number.isEmpty else { return nil }
                inTime = true
                continue
            }
            if character.isNumber || character == "." || character == "," {
                number.append(character == "," ? "." : character)
                continue
            }
            guard let value = Double(number) else { return nil }
            number = ""
            let unit: Double
            switch (character, inTime) {
            case ("Y", false): unit = 365 * 86_400
            case ("M", false): unit = 30 * 86_400
            case ("W", false): unit = 7 * 86_400
            case ("D", false): unit = 86_400
            case ("H", true): unit = 3_600
            case ("M", true): unit = 60
            case ("S", true): unit = 1
            default: return nil
            }
            total += value * unit
            sawUnit = true
            sawTimeUnit = sawTimeUnit || inTime
        }
        return number.isEmpty && sawUnit && inTime == sawTimeUnit ? total : nil
    }
}
