import Foundation

/// An error as the AWS service the request was for would answer it: its code,
/// HTTP status and message, written in that service's shape.
struct AWSError: Error, CustomStringConvertible {
    let code: String
    let status: Int
    let message: String
    /// SQS's `x-amzn-query-error` header: the query-protocol code botocore reports.
    var queryError: String? = nil
    /// What `__type` puts before the code (SQS: `com.amazonaws.sqs#`).
    var typePrefix = ""

    var description: String { "\(code): \(message)" }

    static func validation(_ message: String) -> AWSError { AWSError(code: "ValidationException", status: 400, message: message) }
    static func notFound(_ message: String) -> AWSError { AWSError(code: "ResourceNotFound", status: 400, message: message) }
    static func conflict(_ message: String) -> AWSError { AWSError(code: "ConflictException", status: 400, message: message) }

    /// JSON 1.1 services (SageMaker, Lambda, Cost Explorer): `{"__type", "Message"}`.
    func jsonBody() -> Data {
        (try? JSONSerialization.data(withJSONObject: ["__type": typePrefix + code, "Message": message, "message": message])) ?? Data()
    }

    /// Query services (STS, IAM): `<ErrorResponse><Error>…`.
    func xmlBody(requestId: String) -> Data {
        let type = status >= 500 ? "Receiver" : "Sender"
        return Data("""
            <ErrorResponse><Error><Type>\(type)</Type><Code>\(XML.escape(code))</Code><Message>\(XML.escape(message))</Message></Error>\
            <RequestId>\(requestId)</RequestId></ErrorResponse>
            """.utf8)
    }
}

enum XML {
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
