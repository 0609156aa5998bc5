import ShoalRuntime

/// Every message of the coordinator–worker protocol (DESIGN.md "Wire protocol").
/// On the wire: frame 1 the protocol version, frame 2 the kind, frame 3 the
/// payload as JSON (control messages are small and self-describing).
public enum WireMessage: Sendable, Equatable {
    // worker → coordinator
    case register(Register)
    case heartbeat
    case log(LogChunk)
    case finished(TaskFinished)
    // coordinator → worker
    case welcome(Welcome)
    case assign(Assignment)
    case cancel(TaskKey)
    case shutdown
    // data, both ways (a data frame follows the JSON header)
    case fetch(FetchRequest)
    case chunk(ChunkHeader, DataFrame)
    case put(PutHeader, DataFrame)
    case putAck(PutAck)

    public var kind: String {
        switch self {
        case .register: "register"
        case .heartbeat: "heartbeat"
        case .log: "log"
        case .finished: "finished"
        case .welcome: "welcome"
        case .assign: "assign"
        case .cancel: "cancel"
        case .shutdown: "shutdown"
        case .fetch: "fetch"
        case .chunk: "chunk"
        case .put: "put"
        case .putAck: "put-ack"
        }
    }
}

public struct Register: Codable, Sendable, Equatable {
    public var workerId: String
    public var host: String
    public var pid: Int32
    public var slots: Int
    public var version: String
    /// `--labels k=v,…`; a key may carry several values (`subnet=a,subnet=b`).
    public var labels: [String: [String]]?
    /// How the worker isolates jobs (`SandboxMode.summary`), for `shoal cluster status`.
    public var sandbox: String?
    /// The tasks it still runs from before it lost its coordinator: a
    /// restarted coordinator takes back those its executions still wait for
    /// and cancels the others.
    public var holding: [TaskKey]?
    /// The tasks whose results it sent lately, which a coordinator that died
    /// may not have read: it sends them again once welcomed.
    public var reported: [TaskKey]?

    public init(
        workerId: String, host: String, pid: Int32, slots: Int, version: String, labels: [String: [String]] = [:], sandbox: String? = nil,
        holding: [TaskKey]? = nil, reported: [TaskKey]? = nil
    ) {
        self.workerId = workerId
        self.host = host
        self.pid = pid
        self.slots = slots
        self.version = version
        self.labels = labels
        self.sandbox = sandbox
        self.holding = holding
        self.reported = reported
    }

    public static let slotRange = 1...1024
    public static let maxNameBytes = 128
    public static let maxLabelKeys = 32
    public static let maxLabelValues = 16

    /// Why a coordinator must refuse this registration, or nil: a worker's
    /// names end up in logs, listings and placement, so each is bounded.
    public var refusal: String? {
        func bad(_ text: String) -> Bool { text.isEmpty || text.utf8.count > Self.maxNameBytes || text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F } }
        if bad(workerId) { return "a worker id must be 1 to \(Self.maxNameBytes) bytes without control characters" }
        if bad(host) { return "worker \(workerId): a host name must be 1 to \(Self.maxNameBytes) bytes without control characters" }
        if bad(version) { return "worker \(workerId): a version must be 1 to \(Self.maxNameBytes) bytes without control characters" }
        if !Self.slotRange.contains(slots) { return "worker \(workerId): \(slots) slots; a worker has \(Self.slotRange.lowerBound) to \(Self.slotRange.upperBound)" }
        if let sandbox, sandbox.utf8.count > 1024 { return "worker \(workerId): a sandbox description of \(sandbox.utf8.count) bytes; at most 1024" }
        for (name, keys) in [("holds", holding ?? []), ("reports", reported ?? [])] {
            if keys.count > slots { return "worker \(workerId): \(name) \(keys.count) tasks with \(slots) slots" }
            if keys.contains(where: { $0.taskId.utf8.count > TaskKey.maxIdBytes }) { return "worker \(workerId): a task's id is longer than \(TaskKey.maxIdBytes) bytes" }
        }
        let labels = labels ?? [:]
        if labels.count > Self.maxLabelKeys { return "worker \(workerId): \(labels.count) label keys; at most \(Self.maxLabelKeys)" }
        for (key, values) in labels {
            if bad(key) || values.isEmpty || values.count > Self.maxLabelValues || values.contains(where: bad) {
                return "worker \(workerId): label '\(key.prefix(Self.maxNameBytes))' needs 1 to \(Self.maxLabelValues) values of 1 to \(Self.maxNameBytes) bytes"
            }
        }
        return nil
    }
}

