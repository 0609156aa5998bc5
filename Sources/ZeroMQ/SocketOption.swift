import CZeroMQ

/// Integer socket options later layers need. Times are in milliseconds, as libzmq takes them.
public enum IntOption: Sendable {
    /// How long unsent messages are kept after close (-1 forever, 0 drop).
    case linger
    case sendHighWaterMark
    case receiveHighWaterMark
    /// Milliseconds between ZMTP PINGs; 0 disables heartbeats.
    case heartbeatInterval
    /// Milliseconds without traffic after a PING before the peer is dropped.
    case heartbeatTimeout
    /// Time-to-live the peer is asked to apply to this side.
    case heartbeatTTL
    case receiveTimeout
    case sendTimeout
    /// Queue messages only to completed connections.
    case immediate
    /// A ROUTER fails a send to an unknown routing id instead of dropping it.
    case routerMandatory
    case handshakeInterval
    case reconnectInterval
    case reconnectIntervalMax
    /// Read-only: 1 when the last received frame has more frames after it.
    case receiveMore
    /// Read-only: the socket's type.
    case type

    var rawValue: Int32 {
        switch self {
        case .linger: ZMQ_LINGER
        case .sendHighWaterMark: ZMQ_SNDHWM
        case .receiveHighWaterMark: ZMQ_RCVHWM
        case .heartbeatInterval: ZMQ_HEARTBEAT_IVL
        case .heartbeatTimeout: ZMQ_HEARTBEAT_TIMEOUT
        case .heartbeatTTL: ZMQ_HEARTBEAT_TTL
        case .receiveTimeout: ZMQ_RCVTIMEO
        case .sendTimeout: ZMQ_SNDTIMEO
        case .immediate: ZMQ_IMMEDIATE
        case .routerMandatory: ZMQ_ROUTER_MANDATORY
        case .handshakeInterval: ZMQ_HANDSHAKE_IVL
        case .reconnectInterval: ZMQ_RECONNECT_IVL
        case .reconnectIntervalMax: ZMQ_RECONNECT_IVL_MAX
        case .receiveMore: ZMQ_RCVMORE
        case .type: ZMQ_TYPE
        }
    }

    var name: String { "\(self)" }
}
