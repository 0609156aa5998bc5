import Foundation

/// The client API of a long-running coordinator (`shoal run --coordinator`,
/// `shoal cluster status`): one request, one reply, over a DEALER/ROUTER pair
/// with the same envelope as the worker protocol.
public enum ApiMessage: Sendable, Equatable {
    case submit(Submission)
    case submitted(executionId: String)
    case status(executionId: String)
    /// Like `status`, but answered only once the execution's state differs from
    /// the `seen` fingerprint of an earlier reply, or after `watchWait`: a
    /// following client learns of each change at once without polling.
    case watch(Watch)
    case execution(ExecutionStatusReply)
    /// `clientToken` (ClientRequestToken): the same request sent again answers as
    /// the first did and does nothing more (here, and for `retry` and `callback`).
    case stop(executionId: String, clientToken: String? = nil)
    /// RetryPipelineExecution: a Failed or Stopped execution goes on from its failed steps.
    case retry(executionId: String, clientToken: String? = nil)
    /// SendPipelineExecutionStepSuccess / …Failure for a Callback step's token.
    case callback(CallbackAnswer)
    case clusterStatus
    case workers([WorkerStatus])
    /// Lambda's Invoke: the function runs on a worker; the reply waits for it
    /// (RequestResponse) or comes at once (Event).
    case invoke(Invoke)
    case invoked(Invoked)
    case failure(String)

    var kind: String {
        switch self {
        case .submit: "submit"
        case .submitted: "submitted"
        case .status: "status"
        case .watch: "watch"
        case .execution: "execution"
        case .stop: "stop"
        case .retry: "retry"
        case .callback: "callback"
        case .clusterStatus: "cluster"
        case .workers: "workers"
        case .invoke: "invoke"
        case .invoked: "invoked"
        case .failure: "failure"
        }
    }

    public struct Invoke: Codable, Sendable, Equatable {
        public var functionName: String
        /// The event, JSON text.
        public var payload: String
        /// Event (asynchronous): answered as soon as the invocation is queued.
        public var asynchronous: Bool

        public init(functionName: String, payload: String, asynchronous: Bool) {
            self.functionName = functionName
            self.payload = payload
            self.asynchronous = asynchronous
        }
    }

    public struct Invoked: Codable, Sendable, Equatable {
        /// What the handler returned (JSON text), or nil when it raised.
        public var result: String?
        /// The handler's error (`Type: message`), or why it could not run.
        public var error: String?
        /// Whether the function ran at all (an error with false is Shoal's, not the handler's).
        public var ran: Bool

        public init(result: String?, error: String?, ran: Bool) {
            self.result = result
            self.error = error
            self.ran = ran
        }
    }

    public struct Submission: Codable, Sendable, Equatable {
        /// The definition document as JSON text.
        public var definition: String
        public var pipelineName: String
        public var parameters: [[String]]
        public var tags: [[String]]
        public var maxParallelSteps: Int?
        /// A registered pipeline to run instead of `definition`: `NAME` or `NAME@VERSION`.
        public var registered: String?
        /// Selective execution: the execution the steps not selected are taken from, and the selected steps.
        public var sourceExecutionId: String?
        public var selectedSteps: [String]?
        /// ClientRequestToken: a submission repeated with the same token starts nothing new.
        public var clientToken: String?
        /// The execution this one was started from (a fan-out handler's call through the endpoint).
        public var parentExecutionId: String?

        public init(
            definition: String, pipelineName: String, parameters: [(String, String)], tags: [(String, String)], maxParallelSteps: Int?,
            registered: String? = nil, sourceExecutionId: String? = nil, selectedSteps: [String]? = nil
        ) {
            self.definition = definition
            self.pipelineName = pipelineName
            self.parameters = parameters.map { [$0.0, $0.1] }
            self.tags = tags.map { [$0.0, $0.1] }
            self.maxParallelSteps = maxParallelSteps
            self.registered = registered
            self.sourceExecutionId = sourceExecutionId
            self.selectedSteps = selectedSteps
        }
    }

    /// How long a coordinator holds a `watch` before answering unchanged; well
    /// under a client's reply timeout.
    public static let watchWait: Double = 1

    public struct Watch: Codable, Sendable, Equatable {
        public var executionId: String
        public var seen: String?

        public init(executionId: String, seen: String?) {
            self.executionId = executionId
            self.seen = seen
        }
    }

    public struct StepStatus: Codable, Sendable, Equatable {
        public var name: String
        public var type: String
        public var status: String
        public var failureReason: String?

        public init(name: String, type: String, status: String, failureReason: String?) {
            self.name = name
            self.type = type
            self.status = status
            self.failureReason = failureReason
        }
    }

    public struct ExecutionStatusReply: Codable, Sendable, Equatable {
        public var executionId: String
        public var status: String
        public var failureReason: String?
        public var steps: [StepStatus]

