import Foundation
import ShoalDefinition
import ShoalStore

/// Models and the model registry: the one place their requests are checked
/// and their SageMaker descriptions made, for pipeline steps (Model,
/// RegisterModel), `shoal models` and the AWS endpoint alike.
public enum ModelRegistration {
    public struct Refused: Error, Sendable, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// SageMaker's rule for model and package group names.
    public static func checkName(_ name: String, what: String) throws(Refused) {
        let allowed = !name.isEmpty && name.count <= 63 && name.first.map { $0.isASCII && ($0.isLetter || $0.isNumber) } == true
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") } && !name.hasSuffix("-")
        guard allowed else { throw Refused("\(what) '\(name.prefix(80))' must be 1 to 63 letters, digits and hyphens, starting and ending with a letter or digit") }
    }

    /// A ModelApprovalStatus as a request or a command line gives it.
    public static func approvalStatus(_ text: String) throws(Refused) -> ModelApprovalStatus {
        guard let status = ModelApprovalStatus(rawValue: text) else {
            throw Refused("ModelApprovalStatus '\(text.prefix(64))' is not one of \(ModelApprovalStatus.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return status
    }

    public static func modelArn(_ name: String) -> String { "arn:aws:sagemaker:\(Identifiers.region):\(Identifiers.account):model/\(name.lowercased())" }
    public static func groupArn(_ name: String) -> String { "arn:aws:sagemaker:\(Identifiers.region):\(Identifiers.account):model-package-group/\(name.lowercased())" }
    public static func packageArn(_ group: String, _ version: Int) -> String {
        "arn:aws:sagemaker:\(Identifiers.region):\(Identifiers.account):model-package/\(group.lowercased())/\(version)"
    }

    private static func text(_ value: JSONValue?) -> String? { value.map(ValueRendering.string) }

    /// Records a model (a resolved CreateModel request). Its image must be mapped, so a transform can run it later.
    public static func createModel(
        home: ShoalHome, request: JSONValue, name: String, executionId: String? = nil, stepName: String? = nil
    ) throws -> ModelRecord {
        guard case var .object(fields) = request else { throw Refused("the CreateModel request must be an object") }
        try checkName(name, what: "ModelName")
        let container = fields["PrimaryContainer"] ?? JSONNavigation.follow([.member("Containers"), .index(0)], in: request)
        guard let image = text(container.flatMap { JSONNavigation.follow([.member("Image")], in: $0) }) else {
            throw Refused("PrimaryContainer.Image is missing")
        }
        do { _ = try ImageMap.load(for: home).runtime(for: image) } catch { throw Refused("PrimaryContainer.Image: \(error.description)") }
        let dataUrl = text(container.flatMap { JSONNavigation.follow([.member("ModelDataUrl")], in: $0) })
        fields["ModelName"] = .string(name)
        let record = ModelRecord(
            name: name, arn: modelArn(name), image: image, modelDataUrl: dataUrl, request: JSONWriter.string(.object(fields)),
            executionId: executionId, stepName: stepName, createdAt: Date()
        )
        try home.metadata.createModel(record)
        return record
    }

    public static func createGroup(home: ShoalHome, name: String, description: String?) throws -> ModelPackageGroupRecord {
        try checkName(name, what: "ModelPackageGroupName")
        let record = ModelPackageGroupRecord(name: name, arn: groupArn(name), description: description, createdAt: Date())
        try home.metadata.createModelPackageGroup(record)
        return record
    }

    /// Adds a version to a package group (a resolved CreateModelPackage request).
    /// A pipeline's RegisterModel step makes the group when it is missing.
    public static func register(
        home: ShoalHome, request: JSONValue, executionId: String? = nil, stepName: String? = nil, creatingGroup: Bool
    ) throws -> ModelPackageRecord {
        guard case let .object(fields) = request else { throw Refused("the CreateModelPackage request must be an object") }
        guard let group = text(fields["ModelPackageGroupName"]) else {
            throw Refused("ModelPackageGroupName is missing (Shoal keeps versioned packages, in groups)")
        }
        try checkName(group, what: "ModelPackageGroupName")
        guard case let .array(containers)? = JSONNavigation.follow([.member("InferenceSpecification"), .member("Containers")], in: request), !containers.isEmpty else {
            throw Refused("InferenceSpecification.Containers is missing or empty")
        }
        for (index, container) in containers.enumerated() where text(JSONNavigation.follow([.member("Image")], in: container)) == nil {
            throw Refused("InferenceSpecification.Containers[\(index)].Image is missing")
        }
        let status = try text(fields["ModelApprovalStatus"]).map(approvalStatus) ?? .pendingManualApproval
        let creating = creatingGroup ? ModelPackageGroupRecord(name: group, arn: groupArn(group), description: nil, createdAt: Date()) : nil
        return try home.metadata.registerModelPackage(
            group: group, creatingGroup: creating, status: status, request: JSONWriter.string(request), executionId: executionId, stepName: stepName,
            arn: { packageArn(group, $0) }
        )
    }

    /// DescribeModelPackage's answer.
    public static func describe(_ package: ModelPackageRecord) -> OrderedFields<JSONValue> {
        var fields = OrderedFields<JSONValue>()
        if case let .object(request)? = try? JSONParser.parse(package.request) {
            for key in ["ModelPackageDescription", "InferenceSpecification", "ModelMetrics", "CustomerMetadataProperties", "MetadataProperties",
                        "DriftCheckBaselines", "Domain", "Task", "SamplePayloadUrl", "SkipModelValidation"] {
                if let value = request[key] { fields[key] = value }
            }
        }
        fields["ModelPackageGroupName"] = .string(package.groupName)
        fields["ModelPackageName"] = .string(package.groupName)
        fields["ModelPackageVersion"] = .number(.int(package.version))
        fields["ModelPackageArn"] = .string(package.arn)
        fields["CreationTime"] = .number(.double(package.createdAt.timeIntervalSince1970))
        fields["LastModifiedTime"] = .number(.double(package.modifiedAt.timeIntervalSince1970))
        fields["ModelPackageStatus"] = "Completed"
        fields["ModelApprovalStatus"] = .string(package.approvalStatus.rawValue)
        if let description = package.approvalDescription { fields["ApprovalDescription"] = .string(description) }
        return fields
    }

    /// DescribeModel's answer.
    public static func describe(_ model: ModelRecord) -> OrderedFields<JSONValue> {
        var fields = OrderedFields<JSONValue>()
        if case let .object(request)? = try? JSONParser.parse(model.request) {
            for key in ["PrimaryContainer", "Containers", "ExecutionRoleArn", "VpcConfig", "EnableNetworkIsolation", "InferenceExecutionConfig"] {
                if let value = request[key] { fields[key] = value }
            }
        }
        fields["ModelName"] = .string(model.name)
        fields["ModelArn"] = .string(model.arn)
        fields["CreationTime"] = .number(.double(model.createdAt.timeIntervalSince1970))
        return fields
    }
}
