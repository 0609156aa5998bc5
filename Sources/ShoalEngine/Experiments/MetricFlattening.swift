import ShoalDefinition

/// Turns a JSON document into named numbers: `{"regression_metrics": {"mse":
/// {"value": 2.1}}}` gives `regression_metrics.mse.value = 2.1`; array items
/// are `name[0]`. Booleans and strings are not metrics.
public enum MetricFlattening {
    /// At most this many metrics are taken from one document.
    public static let maxMetrics = 1000

    public static func metrics(in value: JSONValue, prefix: String = "") -> [(name: String, value: Double)] {
        var found: [(name: String, value: Double)] = []
        walk(value, prefix, &found)
        return found
    }

    private static func walk(_ value: JSONValue, _ path: String, _ found: inout [(name: String, value: Double)]) {
        guard found.count < maxMetrics else { return }
        switch value {
        case let .number(number):
            if !path.isEmpty { found.append((path, number.doubleValue)) }
        case let .object(fields):
            for (key, child) in fields.entries { walk(child, path.isEmpty ? key : path + "." + key, &found) }
        case let .array(elements):
            for (index, child) in elements.enumerated() { walk(child, path + "[\(index)]", &found) }
        case .string, .bool, .null:
            break
        }
    }
}
