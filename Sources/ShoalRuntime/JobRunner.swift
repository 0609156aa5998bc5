import Foundation

/// Runs one processing instance: sandbox, subprocess, time limit, outcome.
/// Non-blocking: `poll()` advances it, so one worker loop can run many.
public final class RunningJob: @unchecked Sendable {
    public let spec: ProcessingInstanceSpec
    public let logFile: String
    private let sandbox: JobSandbox
    private let process: ChildProcess
    private let outputStaging: URL
    private let started = Date()
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
        sandbox = try JobSandbox.create(for: spec, in: workFolder, jailed: jailed, owner: owner)
        guard !spec.command.isEmpty else {
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
        let arguments: [String]
        let directory: String
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
                + (spec.limits ?? JobLimits()).helperArguments + volume + ["--"] + spec.command
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
            arguments = (SandboxMode.foundHelper.map { [$0, "--unsandboxed", "--"] } ?? []) + spec.command.map(sandbox.rewrite)
            environment = environment.mapValues(sandbox.rewrite)
            directory = sandbox.root.path
        }
        do {
            process = try ChildProcess(arguments: arguments, environment: environment, directory: directory, outputFile: logFile)
        } catch {
            sandbox.remove()
            throw error
        }
    }

    /// Advances the job; returns its outcome once it has ended.
    @discardableResult
    public func poll(now: Date = Date()) -> InstanceOutcome? {
        if let outcome { return outcome }
        guard let exit = process.poll() else {
            enforceTimeLimit(now: now)
            return nil
        }
        var result = finish(exit, now: now)
        result.metricsJSON = sandbox.metricsJSON
        outcome = result
        sandbox.remove()
        return outcome
    }

    /// Becomes readable when the job's process exits, so a worker loop can wait on it.
    public var exitDescriptor: Int32? { process.exitDescriptor }

    /// Stops the job at once (the step was stopped or the worker is leaving).
    public func kill() {
        process.signalGroup(SIGKILL)
    }

    private func enforceTimeLimit(now: Date) {
        if let terminatedAt {
            if now.timeIntervalSince(terminatedAt) > termGraceSeconds { process.signalGroup(SIGKILL) }
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
