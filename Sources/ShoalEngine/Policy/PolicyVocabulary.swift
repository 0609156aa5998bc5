/// The names a policy may use: Shoal's own (`shoal:`), and the ones IAM
/// defines for the same requests (`sagemaker:`, `lambda:`), so a policy can be
/// the SageMaker documentation's verbatim. A name Shoal does not know is
/// refused when the policy is loaded: a Deny whose action or key never
/// matches would fail open.
enum PolicyVocabulary {
    /// Each request Shoal asks about, under every name that covers it.
    static let actionNames: [String: [String]] = [
        "shoal:startpipelineexecution": ["shoal:startpipelineexecution", "sagemaker:startpipelineexecution"],
        "shoal:createprocessingjob": ["shoal:createprocessingjob", "sagemaker:createprocessingjob"],
        "shoal:invokefunction": ["shoal:invokefunction", "lambda:invokefunction"],
        "shoal:createtrainingjob": ["shoal:createtrainingjob", "sagemaker:createtrainingjob"],
        "shoal:createtransformjob": ["shoal:createtransformjob", "sagemaker:createtransformjob"],
    ]

    /// Actions a policy may name though Shoal does not ask about them yet (the
    /// job kinds to come): accepted so SageMaker's documents load, never matched.
    static let reservedActions: Set<String> = [
        "shoal:createmodel", "sagemaker:createmodel",
    ]

    /// The endpoint's operations, as IAM names them: a policy given to `shoal
    /// serve` or `shoal coordinator --http` is asked about each request, with
    /// the signing credential's name as `aws:username`.
    static let apiActions: Set<String> = Set([
        "sagemaker:CreatePipeline", "sagemaker:UpdatePipeline", "sagemaker:DescribePipeline", "sagemaker:ListPipelines", "sagemaker:DeletePipeline",
        "sagemaker:ListPipelineVersions", "sagemaker:ListTags", "sagemaker:AddTags", "sagemaker:DeleteTags", "sagemaker:DescribePipelineExecution",
        "sagemaker:ListPipelineExecutions", "sagemaker:ListPipelineExecutionSteps", "sagemaker:ListPipelineParametersForExecution",
        "sagemaker:DescribePipelineDefinitionForExecution", "sagemaker:StopPipelineExecution", "sagemaker:RetryPipelineExecution",
        "sagemaker:SendPipelineExecutionStepSuccess", "sagemaker:SendPipelineExecutionStepFailure",
        "sagemaker:CreateModelPackageGroup", "sagemaker:DescribeModelPackageGroup", "sagemaker:ListModelPackageGroups", "sagemaker:CreateModelPackage",
        "sagemaker:ListModelPackages", "sagemaker:DescribeModelPackage", "sagemaker:UpdateModelPackage", "sagemaker:DescribeModel", "sagemaker:ListModels",
        "sagemaker:DescribeProcessingJob", "sagemaker:ListProcessingJobs", "sagemaker:StopProcessingJob", "sagemaker:DescribeTrainingJob",
        "sagemaker:ListTrainingJobs", "sagemaker:StopTrainingJob", "sagemaker:DescribeTransformJob", "sagemaker:ListTransformJobs",
        "sagemaker:StopTransformJob", "sagemaker:ListExperiments", "sagemaker:DescribeExperiment", "sagemaker:ListTrials",
        "sagemaker:ListTrialComponents", "sagemaker:DescribeTrialComponent", "sagemaker:Search",
        "s3:ListAllMyBuckets", "s3:ListBucket", "s3:CreateBucket", "s3:DeleteBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject",
        "s3:ListBucketMultipartUploads", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload",
        "lambda:CreateFunction", "lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:ListFunctions", "lambda:DeleteFunction",
        "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration",
        "ce:GetCostAndUsage", "sts:GetCallerIdentity", "iam:GetRole",
        "sqs:CreateQueue", "sqs:GetQueueUrl", "sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:DeleteQueue", "sqs:ListQueues",
        "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility", "sqs:PurgeQueue",
    ].map { $0.lowercased() })

    static var knownActions: [String] { Array(Set(actionNames.values.joined()).union(reservedActions).union(apiActions)).sorted() }

    /// IAM's condition keys, each as the Shoal key the request carries.
    static let keyAliases: [String: String] = [
        "sagemaker:networkisolation": "shoal:networkisolation",
        "sagemaker:vpcsubnets": "shoal:vpcsubnets",
        "sagemaker:vpcsecuritygroupids": "shoal:vpcsecuritygroupids",
        "sagemaker:instancetypes": "shoal:instancetype",
        "sagemaker:volumekmskey": "shoal:volumekmskey",
        "sagemaker:maxruntimeinseconds": "shoal:maxruntimeinseconds",
        "sagemaker:imageuris": "shoal:imageuri",
        "lambda:functionarn": "shoal:functionarn",
    ]

    static let shoalKeys: Set<String> = [
        "shoal:pipelinename", "shoal:stepname", "shoal:instancetype", "shoal:instancecount", "shoal:networkisolation",
        "shoal:vpcsubnets", "shoal:vpcsecuritygroupids", "shoal:imageuri", "shoal:maxruntimeinseconds", "shoal:functionname",
        "shoal:functionarn", "shoal:volumekmskey", "aws:tagkeys", "aws:username",
    ]

    /// Tag keys: `aws:RequestTag/KEY`, and the resource's own tags.
    static let tagPrefixes = ["aws:requesttag/", "aws:resourcetag/", "sagemaker:resourcetag/"]

    /// The key the request carries for a policy's (lower-cased) key, or nil when Shoal has none such.
    static func canonicalKey(_ key: String) -> String? {
        if shoalKeys.contains(key) { return key }
        if let alias = keyAliases[key] { return alias }
        if key.hasPrefix("sagemaker:resourcetag/") { return "aws:resourcetag/" + key.dropFirst("sagemaker:resourcetag/".count) }
        if tagPrefixes.contains(where: { key.hasPrefix($0) && key.count > $0.count }) { return key }
        return nil
    }

    static var knownKeysText: String {
        "shoal:PipelineName, shoal:StepName, shoal:InstanceType, shoal:InstanceCount, shoal:NetworkIsolation, shoal:VpcSubnets, "
            + "shoal:VpcSecurityGroupIds, shoal:ImageUri, shoal:MaxRuntimeInSeconds, shoal:FunctionName, shoal:FunctionArn, shoal:VolumeKmsKey, "
            + "sagemaker:NetworkIsolation, sagemaker:VpcSubnets, sagemaker:VpcSecurityGroupIds, sagemaker:InstanceTypes, sagemaker:VolumeKmsKey, "
            + "sagemaker:MaxRuntimeInSeconds, sagemaker:ImageUris, lambda:FunctionArn, aws:RequestTag/KEY, aws:ResourceTag/KEY, "
            + "sagemaker:ResourceTag/KEY, aws:TagKeys, aws:username"
    }
}
