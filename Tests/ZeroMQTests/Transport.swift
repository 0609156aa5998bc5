import Foundation
import ZeroMQ

/// The three transports every socket test runs over.
enum Transport: String, CaseIterable, CustomTestStringConvertible {
    case inproc, ipc, tcp

    var testDescription: String { rawValue }

    /// Binds `socket` and returns the endpoint a peer connects to.
    func bind(_ socket: Socket) throws -> String {
        switch self {
        case .inproc:
            let endpoint = "inproc://test-\(UUID().uuidString)"
            try socket.bind(endpoint)
            return endpoint
        case .ipc:
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("zmq-\(UUID().uuidString.prefix(8)).sock").path
            try socket.bind("ipc://\(path)")
            return "ipc://\(path)"
        case .tcp:
            try socket.bind("tcp://127.0.0.1:*")
            return try socket.lastEndpoint
        }
    }
}

import Testing

/// Receives with a bound wait so a broken test fails instead of hanging.
func receive(_ socket: Socket, within milliseconds: Int32 = 5000) throws -> [[UInt8]]? {
    try socket.setOption(.receiveTimeout, milliseconds)
    return try socket.receive()
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
