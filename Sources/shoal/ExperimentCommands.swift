import ArgumentParser
import Foundation
import ShoalDefinition
import ShoalStore

struct ExperimentsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiments",
        abstract: "Experiments: every execution is a trial of one (PipelineExperimentConfig).",
        discussion: """
            Metrics are the numbers in a step's property files (flattened, e.g.
            regression_metrics.mse.value) and in /opt/ml/output/metrics.json if a job
            writes one.

            Examples:
              shoal experiments list
              shoal experiments show AbalonePipeline --sort-by regression_metrics.mse.value
            """,
        subcommands: [List.self, Show.self],
        defaultSubcommand: List.self
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List experiments, most recently run first.")
        @OptionGroup var home: HomeOptions
        @OptionGroup var output: TableOutputOptions

        struct Entry: Encodable {
            let name: String
            let trials: Int
            let lastStartedAt: String
        }

        func run() throws {
            let experiments = try home.open().metadata.experiments()
            try output.emit(
                header: ["EXPERIMENT", "TRIALS", "LAST RUN"],
                rows: experiments.map { [$0.name, "\($0.trials)", Formatting.time($0.lastStarted)] },
                json: experiments.map { Entry(name: $0.name, trials: $0.trials, lastStartedAt: Formatting.iso($0.lastStarted)) }
            )
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The trials of an experiment with their metrics side by side.")
        @Argument(help: "The experiment name.") var name: String
        @Option(help: "Sort the trials by this metric (ascending).") var sortBy: String?
        @Flag(help: "Sort descending.") var descending = false
        @Option(help: "At most this many metric columns in the table (JSON and CSV have all).") var columns = 8
        @OptionGroup var home: HomeOptions
        @OptionGroup var output: TableOutputOptions

        struct Entry: Encodable {
            let trial: String
            let execution: String
            let status: String
            let startedAt: String
            let metrics: [String: Double]
        }

        func run() throws {
            var trials = try home.open().metadata.trials(ofExperiment: name)
            guard !trials.isEmpty else { throw CommandFailure("no experiment '\(name)' (see shoal experiments list)") }
            if let sortBy {
                guard trials.contains(where: { $0.metrics[sortBy] != nil }) else {
                    let known = Set(trials.flatMap(\.metrics.keys)).sorted().prefix(20).joined(separator: ", ")
                    throw CommandFailure("no trial of '\(name)' has metric '\(sortBy)'; metrics: \(known)")
                }
                // Trials without the metric go last either way.
                trials.sort { a, b in
                    switch (a.metrics[sortBy], b.metrics[sortBy]) {
                    case let (x?, y?): descending ? x > y : x < y
                    case (.some, nil): true
                    default: false
                    }
                }
            }
            var names = Set(trials.flatMap(\.metrics.keys)).sorted()
            if let sortBy { names = [sortBy] + names.filter { $0 != sortBy } }
            let shown = output.output == .table ? Array(names.prefix(max(0, columns))) : names
            try output.emit(
                header: ["TRIAL", "STATUS", "STARTED"] + shown,
                rows: trials.map { trial in
                    [trial.execution.trialName ?? trial.execution.id, trial.execution.status.rawValue, Formatting.time(trial.execution.startedAt)]
                        + shown.map { trial.metrics[$0].map { String(format: "%g", $0) } ?? "-" }
                },
                json: trials.map {
                    Entry(trial: $0.execution.trialName ?? $0.execution.id, execution: $0.execution.id, status: $0.execution.status.rawValue,
                          startedAt: Formatting.iso($0.execution.startedAt), metrics: $0.metrics)
                }
            )
        }
    }
}

struct TrialsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trials",
        abstract: "Trials: the run components (step instances) of one execution.",
        subcommands: [Show.self]
    )

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A trial's run components: parameters, inputs, outputs, status and metrics.")
        @Argument(help: "The trial name (by default the execution id).") var name: String
        @OptionGroup var home: HomeOptions
        @OptionGroup var output: TableOutputOptions

        struct Entry: Encodable {
            let step: String
            let host: String
            let status: String
            let startedAt: String?
            let endedAt: String?
            let parameters: JSONValue
            let inputs: JSONValue
            let outputs: JSONValue
            let metrics: [String: Double]
        }

        func run() throws {
            let components = try home.open().metadata.components(ofTrial: name)
            guard !components.isEmpty else { throw CommandFailure("no trial '\(name)' with run components") }
            try output.emit(
                header: ["STEP", "HOST", "STATUS", "ELAPSED", "METRICS"],
                rows: components.map { component, metrics in
                    [component.stepName, "algo-\(component.instance)", component.status.rawValue, Formatting.duration(from: component.startedAt, to: component.endedAt),
                     metrics.map { "\($0.name)=\(String(format: "%g", $0.value))" }.joined(separator: " ")]
                },
                json: components.map { component, metrics in
                    Entry(
                        step: component.stepName, host: "algo-\(component.instance)", status: component.status.rawValue,
                        startedAt: component.startedAt.map(Formatting.iso), endedAt: component.endedAt.map(Formatting.iso),
                        parameters: (try? JSONParser.parse(component.parameters)) ?? .null,
                        inputs: (try? JSONParser.parse(component.inputs)) ?? .null, outputs: (try? JSONParser.parse(component.outputs)) ?? .null,
                        metrics: Dictionary(metrics.map { ($0.name, $0.value) }) { $1 }
                    )
                }
            )
        }
    }
}

struct LineageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lineage",
        abstract: "Which step and execution produced an object, and which steps read it.",
        discussion: "Example:\n  shoal lineage s3://my-bucket/training/4wemqw2sucgh/algo-1.csv"
    )
    @Argument(help: "An s3:// URI (an object or a prefix).") var uri: String
    @OptionGroup var home: HomeOptions
    @OptionGroup var output: TableOutputOptions

    struct Entry: Encodable {
        let role: String
        let execution: String
        let step: String
        let host: String
        let via: String
        let endedAt: String?
    }

    func run() throws {
        guard uri.hasPrefix("s3://") else { throw CommandFailure("'\(uri)' is not an s3:// URI") }
        func related(_ prefix: String) -> Bool {
            let base = prefix.hasSuffix("/") ? prefix : prefix + "/"
            return uri == prefix || uri.hasPrefix(base) || prefix.hasPrefix(uri.hasSuffix("/") ? uri : uri + "/")
        }
        var entries: [Entry] = []
        for component in try home.open().metadata.allComponents() {
            let inputs = (try? JSONDecoder().decode([String].self, from: Data(component.inputs.utf8))) ?? []
            let outputs = (try? JSONDecoder().decode([String].self, from: Data(component.outputs.utf8))) ?? []
            for prefix in outputs where related(prefix) {
                entries.append(Entry(role: "produced by", execution: component.executionId, step: component.stepName, host: "algo-\(component.instance)", via: prefix, endedAt: component.endedAt.map(Formatting.iso)))
            }
            for prefix in inputs where related(prefix) {
                entries.append(Entry(role: "read by", execution: component.executionId, step: component.stepName, host: "algo-\(component.instance)", via: prefix, endedAt: component.endedAt.map(Formatting.iso)))
            }
        }
        guard !entries.isEmpty else { throw CommandFailure("no recorded step wrote or read \(uri)") }
        try output.emit(
            header: ["ROLE", "EXECUTION", "STEP", "HOST", "VIA"],
            rows: entries.map { [$0.role, $0.execution, $0.step, $0.host, $0.via] }, json: entries
        )
    }
}
