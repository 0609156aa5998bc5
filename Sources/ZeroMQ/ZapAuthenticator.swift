import CZeroMQ
import Foundation

/// A ZAP handler (RFC 27) that admits CURVE clients whose public key is on an
/// allow-list and refuses every other. libzmq lets any client in when no ZAP
/// handler answers, so create this before binding a CURVE server socket on the
/// same context; it answers on its own thread until `stop()`.
public final class ZapAuthenticator: @unchecked Sendable {
    public struct Decision: Sendable, Equatable {
        public let publicKey: String
        public let address: String
        public let allowed: Bool
    }

    private let socket: Socket
    private let state = State()
    private let finished = DispatchSemaphore(value: 0)

    /// `onDecision` runs on the handler's thread for every request (log refusals there).
    public init(context: Context, allowedKeys: Set<String>, onDecision: @escaping @Sendable (Decision) -> Void = { _ in }) throws {
        socket = try context.socket(.rep)
        try socket.setOption(.linger, 0)
        try socket.bind("inproc://zeromq.zap.01")
        state.allowed = allowedKeys
        let handler = Thread { [socket, state, finished] in
            var poller = Poller()
            poller.add(socket)
            while state.isRunning {
                guard let ready = try? poller.poll(timeoutMilliseconds: 100), ready[0].contains(.readable),
                      let frames = try? socket.receive(dontWait: true, maxFrames: 16)
                else { continue }
                _ = try? socket.send(state.answer(frames, onDecision))
            }
            finished.signal()
        }
        handler.name = "shoal-zap"
        handler.start()
    }


    /// The allow-list and the running flag, shared with the handler thread.
    private final class State: @unchecked Sendable {
        private let lock = NSLock()
        private var _running = true
        var allowed: Set<String> {
            get { lock.withLock { _allowed } }
            set { lock.withLock { _allowed = newValue } }
        }
        private var _allowed: Set<String> = []

        var isRunning: Bool { lock.withLock { _running } }
        func stop() { lock.withLock { _running = false } }

        /// Frames of a ZAP request → frames of the reply.
        func answer(_ frames: [[UInt8]], _ onDecision: (Decision) -> Void) -> [[UInt8]] {
            // version, request id, domain, address, routing id, mechanism, credentials…
            guard frames.count >= 6 else { return [Array("1.0".utf8), [], Array("400".utf8), Array("malformed request".utf8), [], []] }
            let requestId = frames[1]
            let address = String(decoding: frames[3], as: UTF8.self)
            let mechanism = String(decoding: frames[5], as: UTF8.self)
            var key = ""
            var allowed = false
            if mechanism == "CURVE", frames.count >= 7, let text = CurveKeyPair.z85(binary: frames[6]) {
                key = text
                allowed = self.allowed.contains(text)
            }
            onDecision(Decision(publicKey: key, address: address, allowed: allowed))
            return allowed
                ? [Array("1.0".utf8), requestId, Array("200".utf8), Array("OK".utf8), Array(key.utf8), []]
                : [Array("1.0".utf8), requestId, Array("400".utf8), Array("key not allowed".utf8), [], []]
        }
    }

    /// Replaces the allow-list (a reloaded file); new connections see it at once.
    public func allow(_ keys: Set<String>) { state.allowed = keys }

    /// Stops answering and closes the handler's socket, waiting at most a second.
    public func stop() {
        guard state.isRunning else { return }
        state.stop()
        _ = finished.wait(timeout: .now() + 1)
        socket.close()
    }

    deinit { stop() }
}
