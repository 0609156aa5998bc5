import Foundation

/// The unprivileged user a sandboxed job runs as.
public struct JobUser: Sendable, Equatable {
    public var uid: UInt32
    public var gid: UInt32
    public var name: String

    public init(uid: UInt32, gid: UInt32, name: String) {
        self.uid = uid
        self.gid = gid
        self.name = name
    }

    /// Created by scripts/setup.sh and the deploy guide.
    public static let defaultName = "shoal-job"

    public struct Missing: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// A user name from the host's accounts, or `UID[:GID]` (no account needed:
    /// the job's root has its own /etc/passwd). Never root.
    public static func resolve(_ text: String) -> Result<JobUser, Missing> {
        let numbers = text.split(separator: ":", omittingEmptySubsequences: false)
        if let uid = numbers.first.flatMap({ UInt32($0) }), numbers.count <= 2 {
            let gid = numbers.count == 2 ? UInt32(numbers[1]) : uid
            guard let gid else { return .failure(Missing(description: "job user '\(text)': the group id is not a number")) }
            guard uid != 0, gid != 0 else { return .failure(Missing(description: "job user '\(text)': a job never runs as root")) }
            return .success(JobUser(uid: uid, gid: gid, name: "shoal-job"))
        }
        guard let entry = getpwnam(text) else {
            return .failure(Missing(description: "there is no user '\(text)' for jobs to run as: create it (useradd --system --no-create-home --shell /usr/sbin/nologin \(text); scripts/setup.sh does), or name another with --job-user"))
        }
        guard entry.pointee.pw_uid != 0, entry.pointee.pw_gid != 0 else {
            return .failure(Missing(description: "job user '\(text)' is root or in group root; jobs run as an unprivileged user"))
        }
        return .success(JobUser(uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid, name: text))
    }

    /// Makes `path` (a folder the job writes in) this user's.
    func give(_ path: String) throws(JobSandbox.StagingFailed) {
        guard lchown(path, uid, gid) == 0 else {
            throw JobSandbox.StagingFailed(description: "cannot give \(path) to the job user \(name): \(String(cString: strerror(errno)))")
        }
    }

    /// The helper's `--user` value.
    var argument: String { "\(uid):\(gid):\(name)" }
}

/// What one instance may use, enforced by the sandbox.
public struct JobLimits: Codable, Sendable, Equatable {
    public var memoryBytes: Int?
    public var processes: Int?
    public var openFiles: Int?
    /// What the job may write in all (VolumeSizeInGB): its outputs, /opt/ml/output,
    /// /tmp and what it adds to its input folders. Enforced where the worker is root.
    public var volumeBytes: Int?

    public init(memoryBytes: Int? = nil, processes: Int? = nil, openFiles: Int? = nil, volumeBytes: Int? = nil) {
        self.memoryBytes = memoryBytes
        self.processes = processes
        self.openFiles = openFiles
        self.volumeBytes = volumeBytes
    }

    /// A warm function process: Lambda's own bounds for processes and files.
    public static let function = JobLimits(memoryBytes: 1 << 30, processes: 1024, openFiles: 1024)

    var helperArguments: [String] {
        (memoryBytes.map { ["--memory", String($0)] } ?? []) + (processes.map { ["--processes", String($0)] } ?? [])
            + (openFiles.map { ["--files", String($0)] } ?? [])
    }
}
