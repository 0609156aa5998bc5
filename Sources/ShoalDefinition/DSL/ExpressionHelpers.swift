/// Shorthands for the expressions the DSL writes most.
extension Expression {
    public static func parameter(_ name: String) -> Expression { .get(.parameter(name)) }
    public static func execution(_ variable: ExecutionVariable) -> Expression { .get(.execution(variable)) }
    public static func join(on separator: String, _ values: [Expression]) -> Expression { .join(on: separator, values: values) }
}

extension Parameter {
    /// `{"Get": "Parameters.<name>"}`.
    public var value: Expression { .parameter(name) }
}

extension Condition {
    public static func equals(_ left: Expression, _ right: Expression) -> Condition { .compare(.equals, left: left, right: right) }
    public static func greaterThan(_ left: Expression, _ right: Expression) -> Condition { .compare(.greaterThan, left: left, right: right) }
    public static func greaterThanOrEqualTo(_ left: Expression, _ right: Expression) -> Condition {
        .compare(.greaterThanOrEqualTo, left: left, right: right)
    }
    public static func lessThan(_ left: Expression, _ right: Expression) -> Condition { .compare(.lessThan, left: left, right: right) }
    public static func lessThanOrEqualTo(_ left: Expression, _ right: Expression) -> Condition {
        .compare(.lessThanOrEqualTo, left: left, right: right)
    }
}
