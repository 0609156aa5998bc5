import Foundation
import Hummingbird
import ShoalDefinition
import ShoalStore

extension ConsoleServer {
    /// How often a live page's execution is read again: a change reaches the
    /// browser within this plus a write. Reading one execution's steps is a
    /// small indexed query, and SQLite in WAL mode lets it run beside the runner's writes.
    static let eventInterval: Duration = .milliseconds(40)
    /// A stream ends after this long; the browser's EventSource reconnects by itself.
    static let streamSeconds: TimeInterval = 3600

    /// Server-sent events: the whole snapshot first, then the steps that changed, until the execution ends.
    func events(_ id: String) throws -> Response {
        guard let execution = try home.metadata.execution(id: id) else { throw ConsoleError.notFound("no execution '\(id)' in this home") }
        guard streams.acquire() else { throw ConsoleError.unavailable("\(StreamCount.limit) live pages are open already; close some") }
        let graph = DefinitionCheck.check(data: Data(execution.definition.utf8)).graph
        let (home, streams) = (self.home, self.streams)
        let body = ResponseBody { writer in
            defer { streams.release() }
            var previous: ExecutionSnapshot?
            var wrote = Date()
            let deadline = Date().addingTimeInterval(Self.streamSeconds)
            while Date() < deadline {
                guard let current = try home.metadata.execution(id: id) else { break }
                let snapshot = ExecutionSnapshot(execution: current, steps: try home.metadata.steps(executionId: id), graph: graph)
                if let event = snapshot.event(since: previous) {
                    try await writer.write(ByteBuffer(string: "data: \(event)\n\n"))
                    previous = snapshot
                    wrote = Date()
                } else if Date().timeIntervalSince(wrote) > 15 {
                    // A comment line: keeps proxies from closing the stream, and finds a browser that left.
                    try await writer.write(ByteBuffer(string: ": still here\n\n"))
                    wrote = Date()
                }
                if snapshot.isFinal { break }
                try await Task.sleep(for: Self.eventInterval)
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"], body: body)
    }

    /// A piece of an instance's log; `X-Log-Offset` says where the next piece starts.
    func logPiece(_ id: String, query: [String: String]) async throws -> Response {
        let page = ExecutionPage(home: home, layouts: layouts, csrf: csrf)
        let (data, next) = try await blocking { try page.log(id: id, query: query) }
        return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-store", .init("X-Log-Offset")!: String(next)],
                        body: .init(byteBuffer: ByteBuffer(data: data)))
    }
}
