import Hummingbird
import HummingbirdCore
import HTTPTypes

extension HTTPServerBuilder {
    /// HTTP/1.1 that answers `Expect: 100-continue` at once. S3 clients (botocore,
    /// the AWS CLI, curl for large bodies) send it on every upload and otherwise
    /// wait a second before sending the body; and a client that gets a final answer
    /// without a 100 never sends the body the server would then try to skip.
    static func http1AnsweringContinue() -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            HTTP1Channel(responder: { request, writer, channel in
                if request.headers[.expect]?.lowercased() == "100-continue" {
                    try await writer.writeInformationalHead(HTTPResponse(status: .continue))
                }
                try await responder(request, writer, channel)
            })
        }
    }
}
