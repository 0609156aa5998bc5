// Fuzz targets for what a daemon reads from outside, picked by
// SHOAL_FUZZ_TARGET: `definition` (a definition document through the JSON
// reader, the model and validation), `wire` (a worker-port message through
// the wire codec), `api` (an API-port message through the API codec),
// `sigv4` (an HTTP request's method, path, query, header lines and body
// through the endpoint's reading of its signature claim and its check) and
// `chunked` (an aws-chunked S3 body, its chunk signatures checked, fed in
// pieces as a socket hands them over). A message's frames are the input
// split at 0xFF bytes (no JSON payload holds one), at most 8, as the
// coordinator receives them; a request's parts are split the same way.
//
// Built by scripts/fuzz.sh with `--sanitize fuzzer -DFUZZING`, this runs
// libFuzzer's driver. Built plainly (as every test build does), it runs each
// file given once, to replay what the fuzzer saved:
//   SHOAL_FUZZ_TARGET=wire .build/debug/shoal-fuzz crash-…
import AWSSignature
import Crypto
import Foundation
import ShoalCluster
import ShoalDefinition
import ZeroMQ

let target = ProcessInfo.processInfo.environment["SHOAL_FUZZ_TARGET"] ?? "definition"

func frames(_ bytes: UnsafeBufferPointer<UInt8>) -> [[UInt8]] {
    Array(bytes.split(separator: 0xFF, maxSplits: 7, omittingEmptySubsequences: false).map(Array.init))
}

/// What became of the input, for a replay to print.
@discardableResult
func exercise(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
    switch target {
    case "wire": return (try? WireCodec.decode(frames(bytes).map { Message($0) })) == nil ? "refused" : "decoded"
    case "api": return (try? ApiCodec.decode(frames(bytes))) == nil ? "refused" : "decoded"
    case "sigv4": return signedRequest(frames(bytes))
    case "chunked": return chunkedBody(bytes)
    default: return DefinitionCheck.check(data: Data(buffer: bytes)).diagnostics.isEmpty ? "valid" : "diagnosed"
    }
}

/// The seeds' signing time, and the fuzzer's clock: a mutated request keeps a date the claim accepts.
let signedAt = "20261207T000000Z"
let secret = "fuzz-secret"
let scope = "20261207/us-east-1/s3/aws4_request"

func signedRequest(_ parts: [[UInt8]]) -> String {
    func text(_ index: Int) -> String { index < parts.count ? String(decoding: parts[index], as: UTF8.self) : "" }
    let headers: [(name: String, value: String)] = text(3).split(separator: "\n").compactMap { line in
        let pair = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        return pair.count == 2 ? (String(pair[0]), String(pair[1])) : nil
    }
    let request = SignedRequest(method: text(0), rawPath: text(1), rawQuery: parts.count > 2 && !parts[2].isEmpty ? text(2) : nil,
                                headers: headers, body: parts.count > 4 ? Data(parts[4]) : nil)
    guard let now = SignedRequest.amzDate(signedAt) else { return "no clock" }
    do {
        let claim = try request.claim(now: now)
        try? request.check(claim, secret: secret, payloadHash: "UNSIGNED-PAYLOAD")
        try request.check(claim, secret: secret)
        return "signature holds"
    } catch {
        return "refused: \(error.code)"
    }
}

/// The first byte picks signed or unsigned chunks and the size of the pieces the body is fed in.
func chunkedBody(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
    guard let first = bytes.first else { return "empty" }
    let body = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[1...])
    let signer = first & 1 == 0 ? chunkSigner(seed: "seed-signature") : nil
    var decoder = AWSChunkedDecoder(signer: signer)
    let piece = max(1, Int(first >> 1))
    var offset = 0, decoded = 0
    do {
        while offset < body.count {
            let end = min(body.count, offset + piece)
            try decoder.feed(UnsafeRawBufferPointer(rebasing: body[offset..<end])) { decoded += $0.count }
            offset = end
        }
        try decoder.finish()
        return "\(decoded) bytes, \(decoder.trailers.count) trailers"
    } catch {
        return "refused: \(error)"
    }
}

func chunkSigner(seed: String) -> AWSChunkedDecoder.Signer {
    let authorization = SigV4.Authorization(accessKeyId: "AKIDFUZZ", date: "20261207", region: "us-east-1", service: "s3", signedHeaders: [], signature: seed)
    return AWSChunkedDecoder.Signer(key: SigV4.signingKey(secret: secret, authorization: authorization), amzDate: signedAt, scope: scope, previous: seed)
}

