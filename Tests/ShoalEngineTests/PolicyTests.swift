import Foundation
import ShoalDefinition
import ShoalEngine
import ShoalTestSupport
import Testing

@Suite struct PolicyTests {
    static func policy(_ name: String) throws -> Policy {
        try Policy.load(Fixtures.repositoryRoot.appendingPathComponent("examples/policies/\(name).json").path)
    }

    static func processing(type: String = "ml.m5.large", isolated: Bool, subnets: [String]? = nil, tags: [(key: String, value: String)] = []) -> PolicyRequest {
        var request = PolicyRequest(action: "shoal:CreateProcessingJob")
        request.set("shoal:InstanceType", type)
        request.set("shoal:NetworkIsolation", isolated ? "true" : "false")
        if let subnets { request.set("shoal:VpcSubnets", subnets) }
        request.setTags(tags)
        return request
    }

    @Test func isolationPolicyDeniesUnisolatedJobsAndJobsOutsideAVpc() throws {
        let policy = try Self.policy("require-isolation-and-vpc")
        #expect(policy.denial(of: Self.processing(isolated: false, subnets: ["s-1"]))?.label == "DenyJobsWithoutNetworkIsolation")
        #expect(policy.denial(of: Self.processing(isolated: true))?.label == "DenyJobsOutsideAVpc")
        #expect(policy.denial(of: Self.processing(isolated: true, subnets: ["s-1"])) == nil)
        var lambda = PolicyRequest(action: "shoal:InvokeFunction")
        lambda.set("shoal:FunctionName", "f")
        #expect(policy.denial(of: lambda) == nil, "shoal:Create* does not cover InvokeFunction")
    }

    @Test func instanceAndTagPolicy() throws {
        let policy = try Self.policy("restrict-instances-and-tags")
        #expect(policy.denial(of: Self.processing(type: "ml.g4dn.xlarge", isolated: true, tags: [("team", "ml")]))?.label == "DenyLargeInstanceTypes")
        #expect(policy.denial(of: Self.processing(isolated: true))?.label == "DenyUntaggedJobs")
        #expect(policy.denial(of: Self.processing(isolated: true, tags: [("team", "ml")])) == nil)
        var start = PolicyRequest(action: "shoal:StartPipelineExecution")
        #expect(policy.denial(of: start) == nil)
        start.setTags([("team", "sandbox")])
        #expect(policy.denial(of: start)?.label == "DenyStartsByTheSandboxTeam")
    }

