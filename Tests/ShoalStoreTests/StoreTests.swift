import Foundation
import ShoalStore
import ShoalTestSupport
import Testing

@Suite struct S3URITests {
    @Test(arguments: ["s3://b/../etc/passwd", "s3://b/a/../../x", "s3://b//x", "s3://b/./x", "s3:///k", "s3://b/a\u{0}b", "http://b/k", "s3://b/ok/../no"])
    func keysThatCouldEscapeTheStoreAreRefused(text: String) {
        #expect(throws: S3URI.Invalid.self) { try S3URI(text) }
    }

    @Test func prefixesAndKeysParse() throws {
        let uri = try S3URI("s3://my-bucket/abalone/")
        #expect(uri.bucket == "my-bucket" && uri.key == "abalone/")
        #expect(try uri.appending("x.csv").description == "s3://my-bucket/abalone/x.csv")
        #expect(try S3URI("s3://my-bucket").key == "")
    }
}

@Suite struct ObjectStoreTests {
    let store: ObjectStore

    init() throws {
        store = try ObjectStore(root: FileManager.default.temporaryDirectory.appendingPathComponent("shoal-store-\(UUID().uuidString.prefix(8))/objects"))
    }

    @Test func listsKeysUnderAPrefixSortedByBytes() throws {
        for key in ["data/b.csv", "data/a/2.csv", "data/a/10.csv", "data-other/x", "dat"] {
            try store.write(Data(key.utf8), to: try S3URI(bucket: "b", key: key))
        }
        #expect(try store.list(prefix: try S3URI("s3://b/data/")).map(\.uri.key) == ["data/a/10.csv", "data/a/2.csv", "data/b.csv"])
        #expect(try store.list(prefix: try S3URI("s3://b/data")).map(\.uri.key) == ["data-other/x", "data/a/10.csv", "data/a/2.csv", "data/b.csv"])
        #expect(try store.list(prefix: try S3URI("s3://b/nothing/")).isEmpty)
        #expect(throws: ObjectStore.TooMany.self) { try store.list(prefix: try S3URI("s3://b/"), limit: 2) }
    }

    @Test func readRefusesMissingAndOversizedObjects() throws {
        let uri = try S3URI("s3://b/file.json")
        #expect(throws: ObjectStore.NotFound.self) { try store.read(uri, maxBytes: 10) }
        try store.write(Data(repeating: 1, count: 100), to: uri)
        #expect(throws: ObjectStore.TooLarge.self) { try store.read(uri, maxBytes: 10) }
        #expect(try store.read(uri, maxBytes: 100).count == 100)
    }
}

@Suite struct MetadataStoreTests {
    @Test func executionsStepsAndInstancesPersistInSQLite() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-db-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("shoal.sqlite").path
        do {
            let store = try MetadataStore(path: path)
            let execution = ExecutionRecord(id: "e1", pipelineName: "P", status: .executing, definition: "{}", parameters: "{}", startedAt: Date())
            try store.insert(execution, steps: [StepRecord(executionId: "e1", name: "B", type: "Fail", status: .pending), StepRecord(executionId: "e1", name: "A", type: "Lambda", status: .pending)])
            var instance = InstanceRecord(executionId: "e1", stepName: "A", instance: 1, attempt: 1, status: .inProgress)
            try store.insert(&instance)
            #expect(instance.id != nil)
            var duplicate = InstanceRecord(executionId: "e1", stepName: "A", instance: 1, attempt: 1, status: .inProgress)
            var refused = false
            do { try store.insert(&duplicate) } catch { refused = true }
            #expect(refused, "one record per instance attempt")
        }
        // A second connection (another process in real use) sees everything.
        let reopened = try MetadataStore(path: path)
        #expect(try reopened.execution(id: "e1")?.pipelineName == "P")
        #expect(try reopened.steps(executionId: "e1").map(\.name) == ["B", "A"])
        #expect(try reopened.instances(executionId: "e1").count == 1)
        #expect(FileManager.default.fileExists(atPath: path + "-wal"), "WAL mode")
    }

    /// Statuses are stored as SageMaker names them and read back as types; a row
    /// holding anything else is refused with an error, never read as some status.
    @Test func statusesAreStoredByNameAndAnUnknownOneIsAnError() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-status-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("shoal.sqlite").path
        let store = try MetadataStore(path: path)
        try store.insert(
            ExecutionRecord(id: "e1", pipelineName: "P", status: .stopping, definition: "{}", parameters: "{}", startedAt: Date()),
            steps: [StepRecord(executionId: "e1", name: "A", type: "Lambda", status: .notRun)]
        )
        var instance = InstanceRecord(executionId: "e1", stepName: "A", instance: 1, attempt: 1, status: .lost)
        try store.insert(&instance)
        let sqlite = { (statement: String) throws -> String in
            let outcome = try ShoalProcess.run(
                executable: URL(fileURLWithPath: "/usr/bin/env"),
                ["python3", "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); r = c.execute(sys.argv[2]).fetchall(); c.commit(); print(r)", path, statement]
            )
            return outcome.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(try sqlite("select e.status, s.status, i.status from execution e, step s, instance i") == "[('Stopping', 'NotRun', 'Lost')]")
        #expect(try store.execution(id: "e1")?.status == .stopping)
        #expect(try store.steps(executionId: "e1").first?.status == .notRun)
        #expect(try store.instances(executionId: "e1").first?.status == .lost)
        _ = try sqlite("update execution set status = 'Bogus'")
        let error = #expect(throws: (any Error).self) { try store.execution(id: "e1") }
        #expect("\(error.map { "\($0)" } ?? "")".contains("Bogus"), "\(String(describing: error))")
    }
}
