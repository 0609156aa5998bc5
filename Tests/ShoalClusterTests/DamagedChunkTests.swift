import Foundation
import ShoalCluster
import ShoalRuntime
import ShoalTestSupport
import Testing
import ZeroMQ

/// A real worker agent fetching from a coordinator that lies: a chunk whose
/// CRC does not match its bytes, or a file that ends short of the size and
/// checksum announced. The worker must refuse it and interrupt the task
/// (which then runs again), never run the job on what arrived.
@Suite struct DamagedChunkTests {
    @Test(arguments: ["damaged", "short"])
    func aDamagedOrShortChunkInterruptsTheTask(kind: String) throws {
        let home = try TemporaryHome()
        let context = try Context()
        let router = try context.socket(.router)
        defer { router.close() }
        try router.setOption(.linger, 0)
        try router.setOption(.receiveTimeout, 200)
        try router.bind("tcp://127.0.0.1:*")
        let address = try router.lastEndpoint
        let (stop, done) = (ShippedDataTests.Flag(), ShippedDataTests.Flag())
        let work = home.url.appendingPathComponent("worker")
        Thread {
            var configuration = WorkerAgent.Configuration(endpoint: address, workerId: "far", slots: 1, workFolder: work, version: "test")
            configuration.fetchData = true
            configuration.sandbox = TestSandbox.mode
            _ = try? WorkerAgent(configuration).run(shouldStop: { stop.isSet })
            done.set()
        }.start()
        defer {
            stop.set()
            while !done.isSet { usleep(10_000) }
        }
        let marker = home.url.appendingPathComponent("ran").path
        let spec = ProcessingInstanceSpec(
            jobName: "j", host: 1, hostCount: 1, instanceType: "ml.m5.large", command: ["/bin/sh", "-c", "touch \(marker)"], environment: [:],
            inputs: [.init(name: "in", localPath: "/opt/ml/processing/input/in", files: [.init(source: "/objects/b/data.bin", relativePath: "data.bin", size: 8)])],
            outputs: [], maxRuntimeSeconds: 60, jobConfigJSON: "{}"
        )
        let key = TaskKey(taskId: "e/s/algo-1", attempt: 1)
        let bytes: [UInt8] = Array("12345678".utf8)
        var result: TaskResult?
        let deadline = Date().addingTimeInterval(20)
        while result == nil && Date() < deadline {
            guard let frames = try router.receiveMessages(maxFrames: 8), let identity = frames.first?.bytes else { continue }
            let reply = { (message: WireMessage) in _ = try router.send(messages: [Message(identity)] + WireCodec.encode(message)) }
            switch try WireCodec.decode(Array(frames.dropFirst())) {
            case .register:
                try reply(.welcome(Welcome(heartbeatMilliseconds: 500, livenessMilliseconds: 60_000)))
                try reply(.assign(Assignment(key: key, task: .processing(spec: spec, outputStaging: home.url.appendingPathComponent("staged").path))))
            case let .fetch(request):
                let header: ChunkHeader
                let sent: [UInt8]
                if kind == "damaged" {
                    sent = bytes
                    header = ChunkHeader(
                        transfer: request.transfer, offset: 0, crc32: CRC32C.of(bytes) ^ 1, objectSize: 8, objectCRC32: { var c = CRC32C(); c.add(chunk: CRC32C.of(bytes)); return c.value }()
                    )
                } else {
                    sent = Array(bytes.prefix(4))
                    var whole = CRC32C()
                    whole.add(chunk: CRC32C.of(sent))
                    // The last chunk, announcing 8 bytes where 4 came.
                    header = ChunkHeader(transfer: request.transfer, offset: 0, crc32: CRC32C.of(sent), objectSize: 8, objectCRC32: whole.value)
                }
                try reply(.chunk(header, DataFrame(sent)))
            case let .finished(finished):
                #expect(finished.key == key)
                result = finished.result
            default:
                continue
            }
        }
        guard case let .interrupted(reason)? = result else {
            Issue.record("expected an interrupted task, got \(String(describing: result))")
            return
        }
        let expected = kind == "damaged"
            ? "a chunk of /objects/b/data.bin arrived damaged at offset 0"
            : "/objects/b/data.bin arrived damaged (size or checksum of the whole file)"
        #expect(reason.contains(expected), "\(reason)")
        #expect(!FileManager.default.fileExists(atPath: marker), "the job never ran on what arrived")
    }
}
