/// Builds a definition in Swift: parameters and steps listed in a block, the way
/// `Pipeline(parameters=…, steps=…)` lists them in the SDK. The result is the same
/// model the JSON reader makes, so it encodes to the same document.
///
///     let threshold = Parameter(name: "MseThreshold", type: .float, defaultValue: 6.0)
///     let definition = PipelineDefinition {
///         threshold
///         Step.fail("TooHigh", message: .join(on: " ", ["MSE above", threshold.value]))
///     }
@resultBuilder
public enum PipelineBuilder {
    public enum Component {
        case parameter(Parameter)
        case step(Step)
    }

    public static func buildExpression(_ parameter: Parameter) -> [Component] { [.parameter(parameter)] }
    public static func buildExpression(_ step: Step) -> [Component] { [.step(step)] }
    public static func buildExpression(_ steps: [Step]) -> [Component] { steps.map(Component.step) }
    public static func buildBlock(_ parts: [Component]...) -> [Component] { parts.flatMap { $0 } }
    public static func buildOptional(_ part: [Component]?) -> [Component] { part ?? [] }
    public static func buildEither(first part: [Component]) -> [Component] { part }
    public static func buildEither(second part: [Component]) -> [Component] { part }
    public static func buildArray(_ parts: [[Component]]) -> [Component] { parts.flatMap { $0 } }
}

/// Builds the steps of a condition's branches.
@resultBuilder
public enum StepsBuilder {
    public static func buildExpression(_ step: Step) -> [Step] { [step] }
    public static func buildExpression(_ steps: [Step]) -> [Step] { steps }
    public static func buildBlock(_ parts: [Step]...) -> [Step] { parts.flatMap { $0 } }
    public static func buildOptional(_ part: [Step]?) -> [Step] { part ?? [] }
    public static func buildEither(first part: [Step]) -> [Step] { part }
    public static func buildEither(second part: [Step]) -> [Step] { part }
    public static func buildArray(_ parts: [[Step]]) -> [Step] { parts.flatMap { $0 } }
}

extension PipelineDefinition {
    public init(
        experimentConfig: ExperimentConfigSetting = .configured(.sdkDefault),
        @PipelineBuilder _ content: () -> [PipelineBuilder.Component]
    ) {
        var parameters: [Parameter] = []
        var steps: [Step] = []
        for component in content() {
            switch component {
            case let .parameter(parameter): parameters.append(parameter)
            case let .step(step): steps.append(step)
            }
        }
        self.init(parameters: parameters, experimentConfig: experimentConfig, steps: steps)
    }
}
