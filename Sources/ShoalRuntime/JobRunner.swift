import Foundation

/// Runs one processing instance: sandbox, subprocess, time limit, outcome.
/// Non-blocking: `poll()` advances it, so one worker loop can run many.
public final class RunningJob: @unchecked Sendable {
    public let spec: ProcessingInstanceSpec
    public let logFile: String
    private let sandbox: JobSandbox
    /// The job, once its runtime is ready.
    private var process: ChildProcess?
    /// The runtime's build, when the job waits for one.
    private var build: (process: ChildProcess, environment: PythonEnvironment, started: Date)?
    private var launch: (arguments: [String], environment: [String: String], directory: String)
    /// The container of an `oci` instance, removed when the job is stopped.
    private var container: ContainerRun?
    private let outputStaging: URL
    private var started = Date()
    private let termGraceSeconds: Double
    private var terminatedAt: Date?
    private var timedOut = false
    public private(set) var outcome: InstanceOutcome?

    /// Starts the instance. `outputStaging` receives one folder per output on success.
    public init(spec: ProcessingInstanceSpec, workFolder: URL, logFile: String, outputStaging: URL,
                mode: SandboxMode = .detected, termGraceSeconds: Double = 10) throws {
        self.spec = spec
        self.logFile = logFile
        self.outputStaging = outputStaging
        self.termGraceSeconds = termGraceSeconds
        try FileManager.default.createDirectory(atPath: (logFile as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: logFile, contents: nil) else {
            throw JobSandbox.StagingFailed(description: "cannot create the job's log file \(logFile)")
        }
        if let refusal = mode.refusal { throw JobSandbox.StagingFailed(description: refusal) }
        var owner: JobUser?
        var jailed = false
        if case let .jail(_, user) = mode { (owner, jailed) = (user, true) }
        var ociImage: String?
        // A container keeps the worker's job user (its folders handed over as in the sandbox), not the helper's root.
        if case let .oci(image)? = spec.runtime { (ociImage, jailed) = (image, false) }
        // The volume is the helper's; a container's folders are all handed to its user.
        var staged = spec
        if ociImage != nil { staged.limits?.volumeBytes = nil }
        sandbox = try JobSandbox.create(for: staged, in: workFolder, jailed: jailed, owner: owner, writeHosts: ociImage != nil)
        guard !spec.command.isEmpty || ociImage != nil else {
            sandbox.remove()
            throw JobSandbox.StagingFailed(description: "the job has no ContainerEntrypoint; Shoal runs images by their entrypoint")
        }
        var environment = spec.environment
        let host = ProcessInfo.processInfo.environment
        // In its own root the job sees none of the host's folders: HOME and TMPDIR are its /tmp.
        let inherited = jailed ? ["PATH", "LANG", "LC_ALL"] : ["PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH"]
        for key in inherited where environment[key] == nil {
            if let value = host[key] { environment[key] = value }
        }
        if jailed { environment["HOME"] = environment["HOME"] ?? "/tmp" }
        if let items = spec.items {
            environment["SHOAL_ITEMS_FILE"] = JobSandbox.itemsPath
            if items.utf8.count <= JobSandbox.maxItemsInEnvironment { environment["SHOAL_ITEMS"] = items }
        }
        environment["AWS_REGION"] = environment["AWS_REGION"] ?? "local"
        environment["AWS_DEFAULT_REGION"] = environment["AWS_DEFAULT_REGION"] ?? "local"
        var python: PythonEnvironment?
        if case let .python(name, requirements)? = spec.runtime { python = PythonEnvironment(name: name, requirements: requirements) }
        var command = spec.command
        if let python {
            let bin = (jailed ? PythonEnvironment.mountPoint : python.path) + "/bin"
            environment["PATH"] = bin + ":" + (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin")
            environment["VIRTUAL_ENV"] = jailed ? PythonEnvironment.mountPoint : python.path
            // The image's python is the environment's, however the entrypoint names it.
            if let first = command.first, Self.isPython(first) { command[0] = bin + "/python3" }
        }
        let arguments: [String]
        let directory: String
        if let ociImage {
            // Only what the step and Shoal set: the image brings its own PATH and HOME.
            var own = spec.environment
            for key in ["AWS_REGION", "AWS_DEFAULT_REGION", "SHOAL_ITEMS", "SHOAL_ITEMS_FILE"] where environment[key] != nil { own[key] = environment[key] }
            let run: ContainerRun
            do {
                run = try ContainerRun(
                    spec: spec, image: ociImage, instanceFolder: sandbox.root.path, hostsFile: spec.peerAddresses != nil ? sandbox.hostsFile : nil, environment: own,
                    user: owner, workFolder: workFolder
                )
            } catch {
                sandbox.remove()
                throw error
            }
            container = run
            launch = (run.arguments, run.podmanEnvironment, "/")
            do { try start() } catch {
                sandbox.remove()
                throw error
            }
            return
        }
        switch mode {
        case let .jail(helper, user):
            // The helper also arms the parent-death signal: the job dies with its worker.
            let overlays: [String]
            var volume: [String] = []
            do {
                overlays = try sandbox.overlayArguments(for: spec, owner: user)
                // Loop devices are root's: a rootless worker cannot bound the volume.
                if user != nil { volume = try sandbox.volumeArguments(for: spec) }
            } catch {
                sandbox.remove()
                throw error
            }
            arguments = [helper, "--root", sandbox.jailRoot] + SandboxMode.identityArguments(user) + ["--cache", SandboxMode.skeletonCache, "--report", sandbox.verdictPath]
                + (spec.networkIsolation ? ["--isolate-network"] : [])
                + ["--bind", sandbox.root.path, "/opt/ml"] + overlays + ["--bind", sandbox.privateTmp, "/tmp"]
                + (python.map { ["--bind-ro", $0.path, PythonEnvironment.mountPoint] } ?? [])
                + (spec.peerAddresses != nil ? ["--bind-ro", sandbox.hostsFile, "/etc/hosts"] : [])
                + (spec.limits ?? JobLimits()).helperArguments + volume + ["--"] + command
            directory = "/"
        case .unsandboxed, .unavailable:
            // Fail closed: a job that asked for isolation never runs without it.
            guard !spec.networkIsolation else {
                sandbox.remove()
                throw JobSandbox.StagingFailed(description: "EnableNetworkIsolation is set, but this worker runs jobs unsandboxed (--unsandboxed), without network namespaces; the job was not started")
            }
            let note = "shoal: warning: this worker runs jobs UNSANDBOXED (--unsandboxed): the job runs as the worker's user and can read and write what it can; /opt/ml in the command and environment is rewritten to \(sandbox.root.path), and input files are hard links to the stored objects (no overlay): writing into them changes the objects\n"
            Self.append(note, to: logFile)
            // Through the helper where there is one, so that no descendant outlives the job or the worker.
            arguments = (SandboxMode.foundHelper.map { [$0, "--unsandboxed", "--"] } ?? []) + command.map(sandbox.rewrite)
            environment = environment.mapValues(sandbox.rewrite)
            directory = sandbox.root.path
        }
        launch = (arguments, environment, directory)
        do {
            if let python, !python.isReady {
                build = (try ChildProcess(arguments: try python.buildCommand(), environment: Self.buildEnvironment, directory: "/", outputFile: logFile), python, Date())
            } else {
                try start()
            }
        } catch {
            sandbox.remove()
            throw error
        }
    }

    private func start() throws {
        started = Date()
        process = try ChildProcess(arguments: launch.arguments, environment: launch.environment, directory: launch.directory, outputFile: logFile)
    }

    /// pip needs the host's proxy settings and a home for its cache, nothing of the job's.
    private static var buildEnvironment: [String: String] {
        let host = ProcessInfo.processInfo.environment
        var environment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": host["HOME"] ?? "/root", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"]
        for key in host.keys where key.lowercased().hasSuffix("_proxy") || key.hasPrefix("PIP_") { environment[key] = host[key] }
        return environment
    }

    /// `python`, `python3`, `python3.11`, or a path ending in one.
    static func isPython(_ program: String) -> Bool {
        let name = program.split(separator: "/").last.map(String.init) ?? program
        return name.hasPrefix("python") && name.dropFirst("python".count).allSatisfy { $0.isNumber || $0 == "." }
    }

    /// Advances the job; returns its outcome once it has ended.
    @discardableResult
    public func poll(now: Date = Date()) -> InstanceOutcome? {
        if let outcome { return outcome }
        if let build {
            guard let exit = build.process.poll() else {
                if now.timeIntervalSince(build.started) > PythonEnvironment.maxBuildSeconds { build.process.signalGroup(SIGKILL) }
                return nil
            }
            self.build = nil
            if exit.code == 0 {
                do { try start() } catch { return end(failedBeforeStart("cannot start the job: \(error)", now: now)) }
            } else {
                let reason = build.environment.failure ?? LogTail.lastLines(of: logFile, count: 3)
                return end(failedBeforeStart("ClientError: the python environment for the image could not be built on this worker: \(reason)", now: now))
            }
        }
        guard let process else { return nil }
        guard let exit = process.poll() else {
            enforceTimeLimit(now: now)
            return nil
        }
        var result = finish(exit, now: now)
        result.metricsJSON = sandbox.metricsJSON
        return end(result)
    }

    private func end(_ result: InstanceOutcome) -> InstanceOutcome {
        outcome = result
        sandbox.remove()
        return result
    }

    private func failedBeforeStart(_ reason: String, now: Date) -> InstanceOutcome {
        InstanceOutcome(status: .failed, exitCode: nil, failureReason: String(reason.prefix(1024)), exitMessage: nil, outputs: [],
                        wallSeconds: now.timeIntervalSince(started), cpuSeconds: 0, peakRSSBytes: 0)
    }

    /// Becomes readable when the job's process exits, so a worker loop can wait on it.
    public var exitDescriptor: Int32? { build?.process.exitDescriptor ?? process?.exitDescriptor }

    /// Stops the job at once (the step was stopped or the worker is leaving).
    public func kill() {
        build?.process.signalGroup(SIGKILL)
        process?.signalGroup(SIGKILL)
        container?.remove()
    }

    private func enforceTimeLimit(now: Date) {
        guard let process else { return }
        if let terminatedAt {
            if now.timeIntervalSince(terminatedAt) > termGraceSeconds {
                process.signalGroup(SIGKILL)
                container?.remove()
            }
        } else if now.timeIntervalSince(started) > Double(spec.maxRuntimeSeconds) {
            timedOut = true
            terminatedAt = now
            process.signalGroup(SIGTERM)
        }
    }

    private func finish(_ exit: ChildProcess.Exit, now: Date) -> InstanceOutcome {
        let wall = now.timeIntervalSince(started)
        let message = sandbox.exitMessage
        func failed(_ reason: String) -> InstanceOutcome {
            // A job that ran out of disk rarely says so itself (its log may be what could not be written).
            let full = Self.isFull(sandbox.root.path) ? " (the filesystem holding the job's folder, \(sandbox.root.path), was full when it ended)" : ""
            return InstanceOutcome(
                status: .failed, exitCode: exit.code.map(Int.init), failureReason: String((reason + full).prefix(1024)), exitMessage: message,
                outputs: [], wallSeconds: wall, cpuSeconds: exit.cpuSeconds, peakRSSBytes: exit.peakRSSBytes
            )
        }
        if timedOut { return failed("MaxRuntimeInSeconds (\(spec.maxRuntimeSeconds)) exceeded; the job was stopped" + (sandbox.verdict.map { " (\($0))" } ?? "")) }
        if let verdict = sandbox.verdict, exit.code != 0 { return failed("AlgorithmError: \(verdict)") }
        if let signal = exit.signal { return failed("AlgorithmError: killed by signal \(signal) (\(signalName(signal)))" + detail(message)) }
        guard exit.code == 0 else { return failed("AlgorithmError: exit code \(exit.code ?? -1)" + detail(message)) }
        do {
            let outputs = try spec.outputs.map { output in
                let (files, leftOut) = try sandbox.takeOutput(output, to: outputStaging.appendingPathComponent(output.name))
                if !leftOut.isEmpty { noteInLog("output '\(output.name)': \(leftOut.count == 1 ? "1 entry that is not a regular file was" : "\(leftOut.count) entries that are not regular files were") left out (outputs hold regular files; not symbolic links, sockets or devices): \(leftOut.prefix(10).joined(separator: ", "))\(leftOut.count > 10 ? ", …" : "")") }
                return files
            }
            return InstanceOutcome(
                status: .completed, exitCode: 0, failureReason: nil, exitMessage: message, outputs: outputs,
                wallSeconds: wall, cpuSeconds: exit.cpuSeconds, peakRSSBytes: exit.peakRSSBytes
            )
        } catch {
            return failed("\(error)")
        }
    }

    /// Appends a line of Shoal's own to the job's log, which the coordinator receives with the rest.
    private func noteInLog(_ text: String) {
        Self.append("shoal: \(text)\n", to: logFile)
    }

    private static func append(_ text: String, to logFile: String) {
        let descriptor = open(logFile, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        let line = Array(text.utf8)
        _ = line.withUnsafeBytes { writeAll($0, to: descriptor) }
    }

    /// Whether the filesystem holding `path` has (next to) no room left for an unprivileged writer.
    static func isFull(_ path: String) -> Bool {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return false }
        return UInt64(info.f_bavail) * UInt64(info.f_frsize) < 64 << 10
    }

    /// The container's own message if it wrote one, else the end of its log.
    private func detail(_ message: String?) -> String {
        if let message { return ": " + message }
        let tail = LogTail.lastLines(of: logFile, count: 10)
        return tail.isEmpty ? "" : ": " + tail
    }

    private func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGKILL: "SIGKILL"
        case SIGTERM: "SIGTERM"
        case SIGSEGV: "SIGSEGV"
        case SIGABRT: "SIGABRT"
        case SIGINT: "SIGINT"
        default: "signal \(signal)"
        }
    }
}

/// Reads the end of a log without loading all of it.
public enum LogTail {
    public static func lastLines(of path: String, count: Int, maxBytes: Int = 4096) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: size > UInt64(maxBytes) ? size - UInt64(maxBytes) : 0)
        let text = String(decoding: (try? handle.readToEnd()) ?? Data(), as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: true).suffix(count).joined(separator: "\n")
    }
}
