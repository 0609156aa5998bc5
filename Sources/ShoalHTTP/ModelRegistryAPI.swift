import AWSSignature
import Foundation
import ShoalDefinition
import ShoalEngine
import ShoalStore

/// The model registry's SageMaker calls, translated onto `ModelRegistration`
/// (the same records a pipeline's Model and RegisterModel steps make).
struct ModelRegistryAPI: Sendable {
    let home: ShoalHome
    typealias Object = [String: Any]

    func handle(_ operation: String, _ input: Object) throws -> Object {
        switch operation {
        case "CreateModelPackageGroup":
            let name = try required("ModelPackageGroupName", input)
            let group = try refusing { try ModelRegistration.createGroup(home: home, name: name, description: input["ModelPackageGroupDescription"] as? String) }
            return ["ModelPackageGroupArn": group.arn]
        case "DescribeModelPackageGroup":
            let name = try required("ModelPackageGroupName", input)
            guard let group = try home.metadata.modelPackageGroup(named: name) else { throw AWSError.notFound("ModelPackageGroup \(name.prefix(63)) does not exist.") }
            return groupSummary(group).merging(["CreatedBy": [:] as Object]) { $1 }
        case "ListModelPackageGroups":
            let contains = (input["NameContains"] as? String)?.lowercased()
            let groups = try home.metadata.modelPackageGroups().filter { group in contains.map { group.name.lowercased().contains($0) } ?? true }
            let (slice, next) = try Page(input).cut(groups)
            return withToken(["ModelPackageGroupSummaryList": slice.map(groupSummary)], next)
        case "CreateModelPackage":
            let package = try refusing { try ModelRegistration.register(home: home, request: try json(input), creatingGroup: false) }
            return ["ModelPackageArn": package.arn]
        case "ListModelPackages":
            let status = try refusing { try (input["ModelApprovalStatus"] as? String).map(ModelRegistration.approvalStatus) }
            var group = input["ModelPackageGroupName"] as? String
            if let arn = group, arn.hasPrefix("arn:") { group = try home.metadata.modelPackageGroups().first { $0.arn == arn }?.name ?? arn }
            var packages = try home.metadata.modelPackages(group: group, status: status)
            if (input["SortOrder"] as? String) == "Ascending" { packages.reverse() }
            let (slice, next) = try Page(input).cut(packages)
            return withToken(["ModelPackageSummaryList": slice.map(packageSummary)], next)
        case "DescribeModelPackage":
            let name = try required("ModelPackageName", input)
            return try object(ModelRegistration.describe(try package(name)))
        case "UpdateModelPackage":
            let arn = try required("ModelPackageArn", input)
            let status = try refusing { try (input["ModelApprovalStatus"] as? String).map(ModelRegistration.approvalStatus) }
            let found = try package(arn)
            guard let updated = try home.metadata.updateModelPackage(arn: found.arn, status: status, description: input["ApprovalDescription"] as? String) else {
                throw AWSError.notFound("Model package \(arn.prefix(200)) does not exist.")
            }
            return ["ModelPackageArn": updated.arn]
        case "CreateModel":
            let name = try required("ModelName", input)
            let model = try refusing { try ModelRegistration.createModel(home: home, request: try json(input), name: name) }
            return ["ModelArn": model.arn]
        case "DescribeModel":
            let name = try required("ModelName", input)
            guard let model = try home.metadata.model(named: name) else { throw AWSError.validation("Could not find model \"\(name.prefix(63))\".") }
            return try object(ModelRegistration.describe(model))
        case "ListModels":
            let contains = (input["NameContains"] as? String)?.lowercased()
            let models = try home.metadata.models().filter { model in contains.map { model.name.lowercased().contains($0) } ?? true }
            let (slice, next) = try Page(input).cut(models)
            return withToken(["Models": slice.map { ["ModelName": $0.name, "ModelArn": $0.arn, "CreationTime": $0.createdAt.timeIntervalSince1970] as Object }], next)
        default:
            throw AWSError(code: "UnknownOperationException", status: 400, message: "Shoal does not serve SageMaker.\(operation.prefix(64))")
        }
    }

    /// A version by ARN, or the group name with `/VERSION`; a bare group name is not a version.
    private func package(_ name: String) throws -> ModelPackageRecord {
        let found: ModelPackageRecord?
        if name.hasPrefix("arn:") {
            found = try home.metadata.modelPackage(arn: name)
        } else if let slash = name.lastIndex(of: "/"), let version = Int(name[name.index(after: slash)...]) {
            found = try home.metadata.modelPackage(group: String(name[..<slash]), version: version)
        } else {
            found = nil
        }
        guard let found else { throw AWSError.validation("ModelPackage \(name.prefix(200)) does not exist.") }
        return found
    }

    private func groupSummary(_ group: ModelPackageGroupRecord) -> Object {
        var summary: Object = [
            "ModelPackageGroupName": group.name, "ModelPackageGroupArn": group.arn, "CreationTime": group.createdAt.timeIntervalSince1970,
            "ModelPackageGroupStatus": "Completed",
        ]
        if let description = group.description { summary["ModelPackageGroupDescription"] = description }
        return summary
    }

    private func packageSummary(_ package: ModelPackageRecord) -> Object {
        [
            "ModelPackageGroupName": package.groupName, "ModelPackageVersion": package.version, "ModelPackageArn": package.arn,
            "CreationTime": package.createdAt.timeIntervalSince1970, "ModelPackageStatus": "Completed", "ModelApprovalStatus": package.approvalStatus.rawValue,
        ]
    }

    private func required(_ key: String, _ input: Object) throws -> String {
        guard let value = input[key] as? String, !value.isEmpty else { throw AWSError.validation("\(key) is required.") }
        return value
    }

    private func withToken(_ output: Object, _ next: String?) -> Object {
        var output = output
        if let next { output["NextToken"] = next }
        return output
    }

    /// The registry's refusals (bad names, a group that exists) are the caller's mistakes.
    private func refusing<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let refused as ModelRegistration.Refused {
            throw AWSError.validation(refused.description)
        } catch let conflict as MetadataStore.RegistryConflict {
            throw AWSError.validation(conflict.description)
        }
    }

    private func json(_ input: Object) throws -> JSONValue {
        try JSONParser.parse(try JSONSerialization.data(withJSONObject: input))
    }

    private func object(_ fields: OrderedFields<JSONValue>) throws -> Object {
        (try JSONSerialization.jsonObject(with: Data(JSONWriter.string(.object(fields)).utf8))) as? Object ?? [:]
    }
}
