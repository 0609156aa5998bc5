import CShoalSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A subprocess started with `posix_spawn` in a session of its own, so that it
/// and every process it starts can be signalled together, and reaped with
/// `wait4` to read its resource usage (Foundation.Process offers neither).
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    public private(set) var exit: Exit?

    public struct Exit: Sendable, Equatable {
        /// Set when the process exited.
        public let code: Int32?
        /// Set when a signal ended it.
        public let signal: Int32?
        public let cpuSeconds: Double
        public let peakRSSBytes: Int
    }

    public struct SpawnFailed: Error, CustomStringConvertible {
        public let executable: String
        public let code: Int32
        public var description: String { "cannot start \(executable): \(String(cString: strerror(code)))" }
    }

    /// Starts `arguments[0]` (searched in `PATH`) with `environment`, in
    /// `directory`, its standard output and error appended to `outputFile`.
    public init(arguments: [String], environment: [String: String], directory: String, outputFile: String, stdinFile: String = "/dev/null") throws {
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        posix_spawn_file_actions_addopen(&fileActions, 0, stdinFile, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fileActions, 1, outputFile, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&fileActions, 1, 2)
        guard let addChdir = addChdir else { throw SpawnFailed(executable: arguments[0], code: ENOSYS) }
        let chdirAdded = addChdir(&fileActions, directory)
        guard chdirAdded == 0 else { throw SpawnFailed(executable: arguments[0], code: chdirAdded) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // POSIX_SPAWN_SETSID (glibc): the child leads a new session and process group.
        var defaultSignals = sigset_t()
        sigfillset(&defaultSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        var noMask = sigset_t()
        sigemptyset(&noMask)
        posix_spawnattr_setsigmask(&attributes, &noMask)
        posix_spawnattr_setflags(&attributes, Int16(0x80 | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, arguments[0], &fileActions, &attributes, argv, envp)
        guard rc == 0 else { throw SpawnFailed(executable: arguments[0], code: rc) }
        self.pid = pid
        let descriptor = shoal_pidfd_open(pid)
        exitDescriptor = descriptor >= 0 ? descriptor : nil
    }

    /// Readable once the process has exited (pidfd), for a poll loop; nil on old kernels.
    public let exitDescriptor: Int32?

    /// Reaps the process if it has ended; never blocks. Whatever the process
    /// left running in its group is killed first, while the group id is still
    /// reserved by the unreaped leader, so no job leaves processes behind.
    @discardableResult
    public func poll() -> Exit? {
        if let exit { return exit }
        var info = siginfo_t()
        guard waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0, info.si_signo == SIGCHLD else { return nil }
        kill(-pid, SIGKILL)
        var status: Int32 = 0
        var usage = rusage()
        let rc = wait4(pid, &status, WNOHANG, &usage)
        guard rc == pid else { return nil }
        let cpu = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        let signalled = (status & 0x7f) != 0 && (status & 0x7f) != 0x7f
        exit = Exit(
            code: signalled ? nil : (status >> 8) & 0xff,
            signal: signalled ? status & 0x7f : nil,
            cpuSeconds: cpu,
            peakRSSBytes: usage.ru_maxrss * 1024
        )
        return exit
    }

    /// Waits for the end, polling every few milliseconds, at most `timeout` seconds.
    public func wait(timeout: Double) -> Exit? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let exit = poll() { return exit }
            usleep(2_000)
        }
        return poll()
    }

    /// Waits up to `timeout` seconds; past it the whole group is killed and
    /// reaped, and the answer is nil: for helper programs that must not hang their caller.
    public func finish(within timeout: Double) -> Exit? {
        if let exit = wait(timeout: timeout) { return exit }
        signalGroup(SIGKILL)
        _ = wait(timeout: 5)
        return nil
    }

    /// Signals the whole process group the child leads.
    public func signalGroup(_ signal: Int32) {
        guard exit == nil else { return }
        kill(-pid, signal)
    }

    deinit {
        // Never leave a job behind or a zombie: kill what is left and reap it.
        if exit == nil {
            kill(-pid, SIGKILL)
            _ = wait(timeout: 5)
        }
        if let exitDescriptor { close(exitDescriptor) }
    }
}

/// glibc (2.29+) has `posix_spawn_file_actions_addchdir_np`, but its header
/// hides it from Swift; look it up at run time.
private let addChdir: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32)? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np") else { return nil }
    return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32).self)
}()
