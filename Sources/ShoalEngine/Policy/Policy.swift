import Foundation
import ShoalDefinition

/// Deny rules in the shape of IAM policies, evaluated before every job starts.
/// Shoal's policies are deny lists: what no Deny statement matches is allowed,
/// and Allow statements are read but grant nothing.
public struct Policy: Sendable {
    public struct Statement: Sendable {
        public let sid: String?
        /// `Statement[2]` when there is no Sid.
        public let label: String
        public let deny: Bool
        public let actions: [String]
        public let conditions: [Condition]
    }

    public struct Condition: Sendable {
        public enum SetQualifier: Sendable { case none, forAnyValue, forAllValues }

        public let op: Operator
        public let ifExists: Bool
        public let qualifier: SetQualifier
        /// Lower-cased: IAM condition keys are case-insensitive.
        public let key: String
        public let values: [String]
    }

    public enum Operator: String, Sendable, CaseIterable {
        case stringEquals = "StringEquals", stringNotEquals = "StringNotEquals"
        case stringEqualsIgnoreCase = "StringEqualsIgnoreCase", stringNotEqualsIgnoreCase = "StringNotEqualsIgnoreCase"
        case stringLike = "StringLike", stringNotLike = "StringNotLike"
        case numericEquals = "NumericEquals", numericNotEquals = "NumericNotEquals"
        case numericLessThan = "NumericLessThan", numericLessThanEquals = "NumericLessThanEquals"
        case numericGreaterThan = "NumericGreaterThan", numericGreaterThanEquals = "NumericGreaterThanEquals"
        case bool = "Bool"
        case null = "Null"

        var isNegated: Bool { [.stringNotEquals, .stringNotEqualsIgnoreCase, .stringNotLike, .numericNotEquals].contains(self) }
    }

    /// The file the policy came from, for reasons.
    public let source: String
    public let statements: [Statement]

    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Reads a policy file: JSON errors name the line and column, shape errors the JSON path.
    public static func load(_ path: String) throws(Invalid) -> Policy {
        let json: JSONValue
        do { json = try JSONFile.load(path) } catch { throw Invalid(description: error.description) }
        return try parse(json, source: path)
    }

    public static func parse(_ json: JSONValue, source: String) throws(Invalid) -> Policy {
        func fail(_ path: JSONPath, _ message: String) -> Invalid { Invalid(description: "\(source): \(path): \(message)") }
        guard case let .object(document) = json else { throw fail(.root, "a policy is an object with a Statement") }
        let statementsPath = JSONPath.root.key("Statement")
        let rawStatements: [JSONValue]
        switch document["Statement"] {
        case let .array(items)?: rawStatements = items
        case let .object(single)?: rawStatements = [.object(single)]
        case let other?: throw fail(statementsPath, "Statement must be an object or an array of them, not \(other.kindDescription)")
        case nil: throw fail(statementsPath, "the policy has no Statement")
        }
        var statements: [Statement] = []
        for (index, raw) in rawStatements.enumerated() {
            let path = document["Statement"].map { if case .array = $0 { statementsPath.index(index) } else { statementsPath } } ?? statementsPath
            guard case let .object(fields) = raw else { throw fail(path, "a statement must be an object") }
            for key in fields.keys where !["Sid", "Effect", "Action", "Resource", "Condition", "Principal"].contains(key) {
                throw fail(path.key(key), "'\(key)' is not a statement member Shoal knows (Sid, Effect, Action, Resource, Condition)")
            }
            var sid: String?
            if let value = fields["Sid"] {
                guard case let .string(text) = value else { throw fail(path.key("Sid"), "Sid must be a string") }
                sid = text
            }
            guard case let .string(effect)? = fields["Effect"], effect == "Deny" || effect == "Allow" else {
                throw fail(path.key("Effect"), "Effect must be \"Deny\" or \"Allow\"")
            }
            let actions = try strings(fields["Action"], at: path.key("Action"), fail)
            guard !actions.isEmpty else { throw fail(path.key("Action"), "a statement needs an Action") }
            var conditions: [Condition] = []
            if let block = fields["Condition"] {
                guard case let .object(operators) = block else { throw fail(path.key("Condition"), "Condition must be an object") }
                for (name, body) in operators.entries {
                    let conditionPath = path.key("Condition").key(name)
                    var rest = Substring(name)
                    var qualifier = Condition.SetQualifier.none
                    if rest.hasPrefix("ForAnyValue:") { qualifier = .forAnyValue; rest = rest.dropFirst("ForAnyValue:".count) }
                    if rest.hasPrefix("ForAllValues:") { qualifier = .forAllValues; rest = rest.dropFirst("ForAllValues:".count) }
                    let ifExists = rest.hasSuffix("IfExists") && rest != "IfExists"
                    if ifExists { rest = rest.dropLast("IfExists".count) }
                    guard let op = Operator(rawValue: String(rest)), !(op == .null && (ifExists || qualifier != .none)) else {
                        throw fail(conditionPath, "'\(name)' is not a condition operator Shoal knows (\(Operator.allCases.map(\.rawValue).joined(separator: ", ")), with IfExists, ForAnyValue: or ForAllValues:)")
                    }
                    guard case let .object(keys) = body else { throw fail(conditionPath, "an operator maps condition keys to values") }
                    for (key, values) in keys.entries {
                        let list = try strings(values, at: conditionPath.key(key), fail)
                        if op == .null || op == .bool, list.contains(where: { $0 != "true" && $0 != "false" }) {
                            throw fail(conditionPath.key(key), "\(op.rawValue) takes \"true\" or \"false\"")
                        }
                        conditions.append(Condition(op: op, ifExists: ifExists, qualifier: qualifier, key: key.lowercased(), values: list))
                    }
                }
            }
            // Names are checked last, so a malformed statement is reported for its shape first.
            for action in actions where !PolicyVocabulary.knownActions.contains(where: { Glob.matches(action.lowercased(), $0) }) {
                throw fail(path.key("Action"), "'\(action)' names no action Shoal knows (\(PolicyVocabulary.knownActions.joined(separator: ", ")), wildcards allowed)")
            }
            for condition in conditions where PolicyVocabulary.canonicalKey(condition.key) == nil {
                throw fail(path.key("Condition"), "'\(condition.key)' is not a condition key Shoal knows (\(PolicyVocabulary.knownKeysText))")
            }
            conditions = conditions.map {
                Condition(op: $0.op, ifExists: $0.ifExists, qualifier: $0.qualifier, key: PolicyVocabulary.canonicalKey($0.key) ?? $0.key, values: $0.values)
            }
            statements.append(Statement(sid: sid, label: sid ?? "Statement[\(index)]", deny: effect == "Deny", actions: actions, conditions: conditions))
        }
        return Policy(source: source, statements: statements)
    }

    /// A string or an array of strings (numbers and booleans as their JSON text).
    private static func strings(_ value: JSONValue?, at path: JSONPath, _ fail: (JSONPath, String) -> Invalid) throws(Invalid) -> [String] {
        func text(_ value: JSONValue) throws(Invalid) -> String {
            switch value {
            case let .string(string): return string
            case let .bool(flag): return flag ? "true" : "false"
            case let .number(number): return number.description
            default: throw fail(path, "must be a string or an array of strings, not \(value.kindDescription)")
            }
        }
        switch value {
        case nil: return []
        case let .array(items)?:
            var result: [String] = []
            for item in items { result.append(try text(item)) }
            return result
        case let single?: return [try text(single)]
        }
    }
}
