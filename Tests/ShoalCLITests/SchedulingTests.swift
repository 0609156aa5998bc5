import Foundation
import ShoalDefinition
import ShoalStore
import ShoalTestSupport
import Testing

struct LongStepDidNotStart: Error, CustomStringConvertible {
    var description: String { "the long step did not start within 10 s" }
}

@Suite(.serialized) struct SchedulingTests {
    static func sleeper(_ name: String, seconds: Double) -> Step {
        Step.processing(name, arguments: ProcessingArguments(
            instanceType: "ml.m5.large", instanceCount: 1, imageUri: "sh",
            entrypoint: ["/bin/sh", "-c", .string("sleep \(seconds)")], roleArn: "arn:aws:iam::1:role/R"
        ))
    }

    /// Starts `shoal run` on a long step followed by a Fail step and waits
    /// (bounded) until the long step executes; returns the run and the execution id.
    static func startLongRun(_ home: TemporaryHome) throws -> (Process, String) {
        let definition = PipelineDefinition {
            Self.sleeper("Long", seconds: 30)
            Step.fail("After", message: "never", dependsOn: ["Long"])
        }
        let runner = try home.start(["run", try home.file("p.json", definition.jsonText()), "--workers", "1"])
        var id: String?
        for _ in 0..<100 where id == nil {
            usleep(100_000)
            if let candidate = try? home.latestExecutionId(), (try? home.latestSteps().first?["status"] as? String) == "Executing" { id = candidate }
        }
        guard let id else {
            runner.terminate()
            throw LongStepDidNotStart()
        }
        return (runner, id)
    }

    @Test func ctrlCStopsTheRunningStepAndSkipsTheRest() throws {
        let home = try TemporaryHome()
        let (runner, id) = try Self.startLongRun(home)
        defer { if runner.isRunning { runner.terminate() } }
        kill(runner.processIdentifier, SIGINT)
        for _ in 0..<100 where runner.isRunning { usleep(100_000) }
        #expect(!runner.isRunning, "the run ended within 10 s of Ctrl-C")
        #expect(runner.terminationStatus == 1)
        #expect(try home.latestSteps().map { $0["status"] as? String } == ["Stopped", "NotRun"])
        let execution = try home.json(["executions", "describe", id]) as? [String: Any]
        #expect(execution?["status"] as? String == "Stopped")
    }

    /// D1: a run killed outright leaves its execution Executing with nobody to
    /// finish it; `shoal stop` sees its owner is gone and records the end.
    @Test func stopFinishesAnExecutionWhoseRunWasKilled() throws {
        let home = try TemporaryHome()
        let (runner, id) = try Self.startLongRun(home)
        defer { if runner.isRunning { runner.terminate() } }
        let pid = runner.processIdentifier
        kill(pid, SIGKILL)
        runner.waitUntilExit()
        let described = try home.json(["executions", "describe", id]) as? [String: Any]
        #expect(described?["status"] as? String == "Executing")
        #expect(described?["ownerGone"] as? Bool == true, "the listing says nobody runs it any more")
        #expect(try home.shoal(["executions", "list"]).stdout.contains("Executing (its process is gone: shoal executions resume \(id), or shoal stop \(id))"))
        let stop = try home.shoal(["stop", id])
        #expect(stop.status == 0, "\(stop.stderr)")
        #expect(stop.stdout.contains("execution \(id) Stopped: its owner, process \(pid) on \(ProcessInfo.processInfo.hostName), ended without finishing it"), "\(stop.stdout)")
        #expect(try home.latestSteps().map { $0["status"] as? String } == ["Stopped", "NotRun"])
        let attempts = try MetadataStore(path: home.url.appendingPathComponent("shoal.sqlite").path).instances(executionId: id)
        #expect(attempts.map(\.status) == [.stopped])
        let again = try home.shoal(["stop", id])
        #expect(again.status != 0)
        #expect(again.stderr.contains("execution '\(id)' is Stopped, not running"), "\(again.stderr)")
    }

    @Test func maxParallelStepsKeepsIndependentStepsFromOverlapping() throws {
        let home = try TemporaryHome()
        let definition = PipelineDefinition {
            Self.sleeper("A", seconds: 0.2)
            Self.sleeper("B", seconds: 0.2)
            Self.sleeper("C", seconds: 0.2)
        }
        let path = try home.file("p.json", definition.jsonText())
        #expect(try home.shoal(["run", path, "--workers", "3", "--max-parallel-steps", "1"]).status == 0)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let intervals = try home.latestSteps().map { step -> (Date, Date) in
            let start = try #require((step["startedAt"] as? String).flatMap { formatter.date(from: $0) })
            let end = try #require((step["endedAt"] as? String).flatMap { formatter.date(from: $0) })
            return (start, end)
        }.sorted { $0.0 < $1.0 }
        #expect(intervals.count == 3)
        for (earlier, later) in zip(intervals, intervals.dropFirst()) { #expect(earlier.1 <= later.0, "one step at a time") }
    }

