import Foundation
import ShoalRuntime

/// How tests run jobs: in the real sandbox as root (CI), unsandboxed otherwise,
/// where the sandbox cannot be built and a worker would fail every job.
public enum TestSandbox {
    public static var mode: SandboxMode { geteuid() == 0 ? .detected : .unsandboxed }
}
