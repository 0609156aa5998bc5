import ArgumentParser

@main
struct Shoal: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "shoal",
        abstract: "Run SageMaker pipeline definitions on your own Linux hosts.",
        discussion: """
            Shoal reads the pipeline definition JSON that the SageMaker Python SDK writes
            (pipeline.definition()) and checks, draws and runs it.

            Examples:
              shoal run examples/abalone/pipeline.json
              shoal validate examples/abalone/pipeline.json
              shoal validate --output json pipelines/*.json
              shoal graph examples/abalone/pipeline.json --format mermaid
            """,
        version: version,
        subcommands: [
            RunCommand.self, PipelinesCommand.self, ValidateCommand.self, GraphCommand.self, ExecutionsCommand.self, StepsCommand.self, LogsCommand.self,
            StopCommand.self, FunctionsCommand.self, CacheCommand.self, CallbacksCommand.self, ServeCommand.self, ConsoleCommand.self, CredentialsCommand.self, EnvCommand.self, CostCommand.self, ImagesCommand.self, ModelsCommand.self, ExperimentsCommand.self, TrialsCommand.self, LineageCommand.self, CopyCommand.self, ListCommand.self, WorkerCommand.self, KeysCommand.self, CoordinatorCommand.self, ClusterCommand.self,
        ]
    )
}
