import Foundation
import ShoalTestSupport
import Testing

/// `shoal models` on what a pipeline's RegisterModel steps registered.
@Suite(.serialized) struct ModelRegistryTests {
    @Test func registeredVersionsAreListedDescribedApprovedAndRejected() throws {
        let home = try TemporaryHome()
        let image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/trainer:1.0"
        let definition: [String: Any] = ["Version": "2020-12-01", "Steps": [
            ["Name": "Train", "Type": "Training", "Arguments": [
                "AlgorithmSpecification": ["TrainingImage": image, "ContainerEntrypoint": ["/bin/sh", "-c", "echo w > /opt/ml/model/w.txt"]],
                "OutputDataConfig": ["S3OutputPath": "s3://b/out"], "RoleArn": "r",
                "ResourceConfig": ["InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1],
            ] as [String: Any]],
            ["Name": "Register", "Type": "RegisterModel", "Arguments": [
                "ModelPackageGroupName": "churn",
                "InferenceSpecification": ["Containers": [["Image": image, "ModelDataUrl": ["Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"]]]],
            ] as [String: Any]],
        ]]
        let path = try home.file("p.json", String(decoding: try JSONSerialization.data(withJSONObject: definition), as: UTF8.self))
        for _ in 0..<2 { #expect(try home.shoal(["run", path, "--workers", "1"]).status == 0) }
        let groups = try #require(try home.json(["models", "groups"]) as? [[String: Any]])
        #expect(groups.map { $0["name"] as? String } == ["churn"] && groups.first?["versions"] as? Int == 2)
        #expect(try home.shoal(["models", "approve", "churn/2", "--description", "better"]).stdout.contains("churn/2: Approved"))
        #expect(try home.shoal(["models", "reject", "churn/1"]).status == 0)
        let listed = try #require(try home.json(["models", "list", "--group", "churn"]) as? [[String: Any]])
        #expect(listed.map { "\($0["version"] ?? "")=\($0["approvalStatus"] ?? "")" } == ["2=Approved", "1=Rejected"])
        let approved = try #require(try home.json(["models", "list", "--status", "Approved"]) as? [[String: Any]])
        #expect(approved.count == 1)
        let described = try home.shoal(["models", "describe", "churn/2"])
        let fields = try #require(try JSONSerialization.jsonObject(with: Data(described.stdout.utf8)) as? [String: Any])
        #expect(fields["ApprovalDescription"] as? String == "better")
        let url = (((fields["InferenceSpecification"] as? [String: Any])?["Containers"] as? [[String: Any]])?.first?["ModelDataUrl"] as? String) ?? ""
        #expect(url.hasPrefix("s3://b/out/pipelines-") && url.hasSuffix("/output/model.tar.gz"), "\(url)")
        let missing = try home.shoal(["models", "approve", "churn/9"])
        #expect(missing.status == 1 && missing.stderr.contains("no package version 'churn/9'"))
        let bad = try home.shoal(["models", "list", "--status", "Fine"])
        #expect(bad.status != 0 && bad.stderr.contains("--status: ModelApprovalStatus 'Fine' is not one of"))
    }

    @Test func aRegisterModelWithABadApprovalFailsTheStepNamingIt() throws {
        let home = try TemporaryHome()
        let definition: [String: Any] = ["Version": "2020-12-01", "Steps": [
            ["Name": "Register", "Type": "RegisterModel", "Arguments": [
                "ModelPackageGroupName": "churn", "ModelApprovalStatus": "Maybe",
                "InferenceSpecification": ["Containers": [["Image": "x"]]],
            ] as [String: Any]],
        ]]
        let path = try home.file("p.json", String(decoding: try JSONSerialization.data(withJSONObject: definition), as: UTF8.self))
        #expect(try home.shoal(["run", path, "--workers", "1"]).status == 1)
        let reason = try #require(try home.latestSteps().first?["failureReason"] as? String)
        #expect(reason.contains("ModelApprovalStatus 'Maybe' is not one of"), "\(reason)")
        #expect((try home.json(["models", "groups"]) as? [Any])?.isEmpty == true, "nothing was registered")
    }
}
