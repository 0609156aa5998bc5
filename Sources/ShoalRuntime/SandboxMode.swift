import Foundation

/// How a job instance sees `/opt/ml`.
public enum SandboxMode: Sendable, Equatable {
    /// The sandbox folder is bind-mounted at /opt/ml in a private mount
    /// namespace, so scripts with hard-coded paths run unchanged.
    case mountNamespace
    /// Namespaces are unavailable (not root, no unshare): `/opt/ml` in the
    /// command and environment is rewritten to the sandbox folder, with a warning.
    case pathRewriting

    /// Probes once whether this process may create mount namespaces.
    public static let detected: SandboxMode = {
        guard geteuid() == 0, let unshare = executablePath("unshare"), executablePath("mount") != nil else { return .pathRewriting }
        try? FileManager.default.createDirectory(atPath: "/opt/ml", withIntermediateDirectories: true)
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: unshare)
        probe.arguments = ["--mount", "--propagation", "private", "/bin/sh", "-c", "mount --bind /tmp /opt/ml"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return .pathRewriting }
        probe.waitUntilExit()
        return probe.terminationStatus == 0 ? .mountNamespace : .pathRewriting
    }()

    static func executablePath(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
        for folder in path.split(separator: ":") + ["/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
