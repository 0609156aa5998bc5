import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdCore
import HummingbirdTLS
import NIOSSL
import Logging
import ShoalCluster
import ShoalEngine
import ShoalStore
import AWSSignature

/// The AWS-compatible endpoint: one port for every service, each request
/// routed by the service its SigV4 credential scope names, after its
/// signature is verified against a key pair of the home's.
public struct EndpointServer: Sendable {
    let home: ShoalHome
    let keys: AccessKeys
    let sagemaker: SageMakerAPI
    let sqs: SQSAPI
    let lambda: LambdaAPI
    let costs: CostExplorerAPI
    /// Nil only when the store's staging folder cannot be made; S3 requests then fail, the rest is served.
    let s3: S3API?
    let host: String
    let port: Int
    /// Pages served on the same port without AWS signatures (the console): it
    /// answers the requests it owns, nil for the rest.
    let pages: (@Sendable (Request) async -> Response?)?
    let tls: TLSFiles?
    let policy: APIPolicy?

    /// A PEM certificate chain and its private key (`--tls-cert`, `--tls-key`).
    public struct TLSFiles: Sendable {
        public let certificate: String
        public let key: String
        public init(certificate: String, key: String) {
            self.certificate = certificate
            self.key = key
        }
    }

    /// `coordinator` reaches the API socket of the coordinator executions run on.
    public init(
        home: ShoalHome, coordinator: CoordinatorClientPool, host: String, port: Int, tls: TLSFiles? = nil, policy: Policy? = nil,
        pages: (@Sendable (Request) async -> Response?)? = nil
    ) {
        self.pages = pages
        self.tls = tls
        self.policy = policy.map(APIPolicy.init)
        self.home = home
        keys = AccessKeys(home: home)
        sagemaker = SageMakerAPI(home: home, coordinator: coordinator)
        sqs = SQSAPI(home: home)
        lambda = LambdaAPI(home: home, coordinator: coordinator)
        costs = CostExplorerAPI(home: home, prices: .default)
        s3 = try? S3API(store: home.objects)
        self.host = host
        self.port = port
    }

    /// Bodies of the JSON and query services are small; past this a request is refused.
    static let maxBodyBytes = 16 << 20

    /// Serves until the task is cancelled; `ready` hears the port once it is bound (port 0 takes a free one).
    public func run(ready: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let responder = CallbackResponder<BasicRequestContext> { request, _ in await self.respond(to: request) }
        var logger = Logger(label: "shoal.endpoint")
        logger.logLevel = .warning
        var server = HTTPServerBuilder.http1AnsweringContinue()
        if let tls { server = try .tls(server, tlsConfiguration: try Self.configuration(tls)) }
        let app = Application(
            responder: responder, server: server, configuration: .init(address: .hostname(host, port: port), serverName: "Shoal"),
            onServerRunning: { channel in ready(channel.localAddress?.port ?? port) }, logger: logger
        )
        try await app.run()
    }

    public struct TLSUnreadable: Error, CustomStringConvertible {
        public let description: String
    }

