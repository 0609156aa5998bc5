import Foundation

/// An error as the AWS service the request was for would answer it: its code,
/// HTTP status and message, written in that service's shape.
package struct AWSError: Error, CustomStringConvertible {
    package init(code: String, status: Int, message: String, queryError: String? = nil, typePrefix: String = "") {
        self.code = code
        self.status = status
        self.message = message
        self.queryError = queryError
        self.typePrefix = typePrefix
    }

    package let code: String
    package let status: Int
    package let message: String
    /// SQS's `x-amzn-query-error` header: the query-protocol code botocore reports.
    package var queryError: String? = nil
    /// What `__type` puts before the code (SQS: `com.amazonaws.sqs#`).
    package var typePrefix = ""

    package var description: String { "\(code): \(message)" }

    package static func validation(_ message: String) -> AWSError { AWSError(code: "ValidationException", status: 400, message: message) }
    package static func notFound(_ message: String) -> AWSError { AWSError(code: "ResourceNotFound", status: 400, message: message) }
    package static func conflict(_ message: String) -> AWSError { AWSError(code: "ConflictException", status: 400, message: message) }

    /// JSON 1.1 services (SageMaker, Lambda, Cost Explorer): `{"__type", "Message"}`.
    package func jsonBody() -> Data {
        (try? JSONSerialization.data(withJSONObject: ["__type": typePrefix + code, "Message": message, "message": message])) ?? Data()
    }

    /// Query services (STS, IAM): `<ErrorResponse><Error>…`.
    package func xmlBody(requestId: String) -> Data {
        let type = status >= 500 ? "Receiver" : "Sender"
        return Data("""
            <ErrorResponse><Error><Type>\(type)</Type><Code>\(XML.escape(code))</Code><Message>\(XML.escape(message))</Message></Error>\
            <RequestId>\(requestId)</RequestId></ErrorResponse>
            """.utf8)
    }
}

package enum XML {
    package static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
