import AWSSignature
import Crypto
import Foundation
import ShoalCluster
import ShoalEngine
import ShoalStore

/// Lambda's function API (REST-JSON under `/2015-03-31/functions`), over the
/// same registry as `shoal functions`: what the SageMaker SDK's Lambda helper
/// calls when a LambdaStep names a script (`Lambda(...).upsert()`).
/// Invoke runs the function on a worker, as a Lambda step does.
struct LambdaAPI: Sendable {
    let home: ShoalHome
    let coordinator: CoordinatorClientPool

    static let prefix = "/2015-03-31/functions"

    struct Answer {
        let status: Int
        let body: [String: Any]
        /// Invoke's answer is the function's own payload, not a JSON document of Shoal's.
        var raw: Data? = nil
        var headers: [String: String] = [:]

        /// The response body: the raw payload, nothing for 204, else the JSON document.
        func encoded() throws -> Data {
            try raw ?? (status == 204 ? Data() : try JSONSerialization.data(withJSONObject: body))
        }
    }

    /// Lambda's payload limits: 6 MB for RequestResponse, 256 KB for Event.
    static let maxSyncPayload = 6 << 20
    static let maxAsyncPayload = 256 << 10

    func handle(method: String, path: String, query: [String: String], body: Data, headers: [String: String] = [:]) throws -> Answer {
        guard path.hasPrefix(Self.prefix) else { throw AWSError(code: "UnknownOperationException", status: 404, message: "no Lambda operation at \(path.prefix(128))") }
        let rest = path.dropFirst(Self.prefix.count).split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        let input = body.isEmpty ? [:] : ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:])
        switch (method, rest.count, rest.last) {
        case ("POST", 0, _): return Answer(status: 201, body: try create(input))
        case ("GET", 0, _): return Answer(status: 200, body: try list(query))
        case ("GET", 1, _): return Answer(status: 200, body: try get(Self.name(rest[0])))
        case ("DELETE", 1, _):
            let name = try Self.name(rest[0])
            guard try home.metadata.deleteFunction(named: name) else { throw Self.notFound(name) }
            try? FileManager.default.removeItem(at: home.functionsFolder.appendingPathComponent(name))
            return Answer(status: 204, body: [:])
        case ("PUT", 2, "code"): return Answer(status: 200, body: try updateCode(Self.name(rest[0]), input))
        case ("PUT", 2, "configuration"): return Answer(status: 200, body: try updateConfiguration(Self.name(rest[0]), input))
        case ("GET", 2, "configuration"): return Answer(status: 200, body: try configuration(existing(Self.name(rest[0]))))
        default:
            throw AWSError(code: "UnknownOperationException", status: 404, message: "Shoal's Lambda API has no \(method) \(path.prefix(128))")
        }
    }

    /// The function an invocation names (`POST …/functions/NAME/invocations`),
    /// or nil for any other request: an invocation goes to `invoke`, the rest to `handle`.
    static func invocationTarget(method: String, path: String) throws -> String? {
        guard method == "POST", path.hasPrefix(prefix) else { return nil }
        let rest = path.dropFirst(prefix.count).split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        guard rest.count == 2, rest[1] == "invocations" else { return nil }
        return try name(rest[0])
    }

    /// RequestResponse waits for the handler (without holding a thread: it may
    /// take minutes); Event answers 202 once it is queued; DryRun checks the
    /// function exists. A handler's exception is answered as Lambda does: 200,
    /// `X-Amz-Function-Error: Unhandled`, the error as the payload.
    func invoke(_ name: String, payload: Data, type: String) async throws -> Answer {
        guard ["RequestResponse", "Event", "DryRun"].contains(type) else {
            throw AWSError(code: "InvalidParameterValueException", status: 400, message: "X-Amz-Invocation-Type '\(type.prefix(32))' is not RequestResponse, Event or DryRun")
        }
        let api = self
        let function = try await blocking { try api.existing(name) }
        if type == "DryRun" { return Answer(status: 204, body: [:]) }
        let limit = type == "Event" ? Self.maxAsyncPayload : Self.maxSyncPayload
        guard payload.count <= limit else {
            throw AWSError(code: "RequestTooLargeException", status: 413, message: "the payload is \(payload.count) bytes; \(type) takes at most \(limit)")
        }
        let event = payload.isEmpty ? "{}" : String(decoding: payload, as: UTF8.self)
        guard (try? JSONSerialization.jsonObject(with: Data(event.utf8), options: [.fragmentsAllowed])) != nil else {
            throw AWSError(code: "InvalidRequestContentException", status: 400, message: "Could not parse request body into json: the payload is not JSON")
        }
        let request = ApiMessage.invoke(.init(functionName: function.name, payload: event, asynchronous: type == "Event"))
        let reply: ApiMessage
        do {
            reply = try await coordinator.request(request, timeout: Double(function.timeoutSeconds) + 90)
        } catch let refused as CoordinatorClient.Refused {
            if refused.description.contains("too many invocations") { throw AWSError(code: "TooManyRequestsException", status: 429, message: refused.description) }
            throw AWSError(code: "ServiceException", status: 500, message: refused.description)
        } catch {
            throw AWSError(code: "ServiceException", status: 500, message: "the coordinator did not answer: \(error)")
        }
        guard case let .invoked(outcome) = reply else { throw AWSError(code: "ServiceException", status: 500, message: "unexpected reply from the coordinator") }
        let version = ["X-Amz-Executed-Version": "$LATEST"]
        if type == "Event" { return Answer(status: 202, body: [:], raw: Data(), headers: version) }
        if let error = outcome.error {
            guard outcome.ran else { throw AWSError(code: "ServiceException", status: 500, message: error) }
            return Answer(status: 200, body: [:], raw: try JSONSerialization.data(withJSONObject: Self.errorPayload(error)),
                          headers: version.merging(["X-Amz-Function-Error": "Unhandled"]) { $1 })
        }
        return Answer(status: 200, body: [:], raw: Data((outcome.result ?? "null").utf8), headers: version)
    }

    /// `ValueError: bad item` and the traceback after it, in Lambda's error shape.
    static func errorPayload(_ error: String) -> [String: Any] {
        let lines = error.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let first = lines.first ?? error
        if let colon = first.range(of: ": "), first[..<colon.lowerBound].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }) {
            return ["errorType": String(first[..<colon.lowerBound]), "errorMessage": String(first[colon.upperBound...]), "stackTrace": Array(lines.dropFirst())]
        }
        return ["errorType": "Error", "errorMessage": first, "stackTrace": Array(lines.dropFirst())]
    }

    /// A name, or an ARN ending in `function:NAME` (with an optional qualifier after it).
    static func name(_ given: String) throws -> String {
        guard given.hasPrefix("arn:") else { return given }
        guard let range = given.range(of: ":function:") else { throw AWSError(code: "InvalidParameterValueException", status: 400, message: "'\(given.prefix(128))' is not a function ARN") }
        return String(given[range.upperBound...].split(separator: ":").first ?? "")
    }

    static func notFound(_ name: String) -> AWSError {
        AWSError(code: "ResourceNotFoundException", status: 404, message: "Function not found: \(Identifiers.functionArn(name))")
    }

    private func existing(_ name: String) throws -> FunctionRecord {
        guard let record = try home.metadata.function(named: name) else { throw Self.notFound(name) }
        return record
    }

    private func create(_ input: [String: Any]) throws -> [String: Any] {
        guard let name = input["FunctionName"] as? String, let handler = input["Handler"] as? String else {
            throw AWSError(code: "InvalidParameterValueException", status: 400, message: "CreateFunction needs FunctionName, Handler and Code")
        }
        let functionName = try Self.name(name)
        guard try home.metadata.function(named: functionName) == nil else {
            throw AWSError(code: "ResourceConflictException", status: 409, message: "Function already exist: \(functionName)")
        }
        try refuseUnsupported(input)
        let record = try register(functionName, handler: handler, timeout: input["Timeout"] as? Int ?? 3, code: input["Code"] as? [String: Any] ?? [:])
        return configuration(record)
    }

    private func updateCode(_ name: String, _ input: [String: Any]) throws -> [String: Any] {
        let record = try existing(name)
        return configuration(try register(name, handler: record.handler, timeout: record.timeoutSeconds, code: input))
    }

    private func updateConfiguration(_ name: String, _ input: [String: Any]) throws -> [String: Any] {
        let record = try existing(name)
        try refuseUnsupported(input)
        var updated = record
        updated.handler = input["Handler"] as? String ?? record.handler
        updated.timeoutSeconds = input["Timeout"] as? Int ?? record.timeoutSeconds
        do { try FunctionRegistration.check(name: name, handler: updated.handler, timeout: updated.timeoutSeconds) } catch {
            throw AWSError(code: "InvalidParameterValueException", status: 400, message: error.description)
        }
        try home.metadata.save(updated)
        return configuration(updated)
    }

    /// Settings Shoal cannot honour are refused rather than kept and ignored.
    private func refuseUnsupported(_ input: [String: Any]) throws {
        if let environment = input["Environment"] as? [String: Any], let variables = environment["Variables"] as? [String: Any], !variables.isEmpty {
            throw AWSError(code: "InvalidParameterValueException", status: 400, message: "Shoal does not pass Environment variables to functions yet")
        }
        if let layers = input["Layers"] as? [Any], !layers.isEmpty {
            throw AWSError(code: "InvalidParameterValueException", status: 400, message: "Shoal has no Lambda layers")
        }
        if let type = input["PackageType"] as? String, type != "Zip" {
            throw AWSError(code: "InvalidParameterValueException", status: 400, message: "Shoal runs Zip packages only (PackageType \(type.prefix(32)))")
        }
    }

    /// `ZipFile` (base64 in the JSON body) or `S3Bucket`/`S3Key` of the home's store.
    private func register(_ name: String, handler: String, timeout: Int, code: [String: Any]) throws -> FunctionRecord {
        let zip: Data
        if let inline = code["ZipFile"] as? String {
            guard let bytes = Data(base64Encoded: inline) else {
                throw AWSError(code: "InvalidParameterValueException", status: 400, message: "Code.ZipFile is not base64")
            }
            zip = bytes
        } else if let bucket = (code["S3Bucket"] as? String), let key = code["S3Key"] as? String {
            do { zip = try home.objects.read(try S3URI(bucket: bucket, key: key), maxBytes: 64 << 20) } catch {
                throw AWSError(code: "InvalidParameterValueException", status: 400, message: "cannot read the code at s3://\(bucket)/\(key): \(error)")
            }
        } else {
            throw AWSError(code: "InvalidParameterValueException", status: 400, message: "Code needs ZipFile, or S3Bucket and S3Key")
        }
        do {
            return try FunctionRegistration.register(name: name, handler: handler, timeout: timeout, code: .zip(zip), home: home)
        } catch let refused as FunctionRegistration.Refused {
            throw AWSError(code: "InvalidParameterValueException", status: 400, message: refused.description)
        }
    }

    private func get(_ name: String) throws -> [String: Any] {
        ["Configuration": configuration(try existing(name)), "Code": ["RepositoryType": "S3", "Location": ""]]
    }

    private func list(_ query: [String: String]) throws -> [String: Any] {
        let all = try home.metadata.functions().sorted { $0.name < $1.name }
        let start = query["Marker"].flatMap(Int.init) ?? 0
        let size = min(50, max(1, query["MaxItems"].flatMap(Int.init) ?? 50))
        let page = all.dropFirst(start).prefix(size)
        var answer: [String: Any] = ["Functions": page.map(configuration)]
        if start + page.count < all.count { answer["NextMarker"] = String(start + page.count) }
        return answer
    }

    /// The FunctionConfiguration shape: what runs (the handler, the timeout) and the code's digest.
    private func configuration(_ record: FunctionRecord) -> [String: Any] {
        let (size, digest) = Self.codeDigest(record.codePath)
        return [
            "FunctionName": record.name, "FunctionArn": Identifiers.functionArn(record.name), "Runtime": "python3", "Handler": record.handler,
            "Timeout": record.timeoutSeconds, "CodeSize": size, "CodeSha256": digest, "Version": "$LATEST", "State": "Active",
            "LastUpdateStatus": "Successful", "PackageType": "Zip", "LastModified": Identifiers.timestamp(record.createdAt),
        ]
    }

    /// Size and SHA-256 (base64, as Lambda gives it) of the function's files, in path order.
    static func codeDigest(_ folder: String) -> (Int, String) {
        var hash = SHA256()
        var size = 0
        let files = (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String] ?? []).sorted()
        for relative in files {
            guard let data = FileManager.default.contents(atPath: folder + "/" + relative) else { continue }
            hash.update(data: Data(relative.utf8))
            hash.update(data: data)
            size += data.count
        }
        return (size, Data(hash.finalize()).base64EncodedString())
    }
}
