// Fuzz targets for what a daemon reads from outside, picked by
// SHOAL_FUZZ_TARGET: `definition` (a definition document through the JSON
// reader, the model and validation), `wire` (a worker-port message through
// the wire codec) and `api` (an API-port message through the API codec).
// A message's frames are the input split at 0xFF bytes (no JSON payload
// holds one), at most 8, as the coordinator receives them.
//
// Built by scripts/fuzz.sh with `--sanitize fuzzer -DFUZZING`, this runs
// libFuzzer's driver. Built plainly (as every test build does), it runs each
// file given once, to replay what the fuzzer saved:
//   SHOAL_FUZZ_TARGET=wire .build/debug/shoal-fuzz crash-…
import Foundation
import ShoalCluster
import ShoalDefinition
import ZeroMQ

let target = ProcessInfo.processInfo.environment["SHOAL_FUZZ_TARGET"] ?? "definition"

func frames(_ bytes: UnsafeBufferPointer<UInt8>) -> [[UInt8]] {
    Array(bytes.split(separator: 0xFF, maxSplits: 7, omittingEmptySubsequences: false).map(Array.init))
}

func exercise(_ bytes: UnsafeBufferPointer<UInt8>) {
    switch target {
    case "wire": _ = try? WireCodec.decode(frames(bytes).map { Message($0) })
    case "api": _ = try? ApiCodec.decode(frames(bytes))
    default: _ = DefinitionCheck.check(data: Data(buffer: bytes))
    }
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
            data.withUnsafeBytes { exercise($0.bindMemory(to: UInt8.self)) }
            print("\(path): handled")
        }
    }
}
#endif
