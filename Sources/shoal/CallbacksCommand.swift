import ArgumentParser
import Foundation
import ShoalCluster
import ShoalDefinition
import ShoalEngine
import ShoalStore

struct CallbacksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "callbacks",
        abstract: "List Callback steps' tokens, and answer them (SendPipelineExecutionStepSuccess / Failure).",
        discussion: """
            A Callback step sends a message with a token and its arguments, and waits
            until the token is answered: with success and its output parameters, or
            with failure and a reason. A stopped execution fails its waiting tokens.

            Examples:
              shoal callbacks list --status Waiting
              shoal callbacks succeed 3kX… --output approved_by=ana --output partitions=4
              shoal callbacks fail 3kX… --reason "rejected in review"
            """,
        subcommands: [List.self, Succeed.self, Fail.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List callback tokens, newest first, with the message each step sent.")
        @Option(help: "Only this execution's.") var execution: String?
        @Option(help: "Only those with this status: Waiting, Succeeded, Failed or Stopped.") var status: String?
        @OptionGroup var home: HomeOptions
        @OptionGroup var output: OutputOptions

        struct Entry: Encodable {
            let token: String
            let executionId: String
            let stepName: String
            let status: String
            let createdAt: Date
            let answeredAt: Date?
            let queueUrl: String?
            let message: JSONValue?
            let outputs: JSONValue?
            let failureReason: String?
        }

        func run() throws {
            let wanted: CallbackRecord.Status?
            if let status {
                guard let parsed = CallbackRecord.Status(rawValue: status) else { throw ValidationError("--status is Waiting, Succeeded, Failed or Stopped; got '\(status)'.") }
                wanted = parsed
            } else {
                wanted = nil
            }
            let callbacks = try home.open().metadata.callbacks(executionId: execution, status: wanted)
            switch output.output {
            case .json:
                try printJSON(callbacks.map {
                    Entry(token: $0.token, executionId: $0.executionId, stepName: $0.stepName, status: $0.status.rawValue, createdAt: $0.createdAt,
                          answeredAt: $0.answeredAt, queueUrl: $0.queueUrl, message: try? JSONParser.parse($0.message),
                          outputs: $0.outputs.flatMap { try? JSONParser.parse($0) }, failureReason: $0.failureReason)
                })
            case .text:
                print(Formatting.table(["TOKEN", "EXECUTION", "STEP", "STATUS", "CREATED"], callbacks.map {
                    [$0.token, $0.executionId, $0.stepName, $0.status.rawValue, Formatting.time($0.createdAt)]
                }))
            }
        }
    }

    struct Succeed: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End the step waiting on TOKEN as succeeded, with its output parameters.")
        @Argument(help: "The token the step sent.") var token: String
        @Option(name: .customLong("output"), help: "An output parameter, Name=Value (repeatable); cast to the step's declared type.") var outputs: [String] = []
        @OptionGroup var home: HomeOptions
        @OptionGroup var connection: ClusterConnection

        func validate() throws {
            for output in outputs where !output.contains("=") { throw ValidationError("--output takes Name=Value; got '\(output)'.") }
        }

        func run() throws {
            var given: [String: String] = [:]
            for output in outputs {
                let parts = output.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                given[String(parts[0])] = String(parts[1])
            }
            try CallbacksCommand.send(.init(token: token, succeeded: true, outputs: given), home: home, connection: connection)
        }
    }

    struct Fail: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End the step waiting on TOKEN as failed, with a reason.")
        @Argument(help: "The token the step sent.") var token: String
        @Option(help: "Why (the step's failure reason).") var reason: String
        @OptionGroup var home: HomeOptions
        @OptionGroup var connection: ClusterConnection

        func run() throws {
            try CallbacksCommand.send(.init(token: token, succeeded: false, reason: reason), home: home, connection: connection)
        }
    }

    /// Hands the answer to the process running the token's execution (or to --coordinator).
    static func send(_ answer: ApiMessage.CallbackAnswer, home: HomeOptions, connection: ClusterConnection) throws {
        let client: CoordinatorClient
        if let given = try connection.client() {
            client = given
        } else {
            let store = try home.open()
            guard let callback = try store.metadata.callback(token: answer.token) else { throw CommandFailure("no callback with token '\(answer.token)'") }
            if let used = callback.used { throw CommandFailure(used) }
            // A fan-out's child runs in its parent's process.
            var execution = try store.metadata.execution(id: callback.executionId)
            while let child = execution, ExecutionOwner(of: child) == nil, let parent = child.parentExecutionId {
                execution = try store.metadata.execution(id: parent)
            }
            guard let execution, let owner = ExecutionOwner(of: execution) else {
                throw CommandFailure("execution '\(callback.executionId)' records no process running it")
            }
            guard execution.status.isRunning, !owner.isGoneFromThisHost else {
                throw CommandFailure("execution '\(execution.id)' is \(execution.status)\(owner.isGoneFromThisHost ? " and its process is gone (shoal executions resume \(execution.id) first)" : ""); token '\(answer.token)' cannot be answered")
            }
            client = try CoordinatorClient(endpoint: owner.endpoint, timeout: 5)
        }
        do {
            guard case let .execution(status) = try client.request(.callback(answer)) else { throw CommandFailure("unexpected reply to the callback") }
            print("execution \(status.executionId) \(status.status)")
        } catch let refusal as CoordinatorClient.Refused {
            throw CommandFailure(refusal.description)
        } catch let error as CoordinatorClient.Unreachable {
            throw CommandFailure("the process running the execution did not answer: \(error)")
        }
    }
}