        public init(executionId: String, status: String, failureReason: String?, steps: [StepStatus]) {
            self.executionId = executionId
            self.status = status
            self.failureReason = failureReason
            self.steps = steps
        }

        /// Changes whenever the execution's or a step's status or reason does (a
        /// CRC collision, one in four billion, would only hold an answer until
        /// the watch's wait runs out).
        public var fingerprint: String {
            var text = status + "\u{1}" + (failureReason ?? "")
            for step in steps { text += "\u{1}" + step.name + "\u{2}" + step.status + "\u{2}" + (step.failureReason ?? "") }
            return String(UInt32(truncatingIfNeeded: CRC32C.of(Array(text.utf8))), radix: 16) + "-\(text.utf8.count)"
        }
    }

    public struct CallbackAnswer: Codable, Sendable, Equatable {
        public var token: String
        public var succeeded: Bool
        /// Output parameters of a success, as text; the step's declared types cast them.
        public var outputs: [String: String]
        /// Why, for a failure.
        public var reason: String?
        public var clientToken: String?

        public init(token: String, succeeded: Bool, outputs: [String: String] = [:], reason: String? = nil, clientToken: String? = nil) {
            self.clientToken = clientToken
            self.token = token
            self.succeeded = succeeded
            self.outputs = outputs
            self.reason = reason
        }
    }

    public struct WorkerStatus: Codable, Sendable, Equatable {
        public var id: String
        public var host: String
        public var slots: Int
        public var busy: Int
        public var labels: [String: [String]]
        public var lastHeartbeat: Date
        public var version: String
        public var sandbox: String?
        /// What runs there now: each task as `TASK-ID#ATTEMPT` (nil from a coordinator older than this field).
        public var running: [String]?

        public init(id: String, host: String, slots: Int, busy: Int, labels: [String: [String]], lastHeartbeat: Date, version: String, sandbox: String? = nil, running: [String]? = nil) {
            self.running = running
            self.id = id
            self.host = host
            self.slots = slots
            self.busy = busy
            self.labels = labels
            self.lastHeartbeat = lastHeartbeat
            self.version = version
            self.sandbox = sandbox
        }
    }
}

/// Frames for API messages: protocol version, kind, JSON payload.
public enum ApiCodec {
    private struct Text: Codable {
        let value: String
        var clientToken: String? = nil
    }

    public static func encode(_ message: ApiMessage) -> [[UInt8]] {
        let payload: Data = switch message {
        case let .submit(body): WireCodec.json(body)
        case let .submitted(id), let .status(id): WireCodec.json(Text(value: id))
        case let .stop(id, token), let .retry(id, token): WireCodec.json(Text(value: id, clientToken: token))
        case let .watch(body): WireCodec.json(body)
        case let .callback(body): WireCodec.json(body)
        case let .execution(body): WireCodec.json(body)
        case .clusterStatus: Data("{}".utf8)
        case let .workers(list): WireCodec.json(list)
        case let .invoke(body): WireCodec.json(body)
        case let .invoked(body): WireCodec.json(body)
        case let .failure(reason): WireCodec.json(Text(value: reason))
        }
        return WireCodec.envelope(kind: message.kind, payload: payload)
    }

    public static func decode(_ frames: [[UInt8]]) throws(WireCodec.Malformed) -> ApiMessage {
        let (kind, payload) = try WireCodec.open(frames)
        let decoder = JSONDecoder()
        do {
            switch kind {
            case "submit": return .submit(try decoder.decode(ApiMessage.Submission.self, from: payload))
            case "submitted": return .submitted(executionId: try decoder.decode(Text.self, from: payload).value)
            case "status": return .status(executionId: try decoder.decode(Text.self, from: payload).value)
            case "watch": return .watch(try decoder.decode(ApiMessage.Watch.self, from: payload))
            case "execution": return .execution(try decoder.decode(ApiMessage.ExecutionStatusReply.self, from: payload))
            case "stop":
                let body = try decoder.decode(Text.self, from: payload)
                return .stop(executionId: body.value, clientToken: body.clientToken)
            case "retry":
                let body = try decoder.decode(Text.self, from: payload)
                return .retry(executionId: body.value, clientToken: body.clientToken)
            case "callback": return .callback(try decoder.decode(ApiMessage.CallbackAnswer.self, from: payload))
            case "cluster": return .clusterStatus
            case "workers": return .workers(try decoder.decode([ApiMessage.WorkerStatus].self, from: payload))
            case "invoke": return .invoke(try decoder.decode(ApiMessage.Invoke.self, from: payload))
            case "invoked": return .invoked(try decoder.decode(ApiMessage.Invoked.self, from: payload))
            case "failure": return .failure(try decoder.decode(Text.self, from: payload).value)
            default: throw WireCodec.Malformed(reason: "unknown API message kind '\(kind.prefix(32))'")
            }
        } catch let error as WireCodec.Malformed {
            throw error
        } catch {
            throw WireCodec.Malformed(reason: "an API '\(kind)' message whose payload does not decode: \(error)")
        }
    }
}
