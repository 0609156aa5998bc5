import Foundation

/// Runs the built `shoal` binary like a user would.
public enum ShoalProcess {
    public struct Outcome: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
    }

    /// The `shoal` executable next to the running test bundle.
    public static var executable: URL {
        if let path = ProcessInfo.processInfo.environment["SHOAL_BINARY"] { return URL(fileURLWithPath: path) }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        // Test bundles may sit inside a `.xctest` folder.
        while !FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent("shoal").path) && directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("shoal")
    }

    /// Runs `shoal arguments…` to completion (at most `timeout` seconds) and returns its status and output.
    public static func run(_ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:], timeout: TimeInterval = 60) throws -> Outcome {
        try run(executable: executable, arguments, stdin: stdin, environment: environment, timeout: timeout)
    }

    /// Runs any program the same way (a script of the examples, for instance).
    public static func run(
        executable: URL, _ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:], timeout: TimeInterval = 60
    ) throws -> Outcome {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let input = Pipe()
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try input.fileHandleForWriting.close()
        // Read both pipes fully before waiting, so a chatty child never blocks on a full pipe.
        let readers = DispatchGroup()
        nonisolated(unsafe) var outData = Data()
        nonisolated(unsafe) var errData = Data()
        DispatchQueue.global().async(group: readers) { outData = output.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: readers) { errData = errors.fileHandleForReading.readDataToEndOfFile() }
        if readers.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            process.waitUntilExit()
            throw TimedOut(arguments: arguments, seconds: timeout)
        }
        process.waitUntilExit()
        return Outcome(
            status: process.terminationStatus,
            stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self)
        )
    }

    public struct TimedOut: Error, CustomStringConvertible {
        public let arguments: [String]
        public let seconds: TimeInterval
        public var description: String { "shoal \(arguments.joined(separator: " ")) ran longer than \(seconds) s and was stopped" }
    }
}
