import Foundation
import ShoalRuntime

extension RunningJob {
    /// Polls the job until it ends (killed, and `CancellationError` thrown, after
    /// `seconds`); returns its outcome and its log.
    public func finish(within seconds: TimeInterval = 60) throws -> (InstanceOutcome, String) {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let outcome = poll() { return (outcome, try String(contentsOfFile: logFile, encoding: .utf8)) }
            usleep(5_000)
        }
        kill()
        throw CancellationError()
    }
}
