import Foundation
import ShoalDefinition

/// Prices per instance-hour, in USD. The default is a small, editable table of
/// on-demand `ml.*` list prices; `--prices FILE` (a JSON object of instance type
/// → price per hour) replaces it.
public struct PriceTable: Sendable, Equatable {
    public let perHour: [String: Double]

    public static let `default` = PriceTable(perHour: [
        "ml.t3.medium": 0.05, "ml.t3.large": 0.10,
        "ml.m5.large": 0.115, "ml.m5.xlarge": 0.23, "ml.m5.2xlarge": 0.461, "ml.m5.4xlarge": 0.922,
        "ml.c5.large": 0.102, "ml.c5.xlarge": 0.204, "ml.c5.2xlarge": 0.408,
        "ml.r5.large": 0.151, "ml.g4dn.xlarge": 0.736,
        // Lambda-style invocations run on the workers Shoal already counts.
        "lambda": 0,
    ])

    public init(perHour: [String: Double]) { self.perHour = perHour }

    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Reads a price file, refusing bad JSON with its line and column and bad
    /// entries with their JSON path.
    public static func load(_ path: String) throws(Invalid) -> PriceTable {
        let json: JSONValue
        do { json = try JSONFile.load(path) } catch { throw Invalid(description: error.description) }
        guard case let .object(fields) = json else {
            throw Invalid(description: "\(path): $ must be an object of instance type → price per hour, not \(json.kindDescription)")
        }
        var prices: [String: Double] = [:]
        for (type, value) in fields.entries {
            guard case let .number(number) = value, number.doubleValue >= 0 else {
                throw Invalid(description: "\(path): \(JSONPath.root.key(type)) must be a price per hour (a number ≥ 0), not \(JSONWriter.string(value))")
            }
            prices[type] = number.doubleValue
        }
        return PriceTable(perHour: prices)
    }
}
