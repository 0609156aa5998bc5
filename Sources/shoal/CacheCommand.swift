import ArgumentParser
import Foundation
import ShoalStore

struct CacheCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "List or clear the step runs that steps with CacheConfig may reuse.",
        discussion: """
            A step with CacheConfig {"Enabled": true} reuses the newest successful run of
            the same step of the same pipeline with the same arguments and the same input
            objects, within its ExpireAfter, and whose outputs are still in the store.
            `shoal steps ID` says which run a step reused, or why it missed.

            Examples:
              shoal cache list --pipeline abalone
              shoal cache clear --pipeline abalone --step AbaloneProcess
            """,
        subcommands: [List.self, Clear.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the remembered runs, newest first.")
        @Option(help: "Only this pipeline's.") var pipeline: String?
        @Option(help: "Only this step's.") var step: String?
        @OptionGroup var home: HomeOptions
        @OptionGroup var output: OutputOptions

        struct Entry: Encodable {
            let pipelineName: String
            let stepName: String
            let executionId: String
            let createdAt: Date
            let argumentsKey: String
            let inputsKey: String
        }

        func run() throws {
            let entries = try home.open().metadata.cacheEntries(pipelineName: pipeline, stepName: step)
            switch output.output {
            case .json:
                try printJSON(entries.map {
                    Entry(pipelineName: $0.pipelineName, stepName: $0.stepName, executionId: $0.executionId, createdAt: $0.createdAt,
                          argumentsKey: $0.argumentsKey, inputsKey: $0.inputsKey)
                })
            case .text:
                print(Formatting.table(["PIPELINE", "STEP", "EXECUTION", "CREATED", "ARGUMENTS", "INPUTS"], entries.map {
                    [$0.pipelineName, $0.stepName, $0.executionId, Formatting.time($0.createdAt), String($0.argumentsKey.prefix(12)), String($0.inputsKey.prefix(12))]
                }))
            }
        }
    }

    struct Clear: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Forget remembered runs (all, or a pipeline's, or a step's): the next run of those steps does the work.")
        @Option(help: "Only this pipeline's.") var pipeline: String?
        @Option(help: "Only this step's.") var step: String?
        @OptionGroup var home: HomeOptions

        func run() throws {
            let removed = try home.open().metadata.clearCache(pipelineName: pipeline, stepName: step)
            print("removed \(removed) cached run\(removed == 1 ? "" : "s")")
        }
    }
}
