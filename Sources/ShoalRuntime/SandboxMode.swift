import Foundation

/// How a job instance sees `/opt/ml`.
public enum SandboxMode: Sendable, Equatable {
    /// The sandbox folder is bind-mounted at /opt/ml in a private mount
    /// namespace by the `shoal-sandbox` helper, so scripts with hard-coded
    /// paths run unchanged.
    case mountNamespace(helper: String)
    /// Namespaces are unavailable (not root, no unshare): `/opt/ml` in the
    /// command and environment is rewritten to the sandbox folder, with a warning.
    case pathRewriting

    /// Probes once whether this process may create mount namespaces with the
    /// helper (found beside the running executable, else on PATH).
    public static let detected: SandboxMode = {
        guard geteuid() == 0, let helper = helperPath() else { return .pathRewriting }
        try? FileManager.default.createDirectory(atPath: "/opt/ml", withIntermediateDirectories: true)
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: helper)
        probe.arguments = [NSTemporaryDirectory(), "/bin/true"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return .pathRewriting }
        probe.waitUntilExit()
        return probe.terminationStatus == 0 ? .mountNamespace(helper: helper) : .pathRewriting
    }()

    static func helperPath() -> String? {
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var folder = URL(fileURLWithPath: executable).deletingLastPathComponent()
            // Test bundles sit one or two levels below the build folder.
            for _ in 0..<3 {
                let candidate = folder.appendingPathComponent("shoal-sandbox").path
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
                folder.deleteLastPathComponent()
            }
        }
        return executablePath("shoal-sandbox")
    }

    static func executablePath(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
        for folder in path.split(separator: ":") + ["/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
