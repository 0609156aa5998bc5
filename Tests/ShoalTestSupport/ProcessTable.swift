import Foundation

/// What /proc says about processes, for tests that check who is still alive.
public enum ProcessTable {
    /// Processes whose parent is `parent`.
    public static func children(of parent: Int32) -> [Int32] {
        pids().filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == parent
        }
    }

    /// Whether process `pid` exists and is not a zombie.
    public static func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(close, offsetBy: 2)] != "Z"
    }

    /// Running processes whose command line is exactly `arguments`.
    public static func running(commandLine arguments: [String]) -> [Int32] {
        let wanted = Array(arguments.joined(separator: "\0").utf8) + [0]
        return pids().filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return Array(data) == wanted && isRunning(pid)
        }
    }

    /// This process's PID namespace, `pid:[…]`.
    public static var ownPIDNamespace: String { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid")) ?? "" }

    /// Waits (at most `seconds`) until no process is left in PID namespace `namespace`.
    public static func waitUntilEmpty(pidNamespace namespace: String, seconds: TimeInterval = 5) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if !pids().contains(where: { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\($0)/ns/pid")) == namespace }) { return true }
            usleep(20_000)
        }
        return false
    }

    private static func pids() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }
    }
}