    @Test func operatorsFollowIAMRules() throws {
        let policy = try Policy.parse(JSONParser.parse(#"""
            {"Statement": [
              {"Sid": "Any", "Effect": "Deny", "Action": "shoal:*",
               "Condition": {"ForAnyValue:StringLike": {"shoal:VpcSubnets": "public-*"}}},
              {"Effect": "Deny", "Action": "SHOAL:createprocessingjob",
               "Condition": {"NumericGreaterThan": {"shoal:InstanceCount": "50"}, "StringEqualsIgnoreCase": {"shoal:StepName": "TRAIN"}}},
              {"Sid": "Allowed", "Effect": "Allow", "Action": "*"}
            ]}
            """#), source: "inline")
        var request = PolicyRequest(action: "shoal:CreateProcessingJob")
        request.set("shoal:VpcSubnets", ["private-a", "public-b"])
        #expect(policy.denial(of: request)?.label == "Any")
        request.set("shoal:VpcSubnets", ["private-a"])
        request.set("shoal:InstanceCount", "60")
        #expect(policy.denial(of: request) == nil, "both conditions of Statement[1] must hold")
        request.set("shoal:StepName", "train")
        #expect(policy.denial(of: request)?.label == "Statement[1]", "actions and IgnoreCase values ignore case")
        request.set("shoal:InstanceCount", "50")
        #expect(policy.denial(of: request) == nil)
    }

    @Test func malformedPoliciesAreRefusedWithPathOrLine() throws {
        let folder = FileManager.default.temporaryDirectory
        let broken = folder.appendingPathComponent("policy-\(UUID().uuidString).json")
        try Data("{\"Statement\": [\n  {\"Effect\": \"Deny\",\n   \"Action\": \"shoal:*\"\n  }\n  {}]}".utf8).write(to: broken)
        do { _ = try Policy.load(broken.path); Issue.record("accepted") } catch { #expect(error.description.contains("line 5, column 3")) }
        let cases: [(String, String)] = [
            (#"{"Statement": [{"Effect": "Refuse", "Action": "x"}]}"#, "$.Statement[0].Effect: Effect must be \"Deny\" or \"Allow\""),
            (#"{"Statement": {"Effect": "Deny"}}"#, "$.Statement.Action: a statement needs an Action"),
            (#"{"Statement": [{"Effect": "Deny", "Action": "x", "Condition": {"StringSorta": {"k": "v"}}}]}"#, "$.Statement[0].Condition.StringSorta: 'StringSorta' is not a condition operator"),
            (#"{"Statement": [{"Effect": "Deny", "Action": "x", "Condition": {"Null": {"k": "maybe"}}}]}"#, "Null takes \"true\" or \"false\""),
            (#"{"Statement": [{"Effect": "Deny", "Action": "x", "NotAction": "y"}]}"#, "$.Statement[0].NotAction: 'NotAction' is not a statement member"),
        ]
        for (text, expected) in cases {
            do {
                _ = try Policy.parse(try JSONParser.parse(text), source: "p.json")
                Issue.record("accepted \(text)")
            } catch {
                #expect("\(error)".contains(expected), "\(error)")
            }
        }
    }
}

/// Policies written as the SageMaker documentation writes them: `sagemaker:`
/// actions and condition keys match the requests Shoal asks about, and names
/// Shoal does not know are refused at load, never silently unmatched.
@Suite struct SageMakerPolicyNameTests {
    static func parse(_ text: String) throws -> Policy { try Policy.parse(try JSONParser.parse(text), source: "p.json") }

    @Test func sageMakerActionsAndKeysMatchShoalRequests() throws {
        let policy = try Self.parse(#"""
            {"Version": "2012-10-17", "Statement": [
              {"Sid": "RequireIsolation", "Effect": "Deny", "Action": ["sagemaker:Create*"], "Resource": "*",
               "Condition": {"StringNotEqualsIfExists": {"sagemaker:NetworkIsolation": "true"}}},
              {"Sid": "RequireVpc", "Effect": "Deny", "Action": "sagemaker:CreateProcessingJob", "Resource": "*",
               "Condition": {"Null": {"sagemaker:VpcSubnets": "true"}}},
              {"Sid": "SmallInstances", "Effect": "Deny", "Action": "sagemaker:CreateProcessingJob", "Resource": "*",
               "Condition": {"ForAnyValue:StringNotLike": {"sagemaker:InstanceTypes": ["ml.m5.*", "ml.t3.*"]}}},
              {"Sid": "TeamTag", "Effect": "Deny", "Action": "sagemaker:StartPipelineExecution", "Resource": "*",
               "Condition": {"StringEquals": {"aws:RequestTag/team": "sandbox"}}},
              {"Sid": "NoFunction", "Effect": "Deny", "Action": "lambda:InvokeFunction", "Resource": "*",
               "Condition": {"StringLike": {"lambda:FunctionArn": "*:function:forbidden"}}}
            ]}
            """#)
        var job = PolicyRequest(action: "shoal:CreateProcessingJob")
        job.set("shoal:NetworkIsolation", "false")
        #expect(policy.denial(of: job)?.label == "RequireIsolation")
        job.set("shoal:NetworkIsolation", "true")
        #expect(policy.denial(of: job)?.label == "RequireVpc")
        job.set("shoal:VpcSubnets", ["subnet-1"])
        job.set("shoal:InstanceType", "ml.g4dn.xlarge")
        #expect(policy.denial(of: job)?.label == "SmallInstances")
        job.set("shoal:InstanceType", "ml.m5.large")
        #expect(policy.denial(of: job) == nil)
        var start = PolicyRequest(action: "shoal:StartPipelineExecution")
        start.setTags([("team", "sandbox")])
        #expect(policy.denial(of: start)?.label == "TeamTag")
        var call = PolicyRequest(action: "shoal:InvokeFunction")
        call.set("shoal:FunctionArn", "arn:aws:lambda:local:000000000000:function:forbidden")
        #expect(policy.denial(of: call)?.label == "NoFunction")
        call.set("shoal:FunctionArn", "arn:aws:lambda:local:000000000000:function:fine")
        #expect(policy.denial(of: call) == nil)
    }

    @Test func namesShoalDoesNotKnowAreRefused() throws {
        let cases: [(String, String)] = [
            (#"{"Statement": [{"Effect": "Deny", "Action": "sagemaker:CreateEndpoint"}]}"#,
             "$.Statement[0].Action: 'sagemaker:CreateEndpoint' names no action Shoal knows"),
            (#"{"Statement": [{"Effect": "Deny", "Action": "s3:PutBucketPolicy"}]}"#, "'s3:PutBucketPolicy' names no action Shoal knows"),
            (#"{"Statement": [{"Effect": "Deny", "Action": "sagemaker:*", "Condition": {"Bool": {"sagemaker:NetworkIsolaton": "true"}}}]}"#,
             "$.Statement[0].Condition: 'sagemaker:networkisolaton' is not a condition key Shoal knows"),
        ]
        for (text, expected) in cases {
            do {
                _ = try Self.parse(text)
                Issue.record("accepted \(text)")
            } catch {
                #expect("\(error)".contains(expected), "\(error)")
            }
        }
        _ = try PolicyTests.policy("sagemaker-docs-isolation")
        // The endpoint's operations are actions too (asked about each request).
        _ = try Self.parse(#"{"Statement": [{"Effect": "Deny", "Action": ["s3:Get*", "sagemaker:DeletePipeline", "lambda:CreateFunction"]}]}"#)
        // SageMaker's job kinds to come load (so its documents do) though nothing asks about them yet.
        _ = try Self.parse(#"{"Statement": [{"Effect": "Deny", "Action": ["sagemaker:CreateTrainingJob", "sagemaker:CreateModel", "sagemaker:CreateTransformJob"]}]}"#)
    }
}
