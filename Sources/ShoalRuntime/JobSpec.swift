/// Everything a worker needs to run one instance of a processing job; the
/// coordinator resolves the definition into this, the worker needs nothing else.
public struct ProcessingInstanceSpec: Codable, Sendable, Equatable {
    public struct InputFile: Codable, Sendable, Equatable {
        /// Where the bytes are on this host (the object store).
        public var source: String
        /// Path under the input's LocalPath.
        public var relativePath: String
        public var size: Int
        /// The object's identity when the task was planned (inode and modification
        /// time: any rewrite through the store changes it); a worker that
        /// fetches inputs may reuse a copy only of the same version.
        public var version: String?

        public init(source: String, relativePath: String, size: Int = 0, version: String? = nil) {
            self.source = source
            self.relativePath = relativePath
            self.size = size
            self.version = version
        }
    }

    public struct Input: Codable, Sendable, Equatable {
        public var name: String
        /// Absolute container path, under /opt/ml/processing/.
        public var localPath: String
        public var files: [InputFile]

        public init(name: String, localPath: String, files: [InputFile]) {
            self.name = name
            self.localPath = localPath
            self.files = files
        }
    }

    public struct Output: Codable, Sendable, Equatable {
        public var name: String
        public var localPath: String

        public init(name: String, localPath: String) {
            self.name = name
            self.localPath = localPath
        }
    }

    public var jobName: String
    /// 1-based host number: this instance is `algo-<host>`.
    public var host: Int
    public var hostCount: Int
    public var instanceType: String
    /// Entrypoint followed by arguments, already resolved to strings.
    public var command: [String]
    public var environment: [String: String]
    public var inputs: [Input]
    public var outputs: [Output]
    public var maxRuntimeSeconds: Int
    /// The resolved CreateProcessingJob request as `processingjobconfig.json` shows it.
    public var jobConfigJSON: String
    /// NetworkConfig.EnableNetworkIsolation: loopback only, or the job does not run.
    public var networkIsolation: Bool
    /// This instance's share of the step's `Shoal:ItemShards` items, as a JSON list.
    public var items: String?
    /// What the sandbox holds the instance to (from its instance type); none when absent.
    public var limits: JobLimits?
    /// What the image runs as (from the image map); the host's programs when absent.
    public var runtime: JobRuntime?
    /// Files written into the instance folder before it starts (container path under
    /// /opt/ml → contents): a training job's `input/config/*.json`.
    public var configFiles: [String: String]?
    /// The name of the file under /opt/ml/config/ that holds `jobConfigJSON`.
    public var jobConfigName: String?
    /// With an empty `command`, an `oci` image runs its own entrypoint with these arguments (`train`).
    public var imageArguments: [String]?
    /// Each host's address (`algo-1` first) for the instance's /etc/hosts, so
    /// the hosts of a multi-instance job reach each other by name.
    public var peerAddresses: [String]?

    /// Bytes staged into this instance's inputs.
    public var inputBytes: Int { inputs.reduce(0) { $0 + $1.files.reduce(0) { $0 + $1.size } } }

    public init(
        jobName: String, host: Int, hostCount: Int, instanceType: String, command: [String], environment: [String: String],
        inputs: [Input], outputs: [Output], maxRuntimeSeconds: Int, jobConfigJSON: String, networkIsolation: Bool = false
    ) {
        self.jobName = jobName
        self.host = host
        self.hostCount = hostCount
        self.instanceType = instanceType
        self.command = command
        self.environment = environment
        self.inputs = inputs
        self.outputs = outputs
        self.maxRuntimeSeconds = maxRuntimeSeconds
        self.jobConfigJSON = jobConfigJSON
        self.networkIsolation = networkIsolation
    }
}

/// How one instance ended.
public struct InstanceOutcome: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        case completed = "Completed"
        case failed = "Failed"
    }

    public struct OutputFiles: Codable, Sendable, Equatable {
        public var name: String
        /// Where the worker left the output's files for the coordinator to commit.
        public var stagedAt: String
        /// Relative paths, sorted.
        public var files: [String]
        public var bytes: Int

        public init(name: String, stagedAt: String, files: [String], bytes: Int = 0) {
            self.name = name
            self.stagedAt = stagedAt
            self.files = files
            self.bytes = bytes
        }
    }

    public var status: Status
    public var exitCode: Int?
    public var failureReason: String?
    /// The first 1 KiB of /opt/ml/output/message.
    public var exitMessage: String?
    public var outputs: [OutputFiles]
    public var wallSeconds: Double
    public var cpuSeconds: Double
    public var peakRSSBytes: Int
    /// What the job wrote to /opt/ml/output/metrics.json (at most 1 MiB), for experiments.
    public var metricsJSON: String?

    public init(
        status: Status, exitCode: Int?, failureReason: String?, exitMessage: String?, outputs: [OutputFiles],
        wallSeconds: Double, cpuSeconds: Double, peakRSSBytes: Int
    ) {
        self.status = status
        self.exitCode = exitCode
        self.failureReason = failureReason
        self.exitMessage = exitMessage
        self.outputs = outputs
        self.wallSeconds = wallSeconds
        self.cpuSeconds = cpuSeconds
        self.peakRSSBytes = peakRSSBytes
    }
}
