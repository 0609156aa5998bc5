import Foundation

/// A fresh Shoal home in a temporary folder, removed when released.
public final class TemporaryHome: @unchecked Sendable {
    public let url: URL

    /// The made-up images the tests' definitions name run with the host's
    /// programs; SageMaker's framework images keep Shoal's default mappings.
    public static let testImageMap = #"""
        [{"pattern": "123456789012.dkr.ecr.us-east-1.amazonaws.com/*", "runtime": "host"},
         {"pattern": "156813124566.dkr.ecr.us-east-1.amazonaws.com/*", "runtime": "host"},
         {"pattern": "sh", "runtime": "host"}, {"pattern": "python", "runtime": "host"}, {"pattern": "true", "runtime": "host"},
         {"pattern": "x", "runtime": "host"}, {"pattern": "img", "runtime": "host"}, {"pattern": "i", "runtime": "host"}]
        """#

    /// `imageMap`: the home's `images.json`, or none (only Shoal's defaults).
    public init(imageMap: String? = TemporaryHome.testImageMap) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-test-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        if let imageMap { try Data(imageMap.utf8).write(to: url.appendingPathComponent("images.json")) }
    }

    public var environment: [String: String] { ["SHOAL_HOME": url.path] }

    /// Runs `shoal` against this home.
    public func shoal(_ arguments: [String], timeout: TimeInterval = 120) throws -> ShoalProcess.Outcome {
        try ShoalProcess.run(arguments, environment: environment, timeout: timeout)
    }

    /// Runs `examples/NAME/run.sh` with the built binary against this home.
    public func example(_ name: String, _ arguments: [String] = [], timeout: TimeInterval = 180) throws -> ShoalProcess.Outcome {
        let script = Fixtures.repositoryRoot.appendingPathComponent("examples/\(name)/run.sh")
        var environment = self.environment
        environment["SHOAL"] = ShoalProcess.executable.path
        return try ShoalProcess.run(executable: URL(fileURLWithPath: "/bin/bash"), [script.path] + arguments, environment: environment, timeout: timeout)
    }

    /// Starts `shoal arguments…` in the background (for a test that stops it midway); the caller terminates it.
    public func start(_ arguments: [String], standardError: URL? = nil) throws -> Process {
        let process = Process()
        process.executableURL = ShoalProcess.executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        if let standardError {
            _ = FileManager.default.createFile(atPath: standardError.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: standardError)
        } else {
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        return process
    }

    /// Writes a file in the home's scratch folder and returns its path.
    public func file(_ name: String, _ contents: String) throws -> String {
        let path = url.appendingPathComponent("scratch/\(name)")
        try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: path)
        return path.path
    }

    public struct Unexpected: Error, CustomStringConvertible {
        public let description: String

        public init(description: String) { self.description = description }
    }

    /// Runs a `shoal … --output json` listing and parses what it prints.
    public func json(_ arguments: [String]) throws -> Any {
        let outcome = try shoal(arguments + ["--output", "json"])
        guard outcome.status == 0 else { throw Unexpected(description: "shoal \(arguments.joined(separator: " ")): \(outcome.stderr)") }
        return try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8))
    }

    /// The id of the newest execution that no fan-out started (children start after their parent).
    public func latestExecutionId() throws -> String {
        guard let executions = try json(["executions", "list"]) as? [[String: Any]],
              let id = executions.first(where: { $0["parentExecutionId"] == nil || $0["parentExecutionId"] is NSNull })?["id"] as? String
        else { throw Unexpected(description: "no execution is recorded") }
        return id
    }

    /// The steps of the newest execution, as `shoal steps --output json` prints them.
    public func latestSteps() throws -> [[String: Any]] {
        guard let steps = try json(["steps", try latestExecutionId()]) as? [[String: Any]] else {
            throw Unexpected(description: "shoal steps printed something other than a list")
        }
        return steps
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}
