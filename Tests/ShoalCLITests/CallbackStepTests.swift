import Foundation
import ShoalTestSupport
import Testing

/// Callback steps end to end: `shoal run` waits while another process
/// (`shoal callbacks …`) answers the token through the run's API socket.
@Suite(.serialized) struct CallbackStepTests {
    let home: TemporaryHome
    let path: String

    init() throws {
        home = try TemporaryHome()
        path = try home.file("pipeline.json", """
            {"Version": "2020-12-01", "Parameters": [{"Name": "Dataset", "Type": "String", "DefaultValue": "abalone"}],
             "Steps": [
              {"Name": "Approve", "Type": "Callback", "Arguments": {"dataset": {"Get": "Parameters.Dataset"}, "reason": "manual review"},
               "SqsQueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/approvals",
               "OutputParameters": [{"OutputName": "approved_by", "OutputType": "String"}, {"OutputName": "partitions", "OutputType": "Integer"}]},
              {"Name": "Report", "Type": "Fail", "DependsOn": ["Approve"],
               "Arguments": {"ErrorMessage": {"Std:Join": {"On": " ", "Values": ["approved by", {"Get": "Steps.Approve.OutputParameters['approved_by']"},
                                                                                   "in", {"Get": "Steps.Approve.OutputParameters['partitions']"}]}}}}]}
            """)
    }

    /// Starts the run and returns it with the token its Callback step sent.
    func startAndWaitForToken() throws -> (Process, URL, [String: Any]) {
        let log = home.url.appendingPathComponent("run-\(UUID().uuidString.prefix(6)).txt")
        let run = try home.start(["run", path, "--workers", "1"], standardError: log)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline && run.isRunning {
            if let waiting = try? home.json(["callbacks", "list", "--status", "Waiting"]) as? [[String: Any]], let first = waiting.first {
                return (run, log, first)
            }
            usleep(20_000)
        }
        Issue.record("no callback token was sent")
        return (run, log, [:])
    }

    func wait(_ run: Process) {
        let deadline = Date().addingTimeInterval(30)
        while run.isRunning && Date() < deadline { usleep(20_000) }
    }

    @Test func aCallbackAnsweredFromTheCLIEndsTheStepWithItsOutputs() throws {
        let (run, log, callback) = try startAndWaitForToken()
        defer { if run.isRunning { run.terminate(); run.waitUntilExit() } }
        let token = try #require(callback["token"] as? String)
        let message = try #require(callback["message"] as? [String: Any])
        #expect(message["token"] as? String == token)
        #expect((message["arguments"] as? [String: Any])?["dataset"] as? String == "abalone")
        #expect((message["pipelineExecutionArn"] as? String)?.hasSuffix("/execution/\(callback["executionId"] as? String ?? "")") == true)
        #expect(callback["queueUrl"] as? String == "https://sqs.us-east-1.amazonaws.com/123456789012/approvals")

        // An output that does not cast is refused, and the step goes on waiting.
        let wrong = try home.shoal(["callbacks", "succeed", token, "--output", "approved_by=ana", "--output", "partitions=many"])
        #expect(wrong.status != 0)
        #expect(wrong.stderr.contains("Callback output 'partitions' is not Integer: the answer returned \"many\". The step still waits."), "\(wrong.stderr)")
        #expect(run.isRunning)

        let answered = try home.shoal(["callbacks", "succeed", token, "--output", "approved_by=ana", "--output", "partitions=4"])
        #expect(answered.status == 0, "\(answered.stderr)")
        wait(run)
        let stderr = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(stderr.contains("Failed: approved by ana in 4"), "\(stderr)")
        let steps = try #require(try home.json(["steps", try home.latestExecutionId()]) as? [[String: Any]])
        #expect(steps.first?["status"] as? String == "Succeeded")

        let again = try home.shoal(["callbacks", "succeed", token])
        #expect(again.stderr.contains("callback token '\(token)' was already used: its step Approve ended Succeeded"), "\(again.stderr)")
        let unknown = try home.shoal(["callbacks", "fail", "nosuchtoken", "--reason", "x"])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("no callback with token 'nosuchtoken'"))
    }

    @Test func aFailedCallbackFailsTheStepWithItsReason() throws {
        let (run, _, callback) = try startAndWaitForToken()
        defer { if run.isRunning { run.terminate(); run.waitUntilExit() } }
        let token = try #require(callback["token"] as? String)
        #expect(try home.shoal(["callbacks", "fail", token, "--reason", "rejected in review"]).status == 0)
        wait(run)
        #expect(run.terminationStatus == 1)
        let steps = try #require(try home.json(["steps", try home.latestExecutionId()]) as? [[String: Any]])
        #expect(steps.first?["status"] as? String == "Failed")
        #expect(steps.first?["failureReason"] as? String == "callback failed: rejected in review")
        #expect(steps.last?["status"] as? String == "NotRun")
    }

    /// The run dies while its step waits; resumed, the step waits on the same token.
    @Test func aResumedExecutionKeepsItsToken() throws {
        let (run, _, callback) = try startAndWaitForToken()
        let token = try #require(callback["token"] as? String)
        let id = try #require(callback["executionId"] as? String)
        kill(run.processIdentifier, SIGKILL)
        run.waitUntilExit()
        let log = home.url.appendingPathComponent("resume.txt")
        let resumed = try home.start(["executions", "resume", id, "--workers", "1"], standardError: log)
        defer { if resumed.isRunning { resumed.terminate(); resumed.waitUntilExit() } }
        let deadline = Date().addingTimeInterval(30)
        var answered = false
        while !answered && Date() < deadline && resumed.isRunning {
            answered = try home.shoal(["callbacks", "succeed", token, "--output", "approved_by=bo", "--output", "partitions=2"]).status == 0
            if !answered { usleep(50_000) }
        }
        #expect(answered)
        wait(resumed)
        let stderr = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(stderr.contains("Failed: approved by bo in 2"), "\(stderr)")
        let tokens = try #require(try home.json(["callbacks", "list", "--execution", id]) as? [[String: Any]])
        #expect(tokens.count == 1, "no second token was sent")
    }

    @Test func aStopDuringTheWaitFailsTheToken() throws {
        let (run, _, callback) = try startAndWaitForToken()
        defer { if run.isRunning { run.terminate(); run.waitUntilExit() } }
        let token = try #require(callback["token"] as? String)
        let id = try #require(callback["executionId"] as? String)
        #expect(try home.shoal(["stop", id]).status == 0)
        wait(run)
        #expect(!run.isRunning)
        let listed = try #require(try home.json(["callbacks", "list", "--execution", id]) as? [[String: Any]])
        #expect(listed.first?["status"] as? String == "Stopped")
        let late = try home.shoal(["callbacks", "succeed", token])
        #expect(late.status != 0)
        #expect(late.stderr.contains("callback token '\(token)' was already used: its step Approve ended Stopped"), "\(late.stderr)")
    }
}
