import Foundation

/// How a job instance (or a function's process) is isolated from the host.
public enum SandboxMode: Sendable, Equatable {
    /// The full sandbox, built by the `shoal-sandbox` helper: a root of the
    /// job's own (the host's system folders and /etc essentials read-only, its
    /// instance folder at /opt/ml), an unprivileged user, no capabilities, a
    /// seccomp filter, PID and mount namespaces, memory and process limits.
    /// With no `user` it is rootless: built in a user namespace where the
    /// worker's own (unprivileged) user is root, limits by resource limits.
    case jail(helper: String, user: JobUser?)
    /// Chosen explicitly (`--unsandboxed`): the job runs as the worker's user
    /// with the host's filesystem; `/opt/ml` in its command and environment is
    /// rewritten to its instance folder, and each job's log says so.
    case unsandboxed
    /// The host cannot build the sandbox: every job fails with this reason,
    /// rather than run with less isolation than it was promised.
    case unavailable(reason: String)

    /// What a worker started without `--unsandboxed` would use here, for the default job user.
    public static let detected: SandboxMode = detect()

    /// Probes once whether this process can build the sandbox for `jobUser`
    /// (a user name, or `UID[:GID]`), with the helper found beside the running
    /// executable, else on PATH. Not root, it tries the rootless sandbox (and
    /// `jobUser` does not apply: jobs keep this process's user).
    public static func detect(jobUser: String = JobUser.defaultName) -> SandboxMode {
        guard let helper = helperPath() else {
            return .unavailable(reason: "the shoal-sandbox helper is neither beside the shoal executable nor on PATH")
        }
        guard geteuid() == 0 else {
            let rootless = SandboxMode.jail(helper: helper, user: nil)
            guard let problem = rootless.probe() else { return rootless }
            return .unavailable(reason: "this worker is not root (uid \(geteuid())) and cannot build the rootless sandbox either: \(problem)")
        }
        let user: JobUser
        switch JobUser.resolve(jobUser) {
        case let .success(found): user = found
        case let .failure(problem): return .unavailable(reason: problem.description)
        }
        let mode = SandboxMode.jail(helper: helper, user: user)
        if let problem = mode.probe() { return .unavailable(reason: "the shoal-sandbox helper cannot build a sandbox on this host: \(problem)") }
        return mode
    }

    /// Runs `/bin/true` in a sandbox; nil when that worked, else what the helper said.
    func probe() -> String? {
        guard case let .jail(helper, user) = self else { return nil }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-probe-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("root"), withIntermediateDirectories: true)
        } catch {
            return "cannot create \(folder.path): \(error.localizedDescription)"
        }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: helper)
        probe.arguments = ["--root", folder.appendingPathComponent("root").path] + Self.identityArguments(user) + ["--cache", Self.skeletonCache, "--", "/bin/true"]
        let errors = Pipe()
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = errors
        do { try probe.run() } catch { return "cannot run \(helper): \(error.localizedDescription)" }
        // Not readDataToEndOfFile, which traps on a read error.
        let said = (try? errors.fileHandleForReading.readToEnd()) ?? Data()
        probe.waitUntilExit()
        guard probe.terminationStatus != 0 else { return nil }
        let text = String(decoding: said.prefix(1024), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "it ended with status \(probe.terminationStatus)" : text
    }

    /// Why a job cannot start here, as its failure reason, or nil when it can.
    public var refusal: String? {
        guard case let .unavailable(reason) = self else { return nil }
        return "\(reason); the job was not started (a worker started with --unsandboxed runs jobs without the sandbox)"
    }

    /// One line for a worker's start and `shoal cluster status`.
    public var summary: String {
        switch self {
        case let .jail(_, user?): "sandboxed (jobs run as \(user.name), uid \(user.uid))"
        case .jail(_, nil): "sandboxed, rootless (jobs run as uid \(geteuid()) in a user namespace; limits by rlimits)"
        case .unsandboxed: "UNSANDBOXED (--unsandboxed: jobs can read and write what the worker's user can)"
        case let .unavailable(reason): "cannot sandbox, jobs fail: \(reason)"
        }
    }

    /// The helper's `--user`, or `--rootless` without a job user.
    static func identityArguments(_ user: JobUser?) -> [String] { user.map { ["--user", $0.argument] } ?? ["--rootless"] }

    /// Where the helper keeps the part of a job's root every job shares (links,
    /// mount points, /etc's essentials), rebuilt when the host's /etc changes:
    /// the system's cache folder as root, else a folder of this user's own in
    /// the temporary folder (never one someone else made: its /etc would be theirs).
    public static let skeletonCache: String = cacheFolder(system: "/var/cache/shoal/sandbox", own: "shoal-sandbox-cache")

    /// A cache folder that only this process's user can have written: `system`
    /// as root, else `<temporary folder>/<own>-<uid>` if it is that user's own
    /// folder and not writable by others, else a fresh one.
    static func cacheFolder(system: String, own prefix: String) -> String {
        if geteuid() == 0, (try? FileManager.default.createDirectory(atPath: system, withIntermediateDirectories: true)) != nil { return system }
        let own = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(geteuid())").path
        _ = mkdir(own, 0o700)
        var status = stat()
        if lstat(own, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR, status.st_uid == geteuid(), status.st_mode & 0o022 == 0 { return own }
        var template = Array(FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-XXXXXX").path.utf8CString)
        return mkdtemp(&template).map { String(cString: $0) } ?? own
    }

    /// The helper, looked up once.
    static let foundHelper: String? = helperPath()
    /// For tests that drive the helper itself.
    public static var helperForTests: String? { foundHelper }

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

    /// A program on PATH, else in the system's own folders.
    public static func executablePath(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
        for folder in path.split(separator: ":") + ["/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
