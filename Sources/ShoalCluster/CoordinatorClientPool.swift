import Foundation
import ZeroMQ

/// Clients of one coordinator's API socket shared by many threads (the HTTP
/// endpoint's): a client is taken for one request and given back, so a
/// request does not pay for a ZeroMQ context of its own (a thread, a socket,
/// a connection: most of a request's cost). A client whose request failed is
/// dropped, never reused: a late reply must not answer the next request.
public final class CoordinatorClientPool: @unchecked Sendable {
    private let endpoint: String
    private let curve: (serverKey: String, keys: CurveKeyPair)?
    private let timeout: TimeInterval
    private let lock = NSLock()
    private var idle: [CoordinatorClient] = []
    /// Clients kept between requests; more are made under load and closed after.
    private static let maxIdle = 8

    public init(endpoint: String, curve: (serverKey: String, keys: CurveKeyPair)? = nil, timeout: TimeInterval = 10) {
        self.endpoint = endpoint
        self.curve = curve
        self.timeout = timeout
    }

    public func request(_ message: ApiMessage) throws -> ApiMessage {
        let client = try lock.withLock { idle.popLast() } ?? CoordinatorClient(endpoint: endpoint, curve: curve, timeout: timeout)
        let reply: ApiMessage
        do {
            reply = try client.request(message)
        } catch let refused as CoordinatorClient.Refused {
            // A refusal is a whole reply: the client is in step and may serve again.
            giveBack(client)
            throw refused
        }
        giveBack(client)
        return reply
    }

    /// A request whose reply may take longer than the pool's timeout (an
    /// invocation waits for its function), awaited without holding a thread.
    public func request(_ message: ApiMessage, timeout: TimeInterval) async throws -> ApiMessage {
        try await waiter().request(message, timeout: timeout)
    }

    private var longRequests: CoordinatorWaiter?

    private func waiter() throws -> CoordinatorWaiter {
        try lock.withLock {
            if let longRequests { return longRequests }
            let made = try CoordinatorWaiter(endpoint: endpoint, curve: curve)
            longRequests = made
            return made
        }
    }

    private func giveBack(_ client: CoordinatorClient) {
        lock.withLock { if idle.count < Self.maxIdle { idle.append(client) } }
    }
}
