import Foundation
import ShoalCluster
import ShoalDefinition
import ShoalEngine
import ShoalRuntime
import ShoalStore
import ShoalTestSupport
import Testing

/// The runner driven by hand: a real store, no sockets and no workers. Tasks
/// go to a recording dispatcher; their results are fed back as the endpoint
/// would report them.
@Suite struct ExecutionRunnerTests {
    static let completed = TaskResult.processing(InstanceOutcome(
        status: .completed, exitCode: 0, failureReason: nil, exitMessage: nil, outputs: [], wallSeconds: 0.01, cpuSeconds: 0, peakRSSBytes: 0
    ))

    static func job(_ name: String, instances: Int, dependsOn: [String]? = nil) -> Step {
        Step.processing(name, arguments: ProcessingArguments(
            instanceType: "ml.m5.large", instanceCount: .number(.int(instances)), imageUri: "sh", entrypoint: ["/bin/true"], roleArn: "arn:aws:iam::1:role/R"
        ), dependsOn: dependsOn)
    }

    static func runner(_ home: TemporaryHome, _ dispatcher: RecordingDispatcher) throws -> (ExecutionRunner, ShoalHome) {
        let definition = PipelineDefinition {
            Self.job("Work", instances: 2)
            Self.job("Next", instances: 1, dependsOn: ["Work"])
        }
        let check = DefinitionCheck.check(definition)
        let store = try ShoalHome(root: home.url)
        let runner = ExecutionRunner(
            definition: try #require(check.definition), graph: try #require(check.graph), home: store, dispatcher: dispatcher,
            options: .init(pipelineName: "p")
        )
        try runner.begin()
        try runner.advance()
        return (runner, store)
    }

