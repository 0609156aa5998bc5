import CShoalSystem
import Foundation
import ShoalRuntime
import ZeroMQ

/// Function code fetched once per registration by a worker that cannot see
/// the coordinator's home; the invocations wait for it.
extension WorkerAgent {
    /// Fetches a function's code once into a folder named by its registration; the invocations wait for it.
    func fetchCode(_ assignment: Assignment, into local: String) {
        guard case let .lambda(invocation) = assignment.task else { return }
        if let fetch = codeFetches[local] { return fetch.waiting.append(assignment) }
        let partial = local + ".partial-\(UUID().uuidString.prefix(8))"
        let files = (invocation.codeFiles ?? []).map { Fetcher.File(source: invocation.codePath + "/" + $0, local: partial + "/" + $0, size: nil) }
        let fetch = CodeFetch(fetcher: Fetcher(files: files), partial: partial, first: assignment)
        codeFetches[local] = fetch
        do {
            try FileManager.default.createDirectory(atPath: partial, withIntermediateDirectories: true)
            let requests = try fetch.fetcher.start()
            if requests.isEmpty { try codeArrived(fetch, into: local) } else { requests.forEach(send) }
        } catch {
            failCode(fetch, into: local, "\(error)")
        }
    }

    func takeCodeChunk(_ fetch: CodeFetch, into local: String, _ header: ChunkHeader, _ data: DataFrame) {
        fetch.lastProgress = Date()
        do {
            try fetch.fetcher.take(header, data).forEach(send)
            if fetch.fetcher.done { try codeArrived(fetch, into: local) }
        } catch {
            failCode(fetch, into: local, "\(error)")
        }
    }

    func codeArrived(_ fetch: CodeFetch, into local: String) throws {
        // A rename, so no invocation ever sees half the code.
        guard rename(fetch.partial, local) == 0 else { throw TransferFailed(description: "cannot move the function code to \(local): \(String(cString: strerror(errno)))") }
        codeFetches[local] = nil
        pruneVersions(besides: local)
        for assignment in fetch.waiting { start(assignment) }
    }

    /// Removes the function's other fetched versions, so re-registering a
    /// function does not pile up copies: all but one still fetching or still
    /// loaded in a warm process (an invocation of a removed version fetches it again).
    func pruneVersions(besides local: String) {
        let folder = (local as NSString).deletingLastPathComponent
        let inUse = Set(allFunctionSlots.map(\.process.codeFolder)).union(codeFetches.keys).union(codeFetches.values.map(\.partial))
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
            let path = folder + "/" + entry
            if path != local && !inUse.contains(path) { try? FileManager.default.removeItem(atPath: path) }
        }
    }

    func failCode(_ fetch: CodeFetch, into local: String, _ reason: String) {
        fetch.discard()
        codeFetches[local] = nil
        for assignment in fetch.waiting {
            guard case let .lambda(invocation) = assignment.task else { continue }
            let reply = LambdaReply(result: nil, error: "cannot fetch the function's code: \(reason)")
            finish(assignment.key, .lambda(replies: Array(repeating: reply, count: invocation.events.count), seconds: 0))
        }
    }
}

/// A function's code on its way to a worker that cannot see the coordinator's home.
final class CodeFetch {
    let fetcher: Fetcher
    let partial: String
    var waiting: [Assignment]
    var lastProgress = Date()

    init(fetcher: Fetcher, partial: String, first: Assignment) {
        self.fetcher = fetcher
        self.partial = partial
        waiting = [first]
    }

    /// Drops what arrived so far.
    func discard() {
        fetcher.close()
        try? FileManager.default.removeItem(atPath: partial)
    }
}
