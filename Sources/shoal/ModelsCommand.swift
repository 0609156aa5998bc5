import ArgumentParser
import Foundation
import ShoalDefinition
import ShoalEngine
import ShoalStore

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "The model registry: package groups, their versions and approvals, and models.",
        discussion: """
            A pipeline's RegisterModel step adds a version to its package group (made when
            missing); a Model step records a model. Boto3 and the SageMaker SDK reach the same
            registry through the endpoint (CreateModelPackageGroup, ListModelPackages,
            DescribeModelPackage, UpdateModelPackage, DescribeModel).

            Examples:
              shoal models groups
              shoal models list --group churn-models --status PendingManualApproval
              shoal models describe churn-models/3
              shoal models approve churn-models/3 --description "beats the baseline"
              shoal models reject churn-models/2
              shoal models list --models
            """,
        subcommands: [Groups.self, List.self, Describe.self, Approve.self, Reject.self]
    )

    struct Groups: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Package groups, newest first.")
        @OptionGroup var home: HomeOptions
        @OptionGroup var output: OutputOptions

        struct Row: Encodable {
            let name: String, arn: String, description: String?, createdAt: Date, versions: Int
        }

        func run() throws {
            let store = try home.open().metadata
            let packages = try store.modelPackages()
            let rows = try store.modelPackageGroups().map { group in
                Row(name: group.name, arn: group.arn, description: group.description, createdAt: group.createdAt, versions: packages.filter { $0.groupName == group.name }.count)
            }
            switch output.output {
            case .json: try printJSON(rows)
            case .text: print(Formatting.table(["GROUP", "VERSIONS", "CREATED", "DESCRIPTION"], rows.map { [$0.name, String($0.versions), Formatting.time($0.createdAt), $0.description ?? "-"] }))
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Package versions (or, with --models, models), newest first.")
        @Option(help: "Only this group's versions.") var group: String?
        @Option(help: "Only versions with this approval: Approved, Rejected or PendingManualApproval.") var status: String?
        @Flag(help: "List models (Model steps, CreateModel) instead of package versions.") var models = false
        @OptionGroup var home: HomeOptions
        @OptionGroup var output: OutputOptions

        struct PackageRow: Encodable {
            let group: String, version: Int, arn: String, approvalStatus: String, executionId: String?, stepName: String?, createdAt: Date
        }

        struct ModelRow: Encodable {
            let name: String, arn: String, image: String, modelDataUrl: String?, executionId: String?, createdAt: Date
        }

        func run() throws {
            let store = try home.open().metadata
            if models {
                let rows = try store.models().map { ModelRow(name: $0.name, arn: $0.arn, image: $0.image, modelDataUrl: $0.modelDataUrl, executionId: $0.executionId, createdAt: $0.createdAt) }
                switch output.output {
                case .json: try printJSON(rows)
                case .text: print(Formatting.table(["MODEL", "IMAGE", "ARTIFACT", "CREATED"], rows.map { [$0.name, $0.image, $0.modelDataUrl ?? "-", Formatting.time($0.createdAt)] }))
                }
                return
            }
            let approval: ModelApprovalStatus?
            do { approval = try status.map(ModelRegistration.approvalStatus) } catch { throw CommandFailure("--status: \(error.description)") }
            let rows = try store.modelPackages(group: group, status: approval).map {
                PackageRow(group: $0.groupName, version: $0.version, arn: $0.arn, approvalStatus: $0.approvalStatus.rawValue, executionId: $0.executionId, stepName: $0.stepName, createdAt: $0.createdAt)
            }
            switch output.output {
            case .json: try printJSON(rows)
            case .text:
                print(Formatting.table(["GROUP", "VERSION", "APPROVAL", "EXECUTION", "CREATED"], rows.map {
                    [$0.group, String($0.version), $0.approvalStatus, $0.executionId ?? "-", Formatting.time($0.createdAt)]
                }))
            }
        }
    }

    struct Describe: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A package version (GROUP/VERSION or its ARN) or a model (its name), as SageMaker describes it.")
        @Argument var name: String
        @OptionGroup var home: HomeOptions

        func run() throws {
            let store = try home.open().metadata
            if let package = try findPackage(name, in: store) {
                print(JSONWriter.string(.object(ModelRegistration.describe(package)), pretty: true))
            } else if let model = try store.model(named: name) {
                print(JSONWriter.string(.object(ModelRegistration.describe(model)), pretty: true))
            } else {
                throw CommandFailure("no package version or model named '\(name)'; `shoal models list` and `shoal models list --models` show them")
            }
        }
    }

    struct Approve: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve a package version (GROUP/VERSION or its ARN).")
        @Argument var package: String
        @Option(help: "Why (ApprovalDescription).") var description: String?
        @OptionGroup var home: HomeOptions
        func run() throws { try setApproval(package, .approved, description, home) }
    }

    struct Reject: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reject a package version (GROUP/VERSION or its ARN).")
        @Argument var package: String
        @Option(help: "Why (ApprovalDescription).") var description: String?
        @OptionGroup var home: HomeOptions
        func run() throws { try setApproval(package, .rejected, description, home) }
    }
}

/// GROUP/VERSION, or a package ARN.
private func findPackage(_ name: String, in store: MetadataStore) throws -> ModelPackageRecord? {
    if name.hasPrefix("arn:") { return try store.modelPackage(arn: name) }
    let parts = name.split(separator: "/")
    guard parts.count == 2, let version = Int(parts[1]) else { return nil }
    return try store.modelPackage(group: String(parts[0]), version: version)
}

private func setApproval(_ name: String, _ status: ModelApprovalStatus, _ description: String?, _ home: HomeOptions) throws {
    let store = try home.open().metadata
    guard let package = try findPackage(name, in: store), let updated = try store.updateModelPackage(arn: package.arn, status: status, description: description) else {
        throw CommandFailure("no package version '\(name)'; name it GROUP/VERSION or by its ARN (`shoal models list` shows them)")
    }
    print("\(updated.groupName)/\(updated.version): \(updated.approvalStatus.rawValue)")
}
