import Foundation
import ShoalCluster
import ShoalRuntime
import ShoalStore
import ShoalTestSupport
import Testing
import ZeroMQ

/// A real coordinator endpoint and a real `--fetch-data` worker agent over ipc:
/// data shipped both ways, checked and kept bounded; a transfer that fails ends
/// the task as interrupted (to be run again), with the reason, and leaves no
/// copies on the worker; the worker's input cache spares second trips, and
/// finished inputs are written over by later fetches.
struct ShippedDataTests {
    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        func set() { lock.withLock { value = true } }
        var isSet: Bool { lock.withLock { value } }
    }

    /// An endpoint serving the home's objects and one worker agent (a thread)
    /// joined to it; tasks run one after another on the same agent.
    final class ShippedCluster {
        let endpoint: CoordinatorEndpoint
        let transfers: TransferServer
        let work: URL
        private let home: TemporaryHome
        private let stop = Flag()
        private let done = Flag()
        private var tasks = 0

        init(home: TemporaryHome, inputCacheBytes: Int = 2 << 30, recycledBytes: Int = 1 << 30) throws {
            self.home = home
            let address = "ipc://" + home.url.appendingPathComponent("c.sock").path
            endpoint = try CoordinatorEndpoint(bind: address, context: try Context(), diagnostics: { _ in })
            transfers = TransferServer(
                servedRoots: [home.url.appendingPathComponent("objects")], stagingRoot: home.url.appendingPathComponent("staging"),
                objectVersion: ObjectStore.version
            )
            endpoint.transfers = transfers
            work = home.url.appendingPathComponent("worker")
            let (stop, done, work) = (stop, done, work)
            Thread {
                var configuration = WorkerAgent.Configuration(endpoint: address, workerId: "far", slots: 1, workFolder: work, version: "test")
                configuration.fetchData = true
                configuration.sandbox = TestSandbox.mode
                // Frequent heartbeats: `interrupt` waits on them.
                configuration.heartbeatInterval = 0.05
                configuration.inputCacheBytes = inputCacheBytes
                configuration.recycledBytes = recycledBytes
                _ = try? WorkerAgent(configuration).run(shouldStop: { stop.isSet })
                done.set()
            }.start()
            var joined = false
            for _ in 0..<250 where !joined {
                joined = try endpoint.poll(timeout: 0.02).contains { if case .workerJoined = $0 { true } else { false } }
            }
            #expect(joined)
        }

        deinit {
            stop.set()
            while !done.isSet { usleep(10_000) }
        }

        /// Starts a task and cancels it once the coordinator has served some of
        /// its inputs (the first request's chunks reach the worker before the
        /// cancel does); returns when the worker has dropped it.
        func interrupt(_ spec: ProcessingInstanceSpec) throws {
            let key = try submit(spec)
            let before = transfers.bytesServed
            for _ in 0..<1000 where transfers.bytesServed == before { _ = try endpoint.poll(timeout: 0.01) }
            endpoint.cancel(key)
            try waitForTaskFolders()
            // What it asked for before the cancel reached it is served (and dropped) now. The
            // second heartbeat counted from here was sent after the task was dropped, and the
            // worker's messages arrive in order: every request before it has been served then.
            let heartbeats = { self.endpoint.registry.workers.values.first?.heartbeats ?? 0 }
            let counted = heartbeats()
            for _ in 0..<500 where heartbeats() < counted + 2 { _ = try endpoint.poll(timeout: 0.01) }
            #expect(heartbeats() >= counted + 2, "the worker went on sending heartbeats")
        }

        /// Runs one task to its end (bounded) and returns its result.
        func run(_ spec: ProcessingInstanceSpec) throws -> TaskResult? {
            let key = try submit(spec)
            for _ in 0..<1000 {
                for case let .finished(finished) in try endpoint.poll(timeout: 0.02) where finished.key == key { return finished.result }
            }
            return nil
        }

        private func submit(_ spec: ProcessingInstanceSpec) throws -> TaskKey {
            tasks += 1
            let key = TaskKey(taskId: "e/s\(tasks)/algo-1", attempt: 1)
            try endpoint.submit(key, .processing(spec: spec, outputStaging: home.url.appendingPathComponent("staging/e/s\(tasks)/algo-1").path))
            return key
        }

        /// Waits (at most 5 s) until the worker has cleared every task's folder:
        /// it reports a task, or drops a cancelled one, before it does.
        func waitForTaskFolders() throws {
            let folder = work.appendingPathComponent("transfers").path
            for _ in 0..<500 where !((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).isEmpty {
                _ = try endpoint.poll(timeout: 0.01)
            }
        }
    }

    private func runShipped(_ spec: ProcessingInstanceSpec, in home: TemporaryHome) throws -> (TaskResult?, URL) {
        let cluster = try ShippedCluster(home: home)
        return (try cluster.run(spec), cluster.work)
    }

    private func spec(_ files: [ProcessingInstanceSpec.InputFile], command: String = "true", outputs: [ProcessingInstanceSpec.Output] = []) -> ProcessingInstanceSpec {
        ProcessingInstanceSpec(
            jobName: "j", host: 1, hostCount: 1, instanceType: "ml.m5.large", command: ["/bin/sh", "-c", command], environment: [:],
            inputs: [.init(name: "in", localPath: "/opt/ml/processing/input/in", files: files)],
            outputs: outputs, maxRuntimeSeconds: 60, jobConfigJSON: "{}"
        )
    }

    @Test func aFetchTheCoordinatorRefusesInterruptsTheTask() throws {
        let home = try TemporaryHome()
        // The input lies outside the object store: the coordinator must not serve it.
        let (result, work) = try runShipped(spec([.init(source: "/etc/hostname", relativePath: "hostname")]), in: home)
        guard case let .interrupted(reason)? = result else {
            Issue.record("expected an interrupted task, got \(String(describing: result))")
            return
        }
        #expect(reason.contains("on worker far"))
        #expect(reason.contains("/etc/hostname is not in the object store"))
        let left = (try? FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("transfers").path)) ?? []
        #expect(left.isEmpty)
    }

    /// Many files are asked for as one stream (several at once, across file
    /// boundaries): every size around the chunk size arrives whole and in place,
    /// including files that changed size after the task was planned.
    @Test func filesOfEverySizeArriveWholeWhenAskedForAsOneStream() throws {
        let home = try TemporaryHome()
        let folder = home.url.appendingPathComponent("objects/b/in")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let chunk = TransferLimits.chunkBytes
        var sizes: [(name: String, actual: Int, planned: Int)] = (0..<40).map { ("f\(100 + $0)", $0 * 37, $0 * 37) }
        sizes += [("g1", 2 * chunk, 2 * chunk), ("g2", 2 * chunk + 5, 2 * chunk + 5), ("g3", 3 * chunk - 1, 3 * chunk - 1)]
        // Planned smaller or larger than the file turned out to be.
        sizes += [("h1", 3 * chunk + 11, chunk), ("h2", 7, 2 * chunk), ("h3", chunk + 3, 0)]
        var files: [ProcessingInstanceSpec.InputFile] = []
        var expected = Data()
        for (index, entry) in sizes.enumerated() {
            let bytes = Data((0..<entry.actual).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ index) })
            let path = folder.appendingPathComponent(entry.name).path
            try bytes.write(to: URL(fileURLWithPath: path))
            files.append(.init(source: path, relativePath: entry.name, size: entry.planned))
            expected += bytes
        }
        let (result, _) = try runShipped(spec(
            files, command: "cd /opt/ml/processing/input/in && LC_ALL=C cat $(LC_ALL=C ls) > /opt/ml/processing/output/all",
            outputs: [.init(name: "out", localPath: "/opt/ml/processing/output")]
        ), in: home)
        guard case let .processing(outcome)? = result, let output = outcome.outputs.first else {
            Issue.record("expected a finished processing task, got \(String(describing: result))")
            return
        }
        #expect(outcome.status == .completed)
        #expect(FileManager.default.contents(atPath: output.stagedAt + "/all") == expected)
    }

    /// The job's view of its input, as its output: what the worker linked or fetched.
    private func copyJob(_ files: [ProcessingInstanceSpec.InputFile], then extra: String = "") -> ProcessingInstanceSpec {
        spec(files, command: "cat /opt/ml/processing/input/in/data.bin > /opt/ml/processing/output/seen" + extra,
             outputs: [.init(name: "out", localPath: "/opt/ml/processing/output")])
    }

    private func seen(_ result: TaskResult?) -> Data? {
        guard case let .processing(outcome)? = result, outcome.status == .completed, let output = outcome.outputs.first else { return nil }
        return FileManager.default.contents(atPath: output.stagedAt + "/seen")
    }

    /// A second instance reading the same object on the same worker gets the
    /// kept copy (nothing more is served); a job that wrote into its copy, or a
    /// new version of the object, means a fresh fetch.
    @Test func theInputCacheSparesASecondTripButNeverServesAChangedCopy() throws {
        let home = try TemporaryHome()
        let folder = home.url.appendingPathComponent("objects/b")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("data.bin").path
        let bytes = Data((0..<(2 * TransferLimits.chunkBytes + 5)).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try bytes.write(to: URL(fileURLWithPath: path))
        let input = ProcessingInstanceSpec.InputFile(source: path, relativePath: "data.bin", size: bytes.count, version: "v1")
        let cluster = try ShippedCluster(home: home)

        #expect(seen(try cluster.run(copyJob([input]))) == bytes)
        #expect(cluster.transfers.bytesServed == bytes.count)
        #expect(seen(try cluster.run(copyJob([input]))) == bytes)
        #expect(cluster.transfers.bytesServed == bytes.count, "the second instance was served from the cache")

        // This job replaces its own input with a changed copy (in the sandbox the
        // file itself is not its user's to write). Under the sandbox's overlay it
        // changed the overlay and the kept copy is still good; unsandboxed the kept
        // copy may have changed with it and is fetched anew. Either way the next job sees the object.
        let replace = " && cat /opt/ml/processing/input/in/data.bin > /tmp/copy && echo tampered >> /tmp/copy && mv -f /tmp/copy /opt/ml/processing/input/in/data.bin"
        #expect(seen(try cluster.run(copyJob([input], then: replace))) == bytes)
        #expect(seen(try cluster.run(copyJob([input]))) == bytes)
        let served = cluster.transfers.bytesServed
        #expect([bytes.count, 2 * bytes.count].contains(served))

        // A kept copy written to behind the cache's back is noticed and fetched anew.
        let kept = cluster.work.appendingPathComponent("input-cache")
        for entry in try FileManager.default.contentsOfDirectory(atPath: kept.path) {
            let handle = try FileHandle(forWritingTo: kept.appendingPathComponent(entry))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data("tampered".utf8))
            try handle.close()
        }
        #expect(seen(try cluster.run(copyJob([input]))) == bytes)
        #expect(cluster.transfers.bytesServed == served + bytes.count)

        // The object rewritten in the store (a new version): fetched again, the new bytes seen.
        let rewritten = Data(bytes.reversed())
        try rewritten.write(to: URL(fileURLWithPath: path))
        #expect(seen(try cluster.run(copyJob([.init(source: path, relativePath: "data.bin", size: rewritten.count, version: "v2")]))) == rewritten)
        #expect(cluster.transfers.bytesServed == served + 2 * bytes.count)
    }

    /// The cache stays under its limit: the least recently used copy goes first.
    @Test func theInputCacheEvictsTheLeastRecentlyUsedCopyAtItsLimit() throws {
        let home = try TemporaryHome()
        let folder = home.url.appendingPathComponent("objects/b")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var inputs: [ProcessingInstanceSpec.InputFile] = []
        for name in ["x", "y"] {
            let path = folder.appendingPathComponent(name).path
            try Data(repeating: UInt8(ascii: name == "x" ? "x" : "y"), count: 2 << 20).write(to: URL(fileURLWithPath: path))
            inputs.append(.init(source: path, relativePath: "data.bin", size: 2 << 20, version: "v1"))
        }
        let cluster = try ShippedCluster(home: home, inputCacheBytes: 3 << 20)
        for input in [inputs[0], inputs[1], inputs[0], inputs[0]] { #expect(seen(try cluster.run(copyJob([input])))?.count == 2 << 20) }
        // Room for one: y pushed x out, so x came over the wire twice, and the last run found it kept.
        #expect(cluster.transfers.bytesServed == 3 * (2 << 20))
        let kept = try FileManager.default.contentsOfDirectory(atPath: cluster.work.appendingPathComponent("input-cache").path)
        #expect(kept.count == 1)
        // A copy pushed out is recycled: x's went to x's second fetch, y's waits for the next one.
        #expect(try recycled(cluster).count == 1)
    }

    /// An interrupted fetch keeps the files it completed: the next attempt on
    /// the same worker does not fetch them again.
    @Test func filesAnInterruptedFetchCompletedAreNotFetchedAgain() throws {
        let home = try TemporaryHome()
        let folder = home.url.appendingPathComponent("objects/b")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("data.bin").path
        let bytes = Data(repeating: 7, count: 3 << 20)
        try bytes.write(to: URL(fileURLWithPath: path))
        let good = ProcessingInstanceSpec.InputFile(source: path, relativePath: "data.bin", size: bytes.count, version: "v1")
        // The second file lies outside the object store: the coordinator refuses it, after the first arrived.
        let refused = ProcessingInstanceSpec.InputFile(source: "/etc/hostname", relativePath: "hostname", size: 1, version: "v1")
        let cluster = try ShippedCluster(home: home)
        guard case .interrupted? = try cluster.run(copyJob([good, refused])) else {
            Issue.record("the first attempt should have been interrupted")
            return
        }
        #expect(cluster.transfers.bytesServed == bytes.count)
        #expect(seen(try cluster.run(copyJob([good]))) == bytes)
        #expect(cluster.transfers.bytesServed == bytes.count, "the completed file came from the cache")
    }

    private func object(_ name: String, in home: TemporaryHome, count: Int, planned: Int? = nil) throws -> (ProcessingInstanceSpec.InputFile, Data) {
        let folder = home.url.appendingPathComponent("objects/b")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent(name).path
        let bytes = patterned(count: count, seed: UInt8(truncatingIfNeeded: name.hashValue))
        try bytes.write(to: URL(fileURLWithPath: path))
        return (.init(source: path, relativePath: "data.bin", size: planned ?? count, version: "v1"), bytes)
    }

    /// A 251-byte pattern (a prime: a chunk out of place shows), doubled up: fast to make.
    private func patterned(count: Int, seed: UInt8) -> Data {
        var bytes = Data((0..<251).map { UInt8(truncatingIfNeeded: $0 &* 13) &+ seed })
        while bytes.count < count { bytes.append(bytes) }
        return bytes.prefix(count)
    }

    /// The worker's recycled files, once it is done with the last task.
    private func recycled(_ cluster: ShippedCluster) throws -> [(name: String, inode: UInt64, size: Int)] {
        try cluster.waitForTaskFolders()
        let folder = cluster.work.appendingPathComponent("recycled")
        return try FileManager.default.contentsOfDirectory(atPath: folder.path).map { name in
            let attributes = try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(name).path)
            return (name, (attributes[.systemFileNumber] as! NSNumber).uint64Value, (attributes[.size] as! NSNumber).intValue)
        }
    }

    /// With the input cache off, a finished task's input file is kept and the
    /// next fetch writes over it (the same inode goes round), cut or grown to
    /// what arrives: a smaller object after a larger one, a larger after a
    /// smaller, one that shrank after planning; never a byte of the old file left.
    @Test func finishedInputsAreWrittenOverByLaterFetchesWithNothingOfTheirOldBytesLeft() throws {
        let home = try TemporaryHome()
        let chunk = TransferLimits.chunkBytes
        let cluster = try ShippedCluster(home: home, inputCacheBytes: 0)
        let (large, largeBytes) = try object("large", in: home, count: 3 * chunk + 11)
        #expect(seen(try cluster.run(copyJob([large]))) == largeBytes)
        let first = try recycled(cluster)
        #expect(first.count == 1 && first.first?.size == largeBytes.count)

        let (small, smallBytes) = try object("small", in: home, count: 2 * chunk + 5)
        #expect(seen(try cluster.run(copyJob([small]))) == smallBytes)
        let second = try recycled(cluster)
        #expect(second.count == 1 && second.first?.inode == first.first?.inode, "the same file was written over")
        #expect(second.first?.size == smallBytes.count)

        let (larger, largerBytes) = try object("larger", in: home, count: 4 * chunk + 1)
        #expect(seen(try cluster.run(copyJob([larger]))) == largerBytes)
        #expect(try recycled(cluster).first?.inode == first.first?.inode)

        // Planned at 3 chunks, it holds one chunk and 3 bytes when fetched: the file is cut there.
        let (shrunk, shrunkBytes) = try object("shrunk", in: home, count: chunk + 3, planned: 3 * chunk)
        #expect(seen(try cluster.run(copyJob([shrunk]))) == shrunkBytes)
        #expect(cluster.transfers.bytesServed == largeBytes.count + smallBytes.count + largerBytes.count + shrunkBytes.count)
    }

    /// A copy the input cache keeps (a second link) is never written over.
    @Test func aCopyTheInputCacheKeepsIsNeverRecycled() throws {
        let home = try TemporaryHome()
        let chunk = TransferLimits.chunkBytes
        let cluster = try ShippedCluster(home: home, recycledBytes: 3 * chunk)
        let (kept, keptBytes) = try object("kept", in: home, count: 2 * chunk)
        #expect(seen(try cluster.run(copyJob([kept]))) == keptBytes)
        #expect(try recycled(cluster).isEmpty, "the cached copy's link was not taken")

        let (p, pBytes) = try object("p", in: home, count: 2 * chunk)
        let (q, qBytes) = try object("q", in: home, count: 2 * chunk + 1)
        var second = q
        second.relativePath = "other.bin"
        let both = spec([p, second], command: "cat /opt/ml/processing/input/in/data.bin /opt/ml/processing/input/in/other.bin > /opt/ml/processing/output/seen",
                        outputs: [.init(name: "out", localPath: "/opt/ml/processing/output")])
        // Cached as they arrive, with the cache's link they are not recycled either.
        #expect(seen(try cluster.run(both)) == pBytes + qBytes)
        #expect(try recycled(cluster).isEmpty)
        #expect(seen(try cluster.run(copyJob([kept]))) == keptBytes)
        #expect(cluster.transfers.bytesServed == keptBytes.count + pBytes.count + qBytes.count, "every copy came from the cache")
    }

    @Test func recycledFilesStayUnderTheirLimitTheOldestGivenUpFirst() throws {
        let home = try TemporaryHome()
        let chunk = TransferLimits.chunkBytes
        let cluster = try ShippedCluster(home: home, inputCacheBytes: 0, recycledBytes: 3 * chunk)
        let (p, pBytes) = try object("p", in: home, count: 2 * chunk)
        var (q, qBytes) = try object("q", in: home, count: 2 * chunk + 1)
        q.relativePath = "other.bin"
        let both = spec([p, q], command: "cat /opt/ml/processing/input/in/data.bin /opt/ml/processing/input/in/other.bin > /opt/ml/processing/output/seen",
                        outputs: [.init(name: "out", localPath: "/opt/ml/processing/output")])
        #expect(seen(try cluster.run(both)) == pBytes + qBytes)
        let left = try recycled(cluster)
        #expect(left.count == 1 && left.first?.size == qBytes.count, "p was given up for q")
        // Two at once again: one written over, one new; the bytes right either way.
        #expect(seen(try cluster.run(both)) == pBytes + qBytes)
        #expect(try recycled(cluster).count == 1)
    }

    /// A worker whose disk cannot hold an input says so before a byte arrives,
    /// naming the file and its size; recycled files are given up first, so a
    /// fetch that fits once they are gone succeeds. (Root: a 6 MiB tmpfs is the disk.)
    @Test(.enabled(if: geteuid() == 0, "mounting a small file system as the worker's disk needs root"))
    func aFullDiskFailsTheFetchSayingSoOnceTheRecycledFilesAreGivenUp() throws {
        let home = try TemporaryHome()
        let disk = home.url.appendingPathComponent("worker")
        try FileManager.default.createDirectory(at: disk, withIntermediateDirectories: true)
        func run(_ arguments: [String]) throws {
            let process = try Process.run(URL(fileURLWithPath: "/bin/" + arguments[0]), arguments: Array(arguments.dropFirst()))
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(arguments)")
        }
        try run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", disk.path])
        defer { try? run(["umount", "-l", disk.path]) }
        let mib = 1 << 20
        do {
            let cluster = try ShippedCluster(home: home, inputCacheBytes: 0)
            // Counts bytes, so the job writes next to nothing on the small disk.
            func counting(_ files: [ProcessingInstanceSpec.InputFile]) -> ProcessingInstanceSpec {
                spec(files, command: "cat /opt/ml/processing/input/in/* | wc -c > /opt/ml/processing/output/seen",
                     outputs: [.init(name: "out", localPath: "/opt/ml/processing/output")])
            }
            func count(_ result: TaskResult?) -> Int? {
                seen(result).flatMap { Int(String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) }
            }
            let (p, _) = try object("p", in: home, count: 5 * mib / 2)
            var (q, _) = try object("q", in: home, count: 5 * mib / 2)
            q.relativePath = "other.bin"
            #expect(count(try cluster.run(counting([p, q]))) == 5 * mib)
            #expect(try recycled(cluster).count == 2)

            // One recycled file is written over; the other has to go to make room.
            let (big, _) = try object("big", in: home, count: 5 * mib)
            #expect(count(try cluster.run(counting([big]))) == 5 * mib)

            let (huge, _) = try object("huge", in: home, count: 8 * mib)
            guard case let .interrupted(reason)? = try cluster.run(counting([huge])) else {
                Issue.record("a fetch larger than the disk should interrupt the task")
                return
            }
            #expect(reason.contains("no room for") && reason.contains("(\(8 * mib) bytes) on the worker's disk"), "\(reason)")
            #expect(cluster.transfers.bytesServed == 10 * mib, "nothing of the file that could not fit was sent")
        }
    }

    /// A worker that stops cleanly leaves its input cache and recycled files to
    /// the next worker on the same folder: a kept copy is not fetched again, a
    /// recycled file is written over; a kept copy changed in between is dropped.
    @Test func theNextWorkerOnTheSameFolderTakesOverTheCacheAndTheRecycledFiles() throws {
        let home = try TemporaryHome()
        let chunk = TransferLimits.chunkBytes
        let (kept, keptBytes) = try object("kept", in: home, count: 2 * chunk + 3)
        // Larger than the cache: recycled when its task is done.
        let (large, largeBytes) = try object("large", in: home, count: 4 * chunk)
        let inode: UInt64?
        do {
            let cluster = try ShippedCluster(home: home, inputCacheBytes: 3 * chunk)
            #expect(seen(try cluster.run(copyJob([kept]))) == keptBytes)
            #expect(seen(try cluster.run(copyJob([large]))) == largeBytes)
            inode = try recycled(cluster).first?.inode
            #expect(inode != nil)
        }
        let cache = home.url.appendingPathComponent("worker/input-cache")
        #expect(FileManager.default.fileExists(atPath: cache.appendingPathComponent("index.json").path))
        do {
            let cluster = try ShippedCluster(home: home, inputCacheBytes: 3 * chunk)
            #expect(!FileManager.default.fileExists(atPath: cache.appendingPathComponent("index.json").path), "read once, then gone")
            #expect(seen(try cluster.run(copyJob([kept]))) == keptBytes)
            #expect(cluster.transfers.bytesServed == 0, "the kept copy was taken over")
            #expect(seen(try cluster.run(copyJob([large]))) == largeBytes)
            #expect(cluster.transfers.bytesServed == largeBytes.count)
            #expect(try recycled(cluster).first?.inode == inode, "the recycled file was taken over and written over")
        }
        for entry in try FileManager.default.contentsOfDirectory(atPath: cache.path) where entry != "index.json" {
            let handle = try FileHandle(forWritingTo: cache.appendingPathComponent(entry))
            try handle.write(contentsOf: Data("changed".utf8))
            try handle.close()
        }
        let cluster = try ShippedCluster(home: home, inputCacheBytes: 3 * chunk)
        #expect(seen(try cluster.run(copyJob([kept]))) == keptBytes)
        #expect(cluster.transfers.bytesServed == keptBytes.count, "the changed copy was fetched again")
    }

    /// An object's input entry with its real version, as a plan names it.
    private func planned(_ path: String, relativePath: String = "data.bin") throws -> ProcessingInstanceSpec.InputFile {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return .init(source: path, relativePath: relativePath, size: (attributes[.size] as! NSNumber).intValue, version: ObjectStore.version(attributes))
    }

    /// A fetch interrupted in the middle of a file leaves its first part in the
    /// input cache, and the next attempt on the worker asks only for the rest.
    @Test func anInterruptedFetchGoesOnFromWhereItStoppedOnTheNextAttempt() throws {
        let home = try TemporaryHome()
        let chunk = TransferLimits.chunkBytes
        let (first, bytes) = try object("big", in: home, count: 40 * chunk + 9)
        let input = try planned(first.source)
        let cluster = try ShippedCluster(home: home)
        try cluster.interrupt(copyJob([input]))
        let afterFirst = cluster.transfers.bytesServed
        #expect(afterFirst >= 16 * chunk)
        #expect(seen(try cluster.run(copyJob([input]))) == bytes)
        let second = cluster.transfers.bytesServed - afterFirst
        #expect(second > 0 && second <= bytes.count - 16 * chunk, "only the rest was fetched: \(second) bytes")
    }

    /// When the object changed after the first part was fetched, the
    /// coordinator will not go on from it: the file is fetched whole again, the
    /// new bytes and nothing of the old part.
    @Test func aFetchDoesNotGoOnFromAPartOfAnObjectThatChangedSince() throws {
        let home = try TemporaryHome()
        let chunk = TransferLimits.chunkBytes
        // Large enough that the cancel reaches the worker long before it could have
        // fetched the whole file (at 40 chunks it sometimes had, and the test then saw the old file whole).
        let (first, _) = try object("big", in: home, count: 120 * chunk + 9)
        let input = try planned(first.source)
        // Made before the worker starts: it gives up on a coordinator silent for 3 s.
        let changed = Data(patterned(count: 120 * chunk + 9, seed: 5).reversed())
        let cluster = try ShippedCluster(home: home)
        try cluster.interrupt(copyJob([input]))
        let afterFirst = cluster.transfers.bytesServed
        try changed.write(to: URL(fileURLWithPath: first.source))
        // Planned before the change: the worker tries to go on, the coordinator refuses.
        #expect(seen(try cluster.run(copyJob([input]))) == changed)
        #expect(cluster.transfers.bytesServed - afterFirst == changed.count)
    }
}
