import Foundation
import ShoalDefinition
import ShoalRuntime
import ShoalStore

/// What one instance may use in its sandbox, by instance type: the memory of
/// the `ml.*` type it names, and fixed bounds on processes and open files. A
/// home's `instance-limits.json` (instance type → `{"MemoryMiB", "Processes",
/// "OpenFiles"}`, each optional) adds types and overrides entries; a type in
/// neither gets `fallback`.
public struct InstanceLimitTable: Sendable, Equatable {
    public let byType: [String: JobLimits]
    public let fallback: JobLimits

    static let processes = 4096
    static let openFiles = 65_536

    static func type(memoryGiB: Int) -> JobLimits {
        JobLimits(memoryBytes: memoryGiB << 30, processes: processes, openFiles: openFiles)
    }

    /// SageMaker's published memory per instance type.
    public static let `default` = InstanceLimitTable(byType: [
        "ml.t3.medium": type(memoryGiB: 4), "ml.t3.large": type(memoryGiB: 8), "ml.t3.xlarge": type(memoryGiB: 16), "ml.t3.2xlarge": type(memoryGiB: 32),
        "ml.m5.large": type(memoryGiB: 8), "ml.m5.xlarge": type(memoryGiB: 16), "ml.m5.2xlarge": type(memoryGiB: 32), "ml.m5.4xlarge": type(memoryGiB: 64),
        "ml.m5.12xlarge": type(memoryGiB: 192), "ml.m5.24xlarge": type(memoryGiB: 384),
        "ml.c5.large": type(memoryGiB: 4), "ml.c5.xlarge": type(memoryGiB: 8), "ml.c5.2xlarge": type(memoryGiB: 16), "ml.c5.4xlarge": type(memoryGiB: 32),
        "ml.c5.9xlarge": type(memoryGiB: 72), "ml.c5.18xlarge": type(memoryGiB: 144),
        "ml.r5.large": type(memoryGiB: 16), "ml.r5.xlarge": type(memoryGiB: 32), "ml.r5.2xlarge": type(memoryGiB: 64), "ml.r5.4xlarge": type(memoryGiB: 128),
        "ml.g4dn.xlarge": type(memoryGiB: 16), "ml.g4dn.2xlarge": type(memoryGiB: 32), "ml.g5.xlarge": type(memoryGiB: 16),
        "ml.p3.2xlarge": type(memoryGiB: 61),
    ], fallback: JobLimits(memoryBytes: nil, processes: processes, openFiles: openFiles))

    public init(byType: [String: JobLimits], fallback: JobLimits) {
        self.byType = byType
        self.fallback = fallback
    }

    public func limits(for instanceType: String) -> JobLimits { byType[instanceType] ?? fallback }

    public static let fileName = "instance-limits.json"

    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// The default table with the home's overrides, if it has any.
    public static func load(for home: ShoalHome) throws(Invalid) -> InstanceLimitTable {
        let path = home.root.appendingPathComponent(fileName).path
        guard FileManager.default.fileExists(atPath: path) else { return .default }
        return try Self.default.overridden(by: path)
    }

    /// This table with the entries of `path` laid over it, refusing bad JSON
    /// with its line and column and bad entries with their JSON path.
    public func overridden(by path: String) throws(Invalid) -> InstanceLimitTable {
        let json: JSONValue
        do { json = try JSONFile.load(path) } catch { throw Invalid(description: error.description) }
        guard case let .object(types) = json else {
            throw Invalid(description: "\(path): $ must be an object of instance type → limits, not \(json.kindDescription)")
        }
        var table = byType
        let fields: [(name: String, range: ClosedRange<Int>, set: (inout JobLimits, Int) -> Void)] = [
            ("MemoryMiB", 16...(1 << 24), { $0.memoryBytes = $1 << 20 }),
            ("Processes", 8...(1 << 22), { $0.processes = $1 }),
            ("OpenFiles", 64...(1 << 20), { $0.openFiles = $1 }),
        ]
        for (type, entry) in types.entries {
            let at = JSONPath.root.key(type)
            guard case let .object(members) = entry else { throw Invalid(description: "\(path): \(at) must be an object, not \(entry.kindDescription)") }
            var limits = byType[type] ?? fallback
            for (name, value) in members.entries {
                guard let field = fields.first(where: { $0.name == name }) else {
                    throw Invalid(description: "\(path): \(at.key(name)) is not a limit; they are \(fields.map(\.name).joined(separator: ", "))")
                }
                guard case let .number(number) = value, let whole = Int(exactly: number.doubleValue), field.range.contains(whole) else {
                    throw Invalid(description: "\(path): \(at.key(name)) must be a whole number from \(field.range.lowerBound) to \(field.range.upperBound), not \(JSONWriter.string(value))")
                }
                field.set(&limits, whole)
            }
            table[type] = limits
        }
        return InstanceLimitTable(byType: table, fallback: fallback)
    }
}