    /// TLS 1.2 and later (swift-nio-ssl's defaults) with the given chain and key.
    static func configuration(_ files: TLSFiles) throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate], key: NIOSSLPrivateKey
        do { chain = try NIOSSLCertificate.fromPEMFile(files.certificate) } catch {
            throw TLSUnreadable(description: "cannot read the TLS certificate chain \(files.certificate): \(error)")
        }
        guard !chain.isEmpty else { throw TLSUnreadable(description: "\(files.certificate) holds no PEM certificate") }
        do { key = try NIOSSLPrivateKey(file: files.key, format: .pem) } catch {
            throw TLSUnreadable(description: "cannot read the TLS private key \(files.key): \(error)")
        }
        return .makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
    }

    func respond(to request: Request) async -> Response {
        if let pages, let page = await pages(request) { return page }
        let requestId = UUID().uuidString.lowercased()
        var headers: [(name: String, value: String)] = request.headers.map { ($0.name.canonicalName, $0.value) }
        if let authority = request.head.authority { headers.append(("host", authority)) }
        var incoming = SignedRequest(method: request.method.rawValue, rawPath: request.uri.path, rawQuery: request.uri.query, headers: headers, body: nil)
        let json = incoming.isJSON
        var service = ""
        do {
            let signed = try incoming.claim()
            service = signed.authorization.service
            if service == "s3" {
                return try await s3Request(incoming, signed: signed, body: request.body, requestId: requestId)
            }
            do {
                incoming.body = Data(buffer: try await request.body.collect(upTo: Self.maxBodyBytes))
            } catch {
                throw AWSError(code: "RequestEntityTooLarge", status: 413, message: "the request body is larger than \(Self.maxBodyBytes >> 20) MiB")
            }
            let key = try verify(incoming, signed: signed)
            let body = incoming.body ?? Data()
            if let policy {
                let action = switch service {
                case "lambda": APIPolicy.lambdaAction(method: incoming.method, path: incoming.rawPath)
                case "sts", "iam": "\(service):" + (QueryAPI.form(body)["Action"] ?? "")
                default: "\(service):" + (incoming.header("x-amz-target")?.split(separator: ".").last.map(String.init) ?? "")
                }
                try policy.check(action, service: service, principal: key.name)
            }
            switch signed.authorization.service {
            case "sagemaker":
                return try await jsonService(incoming, targetPrefix: "SageMaker.", contentType: "application/x-amz-json-1.1", requestId: requestId) { operation, input in
                    try sagemaker.handle(operation, input, principal: key.name)
                }
            case "sqs":
                let base = "http://" + (incoming.header("host") ?? "\(host):\(port)")
                return try await jsonService(incoming, targetPrefix: "AmazonSQS.", contentType: "application/x-amz-json-1.0", requestId: requestId) { operation, input in
                    try sqs.handle(operation, input, baseURL: base)
                }
            case "ce":
                let costs = self.costs
                return try await jsonService(incoming, targetPrefix: "AWSInsightsIndexService.", contentType: "application/x-amz-json-1.1", requestId: requestId) { operation, input in
                    try costs.handle(operation, input)
                }
            case "lambda":
                let lambda = self.lambda
                let path = incoming.rawPath, method = incoming.method
                let query = SigV4.fields(incoming.rawQuery ?? "")
                let given = Dictionary(incoming.headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
                let (status, data, extra): (Int, Data, [String: String])
                if let target = try LambdaAPI.invocationTarget(method: method, path: path) {
                    let answer = try await lambda.invoke(target, payload: body, type: given["x-amz-invocation-type"] ?? "RequestResponse")
                    (status, data, extra) = (answer.status, try answer.encoded(), answer.headers)
                } else {
                    (status, data, extra) = try await blocking {
                        let answer = try lambda.handle(method: method, path: path, query: query, body: body, headers: given)
                        return (answer.status, try answer.encoded(), answer.headers)
                    }
                }
                var fields: HTTPFields = [.contentType: "application/json", .init("x-amzn-RequestId")!: requestId]
                for (name, value) in extra { if let field = HTTPField.Name(name) { fields[field] = value } }
                return Response(status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(data: data)))
            case "sts", "iam":
                let xml = try QueryAPI().handle(service: signed.authorization.service, form: QueryAPI.form(body), principal: key.name, requestId: requestId)
                return Response(status: .ok, headers: [.contentType: "text/xml", .init("x-amzn-RequestId")!: requestId], body: .init(byteBuffer: ByteBuffer(string: xml)))
            default:
                throw AWSError(code: "UnknownService", status: 400, message: "Shoal does not serve '\(signed.authorization.service.prefix(32))' yet (it serves sagemaker, s3, lambda, ce, sqs, sts and iam)")
            }
        } catch let error as AWSError {
            if service == "s3" || (!json && request.uri.query?.contains("Signature=") == true) {
                return S3API.failure(S3Error(code: error.code, status: error.status, message: error.message), method: incoming.method, requestId: requestId)
            }
            // REST-JSON (Lambda): the JSON shape, the code in x-amzn-ErrorType.
            return reply(error, json: json || service == "lambda", requestId: requestId)
        } catch {
            return reply(AWSError(code: "InternalFailure", status: 500, message: "\(error)"), json: json, requestId: requestId)
        }
    }

    /// S3: the signature's head is checked before the body is read; the body
    /// then streams to disk, checked against the hash the signature covers
    /// (or chunk by chunk) before anything is committed.
    private func s3Request(_ incoming: SignedRequest, signed: SignedRequest.Claim, body: RequestBody, requestId: String) async throws -> Response {
        guard let s3 else { throw AWSError(code: "InternalFailure", status: 500, message: "the object store is not available") }
        let payload = signed.presigned ? "UNSIGNED-PAYLOAD" : (incoming.header("x-amz-content-sha256") ?? "")
        guard !payload.isEmpty else {
            throw AWSError(code: "InvalidRequest", status: 400, message: "Missing required header for this request: x-amz-content-sha256")
        }
        let key = try verify(incoming, signed: signed, payloadHash: payload)
        let signer = AWSChunkedDecoder.Signer(
            key: SigV4.signingKey(secret: key.secretAccessKey, authorization: signed.authorization), amzDate: signed.amzDate,
            scope: signed.authorization.scope, previous: signed.authorization.signature
        )
        let request = S3Request(method: incoming.method, rawPath: incoming.rawPath, rawQuery: incoming.rawQuery, headers: incoming.headers,
                                payloadHash: payload, chunkSigner: signer, requestId: requestId)
        try policy?.check(request.iamAction, service: "s3", principal: key.name)
        var response = await s3.handle(request, body: body)
        response.headers[.init("x-amz-request-id")!] = requestId
        return response
    }

    /// A JSON-protocol service (SageMaker, SQS): the operation from
    /// `X-Amz-Target`, the body as an object, the handler's answer as JSON,
    /// all off the server's threads (the handlers block on the store and the coordinator).
    private func jsonService(
        _ incoming: SignedRequest, targetPrefix: String, contentType: String, requestId: String,
        _ handle: @escaping @Sendable (String, [String: Any]) throws -> [String: Any]
    ) async throws -> Response {
        let target = incoming.header("x-amz-target") ?? ""
        guard target.hasPrefix(targetPrefix) else {
            throw AWSError(code: "UnknownOperationException", status: 400, message: "X-Amz-Target '\(target.prefix(64))' is not a \(targetPrefix.dropLast()) operation")
        }
        let operation = String(target.dropFirst(targetPrefix.count))
        let body = incoming.body ?? Data()
        let data = try await blocking {
            let input = (body.isEmpty ? [:] : try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
            guard let input else { throw AWSError(code: "SerializationException", status: 400, message: "the request body is not a JSON object") }
            return try JSONSerialization.data(withJSONObject: try handle(operation, input))
        }
        return Response(status: .ok, headers: [.contentType: contentType, .init("x-amzn-RequestId")!: requestId], body: .init(byteBuffer: ByteBuffer(data: data)))
    }

    /// The request's signature checked against its key's secret: the key, or the
    /// error AWS would give (see `SignedRequest.check` for `payloadHash`).
    func verify(_ request: SignedRequest, signed: SignedRequest.Claim, payloadHash: String? = nil) throws -> AccessKeys.Key {
        let authorization = signed.authorization
        guard let key = try keys.key(id: authorization.accessKeyId) ?? executionKey(authorization.accessKeyId) else {
            throw AWSError(code: request.isJSON ? "UnrecognizedClientException" : authorization.service == "s3" ? "InvalidAccessKeyId" : "InvalidClientTokenId", status: 403,
                           message: "The security token included in the request is invalid (no access key \(authorization.accessKeyId.prefix(32)); see shoal credentials create).")
        }
        try request.check(signed, secret: key.secretAccessKey, payloadHash: payloadHash)
        return key
    }

    /// A running execution's own key pair (see `ExecutionCredentials`); its
    /// principal is the execution. Refused once the execution has ended.
    func executionKey(_ accessKeyId: String) throws -> AccessKeys.Key? {
        guard let id = ExecutionCredentials.executionId(of: accessKeyId), let execution = try home.metadata.execution(id: id),
              execution.status == .executing || execution.status == .stopping
        else { return nil }
        let pair = try ExecutionCredentials(home: home).pair(executionId: id)
        return AccessKeys.Key(name: ExecutionCredentials.principalPrefix + id, accessKeyId: pair.accessKeyId, secretAccessKey: pair.secretAccessKey, createdAt: execution.startedAt)
    }

    private func reply(_ error: AWSError, json: Bool, requestId: String) -> Response {
        let status = HTTPResponse.Status(code: error.status)
        if json {
            var headers: HTTPFields = [.contentType: "application/x-amz-json-1.1", .init("x-amzn-RequestId")!: requestId]
            if let queryError = error.queryError { headers[.init("x-amzn-query-error")!] = queryError }
            headers[.init("x-amzn-ErrorType")!] = error.code
            return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(data: error.jsonBody())))
        }
        return Response(status: status, headers: [.contentType: "text/xml"], body: .init(byteBuffer: ByteBuffer(data: error.xmlBody(requestId: requestId))))
    }
}
