/// Why a value could not be resolved when its step was about to start; the
/// step fails with this as its reason.
public struct EvaluationError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
