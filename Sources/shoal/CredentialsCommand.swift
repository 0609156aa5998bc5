import ArgumentParser
import Foundation
import ShoalStore

struct CredentialsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credentials",
        abstract: "Access key pairs that clients of `shoal serve` sign their requests with.",
        discussion: """
            Examples:
              shoal credentials create me
              shoal credentials list --output json
            """,
        subcommands: [Create.self, List.self]
    )

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a new key pair for NAME (kept in the home, readable by its owner only) and print it.")
        @Argument(help: "Who the key is for: the principal the endpoint's log and policies name.") var name: String
        @OptionGroup var home: HomeOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let key: AccessKeys.Key
            do { key = try AccessKeys(home: try home.open()).create(name: name) } catch let invalid as AccessKeys.Invalid { throw CommandFailure(invalid.description) }
            switch output.output {
            case .json: try printJSON(["name": key.name, "accessKeyId": key.accessKeyId, "secretAccessKey": key.secretAccessKey])
            case .text: print("name \(key.name)\naccess key id \(key.accessKeyId)\nsecret access key \(key.secretAccessKey)")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the key pairs (names and key ids; never the secrets).")
        @OptionGroup var home: HomeOptions
        @OptionGroup var output: OutputOptions

        struct Entry: Encodable {
            let name: String
            let accessKeyId: String
            let createdAt: Date
        }

        func run() throws {
            let keys: [AccessKeys.Key]
            do { keys = try AccessKeys(home: try home.open()).all() } catch let invalid as AccessKeys.Invalid { throw CommandFailure(invalid.description) }
            switch output.output {
            case .json: try printJSON(keys.map { Entry(name: $0.name, accessKeyId: $0.accessKeyId, createdAt: $0.createdAt) })
            case .text: print(Formatting.table(["NAME", "ACCESS KEY ID", "CREATED"], keys.map { [$0.name, $0.accessKeyId, Formatting.time($0.createdAt)] }))
            }
        }
    }
}

struct EnvCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "env",
        abstract: "Print the `export` lines a client of `shoal serve` needs (boto3, the SageMaker SDK, the AWS CLI).",
        discussion: """
            Also writes an SDK config file in the home that turns the SDK's telemetry off and
            names the default bucket, so nothing leaves the machine.

            Example:
              eval "$(shoal env --credential me)"
            """
    )
    @Option(help: "The credential (from `shoal credentials create`) to sign with; its newest key pair is used.") var credential: String
    @Option(help: "The endpoint's URL.") var endpoint = "http://127.0.0.1:9494"
    @Option(help: "The region clients name (a SageMaker region, as the SDK wants).") var region = "us-east-1"
    @Option(help: "The default bucket the SageMaker SDK uploads to.") var bucket = "sagemaker-shoal"
    @Option(help: "A PEM file of the certificate authority an https:// endpoint's certificate comes from (one not in the system's store, such as a self-signed one).") var caBundle: String?
    @OptionGroup var home: HomeOptions

    func run() throws {
        let store = try home.open()
        let keys: [AccessKeys.Key]
        do { keys = try AccessKeys(home: store).all() } catch let invalid as AccessKeys.Invalid { throw CommandFailure(invalid.description) }
        guard let key = keys.last(where: { $0.name == credential }) else {
            throw CommandFailure("no credential '\(credential)'; make one with shoal credentials create \(credential)")
        }
        let config = store.root.appendingPathComponent("sdk-config.yaml")
        let yaml = """
            # Written by shoal env: the SageMaker SDK's telemetry off, and its default bucket.
            SchemaVersion: '1.0'
            SageMaker:
              PythonSDK:
                Modules:
                  TelemetryOptOut: true
                  Session:
                    DefaultS3Bucket: \(bucket)

            """
        do { try Data(yaml.utf8).write(to: config, options: .atomic) } catch { throw CommandFailure("cannot write \(config.path): \(error.localizedDescription)") }
        func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        for (name, value) in [
            ("AWS_ENDPOINT_URL", endpoint), ("AWS_ACCESS_KEY_ID", key.accessKeyId), ("AWS_SECRET_ACCESS_KEY", key.secretAccessKey),
            ("AWS_DEFAULT_REGION", region), ("AWS_REGION", region), ("AWS_EC2_METADATA_DISABLED", "true"),
            ("SAGEMAKER_USER_CONFIG_OVERRIDE", config.path),
        ] + (caBundle.map { [("AWS_CA_BUNDLE", URL(fileURLWithPath: $0).standardizedFileURL.path)] } ?? []) {
            print("export \(name)=\(quoted(value))")
        }
    }
}