public struct Welcome: Codable, Sendable, Equatable {
    public var heartbeatMilliseconds: Int
    public var livenessMilliseconds: Int

    public init(heartbeatMilliseconds: Int, livenessMilliseconds: Int) {
        self.heartbeatMilliseconds = heartbeatMilliseconds
        self.livenessMilliseconds = livenessMilliseconds
    }
}

/// Names one attempt of one task; messages about an older attempt are ignored.
public struct TaskKey: Codable, Sendable, Hashable, CustomStringConvertible {
    public var taskId: String
    public var attempt: Int

    public init(taskId: String, attempt: Int) {
        self.taskId = taskId
        self.attempt = attempt
    }

    public var description: String { "\(taskId)#\(attempt)" }

    /// An execution id, a step name (at most 256) and an instance label fit well within it.
    public static let maxIdBytes = 1024
}

/// Work for a worker slot.
public enum Task: Codable, Sendable, Equatable {
    /// One instance of a processing job; the worker moves its outputs to `outputStaging`.
    case processing(spec: ProcessingInstanceSpec, outputStaging: String)
    /// One invocation of a registered function.
    case lambda(LambdaInvocation)
}

/// Events for one function, handled one after the other by its warm process:
/// one for a Lambda step, a batch of items for a Shoal:Map step.
public struct LambdaInvocation: Codable, Sendable, Equatable {
    public var functionName: String
    public var handler: String
    public var codePath: String
    /// The code's files under `codePath` and when it was registered: a worker
    /// that cannot see the coordinator's home fetches them once per version.
    public var codeFiles: [String]?
    public var codeVersion: String?
    /// Each a JSON object.
    public var events: [String]
    /// Per event.
    public var timeoutSeconds: Int
    /// Set in the handler's process before each event: the endpoint and the execution's key pair.
    public var environment: [String: String]?

    public init(
        functionName: String, handler: String, codePath: String, codeFiles: [String]? = nil, codeVersion: String? = nil,
        events: [String], timeoutSeconds: Int
    ) {
        self.functionName = functionName
        self.handler = handler
        self.codePath = codePath
        self.codeFiles = codeFiles
        self.codeVersion = codeVersion
        self.events = events
        self.timeoutSeconds = timeoutSeconds
    }
}

/// What the handler made of one event: its return value as JSON text, or why it failed.
public struct LambdaReply: Codable, Sendable, Equatable {
    public var result: String?
    public var error: String?

    public init(result: String?, error: String?) {
        self.result = result
        self.error = error
    }
}

public struct Assignment: Codable, Sendable, Equatable {
    public var key: TaskKey
    public var task: Task

    public init(key: TaskKey, task: Task) {
        self.key = key
        self.task = task
    }
}

/// Output of a running task, in order; `offset` lets the receiver drop repeats.
public struct LogChunk: Codable, Sendable, Equatable {
    public var key: TaskKey
    public var offset: Int
    public var text: String

    public init(key: TaskKey, offset: Int, text: String) {
        self.key = key
        self.offset = offset
        self.text = text
    }
}

public enum TaskResult: Codable, Sendable, Equatable {
    case processing(InstanceOutcome)
    /// One reply per event, in order.
    case lambda(replies: [LambdaReply], seconds: Double)
    /// The worker could not run the task at all (staging, spawn).
    case rejected(reason: String)
    /// Moving the task's data failed (a damaged chunk, a stalled transfer):
    /// nothing was committed, and a new attempt may well succeed.
    case interrupted(reason: String)
}

public struct TaskFinished: Codable, Sendable, Equatable {
    public var key: TaskKey
    public var result: TaskResult
    /// The worker it ran on: set by the coordinator from the registered peer, never taken from the message.
    public var worker: String?

    public init(key: TaskKey, result: TaskResult) {
        self.key = key
        self.result = result
    }
}
