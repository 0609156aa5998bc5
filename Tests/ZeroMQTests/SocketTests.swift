import Foundation
import Testing
import ZeroMQ

@Suite struct SocketTests {
    @Test(arguments: Transport.allCases)
    func pairCarriesMultipartBothWays(transport: Transport) throws {
        let context = try Context()
        let a = try context.socket(.pair)
        let b = try context.socket(.pair)
        let endpoint = try transport.bind(a)
        try b.connect(endpoint)
        try b.send([bytes("hello"), [], bytes("world")])
        #expect(try receive(a) == [bytes("hello"), [], bytes("world")])
        try a.send([bytes("back")])
        #expect(try receive(b) == [bytes("back")])
    }

    @Test(arguments: Transport.allCases)
    func routerSeesDealerRoutingIdAndRepliesToIt(transport: Transport) throws {
        let context = try Context()
        let router = try context.socket(.router)
        try router.setOption(.routerMandatory, 1)
        let endpoint = try transport.bind(router)
        let dealers = try (0..<3).map { index -> Socket in
            let dealer = try context.socket(.dealer)
            try dealer.setRoutingId(bytes("worker-\(index)"))
            #expect(try dealer.routingId() == bytes("worker-\(index)"))
            try dealer.connect(endpoint)
            return dealer
        }
        for (index, dealer) in dealers.enumerated() { try dealer.send([bytes("ready \(index)")]) }
        var seen: Set<String> = []
        for _ in dealers {
            let frames = try #require(try receive(router))
            #expect(frames.count == 2)
            let id = String(decoding: frames[0], as: UTF8.self)
            seen.insert(id)
            try router.send([frames[0], bytes("task for \(id)")])
        }
        #expect(seen == ["worker-0", "worker-1", "worker-2"])
        for (index, dealer) in dealers.enumerated() {
            #expect(try receive(dealer) == [bytes("task for worker-\(index)")])
        }
    }

    @Test func routerMandatoryRefusesUnknownPeer() throws {
        let context = try Context()
        let router = try context.socket(.router)
        try router.setOption(.routerMandatory, 1)
        _ = try Transport.inproc.bind(router)
        #expect(throws: ZMQError.self) { try router.send([bytes("nobody"), bytes("x")]) }
    }

