import AWSSignature
import Foundation
import ShoalEngine

/// The policy of `shoal serve --policy` (or `shoal coordinator --http … --policy`)
/// asked about every endpoint request, by its IAM action, with the signing
/// credential's name as `aws:username`. The engine asks the same policy again
/// about what a request starts (executions, jobs, functions).
struct APIPolicy: Sendable {
    let policy: Policy

    /// Throws AccessDenied when a Deny statement matches.
    func check(_ action: String, service: String, principal: String) throws {
        var request = PolicyRequest(action: action)
        request.set("aws:username", principal)
        guard let statement = policy.denial(of: request) else { return }
        let code = ["s3", "sts", "iam", "sqs"].contains(service) ? "AccessDenied" : "AccessDeniedException"
        throw AWSError(code: code, status: 403, message: "User \(principal) is not authorized to perform \(action): denied by policy \(policy.source), statement '\(statement.label)'")
    }

    /// Lambda's REST paths as IAM names them (Invoke as the action a Lambda step's call is too).
    static func lambdaAction(method: String, path: String) -> String {
        let rest = path.dropFirst(LambdaAPI.prefix.count).split(separator: "/")
        switch (method, rest.count, rest.last) {
        case ("POST", 0, _): return "lambda:CreateFunction"
        case ("GET", 0, _): return "lambda:ListFunctions"
        case ("DELETE", 1, _): return "lambda:DeleteFunction"
        case ("PUT", 2, "code"): return "lambda:UpdateFunctionCode"
        case ("PUT", 2, "configuration"): return "lambda:UpdateFunctionConfiguration"
        case ("GET", 2, "configuration"): return "lambda:GetFunctionConfiguration"
        case ("POST", 2, "invocations"): return "shoal:InvokeFunction"
        default: return "lambda:GetFunction"
        }
    }
}