    @Test func stopFromAnotherCommandStopsTheRunningStepAndSkipsTheRest() throws {
        let home = try TemporaryHome()
        let (runner, execution) = try Self.startLongRun(home)
        defer { if runner.isRunning { runner.terminate() } }
        let stop = try home.shoal(["stop", execution])
        #expect(stop.status == 0, "\(stop.stderr)")
        #expect(stop.stdout == "execution \(execution) Stopping\n")
        for _ in 0..<100 where runner.isRunning { usleep(100_000) }
        #expect(!runner.isRunning, "the run ended within 10 s of the stop")
        #expect(runner.terminationStatus == 1)
        #expect(try home.latestSteps().map { $0["status"] as? String } == ["Stopped", "NotRun"])
        // The attempt that was running ends with its step, not left InProgress.
        let attempts = try MetadataStore(path: home.url.appendingPathComponent("shoal.sqlite").path).instances(executionId: execution)
        #expect(attempts.map(\.status) == [.stopped])
        #expect(attempts.first?.endedAt != nil)
        #expect(attempts.first?.failureReason == "step Long ended (Stopped) while this attempt ran")
        let describe = try home.shoal(["executions", "describe", execution, "--output", "json"])
        #expect(describe.stdout.contains("\"status\" : \"Stopped\""))
    }

    @Test func subnetsPinAStepToWorkersLabelledWithThem() throws {
        let home = try TemporaryHome()
        var arguments = ProcessingArguments(
            instanceType: "ml.m5.large", instanceCount: 2, imageUri: "sh", entrypoint: ["/bin/true"], roleArn: "arn:aws:iam::1:role/R"
        )
        arguments.networkConfig = NetworkConfig(vpcConfig: VpcConfig(securityGroupIds: [], subnets: ["subnet-0a", "subnet-0b"]))
        let path = try home.file("p.json", PipelineDefinition { Step.processing("Pinned", arguments: arguments) }.jsonText())
        let unlabelled = try home.shoal(["run", path, "--workers", "2"])
        #expect(unlabelled.status == 1)
        #expect(unlabelled.stderr.contains("No worker carries the labels this step needs (subnet=subnet-0a or subnet=subnet-0b)"))
        let labelled = try home.shoal(["run", path, "--workers", "2", "--worker-labels", "subnet=subnet-0b,zone=a"])
        #expect(labelled.status == 0, "\(labelled.stderr)")
    }

    @Test func manifestInputStagesTheListedObjects() throws {
        let home = try TemporaryHome()
        for name in ["a.txt", "b.txt", "c.txt"] {
            #expect(try home.shoal(["cp", try home.file(name, "line of \(name)\n"), "s3://b/data/\(name)"]).status == 0)
        }
        let manifest = try home.file("manifest.json", #"[{"prefix": "s3://b/data/"}, "a.txt", "c.txt"]"#)
        #expect(try home.shoal(["cp", manifest, "s3://b/manifests/m.json"]).status == 0)
        var arguments = ProcessingArguments(
            instanceType: "ml.m5.large", instanceCount: 1, imageUri: "sh",
            entrypoint: ["/bin/sh", "-c", "ls /opt/ml/processing/input > /opt/ml/processing/out/listing.txt"],
            roleArn: "arn:aws:iam::1:role/R",
            inputs: [ProcessingInput(inputName: "data", s3Input: S3Input(
                s3Uri: "s3://b/manifests/m.json", localPath: "/opt/ml/processing/input", s3DataType: "ManifestFile"
            ))],
            outputs: [ProcessingOutput(outputName: "out", s3Output: S3Output(s3Uri: "s3://b/out", localPath: "/opt/ml/processing/out"))]
        )
        arguments.environment = nil
        let path = try home.file("p.json", PipelineDefinition { Step.processing("List", arguments: arguments) }.jsonText())
        let outcome = try home.shoal(["run", path, "--workers", "1"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let listing = try String(contentsOf: home.url.appendingPathComponent("objects/b/out/listing.txt"), encoding: .utf8)
        #expect(listing == "a.txt\nc.txt\n")
    }
}