/// Signed requests of each form the endpoint reads: header, presigned (v4 and v2).
func requestSeeds() -> [Data] {
    let path = "/bucket/some%20key", payload = SigV4.emptyHash
    var headers: [(name: String, value: String)] = [("host", "127.0.0.1:9494"), ("x-amz-date", signedAt), ("x-amz-content-sha256", payload)]
    let authorization = SigV4.Authorization(accessKeyId: "AKIDFUZZ", date: "20261207", region: "us-east-1", service: "s3",
                                            signedHeaders: ["host", "x-amz-content-sha256", "x-amz-date"], signature: "")
    let canonical = SigV4.canonicalRequest(method: "GET", rawPath: path, rawQuery: "list-type=2&prefix=a", headers: headers,
                                           signedHeaders: authorization.signedHeaders, payloadHash: payload, service: "s3")
    let signature = SigV4.signature(secret: secret, authorization: authorization,
                                    stringToSign: SigV4.stringToSign(amzDate: signedAt, scope: scope, canonicalRequest: canonical))
    headers.append(("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDFUZZ/\(scope), SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=\(signature)"))
    let headerLines = headers.map { "\($0.name):\($0.value)" }.joined(separator: "\n")
    let query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDFUZZ%2F20261207%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=\(signedAt)"
        + "&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=00"
    let join = { (parts: [String]) in Data(Array(parts.map { Array($0.utf8) }.joined(separator: [0xFF]))) }
    return [
        join(["GET", path, "list-type=2&prefix=a", headerLines, ""]),
        join(["PUT", path, query, "host:127.0.0.1:9494", "body"]),
        join(["GET", path, "AWSAccessKeyId=AKIDFUZZ&Expires=1999999999&Signature=abc%3D", "host:h", ""]),
        join(["POST", "/", "", "x-amz-target:SageMaker.ListPipelines\nx-amz-date:\(signedAt)\nAuthorization:AWS4-HMAC-SHA256 Credential=K/20261207/us-east-1/sagemaker/aws4_request, SignedHeaders=x-amz-date, Signature=0", "{}"]),
    ]
}

/// aws-chunked bodies with correct chunk signatures (first byte: signed, pieces of 7 bytes) and an unsigned one with a trailer.
func chunkedSeeds() -> [Data] {
    var signer = chunkSigner(seed: "seed-signature")
    var body = Data([14])
    for chunk in [Data("hello, ".utf8), Data("world".utf8), Data()] {
        let stringToSign = ["AWS4-HMAC-SHA256-PAYLOAD", signedAt, scope, signer.previous, SigV4.emptyHash, SigV4.hex(SHA256.hash(data: chunk))].joined(separator: "\n")
        let signature = SigV4.sign(stringToSign, key: signer.key)
        signer.previous = signature
        body += Data("\(String(chunk.count, radix: 16));chunk-signature=\(signature)\r\n".utf8) + chunk + Data("\r\n".utf8)
    }
    let unsigned = Data([15]) + Data("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n".utf8)
    return [body, unsigned]
}

/// Valid messages of every kind, as seeds the fuzzer starts from.
func writeSeeds(to folder: String) throws {
    let key = TaskKey(taskId: "e/s/algo-1", attempt: 1)
    let wire: [WireMessage] = [
        .register(Register(workerId: "w", host: "h", pid: 1, slots: 2, version: "1", labels: ["zone": ["a"]])),
        .heartbeat, .cancel(key), .shutdown, .welcome(Welcome(heartbeatMilliseconds: 500, livenessMilliseconds: 3000)),
        .finished(TaskFinished(key: key, result: .lambda(replies: [LambdaReply(result: "{\"a\":1}", error: nil)], seconds: 0.1))),
        .chunk(ChunkHeader(transfer: "t", offset: 0, crc32: 7, objectSize: 3, objectCRC32: 9), DataFrame([1, 2, 3])),
    ]
    let api: [ApiMessage] = [.status(executionId: "e"), .stop(executionId: "e"), .clusterStatus, .failure("no")]
    let join = { (parts: [[UInt8]]) in Data(parts.joined(separator: [0xFF])) }
    for (index, message) in wire.enumerated() {
        try join(WireCodec.encode(message).map(\.bytes)).write(to: URL(fileURLWithPath: "\(folder)/wire-\(index)"))
    }
    for (index, message) in api.enumerated() {
        try join(ApiCodec.encode(message)).write(to: URL(fileURLWithPath: "\(folder)/api-\(index)"))
    }
    for (index, seed) in requestSeeds().enumerated() { try seed.write(to: URL(fileURLWithPath: "\(folder)/sigv4-\(index)")) }
    for (index, seed) in chunkedSeeds().enumerated() { try seed.write(to: URL(fileURLWithPath: "\(folder)/chunked-\(index)")) }
}

#if FUZZING
// libFuzzer's own main drives these.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    exercise(UnsafeBufferPointer(start: data, count: size))
    return 0
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<Int32>?, _ argv: UnsafeMutableRawPointer?) -> Int32 {
    if let folder = ProcessInfo.processInfo.environment["SHOAL_FUZZ_SEEDS"] {
        do { try writeSeeds(to: folder) } catch { FileHandle.standardError.write(Data("shoal-fuzz: cannot write seeds: \(error)\n".utf8)); exit(1) }
        exit(0)
    }
    return 0
}
#else
/// A plain build replays saved inputs, each once.
@main
enum Replay {
    static func main() throws {
        if let folder = ProcessInfo.processInfo.environment["SHOAL_FUZZ_SEEDS"] {
            try writeSeeds(to: folder)
            return
        }
        for path in CommandLine.arguments.dropFirst() {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            let outcome = data.withUnsafeBytes { exercise($0.bindMemory(to: UInt8.self)) }
            print("\(path): \(outcome)")
        }
    }
}
#endif
