import Foundation

/// The folder holding everything a Shoal installation stores: objects, the
/// metadata database, registered functions, logs and staging space. All on one
/// filesystem, so that committing an output is a rename.
public struct ShoalHome: Sendable {
    public let root: URL
    public let objects: ObjectStore
    public let metadata: MetadataStore

    /// `--home`, else `$SHOAL_HOME`, else `~/.shoal`.
    public static func resolve(_ explicit: String?) -> URL {
        if let explicit { return URL(fileURLWithPath: explicit) }
        if let environment = ProcessInfo.processInfo.environment["SHOAL_HOME"], !environment.isEmpty {
            return URL(fileURLWithPath: environment)
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".shoal")
    }

    public init(root: URL) throws {
        self.root = root
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        objects = try ObjectStore(root: root.appendingPathComponent("objects"))
        metadata = try MetadataStore(path: root.appendingPathComponent("shoal.sqlite").path)
    }

    public var functionsFolder: URL { root.appendingPathComponent("functions") }
    public var logsFolder: URL { root.appendingPathComponent("logs") }
    public var workFolder: URL { root.appendingPathComponent("work") }

    /// The log of one instance attempt of a step.
    public func logFile(execution: String, step: String, instance: Int, attempt: Int) -> URL {
        logsFolder.appendingPathComponent(execution).appendingPathComponent(step)
            .appendingPathComponent("algo-\(instance)-attempt-\(attempt).log")
    }
}
