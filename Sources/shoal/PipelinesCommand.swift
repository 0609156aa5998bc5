import ArgumentParser
import Foundation
import ShoalDefinition
import ShoalEngine
import ShoalStore

struct PipelinesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipelines",
        abstract: "The pipeline registry: named pipelines with versioned definitions.",
        discussion: """
            Every update that changes a definition makes a new version (1, 2, …); an
            unchanged one makes none. Run a version with `shoal run --pipeline NAME[@V]`;
            every execution records the version it ran. (Timestamped pipeline names work
            too, but the registry keeps the history in one place.)

            Examples:
              shoal pipelines create abalone --definition pipeline.json --description "seed pipeline" --tags team=ml
              shoal pipelines update abalone --definition pipeline.json
              shoal pipelines diff abalone 1 2
            """,
        subcommands: [Create.self, Update.self, List.self, Describe.self, Versions.self, Diff.self, Delete.self]
    )

    /// What create and update share: the definition, checked before it is stored.
    struct DefinitionOptions: ParsableArguments {
        @Argument(help: "The pipeline name.") var name: String
        @Option(help: "The definition file.") var definition: String
        @Option(help: "A description.") var description: String?
        @Option(help: "Tags, k=v,…") var tags: String?
        @Option(help: "Who registers it (default: $USER).") var author: String?
        @OptionGroup var home: HomeOptions

        func validate() throws {
            do { try PipelineRegistration.checkName(name) } catch { throw ValidationError(error.description) }
            _ = try Labels.pairs(tags)
        }

        func register(update: Bool) throws {
            let change: MetadataStore.RegistryChange
            do {
                change = try PipelineRegistration.register(
                    name: name, definition: try DefinitionFile.read(definition), source: definition, description: description,
                    tags: try tags.map { try Labels.pairs($0).map { (key: $0.key, value: $0.value) } },
                    author: author ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown", update: update, in: try home.open()
                )
            } catch let refused as PipelineRegistration.Refused {
                for line in refused.problems { printError(line) }
                throw ExitCode(1)
            }
            switch change {
            case let .created(version): print("pipeline \(name) created, version \(version)")
            case let .newVersion(version): print("pipeline \(name) updated, version \(version)")
            case let .unchanged(version): print("pipeline \(name) unchanged, still version \(version)")
            }
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a pipeline (version 1).")
        @OptionGroup var options: DefinitionOptions
        func run() throws { try options.register(update: false) }
    }

    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Store a new version if the definition changed.")
        @OptionGroup var options: DefinitionOptions
        func run() throws { try options.register(update: true) }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List registered pipelines.")
        @OptionGroup var home: HomeOptions
        @OptionGroup var output: TableOutputOptions

        struct Entry: Encodable {
            let name: String
            let latestVersion: Int
            let description: String?
            let tags: JSONValue
            let createdAt: String
        }

        func run() throws {
            let pipelines = try home.open().metadata.pipelines()
            try output.emit(
                header: ["NAME", "VERSION", "CREATED", "DESCRIPTION"],
                rows: pipelines.map { [$0.name, "\($0.latestVersion)", Formatting.time($0.createdAt), $0.description ?? ""] },
                json: pipelines.map {
                    Entry(name: $0.name, latestVersion: $0.latestVersion, description: $0.description,
                          tags: (try? JSONParser.parse($0.tags)) ?? .null, createdAt: Formatting.iso($0.createdAt))
                }
            )
        }
    }

    struct Describe: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a pipeline version and its definition.")
        @Argument(help: "The pipeline name.") var name: String
        @Option(help: "The version (default: the latest).") var version: Int?
        @OptionGroup var home: HomeOptions
        @OptionGroup var output: OutputOptions

        struct Entry: Encodable {
            let name: String
            let version: Int
            let digest: String
            let author: String
            let createdAt: String
            let definition: JSONValue
        }

        func run() throws {
            let record = try home.open().metadata.pipelineVersion(name, version: version)
            let definition = (try? JSONParser.parse(record.definition)) ?? .null
            switch output.output {
            case .json:
                try printJSON(Entry(name: name, version: record.version, digest: record.digest, author: record.author,
                                    createdAt: Formatting.iso(record.createdAt), definition: definition))
            case .text:
                print("Pipeline: \(name)\nVersion:  \(record.version)\nDigest:   sha256:\(record.digest)\nAuthor:   \(record.author)\nCreated:  \(Formatting.time(record.createdAt))\n")
                print(JSONWriter.string(definition, pretty: true))
            }
        }
    }

    struct Versions: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a pipeline's versions.")
        @Argument(help: "The pipeline name.") var name: String
        @OptionGroup var home: HomeOptions
        @OptionGroup var output: TableOutputOptions

        struct Entry: Encodable {
            let version: Int
            let digest: String
            let author: String
            let createdAt: String
        }

        func run() throws {
            let versions = try home.open().metadata.pipelineVersions(name)
            try output.emit(
                header: ["VERSION", "CREATED", "AUTHOR", "DIGEST"],
                rows: versions.map { ["\($0.version)", Formatting.time($0.createdAt), $0.author, String($0.digest.prefix(12))] },
                json: versions.map { Entry(version: $0.version, digest: $0.digest, author: $0.author, createdAt: Formatting.iso($0.createdAt)) }
            )
        }
    }

    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "What changed between two versions, by JSON path.")
        @Argument(help: "The pipeline name.") var name: String
        @Argument(help: "The older version.") var from: Int
        @Argument(help: "The newer version.") var to: Int
        @OptionGroup var home: HomeOptions

        func run() throws {
            let store = try home.open().metadata
            let old = try JSONParser.parse(try store.pipelineVersion(name, version: from).definition)
            let new = try JSONParser.parse(try store.pipelineVersion(name, version: to).definition)
            let changes = JSONDiff.changes(from: old, to: new)
            if changes.isEmpty { print("versions \(from) and \(to) of \(name) are the same") }
            for change in changes { print(change) }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a pipeline and its versions (its executions stay).")
        @Argument(help: "The pipeline name.") var name: String
        @OptionGroup var home: HomeOptions

        func run() throws {
            try home.open().metadata.deletePipeline(name)
            print("pipeline \(name) deleted")
        }
    }
}
