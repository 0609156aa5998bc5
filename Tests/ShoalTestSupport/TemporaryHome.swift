import Foundation

/// A fresh Shoal home in a temporary folder, removed when released.
public final class TemporaryHome: @unchecked Sendable {
    public let url: URL

    public init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-test-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    public var environment: [String: String] { ["SHOAL_HOME": url.path] }

    /// Runs `shoal` against this home.
    public func shoal(_ arguments: [String], timeout: TimeInterval = 120) throws -> ShoalProcess.Outcome {
        try ShoalProcess.run(arguments, environment: environment, timeout: timeout)
    }

    /// Writes a file in the home's scratch folder and returns its path.
    public func file(_ name: String, _ contents: String) throws -> String {
        let path = url.appendingPathComponent("scratch/\(name)")
        try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: path)
        return path.path
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}
