import Foundation
import ZeroMQ

/// Requests whose reply may take minutes (a Lambda invocation waits for its
/// function), awaited without holding a thread each: one thread of its own
/// sends each request on a socket of its own and polls them all, resuming each
/// caller when its reply (or its deadline) comes. Bounded: past `maxWaiting`
/// a request is refused at once (the coordinator runs at most 256
/// invocations, and a ZeroMQ context holds at most 1,023 sockets).
final class CoordinatorWaiter: @unchecked Sendable {
    private struct Waiting {
        let message: ApiMessage
        let timeout: TimeInterval
        let deadline: Date
        let continuation: CheckedContinuation<ApiMessage, any Error>
    }

    static let maxWaiting = 512
    private let endpoint: String
    private let curve: (serverKey: String, keys: CurveKeyPair)?
    private let lock = NSLock()
    private var arriving: [Waiting] = []
    private var count = 0
    private var started = false
    /// Written to wake the thread when a request arrives (its poll also sees sockets).
    private let wake: (read: Int32, write: Int32)

    init(endpoint: String, curve: (serverKey: String, keys: CurveKeyPair)?) throws {
        self.endpoint = endpoint
        self.curve = curve
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw CoordinatorClient.Refused(description: "cannot make a pipe: \(String(cString: strerror(errno)))") }
        for end in ends {
            _ = fcntl(end, F_SETFL, O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        wake = (ends[0], ends[1])
    }

    func request(_ message: ApiMessage, timeout: TimeInterval) async throws -> ApiMessage {
        try await withCheckedThrowingContinuation { continuation in
            let refused: Bool = lock.withLock {
                guard count < Self.maxWaiting else { return true }
                count += 1
                arriving.append(Waiting(message: message, timeout: timeout, deadline: Date().addingTimeInterval(timeout), continuation: continuation))
                if !started {
                    started = true
                    let thread = Thread { [self] in loop() }
                    thread.name = "shoal-coordinator-waiter"
                    thread.start()
                }
                return false
            }
            if refused {
                continuation.resume(throwing: CoordinatorClient.Refused(description: "too many invocations are waiting for the coordinator (\(Self.maxWaiting)); try again"))
                return
            }
            var byte: UInt8 = 1
            _ = write(wake.write, &byte, 1)
        }
    }

    private func loop() {
        let context: Context
        do { context = try Context() } catch { return failAll(because: error) }
        var pending: [(socket: Socket, waiting: Waiting)] = []
        func end(_ index: Int, _ result: Result<ApiMessage, any Error>) {
            pending[index].waiting.continuation.resume(with: result)
            pending.remove(at: index)
            lock.withLock { count -= 1 }
        }
        while true {
            for waiting in lock.withLock({ () -> [Waiting] in defer { arriving.removeAll() }; return arriving }) {
                do {
                    let socket = try CoordinatorClient.socket(in: context, endpoint: endpoint, curve: curve)
                    _ = try socket.send(ApiCodec.encode(waiting.message))
                    pending.append((socket, waiting))
                } catch {
                    waiting.continuation.resume(throwing: error)
                    lock.withLock { count -= 1 }
                }
            }
            var poller = Poller()
            _ = poller.add(fileDescriptor: wake.read)
            for entry in pending { poller.add(entry.socket) }
            let nearest = pending.map(\.waiting.deadline).min().map { max(0, Int($0.timeIntervalSinceNow * 1000) + 1) } ?? 1000
            guard let ready = try? poller.poll(timeoutMilliseconds: min(nearest, 1000)) else { continue }
            if ready[0].contains(.readable) {
                var drain = [UInt8](repeating: 0, count: 256)
                while read(wake.read, &drain, drain.count) > 0 {}
            }
            let now = Date()
            for index in pending.indices.reversed() {
                if ready[index + 1].contains(.readable) {
                    do {
                        guard let frames = try pending[index].socket.receive(dontWait: true, maxFrames: 8) else { continue }
                        end(index, .success(try CoordinatorClient.reply(frames)))
                    } catch {
                        end(index, .failure(error))
                    }
                } else if pending[index].waiting.deadline <= now {
                    end(index, .failure(CoordinatorClient.Unreachable(endpoint: endpoint, seconds: pending[index].waiting.timeout)))
                }
            }
        }
    }

    /// Without a context nothing can be sent: every caller hears why.
    private func failAll(because error: any Error) {
        lock.withLock {
            for waiting in arriving { waiting.continuation.resume(throwing: error) }
            arriving.removeAll()
            count = 0
            started = false
        }
    }
}
