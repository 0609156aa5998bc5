import Testing
import ZeroMQ

@Suite struct PollerTests {
    @Test func timesOutWhenNothingIsReady() throws {
        let context = try Context()
        let pull = try context.socket(.pull)
        _ = try Transport.inproc.bind(pull)
        var poller = Poller()
        poller.add(pull)
        #expect(try poller.poll(timeoutMilliseconds: 20) == [[]])
    }

    @Test(arguments: Transport.allCases)
    func reportsTheSocketThatIsReadable(transport: Transport) throws {
        let context = try Context()
        let quiet = try context.socket(.pull)
        let busy = try context.socket(.pull)
        _ = try Transport.inproc.bind(quiet)
        let endpoint = try transport.bind(busy)
        let push = try context.socket(.push)
        try push.connect(endpoint)
        try push.send([bytes("work")])
        var poller = Poller()
        poller.add(quiet)
        let busyIndex = poller.add(busy)
        let ready = try poller.poll(timeoutMilliseconds: 5000)
        #expect(ready[busyIndex].contains(.readable))
        #expect(ready[0].isEmpty)
        #expect(try busy.receive(dontWait: true) == [bytes("work")])
    }

    @Test func watchesPlainFileDescriptors() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        var poller = Poller()
        poller.add(fileDescriptor: fds[0])
        #expect(try poller.poll(timeoutMilliseconds: 10) == [[]])
        var byte: UInt8 = 1
        #expect(write(fds[1], &byte, 1) == 1)
        #expect(try poller.poll(timeoutMilliseconds: 1000) == [.readable])
    }
}

#if canImport(Glibc)
import Glibc
#endif
