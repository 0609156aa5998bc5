import ShoalDefinition

/// Decides a Condition step (spec §3.3): all conditions must hold. Integers and
/// floats compare numerically with each other, strings by code points, booleans
/// only for equality; anything else fails the step naming both types.
public struct ConditionEvaluator {
    public let evaluator: Evaluator

    public init(evaluator: Evaluator) { self.evaluator = evaluator }

    public func holds(_ conditions: [Condition]) throws(EvaluationError) -> Bool {
        for condition in conditions where !(try holds(condition)) { return false }
        return true
    }

    public func holds(_ condition: Condition) throws(EvaluationError) -> Bool {
        switch condition {
        case let .compare(comparison, left, right):
            let a = try evaluator.evaluate(left)
            let b = try evaluator.evaluate(right)
            if comparison == .equals { return try equal(a, b, comparison.rawValue) }
            let order = try compare(a, b, comparison.rawValue)
            switch comparison {
            case .greaterThan: return order > 0
            case .greaterThanOrEqualTo: return order >= 0
            case .lessThan: return order < 0
            case .lessThanOrEqualTo: return order <= 0
            case .equals: return order == 0
            }
        case let .in(query, values):
            let needle = try evaluator.evaluate(query)
            for value in values where try equal(needle, try evaluator.evaluate(value), "In") { return true }
            return false
        case let .not(inner):
            return !(try holds(inner))
        case let .or(conditions):
            for inner in conditions where try holds(inner) { return true }
            return false
        }
    }

    private func equal(_ a: JSONValue, _ b: JSONValue, _ type: String) throws(EvaluationError) -> Bool {
        switch (a, b) {
        case let (.number(x), .number(y)): return x.doubleValue == y.doubleValue
        case let (.string(x), .string(y)): return x == y
        case let (.bool(x), .bool(y)): return x == y
        case (.null, .null): return true
        default: throw mismatch(a, b, type)
        }
    }

    private func compare(_ a: JSONValue, _ b: JSONValue, _ type: String) throws(EvaluationError) -> Int {
        switch (a, b) {
        case let (.number(x), .number(y)): return x.doubleValue < y.doubleValue ? -1 : (x.doubleValue > y.doubleValue ? 1 : 0)
        case let (.string(x), .string(y)):
            let (p, q) = (Array(x.unicodeScalars.map(\.value)), Array(y.unicodeScalars.map(\.value)))
            return p == q ? 0 : (p.lexicographicallyPrecedes(q) ? -1 : 1)
        default: throw mismatch(a, b, type)
        }
    }

    private func mismatch(_ a: JSONValue, _ b: JSONValue, _ type: String) -> EvaluationError {
        EvaluationError("Condition of type [\(type)] not supported between \(a.kindDescription) \(JSONWriter.string(a)) and \(b.kindDescription) \(JSONWriter.string(b)).")
    }
}
