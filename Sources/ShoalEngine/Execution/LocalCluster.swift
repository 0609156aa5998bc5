import Foundation
import ShoalCluster
import ShoalRuntime
import ShoalStore
import ZeroMQ

/// Local mode: a coordinator endpoint on an `ipc://` socket in a private folder
/// and N worker processes of the same `shoal` binary connected to it — the
/// very protocol a cluster uses, with workers on this host — and an API socket
/// beside it, where `shoal stop` reaches the run (the folder is the user's
/// alone: mkdtemp makes it 0700).
public final class LocalCluster {
    public let endpoint: CoordinatorEndpoint
    public let api: ApiEndpoint
    private let context: Context
    private let socketFolder: URL
    /// Started with posix_spawn (ChildProcess), each in a session of its own:
    /// Foundation's Process took tens of milliseconds a spawn here, and a
    /// terminal's Ctrl-C is the run's to handle, not its workers'.
    private var workers: [ChildProcess] = []
    /// Each worker's work folder (and log) name: `local-N`, or `local-N.K` while
    /// another run on the same home holds `local-N`.
    private var folderNames: [String] = []
    private let home: ShoalHome
    private let executable: String
    private let labels: String?
    private let sandbox: Sandbox
    /// Said once, loudly, when the run's jobs are not sandboxed.
    public let sandboxWarning: String?
    private let address: String
    private let logFolder: URL
    /// Workers that died are started again, this many times in all: a worker
    /// that cannot stay up must not be restarted without end.
    private let maxReplacements: Int
    public private(set) var replacements = 0

    public struct WorkersDidNotStart: Error, CustomStringConvertible {
        public let started: Int
        public let wanted: Int
        public let logFolder: String
        public var description: String { "only \(started) of \(wanted) workers registered in time; see their logs in \(logFolder)" }
    }

    /// How the workers isolate their jobs.
    public enum Sandbox: Sendable, Equatable {
        /// The sandbox: as root, jobs run as `jobUser`; otherwise rootless, in a
        /// user namespace. Where neither can be built and this process is not
        /// root, unsandboxed with a warning: local mode is a user's own laptop.
        /// (As root, a sandbox that cannot be built fails the steps instead.)
        case automatic(jobUser: String?)
        case unsandboxed
    }

    /// Starts `count` workers running `executable worker …` and waits (bounded) until all registered.
    /// `labels` (`k=v,…`) are given to every worker.
    public init(home: ShoalHome, workers count: Int, executable: String, labels: String? = nil, sandbox: Sandbox = .automatic(jobUser: nil),
                registrationTimeout: TimeInterval = 20) throws {
        var unavailable: String?
        if geteuid() != 0, sandbox != .unsandboxed, case let .unavailable(reason) = SandboxMode.detected { unavailable = reason }
        self.sandbox = unavailable == nil ? sandbox : .unsandboxed
        switch (self.sandbox, sandbox) {
        case (.unsandboxed, .unsandboxed): sandboxWarning = "shoal: warning: --unsandboxed: jobs run as \(NSUserName()) and can read and write everything it can"
        case (.unsandboxed, _): sandboxWarning = "shoal: WARNING: jobs run UNSANDBOXED, as \(NSUserName()), able to read and write everything it can (keys, the home, other files): \(unavailable ?? "")."
        default: sandboxWarning = nil
        }
        context = try Context()
        // ipc:// paths are limited to about 100 bytes, so the socket lives in /tmp, not under
        // the home; network-isolated jobs get a private /tmp and so cannot reach it.
        Self.removeFoldersOfDeadRuns()
        var buffer = Array(Self.folderTemplate.utf8CString)
        guard let made = mkdtemp(&buffer) else { throw CocoaError(.fileWriteUnknown) }
        socketFolder = URL(fileURLWithPath: String(cString: made))
        // Whose folder it is, so that a later run can remove it should this process die without doing so.
        try Data("\(getpid())\n".utf8).write(to: socketFolder.appendingPathComponent(Self.ownerFile))
        let address = "ipc://" + socketFolder.appendingPathComponent("coordinator.sock").path
        endpoint = try CoordinatorEndpoint(bind: address, context: context)
        api = try ApiEndpoint(bind: "ipc://" + socketFolder.appendingPathComponent("api.sock").path)
        logFolder = home.logsFolder.appendingPathComponent("workers")
        try FileManager.default.createDirectory(at: logFolder, withIntermediateDirectories: true)
        self.home = home
        self.executable = executable
        self.labels = labels
        self.address = address
        maxReplacements = 3 * max(1, count)
        for number in 1...max(1, count) {
            folderNames.append(Self.freeFolderName(for: number, in: home.workFolder))
            workers.append(try spawn(number: number))
        }
        let deadline = Date().addingTimeInterval(registrationTimeout)
        while endpoint.registry.workers.count < workers.count {
            guard Date() < deadline else {
                let (started, wanted) = (endpoint.registry.workers.count, workers.count)
                shutdown()
                throw WorkersDidNotStart(started: started, wanted: wanted, logFolder: logFolder.path)
            }
            _ = try endpoint.poll(timeout: 0.02)
        }
    }

