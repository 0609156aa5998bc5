import Foundation
import ZeroMQ

/// Turns messages into frames and back, refusing anything malformed: a frame
/// from the network is never trusted to be well formed.
public enum WireCodec {
    public static let protocolVersion = "shoal/1"
    /// Control messages larger than this are refused (bulk data has its own
    /// frames). Room for the largest definition a client may submit (32 MiB,
    /// JSON-escaped into the request) and for an instance with some hundred
    /// thousand input files.
    public static let maxPayloadBytes = 48 << 20

    public struct Malformed: Error, Equatable, CustomStringConvertible {
        public let reason: String
        public init(reason: String) { self.reason = reason }
        public var description: String { reason }
    }

    /// The frames of a message; a data frame goes as it is, without a copy.
    public static func encode(_ message: WireMessage) -> [Message] {
        let payload: Data
        switch message {
        case let .register(body): payload = json(body)
        case let .log(body): payload = json(body)
        case let .finished(body): payload = json(body)
        case let .welcome(body): payload = json(body)
        case let .assign(body): payload = json(body)
        case let .cancel(body): payload = json(body)
        case .heartbeat, .shutdown: payload = Data("{}".utf8)
        case let .fetch(body): payload = json(body)
        case let .putAck(body): payload = json(body)
        case let .chunk(header, data): return envelope(kind: message.kind, payload: json(header)).map(Message.init) + [data.message]
        case let .put(header, data): return envelope(kind: message.kind, payload: json(header)).map(Message.init) + [data.message]
        }
        return envelope(kind: message.kind, payload: payload).map(Message.init)
    }

    /// A payload's JSON. Message bodies hold strings, integers and doubles only;
    /// a double JSON cannot carry (infinity, NaN) goes as a string, so encoding
    /// has no failure left, and were one to appear the receiver would refuse
    /// the empty object as malformed rather than the sender trap.
    static func json(_ body: some Encodable) -> Data {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return (try? encoder.encode(body)) ?? Data("{}".utf8)
    }

    /// The frames every message travels in: version, kind, JSON payload.
    static func envelope(kind: String, payload: Data) -> [[UInt8]] {
        [Array(protocolVersion.utf8), Array(kind.utf8), Array(payload)]
    }

    /// Checks the envelope (frame count, version, size) and returns kind and payload.
    static func open(_ frames: [[UInt8]], dataFrame: Int? = nil) throws(Malformed) -> (kind: String, payload: Data) {
        let kind = frames.count > 1 ? String(decoding: frames[1], as: UTF8.self) : ""
        let carriesData = kind == "chunk" || kind == "put"
        let count = frames.count + (dataFrame == nil ? 0 : 1)
        guard count == (carriesData ? 4 : 3) else { throw Malformed(reason: "expected \(carriesData ? 4 : 3) frames, got \(count)") }
        if let dataFrame, dataFrame > TransferLimits.chunkBytes {
            throw Malformed(reason: "a data frame of \(dataFrame) bytes is over the \(TransferLimits.chunkBytes)-byte chunk size")
        }
        let version = String(decoding: frames[0], as: UTF8.self)
        guard version == protocolVersion else { throw Malformed(reason: "unknown protocol version '\(version.prefix(32))'") }
        guard frames[2].count <= maxPayloadBytes else { throw Malformed(reason: "payload of \(frames[2].count) bytes is over the limit") }
        return (String(decoding: frames[1], as: UTF8.self), Data(frames[2]))
    }

    /// The message in `frames`; only the envelope is copied out of them.
    public static func decode(_ frames: [Message]) throws(Malformed) -> WireMessage {
        guard frames.count <= 4 else { throw Malformed(reason: "expected 3 or 4 frames, got \(frames.count)") }
        // A fourth frame is the data of a chunk or put: it stays in its message.
        let data = frames.count == 4 ? DataFrame(message: frames[3]) : nil
        let (kind, payload) = try open(frames.prefix(3).map(\.bytes), dataFrame: data?.count)
        let decoder = JSONDecoder()
        do {
            switch kind {
            case "register": return .register(try decoder.decode(Register.self, from: payload))
            case "heartbeat": return .heartbeat
            case "log": return .log(try decoder.decode(LogChunk.self, from: payload))
            case "finished": return .finished(try decoder.decode(TaskFinished.self, from: payload))
            case "welcome": return .welcome(try decoder.decode(Welcome.self, from: payload))
            case "assign": return .assign(try decoder.decode(Assignment.self, from: payload))
            case "cancel": return .cancel(try decoder.decode(TaskKey.self, from: payload))
            case "shutdown": return .shutdown
            case "fetch": return .fetch(try decoder.decode(FetchRequest.self, from: payload))
            case "chunk": return .chunk(try decoder.decode(ChunkHeader.self, from: payload), data!)
            case "put": return .put(try decoder.decode(PutHeader.self, from: payload), data!)
            case "put-ack": return .putAck(try decoder.decode(PutAck.self, from: payload))
            default: throw Malformed(reason: "unknown message kind '\(kind.prefix(32))'")
            }
        } catch let error as Malformed {
            throw error
        } catch {
            throw Malformed(reason: "a '\(kind)' message whose payload does not decode: \(error)")
        }
    }
}
