import ShoalDefinition

/// Foundation also has an `Expression`; in this module the word means the definition's.
public typealias Expression = ShoalDefinition.Expression