    /// Runs on one home share it: a worker folder another run's live worker holds is passed over.
    static func freeFolderName(for number: Int, in workFolder: URL) -> String {
        for copy in 1...64 {
            let name = copy == 1 ? "local-\(number)" : "local-\(number).\(copy)"
            if !WorkFolderClaim.isHeld(workFolder.appendingPathComponent(name)) { return name }
        }
        return "local-\(number).\(getpid())"
    }

    private static let folderTemplate = "/tmp/shoal-XXXXXX"
    private static let ownerFile = "owner"

    /// The socket folders of runs whose process is gone (killed, crashed): their
    /// sockets and owner file are all they hold, and nothing else removes them.
    static func removeFoldersOfDeadRuns() {
        let prefix = "shoal-"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? []
        where name.hasPrefix(prefix) && name.count == folderTemplate.count - "/tmp/".count {
            let folder = "/tmp/" + name
            guard let text = try? String(contentsOfFile: folder + "/" + ownerFile, encoding: .utf8),
                  let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0,
                  kill(pid, 0) != 0 && errno == ESRCH
            else { continue }
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    /// Starts worker `local-<number>`; its log starts afresh with each run, and
    /// a replacement's is appended to the one it replaces.
    private func spawn(number: Int, appending: Bool = false) throws -> ChildProcess {
        let id = "local-\(number)"
        let folder = folderNames[number - 1]
        let log = logFolder.appendingPathComponent("\(folder).log")
        if !appending { _ = FileManager.default.createFile(atPath: log.path, contents: nil) }
        return try ChildProcess(
            arguments: [
                executable, "worker", "--connect", address, "--slots", "1", "--id", id,
                "--work-dir", home.workFolder.appendingPathComponent(folder).path,
            ] + (labels.map { ["--labels", $0] } ?? []) + sandboxArguments,
            environment: ProcessInfo.processInfo.environment, directory: FileManager.default.currentDirectoryPath, outputFile: log.path
        )
    }

    private var sandboxArguments: [String] {
        switch sandbox {
        case .unsandboxed: ["--unsandboxed"]
        case let .automatic(jobUser): jobUser.map { ["--job-user", $0] } ?? []
        }
    }

    /// A worker whose process exited (killed, crashed) is declared lost at
    /// once, so its instances run again, and a new one takes its place while
    /// replacements last. Returns the ids of the workers replaced.
    public func replaceExitedWorkers() -> [String] {
        var replaced: [String] = []
        for index in workers.indices where workers[index].poll() != nil {
            let id = "local-\(index + 1)"
            endpoint.expire(workerId: id)
            guard replacements < maxReplacements, let process = try? spawn(number: index + 1, appending: true) else { continue }
            replacements += 1
            workers[index] = process
            replaced.append(id)
        }
        return replaced
    }

    /// Tells the workers to leave, waits briefly, then kills any that linger.
    public func shutdown() {
        guard !workers.isEmpty else { return }
        endpoint.shutdownWorkers()
        _ = try? endpoint.poll(timeout: 0)
        let deadline = Date().addingTimeInterval(3)
        while workers.contains(where: { $0.poll() == nil }) && Date() < deadline { usleep(2_000) }
        for worker in workers where worker.poll() == nil {
            worker.signalGroup(SIGKILL)
            _ = worker.wait(timeout: 5)
        }
        workers.removeAll()
        try? FileManager.default.removeItem(at: socketFolder)
    }

    deinit { shutdown() }
}
