import Foundation

/// Live pages hold a connection each; past this many more are refused, so
/// open tabs cannot take every thread of the server.
final class StreamCount: @unchecked Sendable {
    static let limit = 64
    private let lock = NSLock()
    private var open = 0

    func acquire() -> Bool {
        lock.withLock {
            guard open < Self.limit else { return false }
            open += 1
            return true
        }
    }

    func release() { lock.withLock { open -= 1 } }
}
