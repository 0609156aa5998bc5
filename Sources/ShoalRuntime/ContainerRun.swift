import Foundation

/// The `oci` runtime: one instance as a podman container of its image, the
/// instance folder bound at /opt/ml. Podman is the isolation here (its own
/// root, namespaces, the image's user); the job's network is none when
/// isolated, else the host's (as the host runtime's jobs share it).
public struct ContainerRun {
    let name: String
    let arguments: [String]
    /// What podman itself runs with: its own PATH and HOME, and the job's variables it passes on.
    let podmanEnvironment: [String: String]

    /// The podman found on PATH, if any.
    static let podman: String? = SandboxMode.executablePath("podman")
    /// runc when installed: crun, podman's default on Debian, refuses hosts whose
    /// cgroups are in hybrid mode, and runc runs everywhere crun does.
    static let runtimeArguments: [String] = SandboxMode.executablePath("runc") != nil ? ["--runtime", "runc"] : []

    /// With a `user` (a worker that sandboxes its jobs), the container runs as
    /// that unprivileged user with no capabilities and no way to gain any, as
    /// the helper's jobs do; without one (an unsandboxed worker), as the image says.
    /// The label every container carries: the worker's work folder, which one
    /// worker holds at a time, so the next worker there can sweep what a dead one left.
    static let ownerLabel = "shoal.work"

    init(spec: ProcessingInstanceSpec, image: String, instanceFolder: String, hostsFile: String?, environment: [String: String], user: JobUser?, workFolder: URL) throws {
        guard let podman = Self.podman else {
            throw JobSandbox.StagingFailed(description: "the image maps to the oci runtime, but podman is not installed on this worker (apt-get install podman runc)")
        }
        name = "shoal-\(spec.jobName.suffix(40))-algo-\(spec.host)-\(UUID().uuidString.prefix(8).lowercased())"
        _ = FileManager.default.createFile(atPath: Self.markFile(workFolder), contents: nil)
        var arguments = [podman] + Self.runtimeArguments + ["run", "--rm", "--name", name, "--hostname", "algo-\(spec.host)"]
        arguments += ["--label", "\(Self.ownerLabel)=\(workFolder.standardizedFileURL.path)"]
        arguments += ["--network", spec.networkIsolation ? "none" : "host", "-v", "\(instanceFolder):/opt/ml"]
        if let hostsFile { arguments += ["-v", "\(hostsFile):/etc/hosts:ro"] }
        // Podman raises the container's limits to its defaults unless told; past this process's hard limits that is refused.
        let files = min(spec.limits?.openFiles ?? 65_536, Self.hardLimit(Int32(RLIMIT_NOFILE.rawValue)))
        let processes = min(spec.limits?.processes ?? 4096, Self.hardLimit(6)  /* RLIMIT_NPROC, which Glibc's module does not export */)
        arguments += ["--ulimit", "nofile=\(files):\(files)", "--ulimit", "nproc=\(processes):\(processes)"]
        if let memory = spec.limits?.memoryBytes { arguments += ["--memory", String(memory)] }
        if let user { arguments += ["--user", "\(user.uid):\(user.gid)", "--cap-drop", "all", "--security-opt", "no-new-privileges"] }
        // Names only: podman takes each value from its own environment, so the
        // execution's keys never show in the host's process list.
        var passed = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": ProcessInfo.processInfo.environment["HOME"] ?? "/root"]
        for (key, value) in environment.sorted(by: { $0.key < $1.key }) {
            if passed[key] != nil {
                arguments += ["-e", "\(key)=\(value)"]
            } else {
                arguments += ["-e", key]
                passed[key] = value
            }
        }
        podmanEnvironment = passed
        if spec.command.isEmpty {
            arguments += [image] + (spec.imageArguments ?? [])
        } else {
            let entrypoint = String(decoding: try JSONSerialization.data(withJSONObject: spec.command), as: UTF8.self)
            arguments += ["--entrypoint", entrypoint, image]
        }
        self.arguments = arguments
    }

    /// Removes the container at once: killing `podman run` leaves it running under conmon.
    func remove() {
        guard let podman = Self.podman else { return }
        let removal = Process()
        removal.executableURL = URL(fileURLWithPath: podman)
        removal.arguments = Self.runtimeArguments + ["rm", "--force", "--time", "0", name]
        removal.standardOutput = FileHandle.nullDevice
        removal.standardError = FileHandle.nullDevice
        guard (try? removal.run()) != nil else { return }
        removal.waitUntilExit()
    }

    /// Left beside the jobs folder when a container starts (in the worker's own
    /// folder, which a new worker's claim does not clear); the next worker there sweeps.
    static func markFile(_ jobsFolder: URL) -> String { jobsFolder.standardizedFileURL.deletingLastPathComponent().path + "/.shoal-containers" }

    /// Removes the containers a worker that died left running on this work
    /// folder (killing `podman run` leaves its container to conmon). Returns how
    /// many; nothing without podman. Each podman call is bounded to 60 s.
    public static func sweep(workFolder: URL) -> Int {
        // Only where a container was ever started (the mark), so a worker start costs no podman call otherwise.
        let mark = markFile(workFolder)
        guard let podman, FileManager.default.fileExists(atPath: mark) else { return 0 }
        defer { unlink(mark) }
        let label = "\(ownerLabel)=\(workFolder.standardizedFileURL.path)"
        let listing = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-sweep-\(UUID().uuidString).txt").path
        defer { try? FileManager.default.removeItem(atPath: listing) }
        func podmanRun(_ arguments: [String]) -> Bool {
            guard let process = try? ChildProcess(arguments: [podman] + runtimeArguments + arguments, environment: ProcessInfo.processInfo.environment,
                                                  directory: "/", outputFile: listing) else { return false }
            return process.finish(within: 60)?.code == 0
        }
        guard podmanRun(["ps", "--all", "--quiet", "--filter", "label=\(label)"]),
              let text = try? String(contentsOfFile: listing, encoding: .utf8) else { return 0 }
        let ids = text.split(whereSeparator: \.isNewline).map(String.init).filter { $0.allSatisfy(\.isHexDigit) }.prefix(1000)
        guard !ids.isEmpty else { return 0 }
        return podmanRun(["rm", "--force", "--time", "0"] + ids) ? ids.count : 0
    }

    private static func hardLimit(_ resource: Int32) -> Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(resource), &limit) == 0 else { return 1024 }
        return limit.rlim_max > rlim_t(Int.max) ? Int.max : Int(limit.rlim_max)
    }
}