    @Test func aLostInstanceRunsAgainAndTheNextStepStartsWhenAllSucceeded() throws {
        let home = try TemporaryHome()
        let dispatcher = RecordingDispatcher()
        let (runner, store) = try Self.runner(home, dispatcher)
        let id = runner.executionId
        let first = TaskKey(taskId: "\(id)/Work/algo-1", attempt: 1)
        let second = TaskKey(taskId: "\(id)/Work/algo-2", attempt: 1)
        #expect(dispatcher.submitted.map(\.key) == [first, second])

        #expect(try runner.route(.finished(TaskFinished(key: first, result: Self.completed))))
        try runner.advance()
        #expect(dispatcher.submitted.count == 2, "Next waits for both instances")

        #expect(try runner.route(.workerLost(id: "w1", host: "h1", tasks: [second])))
        let retry = TaskKey(taskId: "\(id)/Work/algo-2", attempt: 2)
        #expect(dispatcher.submitted.last?.key == retry)
        // A late result of the lost attempt is no one's.
        #expect(try runner.route(.finished(TaskFinished(key: second, result: Self.completed))) == false)

        #expect(try runner.route(.finished(TaskFinished(key: retry, result: Self.completed))))
        try runner.advance()
        let next = TaskKey(taskId: "\(id)/Next/algo-1", attempt: 1)
        #expect(dispatcher.submitted.last?.key == next)
        #expect(try runner.route(.finished(TaskFinished(key: next, result: Self.completed))))
        try runner.advance()
        #expect(runner.isFinished)
        #expect(try runner.finish().status == .succeeded)

        let attempts = try store.metadata.instances(executionId: id)
        #expect(attempts.map { "\($0.stepName)/\($0.instance)/\($0.attempt) \($0.status)" } == [
            "Work/1/1 Completed", "Work/2/1 Lost", "Work/2/2 Completed", "Next/1/1 Completed",
        ])
        #expect(try store.metadata.steps(executionId: id).map(\.status) == [.succeeded, .succeeded])
        #expect(dispatcher.cancelled.isEmpty)
    }

    /// What a lost attempt had staged (its upload cut short with its worker)
    /// is discarded; only the attempt that completed is committed.
    @Test func aWorkerLostMidUploadCommitsNothingOfIt() throws {
        let home = try TemporaryHome()
        let dispatcher = RecordingDispatcher()
        let definition = PipelineDefinition {
            Step.processing("Write", arguments: ProcessingArguments(
                instanceType: "ml.m5.large", instanceCount: 1, imageUri: "sh", entrypoint: ["/bin/true"], roleArn: "arn:aws:iam::1:role/R",
                outputs: [ProcessingOutput(outputName: "out", s3Output: S3Output(s3Uri: "s3://b/out", localPath: "/opt/ml/processing/out"))]
            ))
        }
        let check = DefinitionCheck.check(definition)
        let store = try ShoalHome(root: home.url)
        let runner = ExecutionRunner(
            definition: try #require(check.definition), graph: try #require(check.graph), home: store, dispatcher: dispatcher, options: .init(pipelineName: "p")
        )
        try runner.begin()
        try runner.advance()
        func staging(_ index: Int) throws -> String {
            guard case let .processing(_, folder) = dispatcher.submitted[index].task else { throw CancellationError() }
            return folder
        }
        // The first attempt's upload had begun: part of its output is staged.
        let first = try staging(0)
        try FileManager.default.createDirectory(atPath: first + "/out", withIntermediateDirectories: true)
        try Data(repeating: 1, count: 1000).write(to: URL(fileURLWithPath: first + "/out/partial.bin"))
        #expect(try runner.route(.workerLost(id: "w1", host: "h1", tasks: [dispatcher.submitted[0].key])))
        #expect(!FileManager.default.fileExists(atPath: first), "the lost attempt's staging is removed")
        let second = try staging(1)
        #expect(second != first)
        try FileManager.default.createDirectory(atPath: second + "/out", withIntermediateDirectories: true)
        try Data("whole".utf8).write(to: URL(fileURLWithPath: second + "/out/done.txt"))
        let completed = TaskResult.processing(InstanceOutcome(
            status: .completed, exitCode: 0, failureReason: nil, exitMessage: nil,
            outputs: [.init(name: "out", stagedAt: second + "/out", files: ["done.txt"], bytes: 5)], wallSeconds: 0.01, cpuSeconds: 0, peakRSSBytes: 0
        ))
        #expect(try runner.route(.finished(TaskFinished(key: dispatcher.submitted[1].key, result: completed))))
        try runner.advance()
        #expect(try runner.finish().status == .succeeded)
        let committed = try FileManager.default.contentsOfDirectory(atPath: home.url.appendingPathComponent("objects/b/out").path)
        #expect(committed == ["done.txt"])
    }

    @Test func aStopCancelsTheRunningInstancesAndRecordsThemStopped() throws {
        let home = try TemporaryHome()
        let dispatcher = RecordingDispatcher()
        let (runner, store) = try Self.runner(home, dispatcher)
        try runner.requestStop()
        #expect(Set(dispatcher.cancelled) == Set(dispatcher.submitted.map(\.key)))
        #expect(try store.metadata.execution(id: runner.executionId)?.status == .stopping)
        try runner.advance()
        #expect(runner.isFinished)
        #expect(try runner.finish().status == .stopped)
        #expect(try store.metadata.steps(executionId: runner.executionId).map(\.status) == [.stopped, .notRun])
        #expect(try store.metadata.instances(executionId: runner.executionId).map(\.status) == [.stopped, .stopped])
    }

    @Test func aFailedInstanceFailsItsStepAndCancelsItsSibling() throws {
        let home = try TemporaryHome()
        let dispatcher = RecordingDispatcher()
        let (runner, store) = try Self.runner(home, dispatcher)
        let (first, second) = (dispatcher.submitted[0].key, dispatcher.submitted[1].key)
        let failed = TaskResult.processing(InstanceOutcome(
            status: .failed, exitCode: 3, failureReason: "AlgorithmError: exit code 3: bad row", exitMessage: nil, outputs: [],
            wallSeconds: 0.01, cpuSeconds: 0, peakRSSBytes: 0
        ))
        #expect(try runner.route(.finished(TaskFinished(key: first, result: failed))))
        #expect(dispatcher.cancelled == [second])
        try runner.advance()
        #expect(runner.isFinished)
        let record = try runner.finish()
        #expect(record.status == .failed)
        #expect(record.failureReason?.hasPrefix("Step 'Work' failed: ") == true, "\(String(describing: record.failureReason))")
        #expect(try store.metadata.steps(executionId: runner.executionId).map(\.status) == [.failed, .notRun])
        #expect(try store.metadata.instances(executionId: runner.executionId).map(\.status) == [.failed, .stopped])
    }
}
