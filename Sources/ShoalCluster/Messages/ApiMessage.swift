import Foundation

/// The client API of a long-running coordinator (`shoal run --coordinator`,
/// `shoal cluster status`): one request, one reply, over a DEALER/ROUTER pair
/// with the same envelope as the worker protocol.
public enum ApiMessage: Sendable, Equatable {
    case submit(Submission)
    case submitted(executionId: String)
    case status(executionId: String)
    case execution(ExecutionStatusReply)
    case stop(executionId: String)
    case clusterStatus
    case workers([WorkerStatus])
    case failure(String)

    var kind: String {
        switch self {
        case .submit: "submit"
        case .submitted: "submitted"
        case .status: "status"
        case .execution: "execution"
        case .stop: "stop"
        case .clusterStatus: "cluster"
        case .workers: "workers"
        case .failure: "failure"
        }
    }

    public struct Submission: Codable, Sendable, Equatable {
        /// The definition document as JSON text.
        public var definition: String
        public var pipelineName: String
        public var parameters: [[String]]
        public var tags: [[String]]
        public var maxParallelSteps: Int?

        public init(definition: String, pipelineName: String, parameters: [(String, String)], tags: [(String, String)], maxParallelSteps: Int?) {
            self.definition = definition
            self.pipelineName = pipelineName
            self.parameters = parameters.map { [$0.0, $0.1] }
            self.tags = tags.map { [$0.0, $0.1] }
            self.maxParallelSteps = maxParallelSteps
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
    }

    public struct WorkerStatus: Codable, Sendable, Equatable {
        public var id: String
        public var host: String
        public var slots: Int
        public var busy: Int
        public var labels: [String: [String]]
        public var lastHeartbeat: Date
        public var version: String

        public init(id: String, host: String, slots: Int, busy: Int, labels: [String: [String]], lastHeartbeat: Date, version: String) {
            self.id = id
            self.host = host
            self.slots = slots
            self.busy = busy
            self.labels = labels
            self.lastHeartbeat = lastHeartbeat
            self.version = version
        }
    }
}

/// Frames for API messages: protocol version, kind, JSON payload.
public enum ApiCodec {
    private struct Text: Codable { let value: String }

    public static func encode(_ message: ApiMessage) -> [[UInt8]] {
        let encoder = JSONEncoder()
        let payload: Data = switch message {
        case let .submit(body): try! encoder.encode(body)
        case let .submitted(id), let .status(id), let .stop(id): try! encoder.encode(Text(value: id))
        case let .execution(body): try! encoder.encode(body)
        case .clusterStatus: Data("{}".utf8)
        case let .workers(list): try! encoder.encode(list)
        case let .failure(reason): try! encoder.encode(Text(value: reason))
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
            case "execution": return .execution(try decoder.decode(ApiMessage.ExecutionStatusReply.self, from: payload))
            case "stop": return .stop(executionId: try decoder.decode(Text.self, from: payload).value)
            case "cluster": return .clusterStatus
            case "workers": return .workers(try decoder.decode([ApiMessage.WorkerStatus].self, from: payload))
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