    @Test(arguments: Transport.allCases)
    func pushPullMovesLargeFrameWithoutCopy(transport: Transport) throws {
        let context = try Context()
        let pull = try context.socket(.pull)
        let push = try context.socket(.push)
        let endpoint = try transport.bind(pull)
        try push.connect(endpoint)

        let size = 8 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        for index in stride(from: 0, to: size, by: 4096) { buffer[index] = UInt8(truncatingIfNeeded: index / 4096) }
        let released = ReleaseFlag()
        let message = Message(owning: buffer) { buffer in
            released.set()
            buffer.deallocate()
        }
        try push.send(messages: [Message(string: "chunk"), message])
        #expect(message.count == 0, "libzmq took the content")

        try pull.setOption(.receiveTimeout, 5000)
        do {
            let frames = try #require(try pull.receiveMessages())
            #expect(frames.count == 2)
            #expect(frames[0].string == "chunk")
            #expect(frames[1].count == size)
            frames[1].withUnsafeBytes { received in
                for index in stride(from: 0, to: size, by: 4096) {
                    #expect(received[index] == UInt8(truncatingIfNeeded: index / 4096))
                }
            }
            // Over inproc the receiver holds the sender's very buffer.
            if transport == .inproc { #expect(!released.wait(seconds: 0.05)) }
        }
        #expect(released.wait(seconds: 5), "the deallocator ran once every holder was done")
    }

    @Test(arguments: Transport.allCases)
    func subscriberGetsOnlyItsTopic(transport: Transport) throws {
        let context = try Context()
        let pub = try context.socket(.pub)
        let sub = try context.socket(.sub)
        let endpoint = try transport.bind(pub)
        try sub.subscribe(bytes("logs."))
        try sub.connect(endpoint)
        // A subscription travels to the publisher asynchronously; publish until it arrives.
        var received: [[UInt8]]? = nil
        for _ in 0..<100 where received == nil {
            try pub.send([bytes("metrics.cpu"), bytes("1")])
            try pub.send([bytes("logs.step"), bytes("line")])
            try sub.setOption(.receiveTimeout, 50)
            received = try sub.receive()
        }
        #expect(received == [bytes("logs.step"), bytes("line")])
    }

    @Test func closeIsIdempotentAndLaterCallsThrow() throws {
        let context = try Context()
        let socket = try context.socket(.dealer)
        socket.close()
        socket.close()
        #expect(socket.isClosed)
        let error = try #require(throws: ZMQError.self) { try socket.send([bytes("x")]) }
        #expect(error.operation == "zmq_send")
    }

    @Test func errorsCarryOperationAndLibzmqText() throws {
        let context = try Context()
        let socket = try context.socket(.router)
        let error = try #require(throws: ZMQError.self) { try socket.bind("nonsense://here") }
        #expect(error.operation == "zmq_bind(nonsense://here)")
        #expect(error.description == "zmq_bind(nonsense://here): Protocol not supported")
    }

    @Test func dontWaitReturnsNilOrFalseInsteadOfBlocking() throws {
        let context = try Context()
        let pull = try context.socket(.pull)
        _ = try Transport.inproc.bind(pull)
        #expect(try pull.receive(dontWait: true) == nil)
        let push = try context.socket(.push)
        // No peer: a PUSH socket has nowhere to queue.
        #expect(try push.send([bytes("x")], dontWait: true) == false)
    }

    @Test func optionsReadBackWhatWasSet() throws {
        let context = try Context()
        let socket = try context.socket(.dealer)
        try socket.setOption(.sendHighWaterMark, 7)
        try socket.setOption(.receiveHighWaterMark, 9)
        try socket.setOption(.heartbeatInterval, 250)
        try socket.setOption(.heartbeatTimeout, 750)
        try socket.setOption(.linger, 0)
        try socket.setMaxMessageSize(1 << 20)
        #expect(try socket.option(.sendHighWaterMark) == 7)
        #expect(try socket.option(.receiveHighWaterMark) == 9)
        #expect(try socket.option(.heartbeatInterval) == 250)
        #expect(try socket.option(.heartbeatTimeout) == 750)
        #expect(try socket.option(.linger) == 0)
        #expect(try socket.maxMessageSize() == 1 << 20)
    }

    @Test func oversizedMessageIsNotDelivered() throws {
        let context = try Context()
        let pull = try context.socket(.pull)
        try pull.setMaxMessageSize(1024)
        let endpoint = try Transport.tcp.bind(pull)
        let push = try context.socket(.push)
        try push.setOption(.linger, 0)
        try push.connect(endpoint)
        try push.send([[UInt8](repeating: 1, count: 4096)])
        #expect(try receive(pull, within: 300) == nil)
    }

    @Test func multipartOverFrameLimitIsRefusedWhole() throws {
        let context = try Context()
        let pull = try context.socket(.pull)
        let endpoint = try Transport.inproc.bind(pull)
        let push = try context.socket(.push)
        try push.connect(endpoint)
        try push.send((0..<10).map { [UInt8($0)] })
        try push.send([bytes("next")])
        try pull.setOption(.receiveTimeout, 5000)
        #expect(throws: TooManyFrames(limit: 4, firstFrame: [0])) { try pull.receiveMessages(maxFrames: 4) }
        #expect(try pull.receive() == [bytes("next")], "the refused message was drained")
    }
}

/// Set from libzmq's I/O thread, read by the test.
final class ReleaseFlag: @unchecked Sendable {
    private let condition = NSCondition()
    private var isSet = false

    func set() {
        condition.lock()
        isSet = true
        condition.broadcast()
        condition.unlock()
    }

    func wait(seconds: Double) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(seconds)
        while !isSet && condition.wait(until: deadline) {}
        return isSet
    }
}
