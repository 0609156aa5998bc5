import Foundation

/// The request a policy is asked about: an action and its condition keys.
public struct PolicyRequest: Sendable {
    public let action: String
    /// Lower-cased keys; every value is a list (single-valued keys hold one).
    public private(set) var context: [String: [String]] = [:]

    public init(action: String) { self.action = action }

    public mutating func set(_ key: String, _ values: [String]) { context[key.lowercased()] = values }
    public mutating func set(_ key: String, _ value: String) { set(key, [value]) }

    /// `aws:RequestTag/KEY` for each tag and `aws:TagKeys`.
    public mutating func setTags(_ tags: [(key: String, value: String)]) {
        for (key, value) in tags { set("aws:RequestTag/\(key)", value) }
        if !tags.isEmpty { set("aws:TagKeys", tags.map(\.key)) }
    }
}

extension Policy {
    /// The first Deny statement that matches, if any.
    public func denial(of request: PolicyRequest) -> Statement? {
        statements.first { $0.deny && $0.matches(request) }
    }

    /// A step's failure reason for a denied request.
    public func reason(_ statement: Statement, _ request: PolicyRequest) -> String {
        "Denied by policy \(source), statement '\(statement.label)': \(request.action) is not allowed here; nothing was started."
    }
}

extension Policy.Statement {
    func matches(_ request: PolicyRequest) -> Bool {
        let names = PolicyVocabulary.actionNames[request.action.lowercased()] ?? [request.action.lowercased()]
        return actions.contains { action in names.contains { Glob.matches(action.lowercased(), $0) } }
            && conditions.allSatisfy { $0.holds(for: request.context[$0.key]) }
    }
}

extension Policy.Condition {
    /// IAM's rules: a missing key makes IfExists and negated operators hold and
    /// the others fail; Null tests presence; ForAnyValue needs one request value
    /// to match, ForAllValues every one; several policy values are alternatives.
    func holds(for requestValues: [String]?) -> Bool {
        if op == .null {
            let wantsAbsent = values.first == "true"
            return (requestValues == nil) == wantsAbsent
        }
        guard let requestValues, !requestValues.isEmpty else {
            if qualifier == .forAllValues { return true }
            return ifExists || op.isNegated
        }
        switch qualifier {
        case .forAllValues: return requestValues.allSatisfy(single)
        case .forAnyValue: return requestValues.contains(where: single)
        case .none: return op.isNegated ? requestValues.allSatisfy(single) : requestValues.contains(where: single)
        }
    }

    /// One request value against the policy values.
    private func single(_ value: String) -> Bool {
        switch op {
        case .stringEquals: values.contains(value)
        case .stringNotEquals: !values.contains(value)
        case .stringEqualsIgnoreCase: values.contains { $0.lowercased() == value.lowercased() }
        case .stringNotEqualsIgnoreCase: !values.contains { $0.lowercased() == value.lowercased() }
        case .stringLike: values.contains { Glob.matches($0, value) }
        case .stringNotLike: !values.contains { Glob.matches($0, value) }
        case .bool: values.contains(value.lowercased())
        case .numericEquals: numeric(value) { $0 == $1 }
        case .numericNotEquals: !numeric(value) { $0 == $1 }
        case .numericLessThan: numeric(value) { $0 < $1 }
        case .numericLessThanEquals: numeric(value) { $0 <= $1 }
        case .numericGreaterThan: numeric(value) { $0 > $1 }
        case .numericGreaterThanEquals: numeric(value) { $0 >= $1 }
        case .null: false
        }
    }

    private func numeric(_ value: String, _ compare: (Double, Double) -> Bool) -> Bool {
        guard let number = Double(value) else { return false }
        return values.contains { Double($0).map { compare(number, $0) } ?? false }
    }
}

/// IAM wildcards: `*` any run of characters, `?` one character.
enum Glob {
    static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern), t = Array(text)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == t[ti]) {
                pi += 1; ti += 1
            } else if pi < p.count && p[pi] == "*" {
                star = pi; mark = ti; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; ti = mark
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
