import Foundation

/// Runs work that blocks (the store's reads and writes, a request on the
/// coordinator's socket) off an async server's threads: the endpoint's and the console's.
public func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}
