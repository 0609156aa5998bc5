import Foundation
import ShoalCluster
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
    private var workers: [Process] = []

    public struct WorkersDidNotStart: Error, CustomStringConvertible {
        public let started: Int
        public let wanted: Int
        public let logFolder: String
        public var description: String { "only \(started) of \(wanted) workers registered in time; see their logs in \(logFolder)" }
    }

    /// Starts `count` workers running `executable worker …` and waits (bounded) until all registered.
    /// `labels` (`k=v,…`) are given to every worker.
    public init(home: ShoalHome, workers count: Int, executable: String, labels: String? = nil, registrationTimeout: TimeInterval = 20) throws {
        context = try Context()
        // ipc:// paths are limited to about 100 bytes, so the socket lives in /tmp, not under
        // the home; network-isolated jobs get a private /tmp and so cannot reach it.
        let template = "/tmp/shoal-XXXXXX"
        var buffer = Array(template.utf8CString)
        guard let made = mkdtemp(&buffer) else { throw CocoaError(.fileWriteUnknown) }
        socketFolder = URL(fileURLWithPath: String(cString: made))
        let address = "ipc://" + socketFolder.appendingPathComponent("coordinator.sock").path
        endpoint = try CoordinatorEndpoint(bind: address, context: context)
        api = try ApiEndpoint(bind: "ipc://" + socketFolder.appendingPathComponent("api.sock").path)
        let logFolder = home.logsFolder.appendingPathComponent("workers")
        try FileManager.default.createDirectory(at: logFolder, withIntermediateDirectories: true)
        for number in 1...max(1, count) {
            let id = "local-\(number)"
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = [
                "worker", "--connect", address, "--slots", "1", "--id", id,
                "--work-dir", home.workFolder.appendingPathComponent(id).path,
            ] + (labels.map { ["--labels", $0] } ?? [])
            let log = logFolder.appendingPathComponent("\(id).log")
            // A failure shows in the next line, which opens it.
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            process.standardOutput = handle
            process.standardError = handle
            process.standardInput = FileHandle.nullDevice
            try process.run()
            workers.append(process)
        }
        let deadline = Date().addingTimeInterval(registrationTimeout)
        while endpoint.registry.workers.count < workers.count {
            guard Date() < deadline else {
                shutdown()
                throw WorkersDidNotStart(started: endpoint.registry.workers.count, wanted: workers.count, logFolder: logFolder.path)
            }
            _ = try endpoint.poll(timeout: 0.02)
        }
    }

    /// Tells the workers to leave, waits briefly, then kills any that linger.
    public func shutdown() {
        guard !workers.isEmpty else { return }
        endpoint.shutdownWorkers()
        _ = try? endpoint.poll(timeout: 0)
        let deadline = Date().addingTimeInterval(3)
        while workers.contains(where: \.isRunning) && Date() < deadline { usleep(10_000) }
        for worker in workers where worker.isRunning {
            kill(worker.processIdentifier, SIGKILL)
            worker.waitUntilExit()
        }
        workers.removeAll()
        try? FileManager.default.removeItem(at: socketFolder)
    }

    deinit { shutdown() }
}
