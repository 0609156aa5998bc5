#!/usr/bin/env python3
"""Writes a definition with STEPS steps (default 10,000) that exercises the reader:
blocks of 100 = a fan-out step, 96 workers reading it through Std:Join and
Std:JsonGet, a fan-in step that DependsOn all workers, and a condition on the
fan-in's property file with a Fail step in its else branch. Each block's fan-out
reads the previous block's fan-in.

WORKERS (second argument) is "processing" (each worker a full SDK-sized
processing job, about 1.2 KB) or "lambda" (each worker a Lambda step whose
event holds the Join and the JsonGet, about 0.3 KB)."""
import json
import sys

steps_wanted = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
worker_type = sys.argv[2] if len(sys.argv) > 2 else "processing"
BLOCK = 100
WORKERS = BLOCK - 4


def processing(name, inputs_uri, env=None, depends_on=None):
    step = {
        "Name": name,
        "Type": "Processing",
        "Arguments": {
            "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30}},
            "AppSpecification": {"ImageUri": "python:3.11", "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/run.py"]},
            "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
            "ProcessingInputs": [{"InputName": "data", "AppManaged": False, "S3Input": {
                "S3Uri": inputs_uri, "LocalPath": "/opt/ml/processing/input/data", "S3DataType": "S3Prefix",
                "S3InputMode": "File", "S3DataDistributionType": "ShardedByS3Key", "S3CompressionType": "None"}}],
            "ProcessingOutputConfig": {"Outputs": [{"OutputName": "out", "AppManaged": False, "S3Output": {
                "S3Uri": {"Std:Join": {"On": "/", "Values": ["s3:/", {"Get": "Parameters.Bucket"}, name,
                                                             {"Get": "Execution.PipelineExecutionId"}]}},
                "LocalPath": "/opt/ml/processing/out", "S3UploadMode": "EndOfJob"}}]},
            "Environment": env or {},
        },
        "PropertyFiles": [{"PropertyFileName": "Report", "OutputName": "out", "FilePath": "report.json"}],
    }
    if depends_on:
        step["DependsOn"] = depends_on
    return step


def output_of(name):
    return {"Get": f"Steps.{name}.ProcessingOutputConfig.Outputs['out'].S3Output.S3Uri"}


def json_get(name, path):
    return {"Std:JsonGet": {"PropertyFile": {"Get": f"Steps.{name}.PropertyFiles.Report"}, "Path": path}}


steps = []
previous = None
for block in range(steps_wanted // BLOCK):
    fan = f"Fan{block}"
    source = output_of(previous) if previous else "s3://my-bucket/raw/"
    steps.append(processing(fan, source))
    workers = []
    for w in range(WORKERS):
        name = f"Work{block}_{w}"
        workers.append(name)
        shard = {"Std:Join": {"On": "/", "Values": [output_of(fan), f"part-{w}"]}}
        threshold = json_get(fan, f"shards[{w}].threshold")
        if worker_type == "lambda":
            steps.append({"Name": name, "Type": "Lambda", "Arguments": {"shard": shard, "threshold": threshold},
                          "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:work",
                          "OutputParameters": [{"OutputName": "rows", "OutputType": "Integer"}]})
        else:
            steps.append(processing(name, shard, env={"THRESHOLD": threshold}))
    gather = f"Gather{block}"
    steps.append(processing(gather, output_of(fan), depends_on=workers))
    steps.append({"Name": f"Check{block}", "Type": "Condition", "Arguments": {
        "Conditions": [{"Type": "LessThanOrEqualTo", "LeftValue": json_get(gather, "metrics.mse.value"),
                        "RightValue": {"Get": "Parameters.MseThreshold"}}],
        "IfSteps": [],
        "ElseSteps": [{"Name": f"Fail{block}", "Type": "Fail", "Arguments": {"ErrorMessage": {
            "Std:Join": {"On": " ", "Values": ["block", str(block), "MSE above", {"Get": "Parameters.MseThreshold"}]}}}}]}})
    previous = gather

definition = {
    "Version": "2020-12-01", "Metadata": {},
    "Parameters": [{"Name": "Bucket", "Type": "String", "DefaultValue": "my-bucket"},
                   {"Name": "MseThreshold", "Type": "Float", "DefaultValue": 6.0}],
    "PipelineExperimentConfig": {"ExperimentName": {"Get": "Execution.PipelineName"},
                                 "TrialName": {"Get": "Execution.PipelineExecutionId"}},
    "Steps": steps,
}
json.dump(definition, sys.stdout, separators=(",", ":"))
