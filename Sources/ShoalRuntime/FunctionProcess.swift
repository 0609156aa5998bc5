import Foundation
import ShoalDefinition

/// A warm Python process for one Lambda-style function: the handler is
/// imported once, then fed one event per line; replies come back one per line.
/// Reading is non-blocking, so a worker loop can wait on `outputDescriptor`.
public final class FunctionProcess: @unchecked Sendable {
    public enum Reply: Sendable, Equatable {
        case ready
        case loadFailed(message: String)
        case result(Data)
        case failed(message: String)
    }

    public let handler: String
    public let codeFolder: String
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var buffer = Data()
    /// The sandbox's root and /tmp, removed with the process.
    private var scratch: URL?
    /// Replies longer than this end the process: a handler's result is small.
    public static let maxReplyBytes = 1 << 20

    /// Sandboxed, the process runs in a root of its own with the code read-only
    /// at /var/task (as on Lambda) and a /tmp of its own under `scratchFolder`.
    public init(codeFolder: String, handler: String, logFile: String, mode: SandboxMode = .detected,
                limits: JobLimits = .function, scratchFolder: URL = FileManager.default.temporaryDirectory) throws {
        self.handler = handler
        self.codeFolder = codeFolder
        if let refusal = mode.refusal { throw JobSandbox.StagingFailed(description: refusal) }
        try FileManager.default.createDirectory(atPath: (logFile as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: logFile) { _ = FileManager.default.createFile(atPath: logFile, contents: nil) }
        let command = ["python3", "-u", "-c", Self.shim, handler]
        if case let .jail(helper, user) = mode {
            let scratch = scratchFolder.appendingPathComponent("function-\(UUID().uuidString.prefix(8))")
            let tmp = scratch.appendingPathComponent("tmp")
            try FileManager.default.createDirectory(at: scratch.appendingPathComponent("root"), withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
            try user?.give(tmp.path)
            self.scratch = scratch
            process.executableURL = URL(fileURLWithPath: helper)
            process.arguments = ["--root", scratch.appendingPathComponent("root").path] + SandboxMode.identityArguments(user) + ["--cache", SandboxMode.skeletonCache,
                                 "--bind-ro", codeFolder, "/var/task", "--bind", tmp.path, "/tmp", "--workdir", "/var/task"]
                + limits.helperArguments + ["--"] + command
            process.environment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "LAMBDA_TASK_ROOT": "/var/task"]
                .merging(ProcessInfo.processInfo.environment.filter { $0.key.hasPrefix("AWS_") }) { own, _ in own }
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = command
            process.currentDirectoryURL = URL(fileURLWithPath: codeFolder)
        }
        process.standardInput = input
        process.standardOutput = output
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
        try log.seekToEnd()
        process.standardError = log
        try process.run()
        let flags = fcntl(output.fileHandleForReading.fileDescriptor, F_GETFL)
        _ = fcntl(output.fileHandleForReading.fileDescriptor, F_SETFL, flags | O_NONBLOCK)
    }

    deinit { terminate() }

    public var outputDescriptor: Int32 { output.fileHandleForReading.fileDescriptor }
    public var isRunning: Bool { process.isRunning }

    /// Sends one event (a JSON object) to the handler, with variables to set
    /// in its process first (the endpoint and the calling execution's key pair).
    public func invoke(event: Data, environment: [String: String]? = nil) throws {
        var line = Data("{\"event\": ".utf8)
        line.append(event)
        if let environment, let encoded = try? JSONSerialization.data(withJSONObject: environment, options: [.sortedKeys]) {
            line.append(contentsOf: Array(", \"environment\": ".utf8))
            line.append(encoded)
        }
        line.append(contentsOf: Array("}\n".utf8))
        try input.fileHandleForWriting.write(contentsOf: line)
    }

    /// The next complete reply, if one has arrived; never blocks.
    public func readReply() -> Reply? {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(outputDescriptor, &chunk, chunk.count)
            if count <= 0 { break }
            buffer.append(contentsOf: chunk[0..<count])
            if buffer.count > Self.maxReplyBytes {
                terminate()
                return .failed(message: "the handler's reply is larger than \(Self.maxReplyBytes) bytes")
            }
        }
        guard let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) else {
            if !process.isRunning && buffer.isEmpty {
                return .failed(message: "the function's Python process exited (status \(process.terminationStatus)); see the step log")
            }
            return nil
        }
        let line = buffer[buffer.startIndex..<newline]
        buffer.removeSubrange(buffer.startIndex...newline)
        guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any] else {
            // Python writes any integer, 10**400 included, which JSON readers cannot carry: say what was wrong.
            let reason: String
            do {
                _ = try JSONParser.parse(Data(line))
                reason = "a reply Shoal cannot read"
            } catch {
                reason = error.description.contains("out of range")
                    ? "a result holding a number too large for JSON readers (\(error.description)); return it as a string"
                    : "a reply that is not JSON (\(error.description))"
            }
            return .failed(message: "the handler returned \(reason)")
        }
        if let ready = object["ready"] as? Bool {
            return ready ? .ready : .loadFailed(message: object["error"] as? String ?? "the handler could not be loaded")
        }
        if object["ok"] as? Bool == true, let result = object["result"] {
            let data = (try? JSONSerialization.data(withJSONObject: result, options: [.fragmentsAllowed])) ?? Data("null".utf8)
            return .result(data)
        }
        return .failed(message: object["error"] as? String ?? "the handler failed")
    }

    public func terminate() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        if let scratch { try? FileManager.default.removeItem(at: scratch) }
        scratch = nil
    }

    /// An invocation's variable holding the PEM certificates to trust the
    /// endpoint with; the shim writes them to a file named by AWS_CA_BUNDLE.
    public static let caBundleVariable = "SHOAL_ENDPOINT_CA_PEM"

    /// Loads `module.function` from the working folder, then serves events.
    /// Handler prints go to the log (stderr); the protocol keeps its own stdout.
    static let shim = #"""
import importlib, json, os, sys, traceback
protocol = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr
sys.path.insert(0, os.getcwd())
def describe(error):
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
try:
    module_name, function_name = sys.argv[1].rsplit(".", 1)
    handler = getattr(importlib.import_module(module_name), function_name)
except Exception as error:
    traceback.print_exc()
    protocol.write(json.dumps({"ready": False, "error": "cannot load handler " + sys.argv[1] + ": " + describe(error)}) + "\n")
    sys.exit(1)
protocol.write(json.dumps({"ready": True}) + "\n")
for line in sys.stdin:
    try:
        message = json.loads(line)
        os.environ.update(message.get("environment") or {})
        pem = os.environ.pop("\#(caBundleVariable)", None)
        if pem:
            path = os.path.join(os.environ.get("TMPDIR") or "/tmp", "shoal-endpoint-ca.pem")
            with open(path, "w") as bundle:
                bundle.write(pem)
            os.environ["AWS_CA_BUNDLE"] = path
        event = message["event"]
        reply = json.dumps({"ok": True, "result": handler(event, None)})
    except Exception as error:
        traceback.print_exc()
        reply = json.dumps({"ok": False, "error": describe(error)})
    protocol.write(reply + "\n")
"""#
}
